#pragma once

// The foreign-key table-table join (Kafka Streams' KIP-213 machinery in
// kstream/internals/foreignkeyjoin): the left table's rows (keyed K) each
// name a row of the right table (keyed KO) through a foreign key taken from
// the value, and the two tables need not be co-partitioned.
//
// - the left side sends a subscription (left key, a hash of the left value,
//   an instruction) keyed by the foreign key through the registration topic;
// - the right side keeps the subscriptions in a store keyed by KO+K, answers
//   each with the right row, and answers every subscriber again when the
//   right row changes, through the response topic (keyed by K);
// - the left side joins a response with its current row, and drops it when
//   the hash says the row has changed since (a superseded subscription).

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "change.h"
#include "processor.h"
#include "stream_table_join.h"
#include "../core/window.h"
#include "../serde/serde.h"
#include "../statestore/key_value_store.h"

namespace eddy::operators {

// MurmurHash3 x64 128 of `bytes` (Kafka Streams hashes the left value so):
// the value a subscription was made for.
using value_hash = std::array<std::uint64_t, 2>;
value_hash murmur3_128(std::string_view bytes);

// What the right side does with a subscription (Kafka Streams'
// SubscriptionWrapper.Instruction, with its wire numbers).
enum class subscription_instruction : std::uint8_t {
    delete_key_no_propagate = 0,  // the left row moved to another key: forget it
    delete_key_and_propagate = 1, // the left row is gone: forget it, answer with no row
    propagate_null_if_no_fk_val_available = 2, // answer, with no row if there is none
    propagate_only_if_fk_val_available = 3,    // answer only with a row
};

// A subscription, keyed by the foreign key on the registration topic.
template<typename K>
struct subscription_wrapper {
    std::optional<value_hash> hash; // empty: the left row was deleted
    subscription_instruction instruction = subscription_instruction::propagate_only_if_fk_val_available;
    K primary_key;
};

// The answer, keyed by the left key on the response topic.
template<typename VO>
struct subscription_response {
    std::optional<value_hash> hash;
    std::optional<VO> foreign_value;
};

// The subscription store's key: the foreign key, then the left key (empty:
// a prefix, every subscription of the foreign key).
template<typename KO, typename K>
struct combined_key {
    KO foreign_key;
    std::optional<K> primary_key;
};

namespace internal {
void put_hash(std::string& out, const std::optional<value_hash>& h);
std::optional<value_hash> get_hash(std::string_view& bytes, const char* what);
void log_null_foreign_key(const std::string& node, const std::optional<record_metadata>& where);

// The extractor's result as an optional key (an empty optional, or an
// extractor returning one empty, is a null foreign key).
template<typename KO, typename F, typename V>
std::optional<KO> extract_foreign_key(F& extractor, const V& value) {
    auto fk = extractor(value);
    if constexpr (is_optional_v<decltype(fk)>) {
        if (!fk) {
            return std::nullopt;
        }
        if constexpr (is_optional_v<KO>) {
            return KO(std::move(fk));
        } else {
            return std::optional<KO>(std::move(*fk));
        }
    } else {
        return std::optional<KO>(std::move(fk));
    }
}
} // namespace internal

namespace serdes_internal {
// Layouts, each starting with a version byte (0):
//   subscription: version, instruction, hash flag [, 16 hash bytes], left key
//   response:     version, hash flag [, 16 hash bytes], value flag [, value]
//   combined key: 4-byte big-endian length of the foreign key, its bytes,
//                 the left key's bytes (Kafka Streams' CombinedKeySchema)
template<typename K>
struct subscription_wrapper_serde {
    using value_type = subscription_wrapper<K>;
    static constexpr std::string_view name = "subscription_wrapper";
    serde_ref<K> key;

    std::string serialize(const value_type& w) const {
        std::string out;
        out.push_back('\0');
        out.push_back(static_cast<char>(w.instruction));
        internal::put_hash(out, w.hash);
        out += key.serialize(w.primary_key);
        return out;
    }
    value_type deserialize(std::string_view bytes) const {
        if (bytes.size() < 3 || bytes[0] != '\0') {
            throw serde_error("subscription_wrapper: not a version-0 subscription");
        }
        value_type w;
        const auto instruction = static_cast<std::uint8_t>(bytes[1]);
        if (instruction > 3) {
            throw serde_error("subscription_wrapper: unknown instruction " + std::to_string(instruction));
        }
        w.instruction = static_cast<subscription_instruction>(instruction);
        bytes.remove_prefix(2);
        w.hash = internal::get_hash(bytes, "subscription_wrapper");
        w.primary_key = key.deserialize(bytes);
        return w;
    }
};

template<typename VO>
struct subscription_response_serde {
    using value_type = subscription_response<VO>;
    static constexpr std::string_view name = "subscription_response";
    serde_ref<VO> value;

