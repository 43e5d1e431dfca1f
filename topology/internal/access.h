#pragma once

// What the DSL's own classes and functions reach inside a stream or a table
// and a program cannot: its graph, adding a node to it, a windowed table's
// grace and suppress buffer. kstream, ktable and global_ktable keep these
// private and befriend `access`.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace eddy::dsl::internal {

struct access {
    // The graph the stream or table belongs to.
    template<typename S>
    static const auto& graph(const S& s) noexcept {
        return s.graph();
    }

    // Adds node `name`, made by `make()`, reading the stream `s`.
    template<typename K2, typename V2, typename S, typename Make>
    static void add_node(const S& s, const std::string& name, Make make, std::vector<std::string> stores = {}) {
        s.template add_node<K2, V2>(name, std::move(make), std::move(stores));
    }

    // A windowed aggregation's table: its windows' grace, for suppress().
    template<typename T>
    static T with_window_grace(const T& table, std::int64_t grace_ms) {
        return table.with_window_grace(grace_ms);
    }

    // A windowed aggregation's table: the store suppress() buffers in.
    template<typename T, typename Spec>
    static T with_buffer_spec(const T& table, Spec spec) {
        return table.with_buffer_spec(std::move(spec));
    }

    // A topology of hand-made nodes (tests of build()'s validation).
    template<typename Topology, typename... Args>
    static Topology make(Args&&... args) {
        return Topology(std::forward<Args>(args)...);
    }
};

} // namespace eddy::dsl::internal
