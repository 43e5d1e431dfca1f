#pragma once

// The foreign-key table-table join: ktable<K, V>::join / left_join with a
// ktable<KO, VO> and an extractor of the foreign key from the left value
// (declared, with their contract, in ktable.h; the operators in
// operators/foreign_key_join.h). The two tables need not be co-partitioned.
//
//   auto lines = orders.join(products, [](const Order& o) { return o.product_id; },
//       [](const Order& o, const Product& p) { return line(o, p); });
//
// Internal topics (the name from `named`, or a generated
// KTABLE-FK-JOIN-<index>), created on start:
//   <application.id>-<name>-subscription-registration-topic  keyed by KO,
//       as many partitions as the right table's topic
//   <application.id>-<name>-subscription-response-topic      keyed by K,
//       as many partitions as the left table's topic
// and the store <name>-subscription-store (keyed by KO then K), logged.

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "../operators/change.h"
#include "../operators/foreign_key_join.h"
#include "../operators/internal/processor_node.h"
#include "../operators/internal/sink_node.h"
#include "../statestore/stores.h"
#include "internal/graph.h"
#include "internal/timestamped_store.h"
#include "internal/type_name.h"
#include "kstream.h"
#include "ktable.h"
#include "named.h"
#include "table_joins.h"

namespace eddy {
namespace dsl::internal {

template<typename T>
void require_default_serde(graph_node& node, const serde_ref<T>& s, const char* what) {
    if (!s) {
        node.problems.push_back(std::string("foreign-key join: no default serde for the ") + what + " type "
            + type_name<T>() + " (its subscription topics and store need one)");
    }
}

// A sink writing the internal topic `topic` ("<application.id>-<topic>")
// from `parent` (and `other_parent`), created with as many partitions as the
// other topics of the sub-topology that reads it (partitions -1): each
// record lands in the partition of the rows it is keyed like.
template<typename KS, typename VS>
void add_internal_sink(graph& g, const std::string& name, const std::string& parent, const std::string& topic,
    const serde_ref<KS>& ks, const serde_ref<VS>& vs, const std::string& other_parent = {}) {
    graph_node node;
    node.name = name;
    node.kind = node_kind::sink;
    node.parents = {parent};
    if (!other_parent.empty()) {
        node.parents.push_back(other_parent);
    }
    node.topics = {topic};
    node.internal_topics = true;
    node.partitions = -1;
    node.factory = [name, topic, ks, vs] {
        auto sink = std::make_unique<operators::internal::sink_node<KS, VS>>(name, topic, nullptr, ks, vs);
        sink->set_internal(true);
        return sink;
    };
    g.add(std::move(node));
}

template<bool Left, typename VR, typename K, typename V, typename KO, typename VO, typename F, typename J>
ktable<K, VR> foreign_key_join(const ktable<K, V>& left, const ktable<KO, VO>& right, F extractor, J joiner,
    const named& n, const materialized<K, VR>* m) {
    using wrapper = operators::subscription_wrapper<K>;
    using response = operators::subscription_response<VO>;
    using key = operators::combined_key<KO, K>;
    require_one_builder(access::graph(left), access::graph(right), left.node_name(), right.node_name());
    auto& g = *access::graph(left);
    const auto l = materialized_for_join(left);
    const auto r = materialized_for_join(right);
    const auto left_store = l.queryable_store_name();
    const auto right_store = r.queryable_store_name();
    const auto base = n.name().empty() ? g.new_name("KTABLE-FK-JOIN-") : n.name();
    const auto registration_topic = base + "-subscription-registration-topic";
    const auto response_topic = base + "-subscription-response-topic";
    const auto subscription_store = base + "-subscription-store";
    const auto ks = default_serde_ref<K>();
    const auto vs = default_serde_ref<V>();
    const auto kos = default_serde_ref<KO>();
    const auto vos = default_serde_ref<VO>();
    serde_ref<wrapper> wrapper_serde = operators::serdes_internal::subscription_wrapper_serde<K>{ks};
    serde_ref<response> response_serde = operators::serdes_internal::subscription_response_serde<VO>{vos};

    auto processor = [&](const std::string& name, std::vector<std::string> parents, std::vector<std::string> stores,
                         auto factory) -> graph_node& {
        graph_node node;
        node.name = name;
        node.kind = node_kind::processor;
        node.parents = std::move(parents);
        node.stores = std::move(stores);
        node.factory = std::move(factory);
        return g.add(std::move(node));
    };

    // The left side: subscriptions out.
    const auto send_name = base + "-subscription-registration-processor";
    auto& send = processor(send_name, {l.node_name()}, {},
        operators::internal::processor_factory<K, change<V>, KO, wrapper>(send_name, [extractor, vs] {
            return std::make_unique<operators::subscription_send_processor<K, V, KO, F, Left>>(extractor, vs);
        }));
    require_default_serde(send, ks, "left key");
    require_default_serde(send, vs, "left value");
    require_default_serde(send, kos, "foreign key");
    require_default_serde(send, vos, "right value");
    add_internal_sink<KO, wrapper>(g, base + "-subscription-registration-sink", send_name, registration_topic, kos,
        wrapper_serde);

    // The right side: subscriptions kept and answered; right rows' changes
    // answered to their subscribers.
    auto supplier = stores::persistent_key_value_store(subscription_store);
    g.add_store(statestore::internal::builder_access::spec(stores::key_value_store_builder<key, timestamped<wrapper>>(
        supplier, serde_ref<key>(operators::serdes_internal::combined_key_serde<KO, K>{kos, ks}),
        serde_ref<timestamped<wrapper>>(serdes::value_and_timestamp<wrapper>{wrapper_serde}))));
    const auto registration_source = add_source<KO, wrapper>(
        g, base + "-subscription-registration-source", {registration_topic}, kos, wrapper_serde, nullptr, true);
    const auto receive_name = base + "-subscription-receive";
    processor(receive_name, {registration_source}, {subscription_store, right_store},
        operators::internal::processor_factory<KO, wrapper, K, response>(receive_name, [subscription_store, right_store] {
            return std::make_unique<operators::subscription_receive_processor<KO, K, VO>>(subscription_store, right_store);
        }));
    const auto foreign_name = base + "-foreign-join-subscription";
    processor(foreign_name, {r.node_name()}, {subscription_store},
        operators::internal::processor_factory<KO, change<VO>, K, response>(foreign_name, [subscription_store] {
            return std::make_unique<operators::foreign_table_change_processor<KO, K, VO>>(subscription_store);
        }));
    add_internal_sink<K, response>(g, base + "-subscription-response-sink", receive_name, response_topic, ks,
        response_serde, foreign_name);

    // The left side again: answers joined with the current rows.
    const auto response_source = add_source<K, response>(
        g, base + "-subscription-response-source", {response_topic}, ks, response_serde, nullptr, true);
    std::vector<std::string> resolver_parents{response_source};
    if constexpr (Left) {
        const auto null_name = base + "-null-foreign-key";
        processor(null_name, {l.node_name()}, {},
            operators::internal::processor_factory<K, change<V>, K, response>(null_name, [extractor, vs] {
                return std::make_unique<operators::foreign_key_null_processor<K, V, KO, VO, F>>(extractor, vs);
            }));
        resolver_parents.push_back(null_name);
    }
    std::string result_store;
    std::vector<std::string> resolver_stores{left_store};
    if (m != nullptr) {
        result_store = store_name(*m, [&] { return g.new_name("KTABLE-FK-JOIN-OUTPUT-STATE-STORE-"); });
        auto spec_source = timestamped_materialized(result_store, *m);
        auto supplier_ = spec_source.supplier() ? spec_source.supplier() : stores::persistent_key_value_store(result_store);
        auto builder = stores::key_value_store_builder<K, timestamped<VR>>(
            supplier_, spec_source.key_serde(), spec_source.value_serde());
        if (!spec_source.logging()) {
            builder = builder.with_logging_disabled();
        }
        g.add_store(statestore::internal::builder_access::spec(builder));
        add_plain_view(g, result_store, m->value_serde());
        resolver_stores.push_back(result_store);
    }
    const auto resolver_name = base + "-subscription-response-resolver";
    auto& resolver = processor(resolver_name, resolver_parents, resolver_stores,
        operators::internal::processor_factory<K, response, K, change<VR>>(
            resolver_name, [left_store, vs, joiner, result_store] {
                return std::make_unique<operators::subscription_response_resolver<K, V, VO, VR, J, Left>>(
                    left_store, vs, joiner, result_store);
            }));
    if (m != nullptr) {
        require_serde(resolver, m->key_serde(), "key");
        require_serde(resolver, m->value_serde(), "value");
    }
    return ktable<K, VR>(access::graph(left), resolver_name, result_store, true);
}

} // namespace dsl::internal

template<typename K, typename V>
template<typename KO, typename VO, foreign_key_extractor<V, KO> F, value_joiner<K, V, VO> J>
auto ktable<K, V>::join(const ktable<KO, VO>& other, F extractor, J joiner, const named& n) const {
    auto joiner_with_key = dsl::internal::with_key_joiner<K, V, VO>(std::move(joiner));
    using VR = dsl::internal::joined_t<decltype(joiner_with_key), K, V, VO>;
    return dsl::internal::foreign_key_join<false, VR>(*this, other, std::move(extractor), std::move(joiner_with_key), n,
        static_cast<const materialized<K, VR>*>(nullptr));
}

template<typename K, typename V>
template<typename KO, typename VO, foreign_key_extractor<V, KO> F, value_joiner<K, V, VO> J, typename VR>
ktable<K, VR> ktable<K, V>::join(
    const ktable<KO, VO>& other, F extractor, J joiner, const materialized<K, VR>& m, const named& n) const {
    auto joiner_with_key = dsl::internal::with_key_joiner<K, V, VO>(std::move(joiner));
    return dsl::internal::foreign_key_join<false, VR>(
        *this, other, std::move(extractor), std::move(joiner_with_key), n, &m);
}

template<typename K, typename V>
template<typename KO, typename VO, foreign_key_extractor<V, KO> F, value_joiner<K, V, std::optional<VO>> J>
auto ktable<K, V>::left_join(const ktable<KO, VO>& other, F extractor, J joiner, const named& n) const {
    auto joiner_with_key = dsl::internal::with_key_joiner<K, V, std::optional<VO>>(std::move(joiner));
    using VR = dsl::internal::joined_t<decltype(joiner_with_key), K, V, std::optional<VO>>;
    return dsl::internal::foreign_key_join<true, VR>(*this, other, std::move(extractor), std::move(joiner_with_key), n,
        static_cast<const materialized<K, VR>*>(nullptr));
}

template<typename K, typename V>
template<typename KO, typename VO, foreign_key_extractor<V, KO> F, value_joiner<K, V, std::optional<VO>> J,
    typename VR>
ktable<K, VR> ktable<K, V>::left_join(
    const ktable<KO, VO>& other, F extractor, J joiner, const materialized<K, VR>& m, const named& n) const {
    auto joiner_with_key = dsl::internal::with_key_joiner<K, V, std::optional<VO>>(std::move(joiner));
    return dsl::internal::foreign_key_join<true, VR>(
        *this, other, std::move(extractor), std::move(joiner_with_key), n, &m);
}

template<typename K, typename V>
template<typename KO, typename VO, foreign_key_extractor<V, KO> F, value_joiner<K, V, VO> J>
auto ktable<K, V>::join(
    const ktable<KO, VO>& other, F extractor, J joiner, const materialized<>& m, const named& n) const {
    using VR = dsl::internal::joined_t<decltype(dsl::internal::with_key_joiner<K, V, VO>(joiner)), K, V, VO>;
    return join(other, std::move(extractor), std::move(joiner), materialized<K, VR>(m), n);
}

template<typename K, typename V>
template<typename KO, typename VO, foreign_key_extractor<V, KO> F, value_joiner<K, V, std::optional<VO>> J>
auto ktable<K, V>::left_join(
    const ktable<KO, VO>& other, F extractor, J joiner, const materialized<>& m, const named& n) const {
    using VR = dsl::internal::joined_t<decltype(dsl::internal::with_key_joiner<K, V, std::optional<VO>>(joiner)), K, V,
        std::optional<VO>>;
    return left_join(other, std::move(extractor), std::move(joiner), materialized<K, VR>(m), n);
}

} // namespace eddy