    std::string serialize(const value_type& r) const {
        std::string out;
        out.push_back('\0');
        internal::put_hash(out, r.hash);
        out.push_back(r.foreign_value ? '\1' : '\0');
        if (r.foreign_value) {
            out += value.serialize(*r.foreign_value);
        }
        return out;
    }
    value_type deserialize(std::string_view bytes) const {
        if (bytes.size() < 3 || bytes[0] != '\0') {
            throw serde_error("subscription_response: not a version-0 response");
        }
        bytes.remove_prefix(1);
        value_type r;
        r.hash = internal::get_hash(bytes, "subscription_response");
        if (bytes.empty()) {
            throw serde_error("subscription_response: no value flag");
        }
        if (bytes[0] != '\0') {
            r.foreign_value = value.deserialize(bytes.substr(1));
        }
        return r;
    }
};

template<typename KO, typename K>
struct combined_key_serde {
    using value_type = combined_key<KO, K>;
    static constexpr std::string_view name = "combined_key";
    serde_ref<KO> foreign;
    serde_ref<K> primary;

    std::string serialize(const value_type& k) const {
        const auto fk = foreign.serialize(k.foreign_key);
        std::string out;
        const auto n = static_cast<std::uint32_t>(fk.size());
        for (int shift = 24; shift >= 0; shift -= 8) {
            out.push_back(static_cast<char>((n >> shift) & 0xff));
        }
        out += fk;
        if (k.primary_key) {
            out += primary.serialize(*k.primary_key);
        }
        return out;
    }
    value_type deserialize(std::string_view bytes) const {
        if (bytes.size() < 4) {
            throw serde_error("combined_key: fewer than 4 bytes");
        }
        std::uint32_t n = 0;
        for (int i = 0; i < 4; ++i) {
            n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
        }
        if (bytes.size() < 4 + static_cast<std::size_t>(n)) {
            throw serde_error("combined_key: the foreign key is cut short");
        }
        value_type k{foreign.deserialize(bytes.substr(4, n)), std::nullopt};
        k.primary_key = primary.deserialize(bytes.substr(4 + n));
        return k;
    }
};
} // namespace serdes_internal

// The left table's changes as subscriptions to the foreign keys they name
// (Kafka Streams' SubscriptionSendProcessorSupplier): the old key's
// subscription is deleted when the key changes, and a null foreign key
// subscribes to nothing (foreign_key_null_processor answers it).
template<typename K, typename V, typename KO, typename F, bool Left>
class subscription_send_processor final : public processor<K, change<V>, KO, subscription_wrapper<K>> {
public:
    subscription_send_processor(F extractor, serde_ref<V> value_serde)
        : _extractor(std::move(extractor)), _value_serde(std::move(value_serde)) {}

    void process(const record<K, change<V>>& r) override {
        if (internal::is_null(r.key)) {
            return; // a table has no row for a null key
        }
        using inst = subscription_instruction;
        const auto& c = r.value;
        std::optional<value_hash> hash;
        std::optional<KO> new_fk;
        if (c.new_value) {
            hash = murmur3_128(_value_serde.serialize(*c.new_value));
            new_fk = internal::extract_foreign_key<KO>(_extractor, *c.new_value);
        }
        std::optional<KO> old_fk;
        if (c.old_value) {
            old_fk = internal::extract_foreign_key<KO>(_extractor, *c.old_value);
        }
        if (old_fk) {
            if (!c.new_value || (!new_fk && !Left)) {
                // The row is gone, or (inner) joins nothing now: a tombstone
                // for the result it may have had.
                send(r, *old_fk, hash, inst::delete_key_and_propagate);
                return;
            }
            if (!new_fk || !(*new_fk == *old_fk)) {
                send(r, *old_fk, hash, inst::delete_key_no_propagate);
            }
            if (new_fk) {
                // Also "unsets" a result of the old key when the new one has
                // no row.
                send(r, *new_fk, hash, inst::propagate_null_if_no_fk_val_available);
            }
            return;
        }
        if (new_fk) {
            send(r, *new_fk, hash,
                Left ? inst::propagate_null_if_no_fk_val_available : inst::propagate_only_if_fk_val_available);
        } else if (c.new_value && !Left) {
            internal::log_null_foreign_key(this->context().node_name(), this->context().record_metadata());
            this->context().record_dropped();
        }
    }

private:
    void send(const record<K, change<V>>& r, const KO& fk, const std::optional<value_hash>& hash,
        subscription_instruction instruction) {
        this->context().forward(record<KO, subscription_wrapper<K>>{
            fk, subscription_wrapper<K>{hash, instruction, r.key}, r.timestamp, r.headers});
    }

