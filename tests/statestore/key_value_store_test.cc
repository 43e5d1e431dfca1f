// The key-value store engines (RocksDB and in memory) through the typed
// store, and the changelogging layer. Both engines must answer alike. Ranges
// are read lazily, a page per scan: they must answer as one scan would, over
// page bounds and with changes waiting in the record cache, and read no more
// than a page for a loop that stops early.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "serde/serdes.h"
#include "statestore/key_value_store.h"
#include "statestore/stores.h"

namespace {

using eddy::key_value;
using eddy::key_value_range;
using eddy::range_paging;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::ThrowsMessage;
using kvs = std::vector<key_value<std::string, std::int64_t>>;

static_assert(std::ranges::input_range<key_value_range<std::string, std::int64_t>>);
static_assert(std::ranges::view<key_value_range<std::string, std::int64_t>>);

// "k00042": byte order is numeric order.
std::string key_of(int i) {
    const auto digits = std::to_string(i);
    return "k" + std::string(5 - digits.size(), '0') + digits;
}

// What a range should hold: the model's entries that `keep` accepts, in
// key order or in reverse.
kvs expected(const std::map<std::string, std::int64_t>& model, const std::function<bool(const std::string&)>& keep,
    bool reverse) {
    kvs out;
    for (const auto& [k, v] : model) {
        if (keep(k)) {
            out.push_back({k, v});
        }
    }
    if (reverse) {
        std::reverse(out.begin(), out.end());
    }
    return out;
}

// int64 values that count their deserialisations.
struct counting_int64 {
    using value_type = std::int64_t;
    static constexpr std::string_view name = "counting-int64";

    std::string serialize(std::int64_t v) const { return eddy::serdes::int64{}.serialize(v); }
    std::int64_t deserialize(std::string_view bytes) const {
        ++*decoded;
        return eddy::serdes::int64{}.deserialize(bytes);
    }

