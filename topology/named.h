#pragma once

// The small option objects DSL calls take, as Kafka Streams' Named, Consumed
// and Produced.
//
//   builder.stream<std::string, std::string>("in", eddy::consumed<std::string, std::string>::as("tasks-source"));
//   s.filter(pred, eddy::named::as("keep-open-tasks"));
//   s.to("out", eddy::produced<std::string, std::int64_t>::with(eddy::serdes::string{}, eddy::serdes::int64{}));

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "../operators/error_handlers.h"
#include "../serde/serde.h"
#include "../serde/serdes.h" // the default serdes consumed and produced fall back on

namespace eddy {

// An explicit node name; empty means "generate one".
class named {
public:
    named() = default;
    static named as(std::string name) { return named(std::move(name)); }
    const std::string& name() const noexcept { return _name; }

private:
    explicit named(std::string name) : _name(std::move(name)) {}
    std::string _name;
};

// Where a record's event time comes from: extractor(key, value, the
// record's own timestamp) -> milliseconds. None: the record's timestamp
// (Kafka Streams' FailOnInvalidTimestamp without the failing: a negative
// result drops the record, counted in dropped-records).
template<typename K, typename V>
using timestamp_extractor = std::function<std::int64_t(const K&, const V&, std::int64_t)>;

// How a source reads: its serdes (the types' default serdes unless given),
// its node name and, optionally, its own deserialization handler and
// timestamp extractor. consumed<> (below) takes its types from its serdes.
template<typename K = void, typename V = void>
class consumed {
public:
    consumed() = default;

    static consumed with(serde_ref<K> key_serde, serde_ref<V> value_serde) {
        consumed c;
        c._key_serde = std::move(key_serde);
        c._value_serde = std::move(value_serde);
        return c;
    }
    static consumed as(std::string name) { return consumed().with_name(std::move(name)); }

    consumed with_name(std::string name) const {
        consumed c(*this);
        c._name = std::move(name);
        return c;
    }
    consumed with_deserialization_handler(std::shared_ptr<deserialization_exception_handler> h) const {
        consumed c(*this);
        c._handler = std::move(h);
        return c;
    }

    // Event time from a field of the value, say:
    //   .with_timestamp_extractor([](const auto&, const Task& t, std::int64_t) { return t.due_ms(); })
    consumed with_timestamp_extractor(timestamp_extractor<K, V> extractor) const {
        consumed c(*this);
        c._extractor = std::move(extractor);
        return c;
    }
    // Event time = the task's wall clock when the record is processed
    // (Kafka Streams' WallclockTimestampExtractor).
    consumed with_wall_clock_time() const {
        consumed c(*this);
        c._wall_clock = true;
        return c;
    }

    const serde_ref<K>& key_serde() const noexcept { return _key_serde; }
    const serde_ref<V>& value_serde() const noexcept { return _value_serde; }
    const std::string& name() const noexcept { return _name; }
    const std::shared_ptr<deserialization_exception_handler>& handler() const noexcept { return _handler; }
    const timestamp_extractor<K, V>& extractor() const noexcept { return _extractor; }
    bool wall_clock_time() const noexcept { return _wall_clock; }

private:
    serde_ref<K> _key_serde = default_serde_ref<K>();
    serde_ref<V> _value_serde = default_serde_ref<V>();
    std::string _name;
    std::shared_ptr<deserialization_exception_handler> _handler;
    timestamp_extractor<K, V> _extractor;
    bool _wall_clock = false;
};

// How a sink writes: its serdes (the types' default serdes unless given) and
// its node name. produced<> (below) takes its types from its serdes.
template<typename K = void, typename V = void>
class produced {
public:
    produced() = default;

    static produced with(serde_ref<K> key_serde, serde_ref<V> value_serde) {
        produced p;
        p._key_serde = std::move(key_serde);
        p._value_serde = std::move(value_serde);
        return p;
    }
    static produced as(std::string name) { return produced().with_name(std::move(name)); }

    produced with_name(std::string name) const {
        produced p(*this);
        p._name = std::move(name);
        return p;
    }

    const serde_ref<K>& key_serde() const noexcept { return _key_serde; }
    const serde_ref<V>& value_serde() const noexcept { return _value_serde; }
    const std::string& name() const noexcept { return _name; }

private:
    serde_ref<K> _key_serde = default_serde_ref<K>();
    serde_ref<V> _value_serde = default_serde_ref<V>();
    std::string _name;
};

// The untyped form of a two-type option (consumed<>, produced<>, grouped<>,
// repartitioned<>): with() takes the types from the serdes, as() names a
// thing and converts to the typed options where they are used (with the
// types' default serdes).
template<template<typename, typename> class Options>
class untyped_options {
public:
    template<serde_or_ref KS, serde_or_ref VS>
    static Options<serde_value_t<KS>, serde_value_t<VS>> with(KS key_serde, VS value_serde) {
        return Options<serde_value_t<KS>, serde_value_t<VS>>::with(std::move(key_serde), std::move(value_serde));
    }
    static Options<void, void> as(std::string name) {
        Options<void, void> o;
        static_cast<untyped_options&>(o)._name = std::move(name);
        return o;
    }

    template<typename K, typename V>
    operator Options<K, V>() const { // NOLINT(google-explicit-constructor): what it is for
        return Options<K, V>::as(_name);
    }

private:
    std::string _name;
};

// consumed<>: the source's types from its serdes, or (as) from the stream
// it is given to:
//   builder.stream("todo.task-events", eddy::consumed<>::with(eddy::serdes::string{}, task_event_serde{}))
//   builder.stream<std::string, std::string>("in", eddy::consumed<>::as("tasks-source"))
template<>
class consumed<void, void> : public untyped_options<consumed> {};

// produced<>: the sink's types from its serdes (they must be the stream's),
// or (as) from the stream:
//   counts.to("todo.counts", eddy::produced<>::with(eddy::serdes::string{}, eddy::serdes::int64{}))
template<>
class produced<void, void> : public untyped_options<produced> {};

} // namespace eddy