    F _extractor;
    serde_ref<V> _value_serde;
};

// A left join's rows with a null foreign key: answered at once, with no
// right row, straight to the response resolver (KIP-962); and the tombstone
// for such a row's delete.
template<typename K, typename V, typename KO, typename VO, typename F>
class foreign_key_null_processor final : public processor<K, change<V>, K, subscription_response<VO>> {
public:
    foreign_key_null_processor(F extractor, serde_ref<V> value_serde)
        : _extractor(std::move(extractor)), _value_serde(std::move(value_serde)) {}

    void process(const record<K, change<V>>& r) override {
        if (internal::is_null(r.key)) {
            return;
        }
        const auto& c = r.value;
        if (c.new_value) {
            if (!internal::extract_foreign_key<KO>(_extractor, *c.new_value)) {
                answer(r, murmur3_128(_value_serde.serialize(*c.new_value)));
            }
        } else if (c.old_value && !internal::extract_foreign_key<KO>(_extractor, *c.old_value)) {
            answer(r, std::nullopt);
        }
    }

private:
    void answer(const record<K, change<V>>& r, std::optional<value_hash> hash) {
        this->context().forward(record<K, subscription_response<VO>>{
            r.key, subscription_response<VO>{hash, std::nullopt}, r.timestamp, r.headers});
    }

    F _extractor;
    serde_ref<V> _value_serde;
};

// The right side's end of the registration topic (Kafka Streams'
// SubscriptionReceiveProcessorSupplier and SubscriptionJoinProcessorSupplier):
// keeps or deletes the subscription and answers it with the right row,
// stamped with the later of the two rows' times.
template<typename KO, typename K, typename VO>
class subscription_receive_processor final : public processor<KO, subscription_wrapper<K>, K, subscription_response<VO>> {
public:
    subscription_receive_processor(std::string subscription_store, std::string right_store)
        : _subscription_store_name(std::move(subscription_store)), _right_store_name(std::move(right_store)) {}

    void init(processor_context<K, subscription_response<VO>>& context) override {
        processor<KO, subscription_wrapper<K>, K, subscription_response<VO>>::init(context);
        _subscriptions.emplace(context.template get_key_value_store<combined_key<KO, K>,
            timestamped<subscription_wrapper<K>>>(_subscription_store_name));
        _right.init(context, _right_store_name);
    }

    void process(const record<KO, subscription_wrapper<K>>& r) override {
        if (internal::is_null(r.key)) {
            internal::log_null_foreign_key(this->context().node_name(), this->context().record_metadata());
            this->context().record_dropped();
            return;
        }
        using inst = subscription_instruction;
        const combined_key<KO, K> key{r.key, r.value.primary_key};
        const auto instruction = r.value.instruction;
        if (instruction == inst::delete_key_no_propagate || instruction == inst::delete_key_and_propagate) {
            _subscriptions->remove(key);
        } else {
            _subscriptions->put(key, timestamped<subscription_wrapper<K>>{r.value, r.timestamp});
        }
        if (instruction == inst::delete_key_no_propagate) {
            return;
        }
        std::optional<VO> row;
        std::int64_t ts = r.timestamp;
        if (instruction != inst::delete_key_and_propagate) {
            if (auto found = _right.get(r.key)) {
                ts = std::max(ts, found->timestamp_ms);
                row = std::move(found->value);
            }
        }
        if (!row && instruction == inst::propagate_only_if_fk_val_available) {
            return;
        }
        this->context().forward(record<K, subscription_response<VO>>{r.value.primary_key,
            subscription_response<VO>{r.value.hash, std::move(row)}, ts, r.headers});
    }

private:
    std::string _subscription_store_name;
    std::string _right_store_name;
    std::optional<key_value_store<combined_key<KO, K>, timestamped<subscription_wrapper<K>>>> _subscriptions;
    table_value_getter<KO, VO> _right;
};

// The right table's changes, answered to every subscriber of the row's key
// (Kafka Streams' ForeignTableJoinProcessorSupplier): a delete answers with
// no row.
template<typename KO, typename K, typename VO>
class foreign_table_change_processor final : public processor<KO, change<VO>, K, subscription_response<VO>> {
public:
    explicit foreign_table_change_processor(std::string subscription_store)
        : _subscription_store_name(std::move(subscription_store)) {}

