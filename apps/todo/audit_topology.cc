#include "apps/todo/audit_topology.h"

#include <fmt/format.h>

#include "operators/error_handlers.h"
#include "operators/processor.h"
#include "serde/protobuf.h"
#include "serde/serdes.h"

namespace eddy::todo {
namespace {

std::string_view verb(TaskEventType type) {
    switch (type) {
    case TASK_CREATED:
        return "created";
    case TASK_UPDATED:
        return "updated";
    case TASK_COMPLETED:
        return "completed";
    case TASK_DELETED:
        return "deleted";
    case TASK_REMINDER:
        return "was reminded of";
    default:
        return "did something unknown to";
    }
}

// Stamps each audit record with the topic, partition and offset of the event
// it records, so an auditor can find the original.
class audit_provenance final : public fixed_key_processor<std::string, AuditRecord, AuditRecord> {
public:
    void process(const fixed_key_record<std::string, AuditRecord>& r) override {
        AuditRecord out = r.value();
        if (const auto& meta = context().record_metadata()) {
            out.set_source_topic(meta->topic);
            out.set_source_partition(meta->partition);
            out.set_source_offset(meta->offset);
        }
        context().forward(r.with_value(std::move(out)));
    }
};

} // namespace

std::string task_event_serde::serialize(const TaskEvent& e) const {
    return serdes::protobuf<TaskEvent>{}.serialize(e);
}

TaskEvent task_event_serde::deserialize(std::string_view bytes) const {
    TaskEvent e = serdes::protobuf<TaskEvent>{}.deserialize(bytes);
    if (e.schema_version() == 0 || e.schema_version() > task_event_schema_version) {
        throw serde_error(fmt::format(
            "todo.TaskEvent: schema version {} is not one this reader knows (1..{})", e.schema_version(),
            task_event_schema_version));
    }
    if (!TaskEventType_IsValid(e.type()) || e.type() == TASK_EVENT_TYPE_UNSPECIFIED) {
        throw serde_error(fmt::format("todo.TaskEvent: unknown event type {}", static_cast<int>(e.type())));
    }
    if (e.event_id().empty()) {
        throw serde_error("todo.TaskEvent: no event_id");
    }
    if (e.task_id().empty()) {
        throw serde_error("todo.TaskEvent: no task_id");
    }
    return e;
}

std::string summarize(const TaskEvent& e) {
    std::string line = fmt::format("user {} {} task {}", e.user_id().empty() ? "?" : e.user_id(), verb(e.type()),
        e.task_id());
    if (!e.title().empty()) {
        line += fmt::format(" \"{}\"", e.title());
    }
    for (const auto& c : e.changes()) {
        line += fmt::format("; {}: \"{}\" -> \"{}\"", c.field(), c.from(), c.to());
    }
    return line;
}

AuditRecord to_audit_record(const TaskEvent& e) {
    AuditRecord a;
    a.set_event_id(e.event_id());
    a.set_user_id(e.user_id());
    a.set_action(e.type());
    a.set_task_id(e.task_id());
    *a.mutable_occurred_at() = e.occurred_at();
    *a.mutable_changes() = e.changes();
    a.set_summary(summarize(e));
    return a;
}

kstream<std::string, TaskEvent> read_task_events(streams_builder& builder, const audit_topics& topics) {
    return builder.stream(topics.task_events,
        consumed<>::with(serdes::string{}, task_event_serde{})
            .with_name("todo-task-events-source")
            .with_deserialization_handler(handlers::dead_letter(topics.dead_letters)));
}

void add_audit_topology(streams_builder& builder, const audit_topics& topics) {
    add_audit(read_task_events(builder, topics), topics);
}

void add_audit(const kstream<std::string, TaskEvent>& events, const audit_topics& topics) {
    events
        .map_values([](const TaskEvent& e) { return to_audit_record(e); }, named::as("todo-audit-record"))
        .process_values([] { return std::make_unique<audit_provenance>(); }, named::as("todo-audit-provenance"))
        .to(topics.audit,
            produced<>::with(serdes::string{}, serdes::protobuf<AuditRecord>{})
                .with_name("todo-audit-sink"));
}

} // namespace eddy::todo
