#pragma once

// The serde<T> concept and the type-erased serde_ref<T> the DSL carries.
//
// A serde turns a T into bytes and back. Bytes travel in std::string (as
// Protobuf carries them); a null Kafka key or value is not bytes at all and is
// handled by the source and sink nodes (see nullable<S> in serde/serdes.h).
//
//   static_assert(eddy::serde<eddy::serdes::string>);
//   eddy::serde_ref<std::string> s = eddy::serdes::string{};
//   std::string bytes = s.serialize("hi");
//   std::string back = s.deserialize(bytes); // throws eddy::serde_error

#include <concepts>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace eddy {

// What a serde throws when bytes cannot become a T: a reason, never a
// default-constructed value.
class serde_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

template<typename S>
concept serde = std::copy_constructible<S>
    && requires { typename S::value_type; { S::name } -> std::convertible_to<std::string_view>; }
    && requires(const S& s, const typename S::value_type& v, std::string_view bytes) {
           { s.serialize(v) } -> std::same_as<std::string>;
           { s.deserialize(bytes) } -> std::same_as<typename S::value_type>;
       };

template<typename S, typename T>
concept serde_for = serde<S> && std::same_as<typename S::value_type, T>;

// Specialised for every T that has a natural serde (strings, integers, ...,
// std::optional<T> of those). `has_default_serde<T>` tells whether one exists.
template<typename T>
struct default_serde;

template<typename T>
concept has_default_serde = requires { typename default_serde<T>::type; };

// A serde of T behind a shared, immutable pointer: what consumed<K,V>,
// produced<K,V> and the source and sink nodes hold. Empty when no serde is
// known; build() rejects a topology whose source or sink has an empty one.
template<typename T>
class serde_ref {
public:
    serde_ref() = default;

    // Not for a serde_ref itself, checked first: clang would otherwise check
    // serde_for<serde_ref>, which asks whether serde_ref is copyable, which
    // asks this constructor again.
    template<typename S>
        requires(!std::same_as<S, serde_ref>) && serde_for<S, T>
    serde_ref(S s) // NOLINT(google-explicit-constructor): a serde is a serde_ref
        : _impl(std::make_shared<model<S>>(std::move(s))) {}

    explicit operator bool() const noexcept { return _impl != nullptr; }

    std::string serialize(const T& v) const { return _impl->serialize(v); }
    T deserialize(std::string_view bytes) const { return _impl->deserialize(bytes); }
    // Serialises into `out`, reusing its storage where the serde can (a
    // serde with a serialize_into member); the same bytes as serialize().
    void serialize_into(const T& v, std::string& out) const { _impl->serialize_into(v, out); }

    // The serde's type name, for describe() and error messages.
    std::string_view name() const noexcept { return _impl ? _impl->name() : "none"; }

private:
    struct concept_t {
        virtual ~concept_t() = default;
        virtual std::string serialize(const T& v) const = 0;
        virtual void serialize_into(const T& v, std::string& out) const = 0;
        virtual T deserialize(std::string_view bytes) const = 0;
        virtual std::string_view name() const noexcept = 0;
    };
    template<typename S>
    struct model final : concept_t {
        explicit model(S s) : _s(std::move(s)) {}
        std::string serialize(const T& v) const override { return _s.serialize(v); }
        void serialize_into(const T& v, std::string& out) const override {
            if constexpr (requires { _s.serialize_into(v, out); }) {
                _s.serialize_into(v, out);
            } else {
                out = _s.serialize(v);
            }
        }
        T deserialize(std::string_view bytes) const override { return _s.deserialize(bytes); }
        std::string_view name() const noexcept override { return S::name; }
        S _s;
    };
    std::shared_ptr<const concept_t> _impl;
};

// The type a serde, or a serde_ref, reads and writes: what the untyped
// options (consumed<>::with, materialized<>::with, ...) take the key and
// value types from.
template<typename S>
struct serde_value {};
template<serde S>
struct serde_value<S> {
    using type = typename S::value_type;
};
template<typename T>
struct serde_value<serde_ref<T>> {
    using type = T;
};
template<typename S>
using serde_value_t = typename serde_value<std::remove_cvref_t<S>>::type;
template<typename S>
concept serde_or_ref = requires { typename serde_value_t<S>; };

// The default serde of T, or an empty serde_ref when T has none.
template<typename T>
serde_ref<T> default_serde_ref() {
    if constexpr (has_default_serde<T>) {
        return serde_ref<T>(typename default_serde<T>::type{});
    } else {
        return {};
    }
}

// std::optional<T> is how a record says its key or value may be null
// (a tombstone). The serde of optional<T> serialises the engaged value with
// T's serde; nulls never reach it, the source and sink map them.
template<typename T>
struct is_optional : std::false_type {};
template<typename T>
struct is_optional<std::optional<T>> : std::true_type {};
template<typename T>
inline constexpr bool is_optional_v = is_optional<T>::value;

} // namespace eddy