    void init(processor_context<K, subscription_response<VO>>& context) override {
        processor<KO, change<VO>, K, subscription_response<VO>>::init(context);
        _subscriptions.emplace(context.template get_key_value_store<combined_key<KO, K>,
            timestamped<subscription_wrapper<K>>>(_subscription_store_name));
    }

    void process(const record<KO, change<VO>>& r) override {
        if (internal::is_null(r.key) || (!r.value.new_value && !r.value.old_value)) {
            return;
        }
        for (const auto& [key, sub] : _subscriptions->prefix_scan(combined_key<KO, K>{r.key, std::nullopt})) {
            if (!key.primary_key) {
                continue;
            }
            this->context().forward(record<K, subscription_response<VO>>{*key.primary_key,
                subscription_response<VO>{sub.value.hash, r.value.new_value},
                std::max(r.timestamp, sub.timestamp_ms), r.headers});
        }
    }

private:
    std::string _subscription_store_name;
    std::optional<key_value_store<combined_key<KO, K>, timestamped<subscription_wrapper<K>>>> _subscriptions;
};

// The left side's end of the response topic (Kafka Streams'
// ResponseJoinProcessorSupplier): joins an answer with the current left row
// when the row is still the one it answers (same hash), else drops it. No
// right row: an inner join (or a deleted left row) gives a tombstone, a left
// join joiner(row, empty). With a result store, the result is kept there and
// the change carries the stored old value.
template<typename K, typename V, typename VO, typename VR, typename J, bool Left>
class subscription_response_resolver final : public processor<K, subscription_response<VO>, K, change<VR>> {
public:
    subscription_response_resolver(std::string left_store, serde_ref<V> value_serde, J joiner, std::string result_store)
        : _left_store_name(std::move(left_store)), _value_serde(std::move(value_serde)), _joiner(std::move(joiner)),
          _result_store_name(std::move(result_store)) {}

    void init(processor_context<K, change<VR>>& context) override {
        processor<K, subscription_response<VO>, K, change<VR>>::init(context);
        _left.init(context, _left_store_name);
        if (!_result_store_name.empty()) {
            _result.emplace(context.template get_key_value_store<K, timestamped<VR>>(_result_store_name));
        }
    }

    void process(const record<K, subscription_response<VO>>& r) override {
        if (internal::is_null(r.key)) {
            return;
        }
        auto current = _left.get(r.key);
        std::optional<value_hash> hash;
        if (current) {
            hash = murmur3_128(_value_serde.serialize(current->value));
        }
        if (hash != r.value.hash) {
            return; // answers a value the left row no longer has
        }
        std::optional<VR> result;
        if (current && (r.value.foreign_value || Left)) {
            if constexpr (Left) {
                result.emplace(_joiner(r.key, current->value, r.value.foreign_value));
            } else {
                result.emplace(_joiner(r.key, current->value, *r.value.foreign_value));
            }
        }
        std::optional<VR> old;
        if (_result) {
            if (auto stored = _result->get(r.key)) {
                old = std::move(stored->value);
            }
            if (result) {
                _result->put(r.key, timestamped<VR>{*result, r.timestamp});
            } else if (old) {
                _result->remove(r.key);
            }
        }
        this->context().forward(
            record<K, change<VR>>{r.key, change<VR>{std::move(result), std::move(old)}, r.timestamp, r.headers});
    }

private:
    std::string _left_store_name;
    serde_ref<V> _value_serde;
    J _joiner;
    std::string _result_store_name;
    table_value_getter<K, V> _left;
    std::optional<key_value_store<K, timestamped<VR>>> _result;
};

} // namespace eddy::operators
