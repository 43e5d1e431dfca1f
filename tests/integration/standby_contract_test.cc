// Standby replicas on a broker (the embedded one, or with EDDY_TEST_KAFKA a
// real Kafka): with num.standby.replicas=1 each of two instances keeps a copy
// of the other's count store, up to the end of its changelog; when one
// instance leaves, its tasks move to the other without restoring the
// changelog again, and the counts carry on exact. The query metadata names
// the standby hosts.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/internal/instance_directory.h"
#include "runtime/kafka_streams.h"
#include "serde/serdes.h"
#include "tests/integration/broker_fixture.h"
#include "tests/integration/kafka_test_util.h"
#include "tests/temp_dir.h"
#include "topology/streams_builder.h"

namespace {

using eddy::test::consume_until;
using eddy::test::produce;
using eddy::test::unique;

class counting_listener final : public eddy::state_restore_listener {
public:
    void on_restore_start(const std::string&, std::int32_t, const std::string&, std::int64_t, std::int64_t) override {}
    void on_restore_end(const std::string&, std::int32_t, const std::string&, std::int64_t total) override {
        restored += total;
    }
    std::atomic<std::int64_t> restored = 0;
};

using eddy::test::temp_dir;

constexpr int partitions = 4;

struct names {
    std::string in = unique("standby-clicks");
    std::string out = unique("standby-counts");
    std::string app = unique("standby");
    std::string changelog() const { return app + "-counts-changelog"; }
};

eddy::topology count_topology(const names& n) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>(n.in)
        .group_by_key()
        .count(eddy::materialized<std::string, std::int64_t>::as(eddy::stores::persistent_key_value_store("counts")))
        .to_stream()
        .to(n.out, eddy::produced<std::string, std::int64_t>::with(eddy::serdes::string{}, eddy::serdes::int64{}));
    return builder.build();
}

std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>> clicks(int keys, int each) {
    std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>> out;
    for (int round = 0; round < each; ++round) {
        for (int k = 0; k < keys; ++k) {
            out.emplace_back("user-" + std::to_string(k), "/page/" + std::to_string(round));
        }
    }
    return out;
}

struct instance {
    instance(const names& n, const std::string& server, int replicas, const std::string& guarantee)
        : listener(std::make_shared<counting_listener>()) {
        auto config = config_for(n.app);
        config.set("state.dir", dir.path.string());
        config.set("num.standby.replicas", std::to_string(replicas));
        config.set("application.server", server);
        config.set("processing.guarantee", guarantee);
        app = std::make_unique<eddy::kafka_streams>(count_topology(n), config);
        app->set_global_state_restore_listener(listener);
    }
    // The value of each metric called `name`, by its tag `tag`.
    std::map<std::string, double> metric(const std::string& name, const std::string& tag = "") const {
        std::map<std::string, double> out;
        for (const auto& m : app->metrics()) {
            if (m.name == name) {
                out[tag.empty() ? "" : m.tags.at(tag)] += m.value;
            }
        }
        return out;
    }
    std::set<std::string> active_tasks() const {
        std::set<std::string> out;
        for (const auto& [task, n] : metric("task-records-processed-total", "task")) {
            out.insert(task);
        }
        return out;
    }
    // Every standby copy's changelog position, by "topic-partition".
    std::map<std::string, double> standby_offsets() const { return metric("standby-changelog-offset", "partition"); }

    temp_dir dir;
    std::shared_ptr<counting_listener> listener;
    std::unique_ptr<eddy::kafka_streams> app;
};

std::map<std::string, std::int64_t> latest_counts(const std::vector<eddy::test::kafka_record>& rs) {
    std::map<std::string, std::int64_t> out;
    for (const auto& r : rs) {
        out[r.key.value_or("")] = eddy::serdes::int64{}.deserialize(r.value.value_or(std::string(8, '\0')));
    }
    return out;
}

// Reads the output until each of the 20 users' latest count is `count` (or,
// at least once, where a rebalance may count a record twice: at least
// `count`); returns the latest counts.
std::map<std::string, std::int64_t> wait_for_counts(const names& n, std::int64_t count, bool eos) {
    std::map<std::string, std::int64_t> counts;
    consume_until(
        broker().bootstrap_servers(), n.out,
        [&](const auto& rs) {
            counts = latest_counts(rs);
            return counts.size() == 20U && std::all_of(counts.begin(), counts.end(), [&](const auto& c) {
                return eos ? c.second == count : c.second >= count;
            });
        },
        60s, eos);
    return counts;
}