    std::shared_ptr<std::size_t> decoded = std::make_shared<std::size_t>(0);
};

class KeyValueStoreTest : public testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "eddy-kv-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        _dir = pattern;
        _memory = eddy::statestore::internal::make_memory_budget(16 << 20);
        _handle = make(true);
    }
    void TearDown() override {
        _handle.reset();
        std::filesystem::remove_all(_dir);
    }

    std::unique_ptr<eddy::statestore::internal::store_handle> make(bool open) {
        auto supplier = GetParam() ? eddy::stores::persistent_key_value_store("scores")
                                   : eddy::stores::in_memory_key_value_store("scores");
        const auto builder = eddy::stores::key_value_store_builder<std::string, std::int64_t>(
            supplier, eddy::serdes::string{}, eddy::serdes::int64{});
        auto handle = eddy::statestore::internal::builder_access::spec(builder).make();
        if (open) {
            handle->engine().open(_dir, _memory);
        }
        return handle;
    }
    eddy::key_value_store<std::string, std::int64_t> store() {
        return eddy::key_value_store<std::string, std::int64_t>::from(*_handle);
    }
    // A range of the store read with `paging` (bounds and prefix as
    // serialised keys).
    key_value_range<std::string, std::int64_t> paged(std::optional<std::string> from, std::optional<std::string> to,
        bool reverse, std::optional<std::string> prefix, range_paging paging) {
        return key_value_range<std::string, std::int64_t>(*_handle, eddy::serdes::string{}, eddy::serdes::int64{},
            std::move(from), std::move(to), reverse, std::move(prefix), paging);
    }
    void enable_cache() { _handle->enable_cache(std::make_shared<eddy::statestore::internal::cache_budget>(64 << 20)); }
    // Writes 3000 keys k00000, k00002, ... (value i for key 2i), then, when
    // `flush_between`, flushes the cache so that the changes after land in
    // it as dirty entries: every third key updated, every fifth (from the
    // second) deleted, new odd keys put, and odd keys put then deleted.
    // Returns what the store then holds.
    std::map<std::string, std::int64_t> fill_with_changes(bool flush_between) {
        std::map<std::string, std::int64_t> model;
        auto s = store();
        for (int i = 0; i < 3000; ++i) {
            s.put(key_of(2 * i), i);
            model[key_of(2 * i)] = i;
        }
        if (flush_between) {
            _handle->flush_cache();
        }
        for (int i = 0; i < 3000; ++i) {
            if (i % 3 == 0) {
                s.put(key_of(2 * i), -i);
                model[key_of(2 * i)] = -i;
            }
            if (i % 5 == 1) {
                s.remove(key_of(2 * i));
                model.erase(key_of(2 * i));
            }
            if (i % 4 == 2) {
                s.put(key_of(2 * i + 1), 100000 + i);
                model[key_of(2 * i + 1)] = 100000 + i;
            }
            if (i % 9 == 0) {
                s.put(key_of(2 * i + 1), 1);
                s.remove(key_of(2 * i + 1));
                model.erase(key_of(2 * i + 1));
            }
        }
        return model;
    }
    // Every kind of range, through the store's API (default paging) and
    // with small pages, so that every key falls on a page bound in some
    // run, against the model.
    void expect_ranges_match(const std::map<std::string, std::int64_t>& model) {
        auto s = store();
        const auto any = [](const std::string&) { return true; };
        const auto between = [](const std::string& lo, const std::string& hi) {
            return [lo, hi](const std::string& k) { return lo <= k && k <= hi; };
        };
        const auto starts = [](const std::string& p) { return [p](const std::string& k) { return k.starts_with(p); }; };
        const auto lo = key_of(301);
        const auto hi = key_of(4000);
        EXPECT_EQ(s.all().to_vector(), expected(model, any, false));
        EXPECT_EQ(s.reverse_all().to_vector(), expected(model, any, true));
        EXPECT_EQ(s.range(lo, hi).to_vector(), expected(model, between(lo, hi), false));
        EXPECT_EQ(s.reverse_range(lo, hi).to_vector(), expected(model, between(lo, hi), true));
        EXPECT_EQ(s.prefix_scan("k01").to_vector(), expected(model, starts("k01"), false));
        EXPECT_EQ(s.prefix_scan("k0").to_vector(), expected(model, any, false));
        EXPECT_TRUE(s.range(hi, lo).empty());
        EXPECT_TRUE(s.reverse_range(hi, lo).empty());
        for (const auto paging : {range_paging{1, 1}, range_paging{2, 2}, range_paging{3, 3}, range_paging{5, 40}}) {
            SCOPED_TRACE(testing::Message() << "pages of " << paging.first << " up to " << paging.max);
            EXPECT_EQ(paged(std::nullopt, std::nullopt, false, std::nullopt, paging).to_vector(),
                expected(model, any, false));
            EXPECT_EQ(paged(std::nullopt, std::nullopt, true, std::nullopt, paging).to_vector(),
                expected(model, any, true));
            EXPECT_EQ(paged(lo, hi, false, std::nullopt, paging).to_vector(), expected(model, between(lo, hi), false));
            EXPECT_EQ(paged(lo, hi, true, std::nullopt, paging).to_vector(), expected(model, between(lo, hi), true));
            EXPECT_EQ(paged("k01", "k02", false, "k01", paging).to_vector(), expected(model, starts("k01"), false));
            EXPECT_TRUE(paged(hi, lo, false, std::nullopt, paging).empty());
            EXPECT_TRUE(paged(hi, lo, true, std::nullopt, paging).empty());
        }
    }

    std::filesystem::path _dir;
    std::shared_ptr<eddy::statestore::internal::memory_budget> _memory;
    std::unique_ptr<eddy::statestore::internal::store_handle> _handle;
};

TEST_P(KeyValueStoreTest, PutsGetsAndDeletes) {
    auto s = store();
    EXPECT_EQ(s.get("alice"), std::nullopt);
    s.put("alice", 3);
    s.put("bob", 5);
    s.put("alice", 4);
    EXPECT_EQ(s.get("alice"), 4);
    EXPECT_EQ(s.put_if_absent("bob", 9), 5);
    EXPECT_EQ(s.get("bob"), 5);
    EXPECT_EQ(s.put_if_absent("carol", 1), std::nullopt);
    EXPECT_EQ(s.remove("alice"), 4);
    EXPECT_EQ(s.remove("alice"), std::nullopt);
    EXPECT_EQ(s.get("alice"), std::nullopt);
    EXPECT_EQ(s.all().to_vector(), (std::vector<key_value<std::string, std::int64_t>>{{"bob", 5}, {"carol", 1}}));
}

