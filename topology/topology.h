#pragma once

// A built topology: validated nodes grouped into sub-topologies (the
// connected parts of the graph), ready to be instantiated as tasks by the
// Kafka runtime or the topology test driver, and described as text or as a
// Mermaid graph.
//
//   auto topology = builder.build();
//   std::string text = topology.describe().to_string();     // Kafka Streams' format
//   std::string graph = topology.describe().to_mermaid();

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "../operators/internal/node.h"
#include "internal/access.h"
#include "internal/graph.h"
#include "topology_error.h"

namespace eddy {

// describe()'s result.
class topology_description {
public:
    struct node {
        std::string name;
        dsl::internal::node_kind kind;
        std::vector<std::string> topics;
        bool topic_extractor = false;
        std::vector<std::string> stores;
        std::vector<std::string> successors;
        std::vector<std::string> predecessors;
    };
    struct subtopology {
        int id = 0;
        // A global table's: read whole by every instance, no tasks.
        bool global = false;
        // In Kafka Streams' order: largest downstream size first, then by name.
        std::vector<node> nodes;
    };

    explicit topology_description(std::vector<subtopology> subtopologies)
        : _subtopologies(std::move(subtopologies)) {}

    const std::vector<subtopology>& subtopologies() const noexcept { return _subtopologies; }

    // Kafka Streams' TopologyDescription text.
    std::string to_string() const;
    // A Mermaid flowchart: one subgraph per sub-topology, topics as
    // cylinders.
    std::string to_mermaid() const;

private:
    std::vector<subtopology> _subtopologies;
};

// The nodes of one task, wired, with its sources by topic.
struct task_nodes {
    // Before the nodes: destroyed after them.
    std::vector<std::unique_ptr<statestore::internal::store_handle>> stores;
    std::vector<std::unique_ptr<operators::internal::node_instance>> nodes;
    std::map<std::string, operators::internal::raw_node*, std::less<>> sources;
};

// What streams_builder::build() returns: the graph validated, the
// description (describe()) and what the runtime and the test driver make
// tasks from.
class topology {
public:
    topology_description describe() const;

    // A repartition topic the topology writes and reads.
    struct internal_topic {
        std::string name;         // "<application.id>-<name>-repartition"
        int partitions = 0;       // 0: as many as the writer's source topics; -1: as the reader's others
        int writer_subtopology = 0;
        int reader_subtopology = 0;
    };

    // Every sub-topology, the global ones included (they keep Kafka Streams'
    // numbering, so task ids match describe()); a global one reads no topic
    // here and makes no tasks.
    std::size_t subtopology_count() const noexcept { return _subtopologies.size(); }
    bool is_global(int subtopology) const { return _global.at(static_cast<std::size_t>(subtopology)); }

    // A global table's store and the topic it holds whole.
    struct global_store {
        std::string store;
        std::string topic;
        int subtopology = 0;
    };
    std::vector<global_store> global_stores() const;
    // The nodes and stores of every global sub-topology, as one task that
    // the global thread (or the test driver) runs.
    task_nodes create_global_task_nodes() const;
    // The topics the sub-topology's sources read; internal topics get the
    // application id as prefix.
    std::vector<std::string> source_topics(int subtopology, std::string_view application_id = {}) const;
    // Every topic outside the application that the sources read.
    std::set<std::string> external_source_topics() const;
    // Every topic a sink writes by name, internal ones excepted.
    std::set<std::string> sink_topics() const;
    // Whether a node may hold its task's input (a retry step).
    bool holds_input() const;
    // The dead-letter topics nodes route their failures to
    // (kstream::with_dead_letter_topic, retry steps' own).
    std::set<std::string> dead_letter_topics() const;
    std::vector<internal_topic> internal_topics(std::string_view application_id) const;
    // The sub-topology that reads `topic` (an internal one by its full name).
    std::optional<int> subtopology_of(std::string_view topic, std::string_view application_id = {}) const;

    // A store's changelog: "<application.id>-<store>-changelog", one
    // partition per task of the sub-topology that keeps the store.
    struct changelog_topic {
        std::string name;
        std::string store;
        int subtopology = 0;
        // A window store's retention (-1: a key-value store).
        std::int64_t window_retention_ms = -1;
    };
    std::vector<changelog_topic> changelog_topics(std::string_view application_id) const;
    // The stores the tasks of `subtopology` keep.
    std::vector<std::string> stores_of(int subtopology) const;

    // Makes and wires the nodes of one task of `subtopology`, with its
    // stores (not yet opened).
    task_nodes create_task_nodes(int subtopology, std::string_view application_id = {}) const;

private:
    friend class streams_builder;
    friend struct dsl::internal::access;

    // Validates `nodes` (as added by the DSL); throws topology_error.
    explicit topology(std::vector<dsl::internal::graph_node> nodes,
        std::vector<statestore::internal::store_spec> stores = {});

    void add_task_nodes(task_nodes& task, int subtopology, std::string_view application_id) const;

    std::vector<dsl::internal::graph_node> _nodes;
    // Node indices per sub-topology, in the order they were added (parents
    // before children).
    std::vector<std::vector<std::size_t>> _subtopologies;
    // Per sub-topology: each source topic and whether it is internal.
    std::vector<std::vector<std::pair<std::string, bool>>> _source_topics;
    std::map<std::string, statestore::internal::store_spec> _stores;
    // Store names per sub-topology.
    std::vector<std::set<std::string>> _stores_of;
    // Per sub-topology: whether it is a global table's.
    std::vector<bool> _global;
    // Per global sub-topology: the topics its source reads.
    std::map<int, std::vector<std::string>> _global_topics;
};

} // namespace eddy
