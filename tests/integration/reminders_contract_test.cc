// The todo app's reminder stream on a broker (the embedded one, or with
// EDDY_TEST_KAFKA a real Kafka): reminders scheduled by one instance that
// is closed before they fall due fire exactly once from the next instance,
// on the same state directory or a fresh one (the schedule restored from
// its changelog); and the lag of 10,000 reminders due within a few seconds.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "apps/todo/audit_topology.h"
#include "apps/todo/reminders.h"
#include "apps/todo/task_table.h"
#include "runtime/admin.h"
#include "runtime/kafka_streams.h"
#include "serde/protobuf.h"
#include "serde/serdes.h"
#include "tests/integration/broker_fixture.h"
#include "tests/integration/kafka_test_util.h"
#include "tests/temp_dir.h"
#include "topology/streams_builder.h"

namespace {

using eddy::test::consume_until;
using eddy::test::produce;
using eddy::test::unique;
using namespace eddy::todo;

using eddy::test::temp_dir;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::int64_t ms(const google::protobuf::Timestamp& t) {
    return t.seconds() * 1000 + t.nanos() / 1'000'000;
}

// One reminder app's topics and names, unique per test.
struct reminder_app {
    std::string app = unique("reminders");
    audit_topics events;
    task_table_names tables;
    reminder_names reminders;

    reminder_app() {
        events.task_events = unique("task-events");
        events.audit = unique("audit");
        events.dead_letters = unique("dead-letters");
        tables.tasks_topic = unique("tasks");
        reminders.preferences_topic = unique("user-preferences");
        reminders.reminders_topic = unique("reminders-out");
        for (const auto& t : {events.task_events, tables.tasks_topic, reminders.preferences_topic,
                 reminders.reminders_topic}) {
            broker().create_topic(t, 3);
        }
        broker().create_topic(events.dead_letters, 1);
    }

    eddy::topology topology() const {
        eddy::streams_builder builder;
        auto tasks = add_task_table(builder, read_task_events(builder, events), tables);
        add_reminders(builder, tasks, reminders);
        return builder.build();
    }

