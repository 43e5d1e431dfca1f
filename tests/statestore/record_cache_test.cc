// The record cache in front of a store (both engines): reads hit it, repeated
// updates reach the engine and the changelog once per flush, in the order of
// the keys' latest updates, eviction at the budget writes dirty entries
// through, deletes hide keys until flushed, scans merge dirty entries with
// the engine's, and queries from other threads see cached values.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "serde/serdes.h"
#include "statestore/key_value_store.h"
#include "statestore/stores.h"

namespace {

using eddy::key_value;
using eddy::statestore::internal::bytes_store;
using eddy::statestore::internal::bytes_update;
using eddy::statestore::internal::bytes_visitor;
using eddy::statestore::internal::cache_budget;
using eddy::statestore::internal::store_handle;
using kvs = std::vector<key_value<std::string, std::int64_t>>;
// What reached the changelog: key and value (none: a delete).
using changelog = std::vector<std::pair<std::string, std::optional<std::int64_t>>>;

// An engine that counts what reaches it, around a real one.
class counting_engine final : public bytes_store {
public:
    explicit counting_engine(std::unique_ptr<bytes_store> inner) : _inner(std::move(inner)) {}
    void open(const std::filesystem::path& dir, const std::shared_ptr<eddy::statestore::internal::memory_budget>& m) override {
        _inner->open(dir, m);
    }
    void close() override { _inner->close(); }
    void wipe(const std::filesystem::path& dir) override { _inner->wipe(dir); }
    bool persistent() const noexcept override { return _inner->persistent(); }
    bool opened_empty() const noexcept override { return _inner->opened_empty(); }
    std::optional<std::string> get(std::string_view key) const override {
        ++gets;
        return _inner->get(key);
    }
    void put(std::string_view key, std::string_view value) override {
        ++writes;
        _inner->put(key, value);
    }
    void remove(std::string_view key) override {
        ++writes;
        _inner->remove(key);
    }
    void write_batch(const std::vector<bytes_update>& updates) override {
        writes += static_cast<int>(updates.size());
        _inner->write_batch(updates);
    }
    void scan(const std::optional<std::string>& from, const std::optional<std::string>& to, bool reverse,
        const bytes_visitor& visit) const override {
        _inner->scan(from, to, reverse, visit);
    }
    std::uint64_t approximate_num_entries() const override { return _inner->approximate_num_entries(); }
    void flush() override { _inner->flush(); }

    mutable int gets = 0;
    int writes = 0;

private:
    std::unique_ptr<bytes_store> _inner;
};

class RecordCacheTest : public testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "eddy-cache-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        _dir = pattern;
        _memory = eddy::statestore::internal::make_memory_budget(16 << 20);
    }
    void TearDown() override {
        _handles.clear();
        std::filesystem::remove_all(_dir);
    }

    // A logged, cached store of string -> int64 on the engine under test;
    // its changelog records land in `log`.
    store_handle& make(const std::string& name, const std::shared_ptr<cache_budget>& budget, changelog& log) {
        auto engine = GetParam() ? eddy::statestore::internal::make_rocksdb_store(name)
                                 : eddy::statestore::internal::make_in_memory_store(name);
        auto counted = std::make_unique<counting_engine>(std::move(engine));
        _engines.push_back(counted.get());
        auto handle = std::make_unique<store_handle>(name, std::move(counted), true,
            std::any(eddy::serde_ref<std::string>(eddy::serdes::string{})),
            std::any(eddy::serde_ref<std::int64_t>(eddy::serdes::int64{})));
        handle->engine().open(_dir, _memory);
        handle->set_change_listener([&log](std::string_view k, std::optional<std::string_view> v) {
            log.emplace_back(std::string(k),
                v ? std::optional<std::int64_t>(eddy::serdes::int64{}.deserialize(*v)) : std::nullopt);
        });
        handle->enable_cache(budget);
        _handles.push_back(std::move(handle));
        return *_handles.back();
    }
    static eddy::key_value_store<std::string, std::int64_t> view(store_handle& h) {
        return eddy::key_value_store<std::string, std::int64_t>::from(h);
    }
    // The engine's own contents, bypassing the cache.
    static kvs engine_contents(store_handle& h) {
        kvs out;
        h.engine().scan(std::nullopt, std::nullopt, false, [&](std::string_view k, std::string_view v) {
            out.push_back({std::string(k), eddy::serdes::int64{}.deserialize(v)});
            return true;
        });
        return out;
    }

    std::filesystem::path _dir;
    std::shared_ptr<eddy::statestore::internal::memory_budget> _memory;
    std::vector<counting_engine*> _engines;
    std::vector<std::unique_ptr<store_handle>> _handles;
};

