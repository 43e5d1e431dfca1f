#include "topology/topology.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "topology/streams_builder.h"

namespace eddy {
namespace {

using dsl::internal::graph_node;
using dsl::internal::node_kind;

// Union-find over node indices, to group nodes into sub-topologies.
class disjoint_sets {
public:
    explicit disjoint_sets(std::size_t n) : _parent(n) { std::iota(_parent.begin(), _parent.end(), 0); }
    std::size_t root(std::size_t i) {
        while (_parent[i] != i) {
            _parent[i] = _parent[_parent[i]];
            i = _parent[i];
        }
        return i;
    }
    void unite(std::size_t a, std::size_t b) { _parent[root(a)] = root(b); }

private:
    std::vector<std::size_t> _parent;
};

std::string kind_name(node_kind k) {
    switch (k) {
    case node_kind::source:
        return "source";
    case node_kind::sink:
        return "sink";
    case node_kind::processor:
        break;
    }
    return "processor";
}

// Every problem of the graph, each naming its node.
std::vector<std::string> find_problems(
    const std::vector<graph_node>& nodes, const std::vector<statestore::internal::store_spec>& stores) {
    std::vector<std::string> problems;
    std::set<std::string> declared;
    for (const auto& s : stores) {
        if (s.name.empty()) {
            problems.push_back("a store has an empty name");
        } else if (!declared.insert(s.name).second) {
            // Name the nodes that use it: a DSL operation's store is declared
            // by the operation, so its node is what the user renames.
            std::vector<std::string> users;
            for (const auto& n : nodes) {
                if (std::find(n.stores.begin(), n.stores.end(), s.name) != n.stores.end()) {
                    users.push_back(fmt::format("{} {}", kind_name(n.kind), n.name));
                }
            }
            problems.push_back(fmt::format("store {}: declared twice; store names must be unique{}", s.name,
                users.empty() ? std::string() : fmt::format(" (used by {})", fmt::join(users, ", "))));
        }
    }
    for (const auto& n : nodes) {
        for (const auto& s : n.stores) {
            if (!declared.contains(s)) {
                problems.push_back(fmt::format("{} {}: uses store {}, which is not declared (add it with "
                                               "streams_builder::add_state_store)",
                    n.kind == node_kind::source ? "source" : n.kind == node_kind::sink ? "sink" : "processor", n.name, s));
            }
        }
    }
    std::unordered_map<std::string, std::size_t> index;
    std::map<std::string, std::string> topic_owner;
    std::set<std::string> global_sources;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const auto& n = nodes[i];
        if (n.name.empty()) {
            problems.push_back(fmt::format("a {} node has an empty name", kind_name(n.kind)));
        } else if (!index.emplace(n.name, i).second) {
            problems.push_back(fmt::format("node {}: the name is used by two nodes; names must be unique", n.name));
        }
        for (const auto& p : n.problems) {
            problems.push_back(fmt::format("{} {}: {}", kind_name(n.kind), n.name, p));
        }
        if (n.kind == node_kind::source) {
            if (n.topics.empty()) {
                problems.push_back(fmt::format("source {}: reads no topic", n.name));
            }
            for (const auto& t : n.topics) {
                if (t.empty()) {
                    problems.push_back(fmt::format("source {}: a topic name is empty", n.name));
                } else if (auto [it, fresh] = topic_owner.emplace(t, n.name); !fresh) {
                    const bool global = n.global || global_sources.contains(it->second);
                    problems.push_back(fmt::format("source {}: topic {} is already read by source {}{}", n.name, t,
                        it->second, global ? "; a global table needs a topic no other source reads" : ""));
                }
                if (n.global) {
                    global_sources.insert(n.name);
                }
            }
        }
        if (n.kind == node_kind::sink && !n.topic_extractor && (n.topics.size() != 1 || n.topics[0].empty())) {
            problems.push_back(fmt::format("sink {}: has no topic", n.name));
        }
        if (n.kind != node_kind::source && n.parents.empty()) {
            problems.push_back(fmt::format("{} {}: has no parent", kind_name(n.kind), n.name));
        }
        if (!n.factory) {
            problems.push_back(fmt::format("{} {}: has nothing to run", kind_name(n.kind), n.name));
        }
    }
    // Parents must exist and come first: the DSL adds a node after its
    // parents, so a parent added later (or never) is a broken graph, and a
    // cycle would need one.
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        for (const auto& p : nodes[i].parents) {
            auto it = index.find(p);
            if (it == index.end()) {
                problems.push_back(fmt::format("node {}: parent {} is not in the topology", nodes[i].name, p));
            } else if (it->second >= i) {
                problems.push_back(fmt::format(
                    "node {}: parent {} is not upstream of it (a cycle or a parent added later)", nodes[i].name, p));
            } else if (nodes[it->second].kind == node_kind::sink) {
                problems.push_back(fmt::format("node {}: parent {} is a sink, which has no output", nodes[i].name, p));
            }
        }
    }
    return problems;
}

