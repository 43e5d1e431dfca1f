#pragma once

// The sink node: serialises typed records with the sink's serdes and hands
// the bytes to the task's record collector, to a fixed topic or to the topic
// a topic_name_extractor picks per record. A record it cannot serialize, or
// the producer refuses, goes to the production handler; an extractor that
// throws, to the processing handler.

#include <exception>
#include <functional>
#include <string>
#include <utility>

#include "node.h"
#include "source_node.h"
#include "../../core/window.h"
#include "../../serde/serde.h"

namespace eddy::operators::internal {

// What a sink's production failure says: "sink N cannot write to topic T: ...".
std::string sink_error_message(const std::string& node, const std::string& topic, std::string_view what);
// The demangled class of `e` ("std::out_of_range"), what error headers say.
std::string exception_class_name(const std::exception& e);

template<typename K, typename V>
class sink_node final : public typed_node<K, V> {
public:
    using extractor =
        std::function<std::string(const K&, const V&, const std::optional<record_metadata>&)>;

    sink_node(std::string name, std::string topic, extractor topic_of, serde_ref<K> key_serde,
        serde_ref<V> value_serde)
        : typed_node<K, V>(std::move(name))
        , _topic(std::move(topic))
        , _topic_of(std::move(topic_of))
        , _key_serde(std::move(key_serde))
        , _value_serde(std::move(value_serde)) {
        if constexpr (is_windowed_v<K>) {
            // Kafka Streams' windowed serdes: partition by the plain key.
            _out.key_window_bytes = static_cast<std::uint8_t>(window_suffix_bytes(_key_serde.name()));
        }
    }

    // An internal topic is named after the application: prefix it now.
    void init(task_context& task) override {
        _task = &task;
        if (_internal && !_topic.empty()) {
            _topic = task.application_id + "-" + _topic;
        }
    }
    sink_node& set_internal(bool internal) {
        _internal = internal;
        return *this;
    }

    // The outgoing record is a member: its topic and header storage are
    // reused from record to record (the collector copies what it keeps).
    void process(const record<K, V>& r) override {
        auto& out = _out;
        if (_topic_of) {
            try {
                out.topic = _topic_of(r.key, r.value, _task->metadata);
            } catch (...) {
                handle_processing_failure(*_task, *this, std::current_exception());
                return;
            }
            if (out.topic.empty()) {
                handle_production_failure(*_task, *this, "eddy::production_error",
                    sink_error_message(this->name(), out.topic, "the topic name extractor returned an empty topic"));
                return;
            }
        } else if (out.topic != _topic) {
            out.topic.assign(_topic);
        }
        out.partition = -1;
        out.timestamp = r.timestamp;
        try {
            encode_into(_key_serde, r.key, out.key);
            encode_into(_value_serde, r.value, out.value);
        } catch (const std::exception& e) {
            handle_production_failure(
                *_task, *this, exception_class_name(e), sink_error_message(this->name(), out.topic, e.what()));
            return;
        }
        out.headers = r.headers;
        try {
            _task->collector->send(out);
        } catch (const record_rejected& e) {
            handle_production_failure(
                *_task, *this, "eddy::record_rejected", sink_error_message(this->name(), out.topic, e.what()));
        }
    }

private:
    std::string _topic;
    bool _internal = false;
    extractor _topic_of;
    serde_ref<K> _key_serde;
    serde_ref<V> _value_serde;
    task_context* _task = nullptr;
    raw_record _out;
};

} // namespace eddy::operators::internal
