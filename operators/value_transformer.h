#pragma once

// A value transformer with key, as Kafka Streams' ValueTransformerWithKey:
// what ktable::transform_values runs, one instance per task. It turns a
// row's value into another, may keep state in stores declared with
// streams_builder::add_state_store (named where it is added), and cannot
// forward records itself: its result is the table's new value.
//
//   struct tag_with_version : eddy::value_transformer_with_key<std::string, std::string, std::string> {
//       void init(eddy::value_transformer_context& context) override {
//           value_transformer_with_key::init(context);
//           _versions.emplace(context.get_key_value_store<std::string, std::int64_t>("versions"));
//       }
//       std::string transform(const std::string& key, const std::string& value) override {
//           auto v = _versions->get(key).value_or(0) + 1;
//           _versions->put(key, v);
//           return value + "#" + std::to_string(v);
//       }
//       std::optional<eddy::key_value_store<std::string, std::int64_t>> _versions;
//   };

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "internal/task_context.h"
#include "../core/record.h"
#include "../statestore/key_value_store.h"

namespace eddy {

// What a value transformer sees of its task: its stores, where the record
// came from, the clocks and punctuations; no forward.
class value_transformer_context {
public:
    value_transformer_context(operators::internal::task_context& task, std::string node_name)
        : _task(&task), _node_name(std::move(node_name)) {}

    // A store of this task (or a global store), typed as it was declared;
    // eddy::store_error when there is no such store or its types differ.
    template<typename K, typename V>
    key_value_store<K, V> get_key_value_store(std::string_view name) const {
        return key_value_store<K, V>::from(_task->store(_node_name, name));
    }
    const std::optional<eddy::record_metadata>& record_metadata() const noexcept { return _task->metadata; }
    const std::string& application_id() const noexcept { return _task->application_id; }
    const eddy::task_id& task_id() const noexcept { return _task->id; }
    const std::string& node_name() const noexcept { return _node_name; }
    std::int64_t current_stream_time_ms() const noexcept { return _task->stream_time_ms; }
    std::int64_t current_system_time_ms() const { return _task->wall_clock_ms(); }
    cancellable schedule(std::chrono::milliseconds interval, punctuation_type type,
        std::function<void(std::int64_t)> fn) const {
        return _task->schedule(_node_name, interval, type, std::move(fn));
    }

private:
    operators::internal::task_context* _task;
    std::string _node_name;
};

template<typename K, typename V, typename VR>
class value_transformer_with_key {
public:
    using key_type = K;
    using value_in = V;
    using value_out = VR;

    virtual ~value_transformer_with_key() = default;

    // Called once before the first record; keep what you need of `context`.
    virtual void init(value_transformer_context& context) { _context = &context; }
    virtual VR transform(const K& key, const V& value) = 0;
    virtual void close() {}

protected:
    value_transformer_context& context() const { return *_context; }

private:
    value_transformer_context* _context = nullptr;
};

// A callable returning std::unique_ptr<T>, T a value_transformer_with_key<K, V, VR>.
template<typename S, typename K, typename V>
concept value_transformer_supplier = requires(S& s) {
    typename std::invoke_result_t<S&>::element_type;
    requires std::derived_from<typename std::invoke_result_t<S&>::element_type,
        value_transformer_with_key<K, V, typename std::invoke_result_t<S&>::element_type::value_out>>;
};

} // namespace eddy