std::string join_names(const std::vector<std::string>& names) {
    return names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", "));
}

} // namespace

topology streams_builder::build() {
    return topology(_graph->take_nodes(), _graph->take_stores());
}

topology::topology(std::vector<graph_node> nodes, std::vector<statestore::internal::store_spec> stores)
    : _nodes(std::move(nodes)) {
    if (auto problems = find_problems(_nodes, stores); !problems.empty()) {
        throw topology_error(fmt::format("invalid topology: {}", fmt::join(problems, "; ")));
    }
    std::unordered_map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < _nodes.size(); ++i) {
        index.emplace(_nodes[i].name, i);
    }
    // A global store belongs to its global sub-topology alone: processors
    // elsewhere that name it read it, and are not joined to it.
    std::set<std::string> global_store_names;
    for (const auto& s : stores) {
        if (s.global) {
            global_store_names.insert(s.name);
        }
    }
    disjoint_sets sets(_nodes.size());
    std::map<std::string, std::size_t> store_owner;
    for (std::size_t i = 0; i < _nodes.size(); ++i) {
        for (const auto& p : _nodes[i].parents) {
            sets.unite(i, index.at(p));
        }
        for (const auto& s : _nodes[i].stores) {
            if (global_store_names.contains(s)) {
                continue;
            }
            if (auto [it, fresh] = store_owner.emplace(s, i); !fresh) {
                sets.unite(i, it->second);
            }
        }
    }
    // Sub-topology ids follow the first-added node of each group, as Kafka
    // Streams numbers them.
    std::set<std::size_t> global_roots;
    for (std::size_t i = 0; i < _nodes.size(); ++i) {
        if (_nodes[i].global) {
            global_roots.insert(sets.root(i));
        }
    }
    std::map<std::size_t, int> id_of_root;
    for (std::size_t i = 0; i < _nodes.size(); ++i) {
        auto [it, fresh] = id_of_root.emplace(sets.root(i), static_cast<int>(_subtopologies.size()));
        const bool global = global_roots.contains(sets.root(i));
        if (fresh) {
            _subtopologies.emplace_back();
            _source_topics.emplace_back();
            _stores_of.emplace_back();
            _global.push_back(global);
        }
        _subtopologies[it->second].push_back(i);
        for (const auto& s : _nodes[i].stores) {
            if (global == global_store_names.contains(s)) {
                _stores_of[it->second].insert(s);
            }
        }
        if (global) {
            if (_nodes[i].kind == node_kind::source) {
                auto& topics = _global_topics[it->second];
                topics.insert(topics.end(), _nodes[i].topics.begin(), _nodes[i].topics.end());
            }
            continue;
        }
        if (_nodes[i].kind == node_kind::source) {
            for (const auto& t : _nodes[i].topics) {
                _source_topics[it->second].emplace_back(t, _nodes[i].internal_topics);
            }
        }
    }
    // A store no node uses is kept by no task.
    for (auto& s : stores) {
        auto name = s.name;
        _stores.emplace(std::move(name), std::move(s));
    }
}

namespace {
std::string full_topic_name(const std::string& topic, bool internal, std::string_view application_id) {
    return internal ? fmt::format("{}-{}", application_id, topic) : topic;
}
} // namespace

std::vector<std::string> topology::source_topics(int subtopology, std::string_view application_id) const {
    std::vector<std::string> out;
    for (const auto& [topic, internal] : _source_topics.at(static_cast<std::size_t>(subtopology))) {
        out.push_back(full_topic_name(topic, internal, application_id));
    }
    return out;
}

std::set<std::string> topology::external_source_topics() const {
    std::set<std::string> out;
    for (const auto& sub : _source_topics) {
        for (const auto& [topic, internal] : sub) {
            if (!internal) {
                out.insert(topic);
            }
        }
    }
    return out;
}

std::set<std::string> topology::sink_topics() const {
    std::set<std::string> topics;
    for (const auto& n : _nodes) {
        if (n.kind == node_kind::sink && !n.topic_extractor && !n.internal_topics) {
            topics.insert(n.topics.begin(), n.topics.end());
        }
    }
    return topics;
}

bool topology::holds_input() const {
    return std::ranges::any_of(_nodes, [](const auto& n) { return n.holds_input; });
}

std::set<std::string> topology::dead_letter_topics() const {
    std::set<std::string> topics;
    for (const auto& n : _nodes) {
        if (!n.dead_letter_topic.empty()) {
            topics.insert(n.dead_letter_topic);
        }
    }
    return topics;
}

