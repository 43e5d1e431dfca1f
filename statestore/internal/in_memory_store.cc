#include <map>

#include "statestore/internal/bytes_store.h"

namespace eddy::statestore::internal {
namespace {

class in_memory_store final : public bytes_store {
public:
    explicit in_memory_store(std::string name) : _name(std::move(name)) {}

    void open(const std::filesystem::path&, const std::shared_ptr<memory_budget>&) override {}
    void close() override { _entries.clear(); }
    void wipe(const std::filesystem::path&) override { _entries.clear(); }
    bool persistent() const noexcept override { return false; }

    std::optional<std::string> get(std::string_view key) const override {
        auto it = _entries.find(key);
        if (it == _entries.end()) {
            return std::nullopt;
        }
        return it->second;
    }
    void put(std::string_view key, std::string_view value) override {
        auto it = _entries.find(key);
        if (it == _entries.end()) {
            _entries.emplace(std::string(key), std::string(value));
        } else {
            it->second.assign(value);
        }
    }
    void remove(std::string_view key) override {
        auto it = _entries.find(key);
        if (it != _entries.end()) {
            _entries.erase(it);
        }
    }
    void write_batch(const std::vector<bytes_update>& updates) override {
        for (const auto& [key, value] : updates) {
            if (value) {
                put(key, *value);
            } else {
                remove(key);
            }
        }
    }
    void scan(const std::optional<std::string>& from, const std::optional<std::string>& to, bool reverse,
        const bytes_visitor& visit) const override {
        auto first = from ? _entries.lower_bound(*from) : _entries.begin();
        auto last = to ? _entries.upper_bound(*to) : _entries.end();
        if (from && to && *from > *to) {
            return;
        }
        if (!reverse) {
            for (auto it = first; it != last; ++it) {
                if (!visit(it->first, it->second)) {
                    return;
                }
            }
        } else {
            for (auto it = last; it != first;) {
                --it;
                if (!visit(it->first, it->second)) {
                    return;
                }
            }
        }
    }
    std::uint64_t approximate_num_entries() const override { return _entries.size(); }
    void flush() override {}

private:
    std::string _name;
    // std::string compares as unsigned bytes (char_traits<char>::compare is
    // memcmp), the order RocksDB's default comparator uses.
    std::map<std::string, std::string, std::less<>> _entries;
};

} // namespace

std::unique_ptr<bytes_store> make_in_memory_store(std::string name) {
    return std::make_unique<in_memory_store>(std::move(name));
}

} // namespace eddy::statestore::internal