    eddy::streams_config config(const std::filesystem::path& state_dir) const {
        auto c = config_for(app);
        c.set("state.dir", state_dir.string());
        c.set("processing.guarantee", "exactly_once_v2");
        return c;
    }
};

// Task events creating `n` tasks of alice, each with its reminder at
// fire_at(i) (a due date one minute later, a one-minute offset).
std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>> tasks_firing_at(
    int n, const std::function<std::int64_t(int)>& fire_at, const std::string& prefix = "t-") {
    std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>> out;
    task_event_serde serde;
    for (int i = 0; i < n; ++i) {
        TaskEvent e;
        e.set_event_id(prefix + "e" + std::to_string(i));
        e.set_type(TASK_CREATED);
        e.set_task_id(prefix + std::to_string(i));
        e.set_user_id("alice");
        e.set_title("task " + std::to_string(i));
        e.set_schema_version(task_event_schema_version);
        const std::int64_t due = fire_at(i) + 60'000;
        e.mutable_due_at()->set_seconds(due / 1000);
        e.mutable_due_at()->set_nanos(static_cast<std::int32_t>((due % 1000) * 1'000'000));
        e.mutable_reminder_offset()->set_seconds(60);
        e.mutable_occurred_at()->set_seconds(now_ms() / 1000);
        out.emplace_back(e.task_id(), serde.serialize(e));
    }
    return out;
}

std::vector<TaskReminder> reminders_of(const std::vector<eddy::test::kafka_record>& rs) {
    std::vector<TaskReminder> out;
    eddy::serdes::protobuf<TaskReminder> serde;
    for (const auto& r : rs) {
        out.push_back(serde.deserialize(r.value.value_or("")));
    }
    return out;
}

// Waits until the app's by-task store holds `n` reminders (queries fail
// while tasks move; they are retried).
bool scheduled(const eddy::kafka_streams& app, const reminder_names& names, std::size_t n) {
    return wait_for(
        [&] {
            try {
                return app.store<std::string, ReminderState>(names.by_task_store).all().size() >= n;
            } catch (const std::exception&) {
                return false;
            }
        },
        60s);
}

class RemindersRestartTest : public testing::TestWithParam<bool> {};

TEST_P(RemindersRestartTest, RemindersScheduledBeforeAStopFireExactlyOnceAfterIt) {
    const bool same_state_dir = GetParam();
    reminder_app a;
    constexpr int n = 20;
    const std::int64_t fire_at = now_ms() + 25'000;
    produce(broker().bootstrap_servers(), a.events.task_events, tasks_firing_at(n, [&](int) { return fire_at; }));

    temp_dir first;
    {
        eddy::kafka_streams app(a.topology(), a.config(first.path));
        app.start();
        ASSERT_TRUE(scheduled(app, a.reminders, n)) << "the first instance did not schedule the reminders";
        // The schedule is committed with the input offsets: wait a few commits.
        std::this_thread::sleep_for(1s);
        ASSERT_TRUE(app.close(30s));
    }
    ASSERT_LT(now_ms(), fire_at) << "the first instance ran past the fire time; the test proves nothing";
    EXPECT_TRUE(consume_until(broker().bootstrap_servers(), a.reminders.reminders_topic,
        [](const auto& rs) { return !rs.empty(); }, 1s, true)
                    .empty());

    // Both stores are logged.
    eddy::admin_client admin({{"bootstrap.servers", broker().bootstrap_servers()}});
    EXPECT_TRUE(admin.describe_topic(a.app + "-" + a.reminders.schedule_store + "-changelog").has_value());
    EXPECT_TRUE(admin.describe_topic(a.app + "-" + a.reminders.by_task_store + "-changelog").has_value());

    temp_dir fresh;
    eddy::kafka_streams app(a.topology(), a.config(same_state_dir ? first.path : fresh.path));
    app.start();
    EXPECT_TRUE(scheduled(app, a.reminders, n)) << "the second instance has not got the schedule";
    auto out = consume_until(broker().bootstrap_servers(), a.reminders.reminders_topic,
        [](const auto& rs) { return rs.size() >= n; }, 60s, true);
    ASSERT_EQ(out.size(), static_cast<std::size_t>(n));
    // Nothing more arrives (a fired reminder is gone from the schedule):
    // a new reader, given time to join and read past the 20, finds 20.
    out = consume_until(broker().bootstrap_servers(), a.reminders.reminders_topic,
        [](const auto& rs) { return rs.size() > n; }, 10s, true);
    EXPECT_EQ(out.size(), static_cast<std::size_t>(n));
    std::map<std::string, int> per_task;
    for (const auto& r : reminders_of(out)) {
        ++per_task[r.task_id()];
        EXPECT_GE(ms(r.emitted_at()), fire_at) << r.task_id();
        EXPECT_EQ(ms(r.fire_at()), fire_at) << r.task_id();
    }
    EXPECT_EQ(per_task.size(), static_cast<std::size_t>(n));
    for (const auto& [task, count] : per_task) {
        EXPECT_EQ(count, 1) << task;
    }
    try {
        for (const auto& [key, state] : app.store<std::string, ReminderState>(a.reminders.by_task_store).all()) {
            EXPECT_TRUE(state.fired()) << key;
        }
        const auto left = app.store<std::string, TaskReminder>(a.reminders.schedule_store).all();
        EXPECT_TRUE(left.empty());
    } catch (const std::exception& e) {
        ADD_FAILURE() << "store query failed: " << e.what();
    }
    ASSERT_TRUE(app.close(30s));
}

INSTANTIATE_TEST_SUITE_P(StateDir, RemindersRestartTest, testing::Values(true, false),
    [](const auto& info) { return info.param ? std::string("SameStateDir") : std::string("FreshStateDir"); });

std::int64_t percentile(std::vector<std::int64_t> v, double p) {
    std::sort(v.begin(), v.end());
    const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

TEST(RemindersLagTest, TenThousandRemindersFireWithinAMinuteOfTheirTime) {
    reminder_app a;
    constexpr int n = 10'000;
    temp_dir dir;
    eddy::kafka_streams app(a.topology(), a.config(dir.path));
    app.start();
    // Fire times spread over 3 s, starting once the app has had time to
    // read and schedule them all.
    const std::int64_t first_fire = now_ms() + 30'000;
    produce(broker().bootstrap_servers(), a.events.task_events,
        tasks_firing_at(n, [&](int i) { return first_fire + (i * 3000LL) / n; }));
    const bool all_scheduled = scheduled(app, a.reminders, n);
    const std::int64_t scheduled_at = now_ms();

    std::vector<std::int64_t> received_at;
    auto out = consume_until(broker().bootstrap_servers(), a.reminders.reminders_topic,
        [&](const auto& rs) {
            const auto t = now_ms();
            while (received_at.size() < rs.size()) {
                received_at.push_back(t);
            }
            return rs.size() >= static_cast<std::size_t>(n);
        },
        120s, true);
    ASSERT_TRUE(app.close(30s));
    ASSERT_TRUE(all_scheduled);
    ASSERT_EQ(out.size(), static_cast<std::size_t>(n));
    EXPECT_LT(scheduled_at, first_fire) << "scheduling took longer than the head start; lags include it";

    std::vector<std::int64_t> emit_lag;
    std::vector<std::int64_t> receive_lag;
    std::map<std::string, int> per_task;
    const auto rs = reminders_of(out);
    for (std::size_t i = 0; i < rs.size(); ++i) {
        ++per_task[rs[i].task_id()];
        emit_lag.push_back(ms(rs[i].emitted_at()) - ms(rs[i].remind_at()));
        receive_lag.push_back(received_at[i] - ms(rs[i].remind_at()));
    }
    EXPECT_EQ(per_task.size(), static_cast<std::size_t>(n)); // each once
    const auto report = [](const char* what, const std::vector<std::int64_t>& v) {
        const auto p50 = percentile(v, 0.50);
        const auto p99 = percentile(v, 0.99);
        const auto max = *std::max_element(v.begin(), v.end());
        fmt::print("reminder lag ({}), {} reminders: p50={} ms p99={} ms max={} ms\n", what, v.size(), p50, p99, max);
        return max;
    };
    const auto emit_max = report("emitted - remind_at", emit_lag);
    const auto receive_max = report("received, read_committed - remind_at", receive_lag);
    EXPECT_GE(*std::min_element(emit_lag.begin(), emit_lag.end()), 0); // none early
    EXPECT_LT(emit_max, 60'000);
    EXPECT_LT(receive_max, 60'000);
}

} // namespace
