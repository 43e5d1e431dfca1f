#pragma once

// key_value_range<K, V>: the entries of a key-value store between two
// serialised bounds, read lazily: what range(), reverse_range(), all(),
// reverse_all() and prefix_scan() of key_value_store<K, V> return. It reads
// the store a page at a time (128 entries, doubling up to 1024 for a long
// scan), each page one scan of the store from just after the last key of
// the page before (in reverse: up to just before it), and deserialises an
// entry when the iterator reaches it. So memory is bounded by a page, and a
// loop that stops early reads little.
//
//   for (const auto& [user, n] : counts.all()) { ... }
//   for (const auto& [user, n] : counts.all() | std::views::take(3)) { ... }
//   std::vector<eddy::key_value<std::string, std::int64_t>> v = counts.range("a", "m").to_vector();
//
// An input range (a move-only view): one pass; begin() is not const, and
// calling it again resumes where the last iterator stopped. Not a snapshot:
// each page reads the store as it is then, so a write made while iterating
// (by the loop itself, say) shows if its key falls after the page being
// read, and a key already passed is not visited again. The store must
// outlive the range.

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/record.h"
#include "../serde/serde.h"
#include "internal/store_handle.h"

namespace eddy {

// How many entries a key_value_range reads per scan: `first`, doubling up
// to `max`.
struct range_paging {
    std::size_t first = 128;
    std::size_t max = 1024;
};

template<typename K, typename V>
class key_value_range : public std::ranges::view_interface<key_value_range<K, V>> {
public:
    class iterator {
    public:
        using value_type = key_value<K, V>;
        using difference_type = std::ptrdiff_t;
        using iterator_concept = std::input_iterator_tag;

        iterator() = default;

        value_type& operator*() const { return *_range->_current; }
        value_type* operator->() const { return &*_range->_current; }
        iterator& operator++() {
            _range->advance();
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.at_end(); }

    private:
        friend class key_value_range;
        explicit iterator(key_value_range* range) : _range(range) {}
        bool at_end() const noexcept { return _range == nullptr || !_range->_current; }

        key_value_range* _range = nullptr;
    };

    // Entries with from <= key <= to (serialised; either bound open when
    // empty), in key order or in reverse; with a `prefix`, it ends at the
    // first key that does not start with it.
    key_value_range(const statestore::internal::store_handle& handle, serde_ref<K> key_serde,
        serde_ref<V> value_serde, std::optional<std::string> from, std::optional<std::string> to, bool reverse,
        std::optional<std::string> prefix = std::nullopt, range_paging paging = {})
        : _handle(&handle)
        , _key_serde(std::move(key_serde))
        , _value_serde(std::move(value_serde))
        , _from(std::move(from))
        , _to(std::move(to))
        , _reverse(reverse)
        , _prefix(std::move(prefix))
        , _page_size(std::max<std::size_t>(paging.first, 1))
        , _max_page_size(std::max(paging.max, _page_size)) {}

    // Move-only: a copy would copy the page. Iterators point at the range,
    // so moving it invalidates them.
    key_value_range(key_value_range&&) noexcept = default;
    key_value_range& operator=(key_value_range&&) noexcept = default;
    key_value_range(const key_value_range&) = delete;
    key_value_range& operator=(const key_value_range&) = delete;

    // Reads the first page on the first call.
    iterator begin() {
        if (!_started) {
            _started = true;
            load_page();
            decode();
        }
        return iterator(this);
    }
    std::default_sentinel_t end() const noexcept { return {}; }

    // Whether no entry is left (reads the first page if need be).
    bool empty() { return begin() == end(); }

    // The entries from where iteration stands (all of them for a range not
    // begun), in order: for callers that need a vector (an index, a size).
    // Holds them all in memory.
    std::vector<key_value<K, V>> to_vector() {
        std::vector<key_value<K, V>> out;
        for (auto& kv : *this) {
            out.push_back(std::move(kv));
        }
        return out;
    }

private:
    // One scan: up to a page of entries after the last one read.
    void load_page() {
        _page.clear();
        _pos = 0;
        auto from = _from;
        auto to = _to;
        if (_cursor) {
            // Bounds are inclusive: the cursor key comes first and is skipped.
            (_reverse ? to : from) = _cursor;
        }
        const std::size_t limit = _page_size;
        bool full = false;
        _handle->scan(from, to, _reverse, [&](std::string_view k, std::string_view v) {
            if (_cursor && k == *_cursor) {
                return true;
            }
            if (_prefix && !k.starts_with(*_prefix)) {
                return false;
            }
            _page.emplace_back(k, v);
            full = _page.size() == limit;
            return !full;
        });
        _more = full;
        if (!_page.empty()) {
            _cursor = _page.back().first;
        }
        _page_size = std::min(_page_size * 2, _max_page_size);
    }
    void decode() {
        if (_pos == _page.size()) {
            _current.reset();
            return;
        }
        const auto& [k, v] = _page[_pos];
        _current.emplace(key_value<K, V>{_key_serde.deserialize(k), _value_serde.deserialize(v)});
    }
    void advance() {
        ++_pos;
        if (_pos == _page.size() && _more) {
            load_page();
        }
        decode();
    }

    const statestore::internal::store_handle* _handle;
    serde_ref<K> _key_serde;
    serde_ref<V> _value_serde;
    std::optional<std::string> _from;
    std::optional<std::string> _to;
    bool _reverse;
    std::optional<std::string> _prefix;
    std::size_t _page_size;
    std::size_t _max_page_size;
    // The current page, as stored; the entry at _pos is _current.
    std::vector<std::pair<std::string, std::string>> _page;
    std::size_t _pos = 0;
    std::optional<key_value<K, V>> _current;
    // The last key read: the next page starts after it.
    std::optional<std::string> _cursor;
    // The last page was full, so the store may hold more.
    bool _more = false;
    bool _started = false;
};

} // namespace eddy
