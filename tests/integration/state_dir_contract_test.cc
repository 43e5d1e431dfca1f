// An operator's bad day in the state directory, on the embedded broker
// (issue 14): a store's folder deleted with its checkpoint kept (before a
// start, and while the app runs), a store whose CURRENT file is damaged, and
// state.dir on a full disk. Each time the counts come out exact once the
// app starts again: a checkpoint counts only for the files it was written
// with, a damaged store with a changelog is wiped and restored, and a full
// disk fails the task with a clear error (ERROR, health unhealthy) instead
// of aborting the process in RocksDB.

#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/kafka_streams.h"
#include "serde/serdes.h"
#include "tests/integration/broker_fixture.h"
#include "tests/integration/kafka_test_util.h"
#include "tests/temp_dir.h"
#include "topology/streams_builder.h"

namespace {

using eddy::test::produce;
using eddy::test::unique;

using eddy::test::temp_dir;

// A tmpfs of `bytes` mounted on a fresh folder (root only), gone with it.
class small_disk {
public:
    explicit small_disk(std::size_t bytes) {
        const auto options = "size=" + std::to_string(bytes);
        mounted = ::mount("tmpfs", dir.path.c_str(), "tmpfs", 0, options.c_str()) == 0;
    }
    ~small_disk() {
        if (mounted) {
            ::umount2(dir.path.c_str(), MNT_DETACH);
        }
    }
    // Writes a file until the disk has no room left.
    void fill() {
        std::ofstream out(dir.path / "filler", std::ios::binary);
        const std::string block(64 * 1024, 'x');
        while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) {
        }
        out.close();
        // The last partial block.
        std::ofstream tail(dir.path / "filler-tail", std::ios::binary);
        for (char c = 'x'; tail.put(c); tail.flush()) {
        }
    }
    void free() {
        std::filesystem::remove(dir.path / "filler");
        std::filesystem::remove(dir.path / "filler-tail");
    }
    temp_dir dir;
    bool mounted = false;
};

struct count_app {
    std::string in = unique("sd-clicks");
    std::string out = unique("sd-counts");
    std::string app = unique("sd-counter");
    static constexpr int users = 10;

    count_app() {
        broker().create_topic(in, 2);
        broker().create_topic(out, 2);
    }

    eddy::topology topology() const {
        eddy::streams_builder builder;
        builder.stream<std::string, std::string>(in)
            .group_by_key()
            .count(eddy::materialized<std::string, std::int64_t>::as(eddy::stores::persistent_key_value_store("counts")))
            .to_stream()
            .to(out, eddy::produced<std::string, std::int64_t>::with(eddy::serdes::string{}, eddy::serdes::int64{}));
        return builder.build();
    }

    eddy::streams_config config(const std::filesystem::path& state_dir) const {
        auto c = config_for(app);
        c.set("state.dir", state_dir.string());
        return c;
    }

    // `rounds` more clicks for each user.
    void click(int rounds) const {
        std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>> rs;
        for (int r = 0; r < rounds; ++r) {
            for (int u = 0; u < users; ++u) {
                rs.emplace_back("user-" + std::to_string(u), "/page");
            }
        }
        produce(broker().bootstrap_servers(), in, rs);
    }

    // The task folders holding this app's store.
    std::vector<std::filesystem::path> store_dirs(const std::filesystem::path& state_dir) const {
        std::vector<std::filesystem::path> out;
        for (const auto& task : std::filesystem::directory_iterator(state_dir / app)) {
            if (std::filesystem::exists(task.path() / "rocksdb" / "counts")) {
                out.push_back(task.path() / "rocksdb" / "counts");
            }
        }
        return out;
    }
};

// Runs the app until every user's count in the store is `each`; returns
// the counts seen (fewer users, or other counts, when it timed out).
std::map<std::string, std::int64_t> run_until_counts(
    const count_app& a, const std::filesystem::path& state_dir, std::int64_t each) {
    eddy::kafka_streams app(a.topology(), a.config(state_dir));
    app.start();
    auto store = app.store<std::string, std::int64_t>("counts");
    std::map<std::string, std::int64_t> seen;
    wait_for(
        [&] {
            seen.clear();
            for (const auto& kv : store.all()) {
                seen[kv.key] = kv.value;
            }
            return seen.size() == count_app::users
                && std::all_of(seen.begin(), seen.end(), [&](const auto& kv) { return kv.second >= each; });
        },
        60s);
    EXPECT_TRUE(app.close(30s));
    return seen;
}

void expect_counts(const std::map<std::string, std::int64_t>& seen, std::int64_t each) {
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(count_app::users));
    for (const auto& [user, n] : seen) {
        EXPECT_EQ(n, each) << user;
    }
}

