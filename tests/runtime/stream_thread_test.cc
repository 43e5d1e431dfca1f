// The stream thread on fake clients and a manual clock (fake_clients.h):
// commits under at-least-once and exactly-once, an aborted transaction and
// the rewind after it, pause and resume of a full partition, a revocation
// right after a restore, a lost assignment, and the record a retry step
// holds. Each test drives the thread step by step (begin(), step(),
// finish()) and reads what the fake cluster holds: offsets, output,
// transactions, checkpoints.

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operators/error_handlers.h"
#include "operators/retry_policy.h"
#include "runtime/internal/state_restorer.h"
#include "runtime/internal/stream_thread.h"
#include "serde/serdes.h"
#include "tests/runtime/fake_clients.h"
#include "tests/temp_dir.h"
#include "topology/streams_builder.h"

namespace {

using namespace std::chrono_literals;
using eddy::runtime::internal::changelog_offsets;
using eddy::runtime::internal::stream_task;
using eddy::runtime::internal::stream_thread;
using eddy::runtime::internal::thread_settings;
using eddy::test::fake_cluster;
using eddy::test::fake_consumer;
using eddy::test::fake_producer;
using eddy::test::manual_clock;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using tp = eddy::runtime::internal::topic_partition;

const tp in0{"in", 0};

// "in" -> keep one-letter values -> upper case -> "out".
eddy::topology filter_map_to() {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .filter([](const std::string&, const std::string& v) { return v.size() == 1; })
        .map_values([](const std::string& v) { return std::string(1, static_cast<char>(std::toupper(v[0]))); })
        .to("out");
    return builder.build();
}

// A thread on fakes, not started: the test calls its steps.
class StreamThreadTest : public ::testing::Test {
protected:
    void start(eddy::topology t, bool exactly_once = false) {
        topo = std::make_unique<eddy::topology>(std::move(t));
        settings.application_id = "app";
        settings.process_id = "p1";
        settings.exactly_once = exactly_once;
        settings.commit_interval = 100ms;
        settings.state_dir = dir.path;
        if (!settings.deserialization_handler) {
            settings.deserialization_handler = eddy::handlers::log_and_fail();
        }
        settings.processing_handler = eddy::handlers::log_and_fail();
        auto c = std::make_unique<fake_consumer>(cluster);
        auto p = std::make_unique<fake_producer>(cluster);
        consumer = c.get();
        producer = p.get();
        thread = std::make_unique<stream_thread>(0, *topo, settings, nullptr, nullptr,
            eddy::runtime::internal::thread_clients{std::move(c), std::move(p)}, clock,
            [this](const std::vector<stream_task*>& tasks, const changelog_offsets&) {
                for (auto* t : tasks) {
                    restored.push_back(t->id().to_string());
                }
                return restore_to;
            });
        thread->begin();
    }

    void append_in(std::vector<std::string> values, std::int64_t first_timestamp = 100) {
        for (auto& v : values) {
            cluster.append("in", 0, "k", std::move(v), first_timestamp++);
        }
    }

    // One loop step after the commit interval passed.
    void step_past_commit() {
        clock.advance(settings.commit_interval);
        thread->step();
    }

    std::int64_t committed(const tp& p) {
        auto it = cluster.committed.find(p);
        return it == cluster.committed.end() ? -1 : it->second;
    }

