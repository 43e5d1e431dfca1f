#pragma once

// The logical graph the DSL writes into: nodes in the order they were added,
// each with its parents, topics, and a factory that makes the node for one
// task. build() validates it and turns it into a topology.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../../operators/internal/node.h"
#include "../../statestore/internal/store_handle.h"

namespace eddy::dsl::internal {

enum class node_kind { source, processor, sink };

struct graph_node {
    std::string name;
    node_kind kind = node_kind::processor;
    std::vector<std::string> parents;
    // Source: the topics read; sink: the topic written (empty with an
    // extractor).
    std::vector<std::string> topics;
    bool topic_extractor = false;
    // The topics are internal (a repartition topic): each is named
    // "<application.id>-<topic>" when the topology runs.
    bool internal_topics = false;
    // A global table's source: its sub-topology is read whole by every
    // instance's global thread and makes no tasks.
    bool global = false;
    // The partition count an internal topic a sink writes is created with;
    // 0: the largest partition count of the sink's sub-topology's sources;
    // -1: that of the other sources of the sub-topology reading the topic
    // (co-partitioned with them: a foreign-key join's subscription topics).
    int partitions = 0;
    std::vector<std::string> stores;
    // The node may hold its task's input (a retry step): the runtime must
    // be able to pause and resume partitions, so it cannot consume in
    // batches.
    bool holds_input = false;
    // Where the node's failures are dead-lettered, whatever the configured
    // handlers say (kstream::with_dead_letter_topic, or a retry step's
    // policy's own topic); empty: the handlers'. Created on start.
    std::string dead_letter_topic;
    std::function<std::unique_ptr<operators::internal::node_instance>()> factory;
    // What build() must reject, found while the node was added (a missing
    // serde, say), each phrased to follow "node <name>: ".
    std::vector<std::string> problems;
};

class graph {
public:
    // The next generated name, Kafka Streams' way: prefix + a 10-digit index
    // shared by every name of this builder.
    std::string new_name(std::string_view prefix);
    // `explicit_name` when given (still using up an index, as Kafka Streams
    // does, so later generated names do not shift), else a generated one.
    std::string name_or_new(const std::string& explicit_name, std::string_view prefix);

    graph_node& add(graph_node node);
    const std::vector<graph_node>& nodes() const noexcept { return _nodes; }
    std::vector<graph_node>& nodes_for_update() noexcept { return _nodes; }
    std::vector<graph_node> take_nodes() { return std::move(_nodes); }

    // A store the nodes that name it in graph_node::stores use.
    void add_store(statestore::internal::store_spec store) { _stores.push_back(std::move(store)); }
    // The declared store `name`, or null.
    statestore::internal::store_spec* find_store(const std::string& name) {
        for (auto& s : _stores) {
            if (s.name == name) {
                return &s;
            }
        }
        return nullptr;
    }
    // Marks the store `name` as a global table's.
    void mark_store_global(const std::string& name) {
        for (auto& s : _stores) {
            if (s.name == name) {
                s.global = true;
            }
        }
    }
    std::vector<statestore::internal::store_spec> take_stores() { return std::move(_stores); }

private:
    std::vector<graph_node> _nodes;
    std::vector<statestore::internal::store_spec> _stores;
    int _index = 0;
};

} // namespace eddy::dsl::internal
