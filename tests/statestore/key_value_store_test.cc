// The key-value store engines (RocksDB and in memory) through the typed
// store, and the changelogging layer. Both engines must answer alike.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "serde/serdes.h"
#include "statestore/key_value_store.h"
#include "statestore/stores.h"

namespace {

using eddy::key_value;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::ThrowsMessage;

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
        auto handle = eddy::stores::key_value_store_builder<std::string, std::int64_t>(
                          supplier, eddy::serdes::string{}, eddy::serdes::int64{})
                          .spec()
                          .make();
        if (open) {
            handle->engine().open(_dir, _memory);
        }
        return handle;
    }
    eddy::key_value_store<std::string, std::int64_t> store() {
        return eddy::key_value_store<std::string, std::int64_t>::from(*_handle);
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
    EXPECT_EQ(s.all(), (std::vector<key_value<std::string, std::int64_t>>{{"bob", 5}, {"carol", 1}}));
}

TEST_P(KeyValueStoreTest, RangesFollowTheSerialisedKeyOrderBothWays) {
    auto s = store();
    s.put_all({{"d", 4}, {"a", 1}, {"c", 3}, {"b", 2}, {"e", 5}, {"ab", 12}});
    using kvs = std::vector<key_value<std::string, std::int64_t>>;
    EXPECT_EQ(s.range("b", "d"), (kvs{{"b", 2}, {"c", 3}, {"d", 4}}));
    EXPECT_EQ(s.reverse_range("b", "d"), (kvs{{"d", 4}, {"c", 3}, {"b", 2}}));
    EXPECT_EQ(s.range("d", "b"), kvs{}); // from after to: nothing, as in Kafka Streams
    EXPECT_EQ(s.all(), (kvs{{"a", 1}, {"ab", 12}, {"b", 2}, {"c", 3}, {"d", 4}, {"e", 5}}));
    EXPECT_EQ(s.reverse_all().front(), (key_value<std::string, std::int64_t>{"e", 5}));
    EXPECT_EQ(s.prefix_scan("a"), (kvs{{"a", 1}, {"ab", 12}}));
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
    EXPECT_EQ(store().all(), (std::vector<key_value<std::string, std::int64_t>>{{"b", 2}}));
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

INSTANTIATE_TEST_SUITE_P(Engines, KeyValueStoreTest, testing::Values(true, false),
    [](const testing::TestParamInfo<bool>& info) { return info.param ? "RocksDB" : "InMemory"; });

} // namespace