    eddy::test::temp_dir dir;
    fake_cluster cluster;
    manual_clock clock;
    thread_settings settings;
    std::unique_ptr<eddy::topology> topo;
    fake_consumer* consumer = nullptr;
    fake_producer* producer = nullptr;
    std::vector<std::string> restored;
    changelog_offsets restore_to;
    std::unique_ptr<stream_thread> thread;
};

TEST_F(StreamThreadTest, AtLeastOnceCommitsTheOffsetsOnceTheIntervalPassedAndTheOutputIsDelivered) {
    start(filter_map_to());
    EXPECT_THAT(consumer->subscribed, ElementsAre("in"));
    EXPECT_TRUE(producer->warmed_up.contains("out"));
    append_in({"a", "bb", "c", "dd", "e"});
    consumer->assign({in0});
    thread->step();

    EXPECT_EQ(thread->counters().processed.load(), 5);
    EXPECT_EQ(committed(in0), -1) << "committed before commit.interval.ms passed";
    EXPECT_THAT(cluster.all_values("out"), IsEmpty()) << "delivered before the commit or a producer poll";

    step_past_commit();
    EXPECT_THAT(cluster.all_values("out"), ElementsAre("A", "C", "E"));
    EXPECT_EQ(committed(in0), 5);
    EXPECT_EQ(thread->counters().commits.load(), 1);
    EXPECT_EQ(producer->transactions_committed, 0);

    // Nothing new: the next interval commits nothing.
    step_past_commit();
    EXPECT_EQ(cluster.consumer_commits, 1);
}

TEST_F(StreamThreadTest, AtLeastOnceCommitWaitsWhileNoBrokerTakesTheOutput) {
    start(filter_map_to());
    append_in({"a", "b"});
    consumer->assign({in0});
    producer->unreachable = true;
    thread->step();
    step_past_commit();
    EXPECT_EQ(committed(in0), -1);
    EXPECT_EQ(thread->counters().commits_postponed.load(), 1);
    EXPECT_EQ(thread->counters().buffered_records.load(), 2);

    producer->unreachable = false;
    step_past_commit();
    EXPECT_EQ(committed(in0), 2);
    EXPECT_THAT(cluster.all_values("out"), ElementsAre("A", "B"));
    EXPECT_EQ(thread->counters().buffered_records.load(), 0);
}

TEST_F(StreamThreadTest, AnOffsetCommitThatFailsIsTriedAgainAtTheNextInterval) {
    start(filter_map_to());
    append_in({"a"});
    consumer->assign({in0});
    consumer->fail_commits = true;
    thread->step();
    step_past_commit();
    EXPECT_EQ(committed(in0), -1);
    consumer->fail_commits = false;
    step_past_commit();
    EXPECT_EQ(committed(in0), 1);
}

TEST_F(StreamThreadTest, ARecordTheBrokerRefusesIsDeadLetteredBeforeItsOffsetIsCommitted) {
    settings.production_handler = eddy::handlers::dead_letter("dlq");
    start(filter_map_to());
    producer->refuse["out"] = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
    append_in({"a", "b"});
    consumer->assign({in0});
    thread->step();
    step_past_commit();
    EXPECT_THAT(cluster.all_values("dlq"), ElementsAre("A", "B"));
    EXPECT_EQ(committed(in0), 2);
    EXPECT_EQ(thread->dead_letters().by_kind[static_cast<std::size_t>(eddy::error_kind::production)].load(), 2);
}

// One input partition and nothing buffered: the source reads each record
// where the consumer holds it. A record that does not deserialise is copied
// then, whole, into the dead letter; the others keep their headers and
// timestamps.
TEST_F(StreamThreadTest, TheSingleInputPathReadsRecordsInPlaceAndDeadLettersOneThatDoesNotDeserialise) {
    settings.deserialization_handler = eddy::handlers::dead_letter("dlq");
    eddy::streams_builder builder;
    builder.stream("in", eddy::consumed<>::with(eddy::serdes::string{}, eddy::serdes::int64{}))
        .map_values([](std::int64_t n) { return n * 2; })
        .to("out", eddy::produced<>::with(eddy::serdes::string{}, eddy::serdes::int64{}));
    start(builder.build());
    const eddy::serdes::int64 int64;
    cluster.append("in", 0, "a", int64.serialize(20), 100);
    eddy::raw_record bad;
    bad.topic = "in";
    bad.key = "b";
    bad.value = "not eight bytes";
    bad.timestamp = 101;
    bad.headers.add("trace", std::string("t-2"));
    cluster.append(std::move(bad), eddy::test::fake_record::state::plain);
    eddy::raw_record good;
    good.topic = "in";
    good.key = "c";
    good.value = int64.serialize(21);
    good.timestamp = 102;
    good.headers.add("trace", std::string("t-3"));
    cluster.append(std::move(good), eddy::test::fake_record::state::plain);
    consumer->assign({in0});
    thread->step();
    step_past_commit();

    const auto& out = cluster.log("out", 0);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(int64.deserialize(*out[0].record.value), 40);
    EXPECT_EQ(out[0].record.timestamp, 100);
    EXPECT_EQ(*out[1].record.key, "c");
    EXPECT_EQ(int64.deserialize(*out[1].record.value), 42);
    EXPECT_EQ(out[1].record.timestamp, 102);
    ASSERT_NE(out[1].record.headers.last_header("trace"), nullptr);
    EXPECT_EQ(out[1].record.headers.last_header("trace")->value, "t-3");
    const auto& dlq = cluster.log("dlq", 0);
    ASSERT_EQ(dlq.size(), 1U);
    EXPECT_EQ(*dlq[0].record.key, "b");
    EXPECT_EQ(*dlq[0].record.value, "not eight bytes");
    ASSERT_NE(dlq[0].record.headers.last_header("trace"), nullptr);
    EXPECT_EQ(dlq[0].record.headers.last_header("trace")->value, "t-2");
    EXPECT_EQ(committed(in0), 3);
    // Only the bad record was copied out of the consumer, for its dead letter.
    EXPECT_EQ(cluster.records_copied, 1);
}

TEST_F(StreamThreadTest, ARefusedRecordWithTheDefaultHandlerStopsTheThreadWithoutCommitting) {
    start(filter_map_to());
    producer->refuse["out"] = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE;
    append_in({"a"});
    consumer->assign({in0});
    thread->step();
    clock.advance(settings.commit_interval);
    EXPECT_THROW(thread->step(), std::exception);
    EXPECT_EQ(committed(in0), -1);
}

TEST_F(StreamThreadTest, ExactlyOnceCommitsTheOutputAndTheOffsetsInOneTransaction) {
    start(filter_map_to(), true);
    EXPECT_EQ(producer->transactions_initialised, 1);
    append_in({"a", "bb", "c"});
    consumer->assign({in0});
    thread->step();
    EXPECT_TRUE(producer->transaction_open());
    step_past_commit();

    EXPECT_EQ(producer->transactions_committed, 1);
    EXPECT_FALSE(producer->transaction_open());
    EXPECT_THAT(cluster.committed_values("out"), ElementsAre("A", "C"));
    EXPECT_EQ(committed(in0), 3);
    EXPECT_EQ(cluster.consumer_commits, 0) << "offsets went around the transaction";
}

TEST_F(StreamThreadTest, AnAbortedTransactionRewindsToTheCommittedOffsetsAndProcessesThemAgain) {
    start(filter_map_to(), true);
    append_in({"a", "b"});
    consumer->assign({in0});
    thread->step();
    step_past_commit();
    ASSERT_EQ(committed(in0), 2);

    append_in({"c", "d", "e"});
    producer->abort_next_commit = true;
    thread->step();
    step_past_commit();
    EXPECT_EQ(producer->transactions_aborted, 1);
    EXPECT_EQ(thread->counters().aborted_transactions.load(), 1);
    EXPECT_EQ(committed(in0), 2);
    EXPECT_THAT(consumer->seeks, ElementsAre(std::pair{in0, std::int64_t{2}}));
    EXPECT_THAT(cluster.committed_values("out"), ElementsAre("A", "B"));

    thread->step();
    step_past_commit();
    EXPECT_EQ(committed(in0), 5);
    EXPECT_THAT(cluster.committed_values("out"), ElementsAre("A", "B", "C", "D", "E"));
    EXPECT_THAT(cluster.all_values("out"), ElementsAre("A", "B", "C", "D", "E", "C", "D", "E"));
}

TEST_F(StreamThreadTest, ARetriableTransactionErrorIsTriedAgainWithoutAnAbort) {
    start(filter_map_to(), true);
    append_in({"a"});
    consumer->assign({in0});
    producer->retriable_commit_failures = 2;
    thread->step();
    step_past_commit();
    EXPECT_EQ(thread->counters().transaction_retries.load(), 2);
    EXPECT_EQ(producer->transactions_aborted, 0);
    EXPECT_EQ(committed(in0), 1);
    EXPECT_THAT(cluster.committed_values("out"), ElementsAre("A"));
}

TEST_F(StreamThreadTest, AFullBufferPausesItsPartitionWhichResumesOnceHalfOfItIsProcessed) {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>(std::vector<std::string>{"a", "b"}).to("out");
    settings.max_task_idle = std::chrono::hours(1);
    settings.buffered_records_per_partition = 4;
    start(builder.build());
    const tp a0{"a", 0};
    const tp b0{"b", 0};
    for (int ts : {10, 11, 13, 14, 15, 16}) {
        cluster.append("a", 0, "k", "a" + std::to_string(ts), ts);
    }
    consumer->assign({a0, b0});
    thread->step();
    // "b" has nothing yet: the task waits for it, "a" buffers and pauses.
    EXPECT_TRUE(consumer->paused(a0));
    EXPECT_EQ(thread->counters().pauses.load(), 1);
    EXPECT_EQ(thread->counters().processed.load(), 0);

    for (int ts : {12, 17, 18}) {
        cluster.append("b", 0, "k", "b" + std::to_string(ts), ts);
    }
    thread->step();
    EXPECT_FALSE(consumer->paused(a0)) << "resumed once its buffer was down to half";
    step_past_commit();
    // In timestamp order across both partitions, until "a" runs dry.
    EXPECT_THAT(cluster.all_values("out"), ElementsAre("a10", "a11", "b12", "a13", "a14", "a15", "a16"));
    EXPECT_EQ(committed(a0), 6);
    EXPECT_EQ(committed(b0), 1);

    // max.task.idle.ms passed: the task goes on without "a".
    clock.advance(std::chrono::hours(1));
    thread->step();
    step_past_commit();
    EXPECT_THAT(cluster.all_values("out"), ElementsAre("a10", "a11", "b12", "a13", "a14", "a15", "a16", "b17", "b18"));
    EXPECT_EQ(committed(b0), 3);
}

eddy::topology counting() {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .group_by_key()
        .count(eddy::materialized<std::string, std::int64_t>::as("counts"))
        .to_stream()
        .to("out");
    return builder.build();
}

TEST_F(StreamThreadTest, ARevocationRightAfterARestoreClosesTheTaskWithTheRestoredCheckpoint) {
    restore_to = {{{"app-counts-changelog", 0}, 7}};
    start(counting());
    consumer->assign({in0});
    consumer->revoke({in0});
    thread->step();

    EXPECT_THAT(restored, ElementsAre("0_0"));
    EXPECT_THAT(thread->tasks().tasks(), IsEmpty());
    EXPECT_EQ(committed(in0), -1);
    const auto checkpoint = eddy::runtime::internal::read_checkpoint(dir.path / "app" / "0_0");
    EXPECT_EQ(checkpoint, restore_to);
}

TEST_F(StreamThreadTest, ARestoreUnderExactlyOnceRemovesTheCheckpointUntilACommit) {
    restore_to = {{{"app-counts-changelog", 0}, 7}};
    std::filesystem::create_directories(dir.path / "app" / "0_0");
    eddy::runtime::internal::write_checkpoint(dir.path / "app" / "0_0", restore_to);
    for (int i = 0; i < 7; ++i) {
        cluster.append("app-counts-changelog", 0, "k", "v", 0);
    }
    start(counting(), true);
    append_in({"x"});
    consumer->assign({in0});
    thread->step();
    EXPECT_THAT(restored, ElementsAre("0_0"));
    EXPECT_THAT(eddy::runtime::internal::read_checkpoint(dir.path / "app" / "0_0"), IsEmpty())
        << "a checkpoint while the transaction is open would describe uncommitted store contents";
    step_past_commit();
    EXPECT_EQ(committed(in0), 1);
    consumer->revoke({in0});
    thread->step();
    // Closed cleanly: the checkpoint says what the changelog holds now.
    const auto checkpoint = eddy::runtime::internal::read_checkpoint(dir.path / "app" / "0_0");
    ASSERT_EQ(checkpoint.size(), 1U);
    EXPECT_EQ(checkpoint.begin()->second, 8);
}

TEST_F(StreamThreadTest, ALostAssignmentCommitsNothingAndAbortsTheTransaction) {
    start(filter_map_to(), true);
    append_in({"a", "b"});
    consumer->assign({in0});
    thread->step();
    consumer->revoke({in0}, true);
    thread->step();
    EXPECT_EQ(producer->transactions_aborted, 1);
    EXPECT_EQ(committed(in0), -1);
    EXPECT_THAT(cluster.committed_values("out"), IsEmpty());
    EXPECT_THAT(thread->tasks().tasks(), IsEmpty());
}

// Fails its first `failures` calls.
struct flaky {
    int failures = 0;
    std::string call(const std::string& v) {
        if (failures > 0) {
            --failures;
            throw std::runtime_error("timeout");
        }
        return "sent:" + v;
    }
};

TEST_F(StreamThreadTest, AHeldRecordKeepsItsOffsetUncommittedUntilTheRetryStepLetsGo) {
    flaky svc{2};
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in")
        .map_values_with_retry([&svc](const std::string& v) { return svc.call(v); },
            eddy::retry_policy().with_initial_backoff(100ms).with_multiplier(2).with_jitter(0), eddy::named::as("call"))
        .to("out");
    start(builder.build());
    append_in({"v1", "v2"});
    consumer->assign({in0});
    thread->step();
    EXPECT_EQ(svc.failures, 1);

    // The second try (at 100 ms) fails too; the commit keeps the held
    // record's offset.
    step_past_commit();
    EXPECT_EQ(svc.failures, 0);
    EXPECT_EQ(committed(in0), 0);
    EXPECT_THAT(cluster.all_values("out"), IsEmpty());

    // The third (at 300 ms) succeeds: the held record and the one behind it
    // go out, and their offsets are committed.
    clock.advance(200ms);
    thread->step();
    step_past_commit();
    EXPECT_THAT(cluster.all_values("out"), ElementsAre("sent:v1", "sent:v2"));
    EXPECT_EQ(committed(in0), 2);
}

TEST_F(StreamThreadTest, FinishCommitsLeavesTheGroupAndClosesTheTasks) {
    start(filter_map_to());
    append_in({"a"});
    consumer->assign({in0});
    thread->step();
    thread->finish();
    // The clients are gone now (consumer and producer dangle).
    EXPECT_EQ(cluster.consumers_closed, 1);
    EXPECT_EQ(committed(in0), 1);
    EXPECT_THAT(cluster.all_values("out"), ElementsAre("A"));
    EXPECT_EQ(thread->state(), eddy::runtime::internal::thread_state::pending_shutdown);
}

} // namespace
