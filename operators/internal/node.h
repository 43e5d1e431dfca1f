#pragma once

// The nodes a task is made of. A topology holds one factory per node; a task
// calls each once, then wires every node to its parents. Records pass between
// nodes as typed C++ objects through one virtual call per node.

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "task_context.h"
#include "../../core/record.h"

namespace eddy::operators::internal {

[[noreturn]] void throw_type_mismatch(std::string_view parent, std::string_view child);

class node_instance;

// Hands the failure `error` of `node` (thrown by its processor) to the
// task's processing handler, or dead-letters it to the node's own
// dead-letter topic when it has one. Rethrows what no handler may take (a
// handled_error, the runtime's errors, a store's); throws processing_error
// when the handler says fail.
void handle_processing_failure(task_context& task, const node_instance& node, std::exception_ptr error);
// The same for a failure of `node` outside a node call (a punctuation's).
void handle_processing_failure(task_context& task, const std::string& node, const std::string& dead_letter_topic,
    std::exception_ptr error);
// Hands a record `node` (a sink) cannot write to the production handler,
// likewise; throws production_error when the handler says fail.
void handle_production_failure(task_context& task, const node_instance& node, std::string_view error_class,
    std::string_view message);

// One node of one task.
class node_instance {
public:
    explicit node_instance(std::string name) : _name(std::move(name)) {}
    virtual ~node_instance() = default;
    node_instance(const node_instance&) = delete;
    node_instance& operator=(const node_instance&) = delete;

    const std::string& name() const noexcept { return _name; }
    // Where this node's failures go (kstream::with_dead_letter_topic);
    // empty: wherever the configured handler sends them.
    const std::string& dead_letter_topic() const noexcept { return _dead_letter_topic; }
    void set_dead_letter_topic(std::string topic) { _dead_letter_topic = std::move(topic); }

    virtual void init(task_context& /*task*/) {}
    virtual void close() {}
    // Makes `child` receive what this node emits. Nodes that emit nothing
    // (sinks) reject children.
    virtual void add_child(node_instance& child) { throw_type_mismatch(_name, child.name()); }

private:
    std::string _name;
    std::string _dead_letter_topic;
};

// A node that receives records of K, V.
template<typename K, typename V>
class typed_node : public node_instance {
public:
    using node_instance::node_instance;
    virtual void process(const record<K, V>& r) = 0;
};

// A node that reads bytes from topics: a source.
class raw_node : public node_instance {
public:
    using node_instance::node_instance;
    virtual void process_raw(const raw_record& r) = 0;
    // The same, read in place from the consumer's buffer.
    virtual void process_consumed(const consumed_record& r) = 0;
};

// Casts a child to the node type that receives K, V, once at wiring time.
template<typename K, typename V>
typed_node<K, V>& as_typed_child(std::string_view parent, node_instance& child) {
    auto* typed = dynamic_cast<typed_node<K, V>*>(&child);
    if (typed == nullptr) {
        throw_type_mismatch(parent, child.name());
    }
    return *typed;
}

} // namespace eddy::operators::internal