std::vector<topology::internal_topic> topology::internal_topics(std::string_view application_id) const {
    std::vector<internal_topic> out;
    for (std::size_t s = 0; s < _subtopologies.size(); ++s) {
        for (auto i : _subtopologies[s]) {
            const auto& n = _nodes[i];
            if (n.kind == node_kind::sink && n.internal_topics) {
                const auto& topic = n.topics.at(0);
                out.push_back({full_topic_name(topic, true, application_id), n.partitions, static_cast<int>(s),
                    subtopology_of(full_topic_name(topic, true, application_id), application_id).value_or(-1)});
            }
        }
    }
    return out;
}

std::optional<int> topology::subtopology_of(std::string_view topic, std::string_view application_id) const {
    for (std::size_t s = 0; s < _source_topics.size(); ++s) {
        for (const auto& [name, internal] : _source_topics[s]) {
            if (full_topic_name(name, internal, application_id) == topic) {
                return static_cast<int>(s);
            }
        }
    }
    return std::nullopt;
}

std::vector<topology::changelog_topic> topology::changelog_topics(std::string_view application_id) const {
    std::vector<changelog_topic> out;
    for (std::size_t sub = 0; sub < _stores_of.size(); ++sub) {
        for (const auto& name : _stores_of[sub]) {
            if (_stores.at(name).logging) {
                out.push_back({fmt::format("{}-{}-changelog", application_id, name), name, static_cast<int>(sub),
                    _stores.at(name).window_retention_ms});
            }
        }
    }
    return out;
}

std::vector<std::string> topology::stores_of(int subtopology) const {
    const auto& names = _stores_of.at(static_cast<std::size_t>(subtopology));
    return {names.begin(), names.end()};
}

std::vector<topology::global_store> topology::global_stores() const {
    std::vector<global_store> out;
    for (const auto& [sub, topics] : _global_topics) {
        for (const auto& name : _stores_of.at(static_cast<std::size_t>(sub))) {
            const auto& spec = _stores.at(name);
            out.push_back({name, spec.source_topic.empty() ? topics.at(0) : spec.source_topic, sub});
        }
    }
    return out;
}

task_nodes topology::create_global_task_nodes() const {
    task_nodes task;
    for (const auto& [sub, topics] : _global_topics) {
        add_task_nodes(task, sub, {});
    }
    return task;
}

task_nodes topology::create_task_nodes(int subtopology, std::string_view application_id) const {
    if (is_global(subtopology)) {
        throw std::logic_error(fmt::format("sub-topology {} is a global table's and makes no tasks", subtopology));
    }
    task_nodes task;
    add_task_nodes(task, subtopology, application_id);
    return task;
}

void topology::add_task_nodes(task_nodes& task, int subtopology, std::string_view application_id) const {
    for (const auto& name : _stores_of.at(static_cast<std::size_t>(subtopology))) {
        const auto& spec = _stores.at(name);
        task.stores.push_back(spec.make());
        task.stores.back()->set_source_topic(spec.source_topic);
    }
    std::unordered_map<std::string, operators::internal::node_instance*> made;
    for (auto i : _subtopologies.at(static_cast<std::size_t>(subtopology))) {
        const auto& spec = _nodes[i];
        auto instance = spec.factory();
        instance->set_dead_letter_topic(spec.dead_letter_topic);
        for (const auto& p : spec.parents) {
            made.at(p)->add_child(*instance);
        }
        if (spec.kind == node_kind::source) {
            auto* source = dynamic_cast<operators::internal::raw_node*>(instance.get());
            if (source == nullptr) {
                throw std::logic_error(fmt::format("source {} does not read bytes", spec.name));
            }
            for (const auto& t : spec.topics) {
                task.sources.emplace(full_topic_name(t, spec.internal_topics, application_id), source);
            }
        }
        made.emplace(spec.name, instance.get());
        task.nodes.push_back(std::move(instance));
    }
}