TEST_P(RecordCacheTest, ReadsOfWrittenKeysAreServedFromTheCache) {
    changelog log;
    auto& h = make("counts", std::make_shared<cache_budget>(1 << 20), log);
    auto s = view(h);
    s.put("alice", 1);
    s.put("bob", 2);
    EXPECT_EQ(s.get("alice"), 1);
    EXPECT_EQ(s.get("bob"), 2);
    EXPECT_EQ(_engines[0]->gets, 0);
    EXPECT_EQ(_engines[0]->writes, 0); // nothing written before the flush
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(h.cache()->stats().hits, 2U);

    // A key only the engine holds is read once, then kept.
    h.engine().put("carol", eddy::serdes::int64{}.serialize(7));
    EXPECT_EQ(s.get("carol"), 7);
    EXPECT_EQ(s.get("carol"), 7);
    EXPECT_EQ(_engines[0]->gets, 1);
    EXPECT_EQ(s.get("nobody"), std::nullopt);
}

TEST_P(RecordCacheTest, RepeatedUpdatesReachTheEngineAndChangelogOncePerFlush) {
    changelog log;
    auto& h = make("counts", std::make_shared<cache_budget>(1 << 20), log);
    auto s = view(h);
    for (int i = 1; i <= 100; ++i) {
        for (const char* k : {"a", "b", "c"}) {
            s.put(k, s.get(k).value_or(0) + 1);
        }
    }
    EXPECT_EQ(h.cache()->dirty_count(), 3U);
    EXPECT_EQ(h.flush_cache(), 3U);
    EXPECT_EQ(log, (changelog{{"a", 100}, {"b", 100}, {"c", 100}}));
    EXPECT_EQ(engine_contents(h), (kvs{{"a", 100}, {"b", 100}, {"c", 100}}));
    EXPECT_EQ(_engines[0]->writes, 3);
    // A second flush has nothing to write; the entries stay for reads.
    EXPECT_EQ(h.flush_cache(), 0U);
    EXPECT_EQ(log.size(), 3U);
    EXPECT_EQ(s.get("b"), 100);
    EXPECT_EQ(_engines[0]->gets, 3); // the first read of each key only
}

TEST_P(RecordCacheTest, AFlushWritesInTheOrderOfTheKeysLatestUpdates) {
    changelog log;
    auto& h = make("counts", std::make_shared<cache_budget>(1 << 20), log);
    auto s = view(h);
    s.put("a", 1);
    s.put("b", 1);
    s.put("c", 1);
    s.put("a", 2);
    s.remove("b");
    h.flush_cache();
    EXPECT_EQ(log, (changelog{{"c", 1}, {"a", 2}, {"b", std::nullopt}}));
}

TEST_P(RecordCacheTest, EvictionAtTheBudgetWritesTheLeastRecentlyUsedDirtyEntryThrough) {
    changelog log;
    // Room for about three small entries.
    auto probe = std::make_shared<cache_budget>(1 << 20);
    changelog ignored;
    auto& sizer = make("sizer", probe, ignored);
    view(sizer).put("k0", 0);
    const auto one_entry = probe->used_bytes();
    sizer.drop_cache();
    EXPECT_EQ(probe->used_bytes(), 0U);

    auto budget = std::make_shared<cache_budget>(3 * one_entry);
    auto& h = make("counts", budget, log);
    auto s = view(h);
    s.put("k1", 1);
    s.put("k2", 2);
    s.put("k3", 3);
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(s.get("k1"), 1); // k1 is now the most recently used
    s.put("k4", 4);             // over the budget: k2 goes
    EXPECT_EQ(log, (changelog{{"k2", 2}}));
    EXPECT_EQ(engine_contents(h), (kvs{{"k2", 2}}));
    EXPECT_LE(budget->used_bytes(), budget->max_bytes());
    EXPECT_EQ(h.cache()->stats().evictions, 1U);
    // The evicted key reads from the engine; the others from the cache.
    EXPECT_EQ(s.get("k2"), 2);
    EXPECT_EQ(s.all().to_vector(), (kvs{{"k1", 1}, {"k2", 2}, {"k3", 3}, {"k4", 4}}));
    h.flush_cache();
    EXPECT_EQ(engine_contents(h), (kvs{{"k1", 1}, {"k2", 2}, {"k3", 3}, {"k4", 4}}));
}

TEST_P(RecordCacheTest, StoresOfOneThreadShareTheBudgetAndTheWriterGivesWay) {
    changelog log_a;
    changelog log_b;
    auto probe = std::make_shared<cache_budget>(1 << 20);
    changelog ignored;
    auto& sizer = make("sizer", probe, ignored);
    view(sizer).put("k0", 0);
    const auto one_entry = probe->used_bytes();
    sizer.drop_cache();

    auto budget = std::make_shared<cache_budget>(4 * one_entry);
    auto& a = make("a", budget, log_a);
    auto& b = make("b", budget, log_b);
    view(a).put("k1", 1);
    view(a).put("k2", 2);
    view(a).put("k3", 3);
    view(b).put("k1", 10);
    view(b).put("k2", 20); // five entries: the store writing gives up its own oldest
    EXPECT_TRUE(log_a.empty());
    EXPECT_EQ(log_b, (changelog{{"k1", 10}}));
    EXPECT_EQ(budget->used_bytes(), 4 * one_entry);
}

