#pragma once

// kstream::split(): branched (how a branch is named and shaped, Kafka
// Streams' Branched) and branched_kstream (what split() returns). Included
// at the end of kstream.h, whose kstream it uses.

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../operators/branch.h"
#include "../operators/passthrough.h"
#include "kstream.h"

namespace eddy {

// How split() names and shapes a branch, as Kafka Streams' Branched.
// branched<> (below) names one without its types.
template<typename K = void, typename V = void>
class branched {
public:
    branched() = default;
    static branched as(std::string name) {
        branched b;
        b._name = std::move(name);
        return b;
    }
    // The branch goes to `fn` and is not in the returned map.
    static branched with_consumer(std::function<void(const kstream<K, V>&)> fn, std::string name = {}) {
        branched b = as(std::move(name));
        b._consumer = std::move(fn);
        return b;
    }
    // The map holds what `fn` returns for the branch.
    static branched with_function(std::function<kstream<K, V>(const kstream<K, V>&)> fn, std::string name = {}) {
        branched b = as(std::move(name));
        b._function = std::move(fn);
        return b;
    }

    // The branch's failures (its own node and what its stream adds) go to
    // the dead-letter topic `topic` (kstream::with_dead_letter_topic):
    //   .branch(is_payment, eddy::branched<K, V>::as("payments").with_dead_letter_topic("payments.dlq"))
    branched with_dead_letter_topic(std::string topic) const {
        branched b(*this);
        b._dead_letter_topic = std::move(topic);
        return b;
    }

    const std::string& name() const noexcept { return _name; }
    const std::string& dead_letter_topic() const noexcept { return _dead_letter_topic; }

private:
    template<typename, typename>
    friend class branched_kstream;

    std::string _name;
    std::string _dead_letter_topic;
    std::function<void(const kstream<K, V>&)> _consumer;
    std::function<kstream<K, V>(const kstream<K, V>&)> _function;
};

// branched<>: a branch's name and dead-letter topic without its types
// (the stream's): .branch(is_payment, eddy::branched<>::as("payments")).
template<>
class branched<void, void> {
public:
    static branched as(std::string name) {
        branched b;
        b._name = std::move(name);
        return b;
    }
    branched with_dead_letter_topic(std::string topic) const {
        branched b(*this);
        b._dead_letter_topic = std::move(topic);
        return b;
    }

    template<typename K, typename V>
    operator branched<K, V>() const { // NOLINT(google-explicit-constructor): what it is for
        auto b = branched<K, V>::as(_name);
        return _dead_letter_topic.empty() ? b : b.with_dead_letter_topic(_dead_letter_topic);
    }

private:
    std::string _name;
    std::string _dead_letter_topic;
};

// What split() returns. Either add branches with branch(), then end with
// default_branch() or no_default_branch() to get them by name, as Kafka
// Streams' BranchedKStream; or take each branch's stream as it is added,
// typed, with no name to look up:
//
//   auto by_size = words.split(eddy::named::as("by-size-"));
//   eddy::kstream<std::string, std::string> long_words = by_size.branch_stream(is_long);
//   eddy::kstream<std::string, std::string> short_words = by_size.default_branch_stream();
template<typename K, typename V>
class branched_kstream {
public:
    using branch_map = std::map<std::string, kstream<K, V>>;

    branched_kstream(kstream<K, V> splitter)
        : _splitter(std::move(splitter)), _state(std::make_shared<state>()) {}

    // Records `predicate` takes (and no earlier branch took) go to this
    // branch.
    template<key_value_predicate<K, V> P>
    branched_kstream& branch(P predicate, const branched<K, V>& b = {}) {
        add_branch(std::move(predicate), b);
        return *this;
    }
    // The same, returning the branch's stream (what `b`'s function made of
    // it, when it has one).
    template<key_value_predicate<K, V> P>
    kstream<K, V> branch_stream(P predicate, const branched<K, V>& b = {}) {
        return add_branch(std::move(predicate), b);
    }

    // Records no branch took go to the default branch.
    branch_map default_branch(const branched<K, V>& b = {}) {
        add_default_branch(b);
        return std::move(_result);
    }
    // The same, returning the default branch's stream.
    kstream<K, V> default_branch_stream(const branched<K, V>& b = {}) { return add_default_branch(b); }
    // Records no branch took are dropped.
    branch_map no_default_branch() { return std::move(_result); }

private:
    struct state {
        std::vector<std::pair<std::function<bool(const K&, const V&)>, std::string>> branches;
        std::optional<std::string> default_child;
    };

    template<typename P>
    kstream<K, V> add_branch(P predicate, const branched<K, V>& b) {
        _state->branches.emplace_back(std::function<bool(const K&, const V&)>(std::move(predicate)), "");
        auto [name, stream] = create_branch(b, _state->branches.size());
        _state->branches.back().second = std::move(name);
        return stream;
    }

    kstream<K, V> add_default_branch(const branched<K, V>& b) {
        auto [name, stream] = create_branch(b, 0);
        _state->default_child = std::move(name);
        return stream;
    }

    // The branch's node name, and its stream (what b's function made of it).
    std::pair<std::string, kstream<K, V>> create_branch(const branched<K, V>& b, std::size_t index) {
        const auto& prefix = _splitter.node_name();
        std::string name = prefix + (b.name().empty() ? std::to_string(index) : b.name());
        dsl::internal::access::graph(_splitter)->new_name(name);
        // A branch without a topic of its own keeps the splitter's.
        const kstream<K, V> from = b.dead_letter_topic().empty()
            ? _splitter
            : _splitter.with_dead_letter_topic(b.dead_letter_topic());
        dsl::internal::access::add_node<K, V>(
            from, name, [] { return std::make_unique<operators::passthrough_processor<K, V>>(); });
        kstream<K, V> branch(
            dsl::internal::access::graph(_splitter), name, _splitter.key_changed(), from.dead_letter_topic());
        if (b._consumer) {
            b._consumer(branch);
            return {name, branch};
        }
        auto result = b._function ? b._function(branch) : branch;
        _result.insert_or_assign(name, result);
        return {name, result};
    }

    friend class kstream<K, V>;

    kstream<K, V> _splitter;
    std::shared_ptr<state> _state;
    branch_map _result;
};

template<typename K, typename V>
branched_kstream<K, V> kstream<K, V>::split(const named& n) const {
    // The branch node reads the branches from the shared state when a task
    // creates it, after every branch() call.
    branched_kstream<K, V> result(
        kstream(_graph, _graph->name_or_new(n.name(), "KSTREAM-BRANCH-"), _key_changed, _dead_letter_topic));
    auto state = result._state;
    add_node<K, V>(result._splitter.node_name(), [state] {
        return std::make_unique<operators::branch_processor<K, V>>(state->branches, state->default_child);
    });
    return result;
}

} // namespace eddy
