#include <map>
#include <mutex>
#include <shared_mutex>

#include "statestore/internal/bytes_store.h"

namespace eddy::statestore::internal {
namespace {

class in_memory_store final : public bytes_store {
public:
    explicit in_memory_store(std::string name) : _name(std::move(name)) {}

    void open(const std::filesystem::path&, const std::shared_ptr<memory_budget>&) override {}
    void close() override {
        std::unique_lock lock(_mutex);
        _entries.clear();
    }
    void wipe(const std::filesystem::path&) override { close(); }
    bool persistent() const noexcept override { return false; }
    bool opened_empty() const noexcept override { return true; }

    std::optional<std::string> get(std::string_view key) const override {
        std::shared_lock lock(_mutex);
        auto it = _entries.find(key);
        if (it == _entries.end()) {
            return std::nullopt;
        }
        return it->second;
    }
    void put(std::string_view key, std::string_view value) override {
        std::unique_lock lock(_mutex);
        put_locked(key, value);
    }
    void put_locked(std::string_view key, std::string_view value) {
        auto it = _entries.find(key);
        if (it == _entries.end()) {
            _entries.emplace(std::string(key), std::string(value));
        } else {
            it->second.assign(value);
        }
    }
    void remove(std::string_view key) override {
        std::unique_lock lock(_mutex);
        remove_locked(key);
    }
    void remove_locked(std::string_view key) {
        auto it = _entries.find(key);
        if (it != _entries.end()) {
            _entries.erase(it);
        }
    }
    void write_batch(const std::vector<bytes_update>& updates) override {
        std::unique_lock lock(_mutex);
        for (const auto& [key, value] : updates) {
            if (value) {
                put_locked(key, *value);
            } else {
                remove_locked(key);
            }
        }
    }
    // Visits copies of the range taken under the lock, a chunk at a time,
    // each from just after the last key copied: the visitor may write to the
    // store, and a scan that stops early (a page of a key_value_range)
    // copies little. Readers on other threads see each chunk as it was when
    // copied.
    void scan(const std::optional<std::string>& from, const std::optional<std::string>& to, bool reverse,
        const bytes_visitor& visit) const override {
        if (from && to && *from > *to) {
            return;
        }
        std::vector<std::pair<std::string, std::string>> chunk;
        std::optional<std::string> last;
        while (true) {
            chunk.clear();
            {
                std::shared_lock lock(_mutex);
                copy_chunk_locked(from, to, reverse, last, chunk);
            }
            for (const auto& [k, v] : chunk) {
                if (!visit(k, v)) {
                    return;
                }
            }
            if (chunk.size() < scan_chunk) {
                return;
            }
            last = std::move(chunk.back().first);
        }
    }
    // Up to scan_chunk entries of [from, to] after `last` (in reverse:
    // before it), or from the start when there is no `last`.
    void copy_chunk_locked(const std::optional<std::string>& from, const std::optional<std::string>& to, bool reverse,
        const std::optional<std::string>& last, std::vector<std::pair<std::string, std::string>>& out) const {
        if (!reverse) {
            auto it = last ? _entries.upper_bound(*last) : from ? _entries.lower_bound(*from) : _entries.begin();
            const auto end = to ? _entries.upper_bound(*to) : _entries.end();
            for (; it != end && out.size() < scan_chunk; ++it) {
                out.emplace_back(it->first, it->second);
            }
        } else {
            auto it = last ? _entries.lower_bound(*last) : to ? _entries.upper_bound(*to) : _entries.end();
            const auto begin = from ? _entries.lower_bound(*from) : _entries.begin();
            while (it != begin && out.size() < scan_chunk) {
                --it;
                out.emplace_back(it->first, it->second);
            }
        }
    }
    std::uint64_t approximate_num_entries() const override {
        std::shared_lock lock(_mutex);
        return _entries.size();
    }
    void flush() override {}

private:
    static constexpr std::size_t scan_chunk = 256;

    std::string _name;
    // std::string compares as unsigned bytes (char_traits<char>::compare is
    // memcmp), the order RocksDB's default comparator uses.
    std::map<std::string, std::string, std::less<>> _entries;
    // The stream thread writes, queries from other threads read.
    mutable std::shared_mutex _mutex;
};

} // namespace

std::unique_ptr<bytes_store> make_in_memory_store(std::string name) {
    return std::make_unique<in_memory_store>(std::move(name));
}

} // namespace eddy::statestore::internal