TEST_P(RecordCacheTest, ARemovedKeyIsGoneAtOnceAndDeletedInTheEngineOnFlush) {
    changelog log;
    auto& h = make("counts", std::make_shared<cache_budget>(1 << 20), log);
    auto s = view(h);
    s.put("alice", 3);
    h.flush_cache();
    EXPECT_EQ(s.remove("alice"), 3);
    EXPECT_EQ(s.get("alice"), std::nullopt);
    EXPECT_EQ(s.all().to_vector(), kvs{});
    EXPECT_EQ(engine_contents(h), (kvs{{"alice", 3}})); // not yet
    h.flush_cache();
    EXPECT_EQ(log, (changelog{{"alice", 3}, {"alice", std::nullopt}}));
    EXPECT_EQ(engine_contents(h), kvs{});
    EXPECT_EQ(h.cache()->size(), 0U);
    // A key put and removed between two flushes: a delete, nothing else.
    s.put("bob", 1);
    s.remove("bob");
    h.flush_cache();
    EXPECT_EQ(log.back(), (std::pair<std::string, std::optional<std::int64_t>>{"bob", std::nullopt}));
    EXPECT_EQ(log.size(), 3U);
}

TEST_P(RecordCacheTest, ScansSeeDirtyEntriesMergedWithTheEngine) {
    changelog log;
    auto& h = make("counts", std::make_shared<cache_budget>(1 << 20), log);
    auto s = view(h);
    s.put_all({{"a", 1}, {"b", 2}, {"c", 3}, {"e", 5}});
    h.flush_cache();
    // Dirty: b updated, c deleted, d and ab new; a and e only in the engine
    // and clean in the cache.
    s.put("b", 20);
    s.remove("c");
    s.put("d", 4);
    s.put("ab", 12);
    EXPECT_EQ(s.all().to_vector(), (kvs{{"a", 1}, {"ab", 12}, {"b", 20}, {"d", 4}, {"e", 5}}));
    EXPECT_EQ(s.reverse_all().to_vector(), (kvs{{"e", 5}, {"d", 4}, {"b", 20}, {"ab", 12}, {"a", 1}}));
    EXPECT_EQ(s.range("ab", "d").to_vector(), (kvs{{"ab", 12}, {"b", 20}, {"d", 4}}));
    EXPECT_EQ(s.reverse_range("b", "e").to_vector(), (kvs{{"e", 5}, {"d", 4}, {"b", 20}}));
    EXPECT_EQ(s.prefix_scan("a").to_vector(), (kvs{{"a", 1}, {"ab", 12}}));
    EXPECT_EQ(s.range("d", "b").to_vector(), kvs{});
    // A visitor may stop early, and may write while it visits.
    kvs seen;
    s.for_each(std::nullopt, std::nullopt, [&](const std::string& k, const std::int64_t& v) {
        seen.push_back({k, v});
        s.put(k, v + 100);
        return seen.size() < 3;
    });
    EXPECT_EQ(seen, (kvs{{"a", 1}, {"ab", 12}, {"b", 20}}));
    EXPECT_EQ(s.get("ab"), 112);
    EXPECT_EQ(s.approximate_num_entries() > 0, true);
    if (!GetParam()) {
        EXPECT_EQ(s.approximate_num_entries(), 5U); // exact in memory
    }
    h.flush_cache();
    EXPECT_EQ(engine_contents(h), (kvs{{"a", 101}, {"ab", 112}, {"b", 120}, {"d", 4}, {"e", 5}}));
}

TEST_P(RecordCacheTest, ADroppedCacheWritesNothing) {
    changelog log;
    auto budget = std::make_shared<cache_budget>(1 << 20);
    auto& h = make("counts", budget, log);
    auto s = view(h);
    s.put("a", 1);
    h.drop_cache();
    EXPECT_EQ(s.get("a"), std::nullopt);
    EXPECT_EQ(h.flush_cache(), 0U);
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(budget->used_bytes(), 0U);
}

TEST_P(RecordCacheTest, QueriesFromAnotherThreadSeeCachedValuesWithoutFillingTheCache) {
    changelog log;
    auto& h = make("counts", std::make_shared<cache_budget>(1 << 20), log);
    auto s = view(h);
    s.put("dirty", 1);
    h.engine().put("engine-only", eddy::serdes::int64{}.serialize(2));
    std::optional<std::int64_t> dirty;
    std::optional<std::int64_t> engine_only;
    kvs all;
    std::thread reader([&] {
        auto r = eddy::read_only_key_value_store<std::string, std::int64_t>::from(h);
        dirty = r.get("dirty");
        engine_only = r.get("engine-only");
        all = r.all().to_vector();
    });
    reader.join();
    EXPECT_EQ(dirty, 1);
    EXPECT_EQ(engine_only, 2);
    EXPECT_EQ(all, (kvs{{"dirty", 1}, {"engine-only", 2}}));
    EXPECT_EQ(h.cache()->size(), 1U); // the reader's miss was not kept
}

INSTANTIATE_TEST_SUITE_P(Engines, RecordCacheTest, testing::Values(true, false),
    [](const testing::TestParamInfo<bool>& info) { return info.param ? "RocksDB" : "InMemory"; });

} // namespace