TEST_P(KeyValueStoreTest, RangesFollowTheSerialisedKeyOrderBothWays) {
    auto s = store();
    s.put_all({{"d", 4}, {"a", 1}, {"c", 3}, {"b", 2}, {"e", 5}, {"ab", 12}});
    EXPECT_EQ(s.range("b", "d").to_vector(), (kvs{{"b", 2}, {"c", 3}, {"d", 4}}));
    EXPECT_EQ(s.reverse_range("b", "d").to_vector(), (kvs{{"d", 4}, {"c", 3}, {"b", 2}}));
    EXPECT_EQ(s.range("d", "b").to_vector(), kvs{}); // from after to: nothing, as in Kafka Streams
    EXPECT_EQ(s.all().to_vector(), (kvs{{"a", 1}, {"ab", 12}, {"b", 2}, {"c", 3}, {"d", 4}, {"e", 5}}));
    EXPECT_EQ(s.reverse_all().to_vector().front(), (key_value<std::string, std::int64_t>{"e", 5}));
    EXPECT_EQ(s.prefix_scan("a").to_vector(), (kvs{{"a", 1}, {"ab", 12}}));
    EXPECT_EQ(s.approximate_num_entries() > 0, true);
    if (!GetParam()) {
        EXPECT_EQ(s.approximate_num_entries(), 6U); // exact in memory; RocksDB estimates
    }
    std::vector<std::string> visited;
    s.for_each(std::string("b"), std::nullopt, [&](const std::string& k, std::int64_t) {
        visited.push_back(k);
        return visited.size() < 2;
    });
    EXPECT_THAT(visited, ElementsAre("b", "c"));
}

TEST_P(KeyValueStoreTest, TellsTheChangeListenerEveryPutAndDelete) {
    std::vector<std::pair<std::string, std::optional<std::string>>> changes;
    _handle->set_change_listener([&](std::string_view k, std::optional<std::string_view> v) {
        changes.emplace_back(std::string(k), v ? std::optional<std::string>(std::string(*v)) : std::nullopt);
    });
    auto s = store();
    s.put("a", 1);
    s.remove("a");
    s.remove("never-there"); // nothing to delete: nothing logged
    ASSERT_EQ(changes.size(), 2U);
    EXPECT_EQ(changes[0].first, "a");
    EXPECT_EQ(changes[0].second, eddy::serdes::int64{}.serialize(1));
    EXPECT_EQ(changes[1].second, std::nullopt);
}

TEST_P(KeyValueStoreTest, RestoresABatchOfUpdates) {
    _handle->engine().write_batch({{"a", eddy::serdes::int64{}.serialize(1)}, {"b", eddy::serdes::int64{}.serialize(2)},
        {"a", std::nullopt}});
    EXPECT_EQ(store().all().to_vector(), (std::vector<key_value<std::string, std::int64_t>>{{"b", 2}}));
}

TEST_P(KeyValueStoreTest, APersistentStoreKeepsItsDataAcrossAReopenAndWipeEmptiesIt) {
    store().put("kept", 7);
    _handle->engine().close();
    _handle = make(true);
    EXPECT_EQ(store().get("kept"), GetParam() ? std::optional<std::int64_t>(7) : std::nullopt);
    _handle->engine().wipe(_dir);
    _handle->engine().open(_dir, _memory);
    EXPECT_EQ(store().get("kept"), std::nullopt);
}

TEST_P(KeyValueStoreTest, RejectsAViewWithOtherTypesNamingTheStore) {
    EXPECT_THAT(([&] { (void)eddy::key_value_store<std::string, std::string>::from(*_handle); }),
        ThrowsMessage<eddy::store_error>(HasSubstr("store scores was asked for as a key-value store of "
                                                   "<std::__cxx11::basic_string<char, std::char_traits<char>, "
                                                   "std::allocator<char> >, std::__cxx11::basic_string")));
}

TEST_P(KeyValueStoreTest, RangesOverManyPagesAnswerAsOneScan) {
    const auto model = fill_with_changes(false);
    ASSERT_EQ(_handle->cache(), nullptr);
    expect_ranges_match(model);
}

TEST_P(KeyValueStoreTest, RangesOverManyPagesSeeTheCachedChanges) {
    enable_cache();
    const auto model = fill_with_changes(true);
    ASSERT_GT(_handle->cache()->dirty_count(), 1000U);
    expect_ranges_match(model);
    // The same once the cache has written them.
    _handle->flush_cache();
    ASSERT_EQ(_handle->cache()->dirty_count(), 0U);
    expect_ranges_match(model);
}