// Finding 1: the store's folder deleted between two runs, its checkpoint
// kept. The checkpoint said the store held the changelog up to its end, so
// the restore used to skip it all onto an empty store: every count 1.
TEST(StateDirTest, AStoreFolderDeletedWithItsCheckpointKeptIsRestoredFromTheChangelogsStart) {
    count_app a;
    temp_dir dir;
    a.click(5);
    expect_counts(run_until_counts(a, dir.path, 5), 5);
    const auto stores = a.store_dirs(dir.path);
    ASSERT_EQ(stores.size(), 2U);
    for (const auto& s : stores) {
        ASSERT_TRUE(std::filesystem::exists(s.parent_path().parent_path() / ".checkpoint"));
        std::filesystem::remove_all(s.parent_path());
    }
    a.click(1);
    expect_counts(run_until_counts(a, dir.path, 6), 6);
}

// Finding 1, while the app runs: the thread may fail on its next flush; a
// restart (with the checkpoint of the deleted files still there) restores
// the counts whole.
TEST(StateDirTest, AStoreFolderDeletedWhileTheAppRunsIsRestoredWholeOnTheNextStart) {
    count_app a;
    temp_dir dir;
    a.click(5);
    {
        eddy::kafka_streams app(a.topology(), a.config(dir.path));
        app.start();
        auto store = app.store<std::string, std::int64_t>("counts");
        ASSERT_TRUE(wait_for([&] { return store.all().size() == count_app::users && store.get("user-9") == 5; }, 60s));
        // A commit (and its checkpoint) after the counts.
        std::this_thread::sleep_for(500ms);
        for (const auto& s : a.store_dirs(dir.path)) {
            std::filesystem::remove_all(s.parent_path());
        }
        a.click(1);
        std::this_thread::sleep_for(2s);
        EXPECT_TRUE(app.close(30s));
    }
    a.click(1);
    expect_counts(run_until_counts(a, dir.path, 7), 7);
}

// Finding 3: a damaged CURRENT file made every start fail. The store has a
// changelog: it is wiped and restored, and the counts go on.
TEST(StateDirTest, AStoreWithADamagedCurrentFileIsWipedAndRestoredFromItsChangelog) {
    count_app a;
    temp_dir dir;
    a.click(4);
    expect_counts(run_until_counts(a, dir.path, 4), 4);
    for (const auto& s : a.store_dirs(dir.path)) {
        std::ofstream(s / "CURRENT", std::ios::trunc) << "\xff\x01garbage";
    }
    a.click(1);
    expect_counts(run_until_counts(a, dir.path, 5), 5);
}

// Finding 2: state.dir on a full disk. The process used to abort on a
// RocksDB assertion; now the task fails with an error that says so, the
// app goes to ERROR with health unhealthy naming it, close() returns, and
// once there is room again a restart has every count exact.
TEST(StateDirTest, AFullDiskFailsTheAppWithAClearErrorAndARestartRecoversExactCounts) {
    small_disk disk(8 << 20);
    if (!disk.mounted) {
        GTEST_SKIP() << "mounting a tmpfs needs root";
    }
    count_app a;
    a.click(3);
    expect_counts(run_until_counts(a, disk.dir.path, 3), 3);
    {
        eddy::kafka_streams app(a.topology(), a.config(disk.dir.path));
        app.start();
        auto store = app.store<std::string, std::int64_t>("counts");
        ASSERT_TRUE(wait_for([&] { return app.state() == eddy::streams_state::running; }, 60s));
        disk.fill();
        a.click(50);
        ASSERT_TRUE(wait_for([&] { return app.state() == eddy::streams_state::error; }, 60s))
            << "the app went on with no room for its store";
        const auto h = app.health();
        EXPECT_EQ(h.status, eddy::health_status::unhealthy);
        ASSERT_FALSE(h.reasons.empty());
        EXPECT_NE(h.reasons.front().find("ERROR"), std::string::npos) << h.reasons.front();
        EXPECT_NE(h.reasons.front().find("No space left on device"), std::string::npos) << h.reasons.front();
        EXPECT_TRUE(app.close(30s));
        EXPECT_EQ(app.state(), eddy::streams_state::error);
    }
    disk.free();
    a.click(1);
    expect_counts(run_until_counts(a, disk.dir.path, 54), 54);
}

// Finding 6: health follows the app's state (it said healthy in ERROR).
TEST(StateDirTest, HealthIsUnhealthyBeforeStartAndAfterClose) {
    count_app a;
    temp_dir dir;
    eddy::kafka_streams app(a.topology(), a.config(dir.path));
    auto h = app.health();
    EXPECT_EQ(h.status, eddy::health_status::unhealthy);
    ASSERT_EQ(h.reasons.size(), 1U);
    EXPECT_EQ(h.reasons[0], "the app is not started (CREATED)");
    app.start();
    ASSERT_TRUE(wait_for([&] { return app.state() == eddy::streams_state::running; }, 60s));
    EXPECT_EQ(app.health().status, eddy::health_status::healthy);
    EXPECT_TRUE(app.close(30s));
    h = app.health();
    EXPECT_EQ(h.status, eddy::health_status::unhealthy);
    EXPECT_EQ(h.reasons.at(0), "the app is shutting down (NOT_RUNNING)");
}

} // namespace
