// The todo app's task table on the test driver: events folded into the
// current task, the owner index, tombstones for deleted tasks.

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "apps/todo/task_table.h"
#include "runtime/topology_test_driver.h"
#include "serde/protobuf.h"
#include "serde/serdes.h"

namespace {

using namespace eddy::todo;

TaskEvent event(const std::string& id, TaskEventType type, const std::string& task, const std::string& user,
    const std::string& title, std::int64_t seconds) {
    TaskEvent e;
    e.set_event_id(id);
    e.set_type(type);
    e.set_task_id(task);
    e.set_user_id(user);
    e.set_title(title);
    e.set_schema_version(task_event_schema_version);
    e.mutable_occurred_at()->set_seconds(seconds);
    return e;
}

class TaskTableTest : public testing::Test {
protected:
    TaskTableTest() : driver(make()) {}

    static eddy::topology make() {
        eddy::streams_builder builder;
        add_task_table(builder, read_task_events(builder));
        return builder.build();
    }

    void pipe(const TaskEvent& e) {
        driver.create_input_topic<std::string, TaskEvent>("todo.task-events", eddy::serdes::string{}, task_event_serde{})
            .pipe_input(e.task_id(), e);
    }

    eddy::topology_test_driver driver;
};

TEST_F(TaskTableTest, FoldsEventsIntoTheCurrentTask) {
    auto created = event("e1", TASK_CREATED, "t-1", "alice", "Buy milk", 100);
    created.mutable_due_at()->set_seconds(5000);
    created.set_priority(PRIORITY_HIGH);
    pipe(created);
    pipe(event("e2", TASK_UPDATED, "t-1", "alice", "Buy oat milk", 200));
    pipe(event("e3", TASK_COMPLETED, "t-1", "bob", "", 300));

    auto tasks = driver.get_key_value_store<std::string, Task>("todo.tasks");
    auto t = tasks.get("t-1");
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->title(), "Buy oat milk");
    EXPECT_EQ(t->owner_id(), "alice"); // the creator, not who completed it
    EXPECT_EQ(t->status(), TASK_DONE);
    EXPECT_EQ(t->due_at().seconds(), 5000); // kept from the create
    EXPECT_EQ(t->priority(), PRIORITY_HIGH);
    EXPECT_EQ(t->created_at().seconds(), 100);
    EXPECT_EQ(t->updated_at().seconds(), 300);
    EXPECT_EQ(t->version(), 3U);
    EXPECT_EQ(t->last_event_id(), "e3");

    // Every change went on to todo.tasks.
    auto out = driver.create_output_topic<std::string, std::optional<Task>>(
        "todo.tasks", eddy::serdes::string{}, eddy::serdes::nullable<eddy::serdes::protobuf<Task>>{});
    auto changes = out.read_values_to_list();
    ASSERT_EQ(changes.size(), 3U);
    EXPECT_EQ(changes[0]->status(), TASK_OPEN);
    EXPECT_EQ(changes[2]->status(), TASK_DONE);
}

TEST_F(TaskTableTest, IndexesTasksByOwnerAndForgetsDeletedOnes) {
    pipe(event("e1", TASK_CREATED, "t-1", "alice", "one", 1));
    pipe(event("e2", TASK_CREATED, "t-2", "bob", "two", 2));
    pipe(event("e3", TASK_CREATED, "t-3", "alice", "three", 3));
    pipe(event("e4", TASK_DELETED, "t-1", "alice", "", 4));
    pipe(event("e5", TASK_DELETED, "t-9", "alice", "", 5)); // never existed: no change

    auto index = driver.get_key_value_store<std::string, std::string>("todo.tasks-by-owner");
    std::vector<std::string> alice;
    for (const auto& [key, task] : index.prefix_scan(owner_index_key("alice", ""))) {
        alice.push_back(task);
    }
    EXPECT_EQ(alice, (std::vector<std::string>{"t-3"}));
    EXPECT_EQ(index.all().to_vector().size(), 2U);
    EXPECT_FALSE((driver.get_key_value_store<std::string, Task>("todo.tasks").get("t-1")).has_value());

    auto out = driver.create_output_topic<std::string, std::optional<Task>>(
        "todo.tasks", eddy::serdes::string{}, eddy::serdes::nullable<eddy::serdes::protobuf<Task>>{});
    auto records = out.read_key_values_to_list();
    ASSERT_EQ(records.size(), 4U);
    EXPECT_EQ(records[3].key, "t-1");
    EXPECT_FALSE(records[3].value.has_value()); // the tombstone
}

TEST(TaskApplyTest, AnUpdateBeforeItsCreateStartsTheTask) {
    TaskEvent e;
    e.set_event_id("e9");
    e.set_type(TASK_UPDATED);
    e.set_task_id("t-5");
    e.set_user_id("carol");
    e.set_title("late create");
    auto t = apply_event(std::nullopt, e);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->status(), TASK_OPEN);
    EXPECT_EQ(t->owner_id(), "carol");
    EXPECT_EQ(t->version(), 1U);
    EXPECT_FALSE(apply_event(t, event("e10", TASK_DELETED, "t-5", "carol", "", 9)).has_value());
}

} // namespace