topology_description topology::describe() const {
    std::unordered_map<std::string, std::size_t> index;
    std::vector<std::vector<std::size_t>> children(_nodes.size());
    for (std::size_t i = 0; i < _nodes.size(); ++i) {
        index.emplace(_nodes[i].name, i);
        for (const auto& p : _nodes[i].parents) {
            children[index.at(p)].push_back(i);
        }
    }
    // Kafka Streams' node "size": one plus the sizes of its children (the
    // number of downstream paths); parents come first, so walk backwards.
    std::vector<std::size_t> size(_nodes.size(), 1);
    for (std::size_t i = _nodes.size(); i-- > 0;) {
        for (auto c : children[i]) {
            size[i] += size[c];
        }
    }
    auto before = [&](std::size_t a, std::size_t b) {
        return size[a] != size[b] ? size[a] > size[b] : _nodes[a].name < _nodes[b].name;
    };
    auto names = [&](std::vector<std::size_t> ids) {
        std::sort(ids.begin(), ids.end(), before);
        std::vector<std::string> out;
        for (auto id : ids) {
            out.push_back(_nodes[id].name);
        }
        return out;
    };

    std::vector<topology_description::subtopology> subs;
    for (std::size_t s = 0; s < _subtopologies.size(); ++s) {
        auto ids = _subtopologies[s];
        std::sort(ids.begin(), ids.end(), before);
        topology_description::subtopology sub{static_cast<int>(s), _global[s], {}};
        for (auto i : ids) {
            const auto& n = _nodes[i];
            std::vector<std::size_t> parents;
            for (const auto& p : n.parents) {
                if (std::find(parents.begin(), parents.end(), index.at(p)) == parents.end()) {
                    parents.push_back(index.at(p));
                }
            }
            sub.nodes.push_back({n.name, n.kind, n.topics, n.topic_extractor, n.stores, names(children[i]),
                names(parents)});
        }
        subs.push_back(std::move(sub));
    }
    return topology_description(std::move(subs));
}

std::string topology_description::to_string() const {
    std::string out = "Topologies:\n ";
    for (const auto& sub : _subtopologies) {
        out += sub.global ? fmt::format("  Sub-topology: {} for global store (will not generate tasks)\n", sub.id)
                          : fmt::format("  Sub-topology: {}\n", sub.id);
        for (const auto& n : sub.nodes) {
            switch (n.kind) {
            case node_kind::source:
                out += fmt::format("    Source: {} (topics: [{}])\n      --> {}\n", n.name,
                    fmt::join(n.topics, ", "), join_names(n.successors));
                break;
            case node_kind::processor:
                out += fmt::format("    Processor: {} (stores: [{}])\n      --> {}\n      <-- {}\n", n.name,
                    fmt::join(n.stores, ", "), join_names(n.successors), join_names(n.predecessors));
                break;
            case node_kind::sink:
                out += fmt::format("    Sink: {} ({})\n      <-- {}\n", n.name,
                    n.topic_extractor ? std::string("extractor class: topic_name_extractor")
                                      : "topic: " + n.topics.at(0),
                    join_names(n.predecessors));
                break;
            }
        }
        // Kafka Streams ends a global store's block without a blank line.
        if (!sub.global) {
            out += "\n";
        }
    }
    return out;
}

std::string topology_description::to_mermaid() const {
    // Mermaid ids: n<i> for nodes, t<i> for topics; names go in labels.
    std::map<std::string, std::string> node_id;
    std::map<std::string, std::string> topic_id;
    for (const auto& sub : _subtopologies) {
        for (const auto& n : sub.nodes) {
            node_id.emplace(n.name, fmt::format("n{}", node_id.size()));
            for (const auto& t : n.topics) {
                topic_id.emplace(t, fmt::format("t{}", topic_id.size()));
            }
        }
    }
    std::string out = "flowchart TD\n";
    for (const auto& [topic, id] : topic_id) {
        out += fmt::format("    {}[(\"{}\")]\n", id, topic);
    }
    for (const auto& sub : _subtopologies) {
        out += fmt::format("    subgraph sub{}[\"Sub-topology: {}{}\"]\n", sub.id, sub.id, sub.global ? " (global store)" : "");
        for (const auto& n : sub.nodes) {
            out += fmt::format("        {}[\"{}\"]\n", node_id.at(n.name), n.name);
        }
        out += "    end\n";
    }
    for (const auto& sub : _subtopologies) {
        for (const auto& n : sub.nodes) {
            if (n.kind == node_kind::source) {
                for (const auto& t : n.topics) {
                    out += fmt::format("    {} --> {}\n", topic_id.at(t), node_id.at(n.name));
                }
            }
            for (const auto& c : n.successors) {
                out += fmt::format("    {} --> {}\n", node_id.at(n.name), node_id.at(c));
            }
            if (n.kind == node_kind::sink) {
                out += n.topic_extractor
                    ? fmt::format("    {} -.-> extracted[(\"topic from extractor\")]\n", node_id.at(n.name))
                    : fmt::format("    {} --> {}\n", node_id.at(n.name), topic_id.at(n.topics.at(0)));
            }
        }
    }
    return out;
}

void throw_merge_of_two_builders(const std::string& left, const std::string& right) {
    throw topology_error(fmt::format(
        "merge of {} and {}: the two streams come from different streams_builders", left, right));
}

} // namespace eddy
