// The todo audit slice on the test driver: each event type becomes its audit
// record; unreadable events become dead letters with reasons.

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apps/todo/audit_topology.h"
#include "operators/error_handlers.h"
#include "runtime/topology_test_driver.h"
#include "serde/protobuf.h"
#include "serde/serdes.h"

namespace {

using eddy::todo::AuditRecord;
using eddy::todo::TaskEvent;
using ::testing::HasSubstr;

TaskEvent event(const std::string& id, eddy::todo::TaskEventType type, const std::string& task) {
    TaskEvent e;
    e.set_event_id(id);
    e.set_type(type);
    e.set_task_id(task);
    e.set_user_id("alice");
    e.set_title("Buy milk");
    e.set_schema_version(1);
    e.mutable_occurred_at()->set_seconds(1'795'000'000);
    return e;
}

std::string header(const eddy::raw_record& r, std::string_view key) {
    const auto* h = r.headers.last_header(key);
    return h && h->value ? *h->value : "<missing>";
}

struct AuditTopologyTest : ::testing::Test {
    static eddy::topology make() {
        eddy::streams_builder builder;
        eddy::todo::add_audit_topology(builder);
        return builder.build();
    }
    eddy::topology_test_driver driver{make(), {{"application.id", "todo-audit"}}};
    eddy::test_input_topic<std::string, TaskEvent> events = driver.create_input_topic<std::string, TaskEvent>(
        "todo.task-events", eddy::serdes::string{}, eddy::todo::task_event_serde{});
    eddy::test_output_topic<std::string, AuditRecord> audit = driver.create_output_topic<std::string, AuditRecord>(
        "todo.audit", eddy::serdes::string{}, eddy::serdes::protobuf<AuditRecord>{});
};

TEST_F(AuditTopologyTest, EveryEventTypeBecomesAnAuditRecordOfWhoDidWhatWhen) {
    const std::vector<std::pair<eddy::todo::TaskEventType, std::string>> cases = {
        {eddy::todo::TASK_CREATED, "user alice created task t-1 \"Buy milk\""},
        {eddy::todo::TASK_UPDATED, "user alice updated task t-1 \"Buy milk\""},
        {eddy::todo::TASK_COMPLETED, "user alice completed task t-1 \"Buy milk\""},
        {eddy::todo::TASK_DELETED, "user alice deleted task t-1 \"Buy milk\""},
        {eddy::todo::TASK_REMINDER, "user alice was reminded of task t-1 \"Buy milk\""},
    };
    int n = 0;
    for (const auto& [type, summary] : cases) {
        events.pipe_input("t-1", event("e-" + std::to_string(n++), type, "t-1"));
    }
    for (int i = 0; i < static_cast<int>(cases.size()); ++i) {
        auto r = audit.read_record();
        EXPECT_EQ(r.key, "t-1");
        EXPECT_EQ(r.value.event_id(), "e-" + std::to_string(i));
        EXPECT_EQ(r.value.action(), cases[static_cast<std::size_t>(i)].first);
        EXPECT_EQ(r.value.user_id(), "alice");
        EXPECT_EQ(r.value.task_id(), "t-1");
        EXPECT_EQ(r.value.occurred_at().seconds(), 1'795'000'000);
        EXPECT_EQ(r.value.summary(), cases[static_cast<std::size_t>(i)].second);
        EXPECT_EQ(r.value.source_topic(), "todo.task-events");
        EXPECT_EQ(r.value.source_offset(), i);
    }
    EXPECT_TRUE(audit.is_empty());
}

TEST_F(AuditTopologyTest, AnUpdateRecordsWhatChangedFromAndTo) {
    auto e = event("e-1", eddy::todo::TASK_UPDATED, "t-1");
    auto* c = e.add_changes();
    c->set_field("title");
    c->set_from("Buy milk");
    c->set_to("Buy oat milk");
    events.pipe_input("t-1", e);
    auto r = audit.read_value();
    ASSERT_EQ(r.changes_size(), 1);
    EXPECT_EQ(r.changes(0).field(), "title");
    EXPECT_EQ(r.changes(0).to(), "Buy oat milk");
    EXPECT_THAT(r.summary(), HasSubstr("title: \"Buy milk\" -> \"Buy oat milk\""));
}

TEST_F(AuditTopologyTest, GarbageGoesToTheDeadLetterTopicWithReasonAndOrigin) {
    events.pipe_input("t-1", event("e-1", eddy::todo::TASK_CREATED, "t-1"));
    driver.pipe_raw({"todo.task-events", 0, 0, 99, std::string("t-2"), std::string("\xff\xff\xff\xff garbage"), {}});
    events.pipe_input("t-3", event("e-3", eddy::todo::TASK_CREATED, "t-3"));

    EXPECT_EQ(audit.queue_size(), 2U); // processing went on
    ASSERT_EQ(driver.queue_size("todo.dlq"), 1U);
    auto dead = driver.read_raw("todo.dlq");
    namespace h = eddy::dead_letter_headers;
    EXPECT_EQ(dead.key, std::optional<std::string>("t-2"));
    EXPECT_EQ(dead.value, std::optional<std::string>("\xff\xff\xff\xff garbage"));
    EXPECT_THAT(header(dead, h::error_message), HasSubstr("cannot parse"));
    EXPECT_EQ(header(dead, h::source_topic), "todo.task-events");
    EXPECT_EQ(header(dead, h::source_partition), "0");
    EXPECT_EQ(header(dead, h::source_offset), "1");
    EXPECT_EQ(header(dead, h::processor_node), "todo-task-events-source");
    EXPECT_EQ(header(dead, h::application_id), "todo-audit");
}

TEST_F(AuditTopologyTest, UnreadableEventsAreDeadLetteredWithTheirReason) {
    auto newer = event("e-1", eddy::todo::TASK_CREATED, "t-1");
    newer.set_schema_version(2);
    auto no_task = event("e-2", eddy::todo::TASK_CREATED, "");
    auto no_type = event("e-3", eddy::todo::TASK_EVENT_TYPE_UNSPECIFIED, "t-3");
    auto serde = eddy::serdes::protobuf<TaskEvent>{};
    for (const auto& e : {newer, no_task, no_type}) {
        driver.pipe_raw({"todo.task-events", 0, 0, 1, e.task_id(), serde.serialize(e), {}});
    }
    std::vector<std::string> reasons;
    while (driver.queue_size("todo.dlq") > 0) {
        reasons.push_back(header(driver.read_raw("todo.dlq"), eddy::dead_letter_headers::error_message));
    }
    EXPECT_THAT(reasons,
        ::testing::ElementsAre("todo.TaskEvent: schema version 2 is not one this reader knows (1..1)",
            "todo.TaskEvent: no task_id", "todo.TaskEvent: unknown event type 0"));
    EXPECT_TRUE(audit.is_empty());
}

TEST(AuditTopologyDescribeTest, TheTopologyReadsTaskEventsAndWritesTheAuditTopic) {
    eddy::streams_builder builder;
    eddy::todo::add_audit_topology(builder);
    EXPECT_EQ(builder.build().describe().to_string(),
        "Topologies:\n"
        "   Sub-topology: 0\n"
        "    Source: todo-task-events-source (topics: [todo.task-events])\n"
        "      --> todo-audit-record\n"
        "    Processor: todo-audit-record (stores: [])\n"
        "      --> todo-audit-provenance\n"
        "      <-- todo-task-events-source\n"
        "    Processor: todo-audit-provenance (stores: [])\n"
        "      --> todo-audit-sink\n"
        "      <-- todo-audit-record\n"
        "    Sink: todo-audit-sink (topic: todo.audit)\n"
        "      <-- todo-audit-provenance\n"
        "\n");
}

} // namespace