TEST_P(KeyValueStoreTest, ALoopThatStopsEarlyDeserialisesAtMostAPage) {
    counting_int64 values;
    auto supplier = GetParam() ? eddy::stores::persistent_key_value_store("counted")
                               : eddy::stores::in_memory_key_value_store("counted");
    const auto builder =
        eddy::stores::key_value_store_builder<std::string, std::int64_t>(supplier, eddy::serdes::string{}, values);
    auto handle = eddy::statestore::internal::builder_access::spec(builder).make();
    handle->engine().open(_dir, _memory);
    auto s = eddy::key_value_store<std::string, std::int64_t>::from(*handle);
    for (int i = 0; i < 10000; ++i) {
        s.put(key_of(i), i);
    }
    const std::size_t page = range_paging{}.first;

    *values.decoded = 0;
    kvs first;
    for (const auto& kv : s.all() | std::views::take(3)) {
        first.push_back(kv);
    }
    EXPECT_EQ(first, (kvs{{key_of(0), 0}, {key_of(1), 1}, {key_of(2), 2}}));
    EXPECT_LE(*values.decoded, page);

    *values.decoded = 0;
    kvs last;
    for (const auto& [k, v] : s.reverse_all()) {
        last.push_back({k, v});
        if (last.size() == 3) {
            break;
        }
    }
    EXPECT_EQ(last, (kvs{{key_of(9999), 9999}, {key_of(9998), 9998}, {key_of(9997), 9997}}));
    EXPECT_LE(*values.decoded, page);

    *values.decoded = 0;
    auto prefixed = s.prefix_scan("k0");
    EXPECT_EQ(prefixed.begin()->key, key_of(0));
    EXPECT_LE(*values.decoded, page);

    // The counter counts: a whole scan deserialises every value.
    *values.decoded = 0;
    EXPECT_EQ(s.range(key_of(0), key_of(9999)).to_vector().size(), 10000U);
    EXPECT_EQ(*values.decoded, 10000U);
    handle->engine().close();
}

TEST_P(KeyValueStoreTest, EmptyRangesAndRangesFromAfterToHoldNothing) {
    auto s = store();
    EXPECT_TRUE(s.all().empty());
    EXPECT_TRUE(s.reverse_all().empty());
    EXPECT_TRUE(s.range("a", "z").empty());
    EXPECT_TRUE(s.prefix_scan("a").empty());
    auto none = s.all();
    EXPECT_TRUE(none.begin() == none.end());
    EXPECT_EQ(std::ranges::distance(s.all()), 0);

    s.put_all({{"a", 1}, {"d", 4}});
    enable_cache();
    s.put("e", 5); // dirty
    s.remove("a"); // a dirty delete
    EXPECT_TRUE(s.range("b", "c").empty());
    EXPECT_TRUE(s.reverse_range("b", "c").empty());
    EXPECT_TRUE(s.range("a", "a").empty());
    EXPECT_TRUE(s.prefix_scan("b").empty());
    EXPECT_TRUE(s.range("e", "a").empty());
    EXPECT_TRUE(s.reverse_range("e", "a").empty());
    EXPECT_EQ(s.all().to_vector(), (kvs{{"d", 4}, {"e", 5}}));
}

TEST_P(KeyValueStoreTest, ALoopMayWriteToTheStoreItReads) {
    enable_cache();
    auto s = store();
    s.put_all({{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}, {"e", 5}});
    _handle->flush_cache();
    std::vector<std::string> visited;
    // Pages [a, b], [c, d], [e]: a write lands in the loop when it is past
    // the page being read.
    for (const auto& [k, v] : paged(std::nullopt, std::nullopt, false, std::nullopt, {2, 2})) {
        visited.push_back(k);
        s.remove(k);
        if (k == "c") {
            s.put("dd", 44); // after this page: visited
            s.put("cc", 33); // within this page, already read: not visited
            s.put("b0", 20); // passed: not visited
        }
    }
    EXPECT_THAT(visited, ElementsAre("a", "b", "c", "d", "dd", "e"));
    EXPECT_EQ(s.all().to_vector(), (kvs{{"b0", 20}, {"cc", 33}}));
}

INSTANTIATE_TEST_SUITE_P(Engines, KeyValueStoreTest, testing::Values(true, false),
    [](const testing::TestParamInfo<bool>& info) { return info.param ? "RocksDB" : "InMemory"; });

} // namespace