// Whether `b` holds a copy of every task `a` owns, up to the end of its
// changelog partition, and `a` of every task `b` owns.
bool copies_caught_up(const names& n, const instance& a, const instance& b) {
    const auto ends = eddy::test::end_offsets(broker().bootstrap_servers(), n.changelog(), partitions);
    auto covered = [&](const instance& owner, const instance& keeper) {
        const auto offsets = keeper.standby_offsets();
        const auto tasks = owner.active_tasks();
        if (tasks.empty()) {
            return false;
        }
        for (const auto& task : tasks) {
            const auto p = std::stoi(task.substr(task.find('_') + 1));
            auto it = offsets.find(n.changelog() + "-" + std::to_string(p));
            if (it == offsets.end() || static_cast<std::int64_t>(it->second) != ends[static_cast<std::size_t>(p)]) {
                return false;
            }
        }
        return true;
    };
    return a.active_tasks().size() + b.active_tasks().size() == partitions && covered(a, b) && covered(b, a);
}

class StandbyContractTest : public testing::TestWithParam<std::string> {};

// Kafka Streams' standby tasks: the moved tasks' stores are already warm.
TEST_P(StandbyContractTest, AnInstancesTasksMoveToTheOtherWithoutRestoringTheirChangelogs) {
    const auto guarantee = GetParam();
    const bool eos = guarantee == "exactly_once_v2";
    names n;
    broker().create_topic(n.in, partitions);
    broker().create_topic(n.out, partitions);
    produce(broker().bootstrap_servers(), n.in, clicks(20, 5));

    instance a(n, "127.0.0.1:1", 1, guarantee);
    a.app->start();
    ASSERT_EQ(wait_for_counts(n, 5, eos).size(), 20U);
    // Everything a processed is committed before b joins (the embedded
    // broker shows a transaction's output before its commit).
    ASSERT_TRUE(wait_for(
        [&] { return eddy::test::uncommitted(broker().bootstrap_servers(), n.app, n.in, partitions) == 0; }, 30s));
    instance b(n, "127.0.0.1:2", 1, guarantee);
    b.app->start();
    ASSERT_TRUE(wait_for([&] { return copies_caught_up(n, a, b); }, 60s))
        << "a owns " << a.active_tasks().size() << " tasks, b " << b.active_tasks().size() << "; b's copies "
        << b.standby_offsets().size() << ", a's " << a.standby_offsets().size();
    EXPECT_GT(b.metric("standby-records-restored-total")[""], 0);
    EXPECT_EQ(b.metric("standby-tasks")[""], static_cast<double>(a.active_tasks().size()));

    // The query metadata names the standby hosts.
    ASSERT_TRUE(wait_for(
        [&] {
            for (const auto& m : a.app->all_metadata()) {
                if (m.host.to_string() == "127.0.0.1:2" && m.standby_tasks == a.active_tasks()) {
                    return true;
                }
            }
            return false;
        },
        10s));
    bool checked = false;
    for (int k = 0; k < 20 && !checked; ++k) {
        auto where = a.app->query_metadata_for_key<std::string>("counts", "user-" + std::to_string(k));
        if (where.active_host && where.active_host->to_string() == "127.0.0.1:1") {
            ASSERT_EQ(where.standby_hosts.size(), 1U);
            EXPECT_EQ(where.standby_hosts[0].to_string(), "127.0.0.1:2");
            checked = true;
        }
    }
    EXPECT_TRUE(checked) << "no key of a's partitions";

    // a leaves: its tasks go to b, which restores nothing of their changelogs.
    const auto moved = a.active_tasks();
    const auto restored_before = b.listener->restored.load();
    ASSERT_TRUE(a.app->close(30s));
    ASSERT_TRUE(wait_for([&] { return b.active_tasks().size() == partitions; }, 60s));
    EXPECT_EQ(b.listener->restored.load(), restored_before) << "b restored records of the tasks it had copies of";
    // The copies became active tasks: none left.
    EXPECT_EQ(b.metric("standby-tasks")[""], 0);

    // And the counts go on from the copies: exact under exactly-once.
    produce(broker().bootstrap_servers(), n.in, clicks(20, 1));
    const auto counts = wait_for_counts(n, 6, eos);
    ASSERT_EQ(counts.size(), 20U);
    for (const auto& [user, count] : counts) {
        if (eos) {
            EXPECT_EQ(count, 6) << user;
        } else {
            EXPECT_GE(count, 6) << user;
        }
    }
    ASSERT_TRUE(b.app->close(30s));
}

