#pragma once

// The node that runs a processor (a DSL operator or a user's): it owns the
// processor instance and its context, which holds the node's children.
// Typed by the processor's own class when that is final (every DSL
// operator), so a record costs one virtual call per operator: the node's
// process(), which calls the processor's directly.

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "node.h"
#include "../processor.h"

namespace eddy::operators::internal {

template<typename KIn, typename VIn, typename KOut, typename VOut,
    typename P = processor<KIn, VIn, KOut, VOut>>
class processor_node final : public typed_node<KIn, VIn> {
public:
    using processor_type = P;

    processor_node(std::string name, std::unique_ptr<processor_type> p)
        : typed_node<KIn, VIn>(std::move(name)), _processor(std::move(p)) {}

    void init(task_context& task) override {
        _task = &task;
        _context = std::make_unique<processor_context<KOut, VOut>>(task, this->name());
        for (auto& [child_name, child] : _pending_children) {
            context_access::add_child(*_context, std::move(child_name), child);
        }
        _pending_children.clear();
        _processor->init(*_context);
    }
    void close() override { _processor->close(); }
    void add_child(node_instance& child) override {
        _pending_children.emplace_back(child.name(), &as_typed_child<KOut, VOut>(this->name(), child));
    }
    // A failure is handled here, at the innermost node: what a child throws
    // after its own handling is a handled_error, which goes on up unhandled.
    void process(const record<KIn, VIn>& r) override {
        try {
            _processor->process(r);
        } catch (...) {
            handle_processing_failure(*_task, *this, std::current_exception());
        }
    }

private:
    std::unique_ptr<processor_type> _processor;
    task_context* _task = nullptr;
    std::unique_ptr<processor_context<KOut, VOut>> _context;
    std::vector<std::pair<std::string, typed_node<KOut, VOut>*>> _pending_children;
};

// Adapts a fixed-key processor to the processor interface.
template<typename K, typename VIn, typename VOut>
class fixed_key_adapter final : public processor<K, VIn, K, VOut> {
public:
    explicit fixed_key_adapter(std::unique_ptr<fixed_key_processor<K, VIn, VOut>> p)
        : _processor(std::move(p)) {}

    void init(processor_context<K, VOut>& context) override {
        _context.emplace(context);
        _processor->init(*_context);
    }
    // The record is lent, not copied (nor copied again to forward it).
    void process(const record<K, VIn>& r) override { _processor->process(fixed_key_record<K, VIn>::lend(r)); }
    void close() override { _processor->close(); }

private:
    std::unique_ptr<fixed_key_processor<K, VIn, VOut>> _processor;
    std::optional<fixed_key_processor_context<K, VOut>> _context;
};

// A node factory for a processor made by `make()`.
template<typename KIn, typename VIn, typename KOut, typename VOut, typename Make>
std::function<std::unique_ptr<node_instance>()> processor_factory(std::string name, Make make) {
    using made = typename std::invoke_result_t<Make&>::element_type;
    using P = std::conditional_t<std::is_final_v<made>, made, processor<KIn, VIn, KOut, VOut>>;
    return [name = std::move(name), make = std::move(make)]() mutable -> std::unique_ptr<node_instance> {
        return std::make_unique<processor_node<KIn, VIn, KOut, VOut, P>>(name, make());
    };
}

} // namespace eddy::operators::internal
