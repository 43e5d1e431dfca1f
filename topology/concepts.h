#pragma once

// The shapes of the lambdas the DSL accepts. A lambda of another shape fails
// to compile with the name of the concept it missed, which says what is
// accepted: "value_mapper<F, V> || key_value_to_value_mapper<F, K, V>".

#include <concepts>
#include <functional>
#include <optional>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>

#include "../core/record.h"

namespace eddy {

template<typename T>
struct key_value_traits {};
template<typename K, typename V>
struct key_value_traits<key_value<K, V>> {
    using key_type = K;
    using value_type = V;
};
template<typename K, typename V>
struct key_value_traits<std::pair<K, V>> {
    using key_type = K;
    using value_type = V;
};

// eddy::key_value<K, V> or std::pair<K, V>.
template<typename T>
concept key_value_like = requires { typename key_value_traits<std::remove_cvref_t<T>>::key_type; };

// bool(const K&, const V&)
template<typename F, typename K, typename V>
concept key_value_predicate = std::predicate<F&, const K&, const V&>;

// R(const V&), R not void
template<typename F, typename V>
concept value_mapper = std::invocable<F&, const V&> && !std::is_void_v<std::invoke_result_t<F&, const V&>>;

// R(const K&, const V&), R not void
template<typename F, typename K, typename V>
concept key_value_to_value_mapper =
    std::invocable<F&, const K&, const V&> && !std::is_void_v<std::invoke_result_t<F&, const K&, const V&>>;

// key_value<K2, V2>(const K&, const V&) (or std::pair<K2, V2>)
template<typename F, typename K, typename V>
concept key_value_mapper =
    std::invocable<F&, const K&, const V&> && key_value_like<std::invoke_result_t<F&, const K&, const V&>>;

// a range of key_value<K2, V2>, from (const K&, const V&)
template<typename F, typename K, typename V>
concept key_value_flat_mapper = std::invocable<F&, const K&, const V&>
    && std::ranges::input_range<std::invoke_result_t<F&, const K&, const V&>>
    && key_value_like<std::ranges::range_value_t<std::invoke_result_t<F&, const K&, const V&>>>;

// a range of V2, from (const V&)
template<typename F, typename V>
concept value_flat_mapper =
    std::invocable<F&, const V&> && std::ranges::input_range<std::invoke_result_t<F&, const V&>>;

// a range of V2, from (const K&, const V&)
template<typename F, typename K, typename V>
concept key_value_to_values_flat_mapper = std::invocable<F&, const K&, const V&>
    && std::ranges::input_range<std::invoke_result_t<F&, const K&, const V&>>;

// void(const K&, const V&)
template<typename F, typename K, typename V>
concept key_value_action = std::invocable<F&, const K&, const V&>;

// std::string(const K&, const V&) or
// std::string(const K&, const V&, const std::optional<record_metadata>&)
template<typename F, typename K, typename V>
concept topic_name_extractor = std::is_invocable_r_v<std::string, F&, const K&, const V&>
    || std::is_invocable_r_v<std::string, F&, const K&, const V&, const std::optional<record_metadata>&>;

// VA() (what starts each key's aggregate)
template<typename I>
concept initializer = std::invocable<I&> && !std::is_void_v<std::invoke_result_t<I&>>;

// What an initializer returns, decayed; for anything else a marker type,
// so that a wrong initializer fails on the concept, naming it.
struct not_an_initializer {};
template<typename I>
struct initializer_result {
    using type = not_an_initializer;
};
template<initializer I>
struct initializer_result<I> {
    using type = std::decay_t<std::invoke_result_t<I&>>;
};
template<typename I>
using initializer_result_t = typename initializer_result<I>::type;

// VA(const K&, const V&, const VA&): folds a record into its key's aggregate
template<typename F, typename K, typename V, typename VA>
concept aggregator = std::invocable<F&, const K&, const V&, const VA&>
    && std::is_convertible_v<std::invoke_result_t<F&, const K&, const V&, const VA&>, VA>;

// V(const V&, const V&): the aggregate so far and a value to a new aggregate
template<typename F, typename V>
concept reducer = std::invocable<F&, const V&, const V&>
    && std::is_convertible_v<std::invoke_result_t<F&, const V&, const V&>, V>;

// VA(const K&, const VA&, const VA&): two sessions' aggregates (the earlier
// first) to the merged session's
template<typename M, typename K, typename VA>
concept session_merger = std::invocable<M&, const K&, const VA&, const VA&>
    && std::is_convertible_v<std::invoke_result_t<M&, const K&, const VA&, const VA&>, VA>;

// KO(const V&), or std::optional<KO>(const V&) (empty: no foreign key):
// a foreign-key join's extractor.
template<typename F, typename V, typename KO>
concept foreign_key_extractor = std::invocable<F&, const V&>
    && (std::convertible_to<std::invoke_result_t<F&, const V&>, KO>
        || std::convertible_to<std::invoke_result_t<F&, const V&>, std::optional<KO>>);

} // namespace eddy