// The same without standbys: the moved tasks restore their changelogs.
TEST(StandbyContractTest, WithoutStandbysTheMovedTasksRestoreTheirChangelogs) {
    names n;
    broker().create_topic(n.in, partitions);
    broker().create_topic(n.out, partitions);
    produce(broker().bootstrap_servers(), n.in, clicks(20, 5));
    instance a(n, "127.0.0.1:1", 0, "at_least_once");
    a.app->start();
    ASSERT_EQ(wait_for_counts(n, 5, false).size(), 20U);
    instance b(n, "127.0.0.1:2", 0, "at_least_once");
    b.app->start();
    ASSERT_TRUE(wait_for(
        [&] { return a.active_tasks().size() + b.active_tasks().size() == partitions && !b.active_tasks().empty(); },
        60s));
    EXPECT_TRUE(b.metric("standby-tasks").empty()); // no standby thread at all
    const auto restored_before = b.listener->restored.load();
    ASSERT_TRUE(a.app->close(30s));
    ASSERT_TRUE(wait_for([&] { return b.active_tasks().size() == partitions; }, 60s));
    // At least the latest count of each of the moved tasks' keys.
    EXPECT_GT(b.listener->restored.load(), restored_before);
    produce(broker().bootstrap_servers(), n.in, clicks(20, 1));
    const auto counts = wait_for_counts(n, 6, false);
    ASSERT_EQ(counts.size(), 20U); // each at least 6: at-least-once may count a record twice
    ASSERT_TRUE(b.app->close(30s));
}

INSTANTIATE_TEST_SUITE_P(Guarantees, StandbyContractTest, testing::Values("at_least_once", "exactly_once_v2"));

// Where copies go: an instance's tasks to the next `replicas` instances in
// name order, wrapping around; never to the owner; an instance without tasks
// (just joined) takes part.
TEST(StandbyAssignmentTest, EachInstancesTasksGoToTheInstancesThatFollowIt) {
    using eddy::runtime::internal::standby_assignment;
    const std::map<std::string, std::set<std::string>> owners = {
        {"a:1", {"0_0", "0_1"}}, {"b:1", {"0_2"}}, {"c:1", {"0_3", "1_0"}}};
    EXPECT_EQ(standby_assignment(owners, "a:1", 1), (std::set<std::string>{"0_3", "1_0"}));
    EXPECT_EQ(standby_assignment(owners, "b:1", 1), (std::set<std::string>{"0_0", "0_1"}));
    EXPECT_EQ(standby_assignment(owners, "c:1", 1), (std::set<std::string>{"0_2"}));
    // Two copies with three instances: everything an instance does not own.
    EXPECT_EQ(standby_assignment(owners, "a:1", 2), (std::set<std::string>{"0_2", "0_3", "1_0"}));
    // More replicas than other instances: as many as there are.
    EXPECT_EQ(standby_assignment(owners, "b:1", 5), (std::set<std::string>{"0_0", "0_1", "0_3", "1_0"}));
    EXPECT_TRUE(standby_assignment(owners, "a:1", 0).empty());
    // Alone: nothing to copy.
    EXPECT_TRUE(standby_assignment({{"a:1", {"0_0"}}}, "a:1", 1).empty());
    // Not yet in the directory: placed by its name (b:2 follows b:1).
    EXPECT_EQ(standby_assignment(owners, "b:2", 1), (std::set<std::string>{"0_2"}));
}

TEST(StandbyAssignmentTest, EntriesCarryTheirStandbysAndExpireWithThem) {
    using eddy::runtime::internal::decode_instance;
    using eddy::runtime::internal::encode_instance;
    using eddy::runtime::internal::instance_entry;
    auto e = decode_instance("h:9", encode_instance({"h:9", {"0_0"}, 42, {"0_1", "1_1"}}));
    EXPECT_EQ(e.tasks, (std::set<std::string>{"0_0"}));
    EXPECT_EQ(e.standbys, (std::set<std::string>{"0_1", "1_1"}));
    // An entry of an instance without standbys reads as none.
    EXPECT_TRUE(decode_instance("h:9", R"({"server":"h:9","tasks":[],"time":1})").standbys.empty());
    const std::vector<instance_entry> entries = {{"a:1", {"0_0"}, 1'000, {"0_1"}}, {"b:1", {"0_1"}, 50'000, {"0_0"}}};
    auto standbys = eddy::runtime::internal::resolve_standbys(entries, 62'000, 60'000);
    EXPECT_FALSE(standbys.contains("a:1")); // not refreshed for 61 s
    EXPECT_EQ(standbys["b:1"], (std::set<std::string>{"0_0"}));
}

TEST(StandbyConfigTest, ANegativeReplicaCountIsRefused) {
    names n;
    auto config = config_for(n.app);
    config.set("num.standby.replicas", "-1");
    try {
        eddy::kafka_streams app(count_topology(n), config);
        FAIL() << "accepted num.standby.replicas=-1";
    } catch (const eddy::config_error& e) {
        EXPECT_THAT(e.what(), testing::HasSubstr("setting num.standby.replicas=-1 must be from 0 to 1000"));
    }
}

} // namespace
