#pragma once

// The nodes a task is made of. A topology holds one factory per node; a task
// calls each once, then wires every node to its parents. Records pass between
// nodes as typed C++ objects through one virtual call per node.

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "operators/internal/task_context.h"
#include "operators/record.h"

namespace eddy::operators::internal {

[[noreturn]] void throw_type_mismatch(std::string_view parent, std::string_view child);

// One node of one task.
class node_instance {
public:
    explicit node_instance(std::string name) : _name(std::move(name)) {}
    virtual ~node_instance() = default;
    node_instance(const node_instance&) = delete;
    node_instance& operator=(const node_instance&) = delete;

    const std::string& name() const noexcept { return _name; }

    virtual void init(task_context& /*task*/) {}
    virtual void close() {}
    // Makes `child` receive what this node emits. Nodes that emit nothing
    // (sinks) reject children.
    virtual void add_child(node_instance& child) { throw_type_mismatch(_name, child.name()); }

private:
    std::string _name;
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
