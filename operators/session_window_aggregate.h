#pragma once

// The session-window aggregation of a grouped stream, as Kafka Streams'
// KStreamSessionWindowAggregate. A record at t looks up the key's sessions
// within the inactivity gap of it (ending at or after t - gap, starting at or
// before t + gap); it and they become one session [earliest start, latest
// end], whose aggregate is the merger's fold of theirs plus the record. Each
// merged-away session is deleted from the store and downstream (a change with
// no new value for its windowed key), then the new session's value goes
// downstream; every output is stamped with its session's end. A session that
// ends more than grace + gap before stream time is closed: a record whose
// merged session would end before that is dropped, logged and counted.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aggregate.h"
#include "change.h"
#include "processor.h"
#include "../core/window.h"
#include "window_aggregate.h"
#include "../statestore/session_store.h"

namespace eddy::operators {

// Init() -> std::optional<VA> (empty for a reduce);
// Merge(key, const std::optional<VA>& acc, const VA& session) -> std::optional<VA>;
// Fold(key, value, const std::optional<VA>& acc) -> VA.
template<typename K, typename V, typename VA, typename Init, typename Merge, typename Fold>
class session_window_aggregate_processor final : public processor<K, V, windowed<K>, change<VA>> {
public:
    session_window_aggregate_processor(std::string store, session_windows windows, Init init, Merge merge, Fold fold)
        : _store_name(std::move(store))
        , _windows(windows)
        , _init(std::move(init))
        , _merge(std::move(merge))
        , _fold(std::move(fold)) {}

    // How long behind stream time a session is kept: a record is taken when
    // its merged session ends at or after stream time - grace - gap, and a
    // late one can bridge a session up to two gaps before a new one (gap 5,
    // grace 2: a@2, c@17, a@10, a@6 gives [2,10] = 3); a further 60 s
    // (Kafka Streams' smallest store segment) covers late records that
    // extend a session backwards first. Kafka Streams' own session store
    // hides sessions gap + grace behind, but its record cache, on by
    // default, still shows them: eddy keeps them (ADR 0006).
    static std::int64_t retention_ms(const session_windows& w) {
        return 3 * w.inactivity_gap_ms() + w.grace_ms() + 60'000;
    }

    void init(processor_context<windowed<K>, change<VA>>& context) override {
        processor<K, V, windowed<K>, change<VA>>::init(context);
        auto kv = context.template get_key_value_store<windowed<K>, VA>(_store_name);
        _forwarder.init(context, _store_name, kv.key_serde());
        _store.emplace(session_store<K, VA>(std::move(kv)));
    }

    void process(const record<K, V>& r) override {
        auto& ctx = this->context();
        if (internal::drop_if_null(r, ctx)) {
            return;
        }
        const std::int64_t t = r.timestamp;
        const std::int64_t gap = _windows.inactivity_gap_ms();
        _observed = std::max(_observed, t);
        const std::int64_t close = _observed - _windows.grace_ms() - gap;

        auto merged = _store->find_sessions(r.key, t - gap, t + gap);
        window session{t, t};
        std::optional<VA> aggregate = _init();
        for (const auto& s : merged) {
            aggregate = _merge(r.key, aggregate, s.value);
            session.start_ms = std::min(session.start_ms, s.key.window.start_ms);
            session.end_ms = std::max(session.end_ms, s.key.window.end_ms);
        }
        if (session.end_ms < close) {
            internal::log_expired_window(ctx.node_name(), ctx.record_metadata(), t, session, close, _observed, true);
            ctx.record_dropped();
            return;
        }
        if (session != window{t, t}) {
            for (auto& s : merged) {
                _store->remove(s.key);
                const auto end = s.key.window.end_ms;
                _forwarder.forward(record<windowed<K>, change<VA>>{
                    std::move(s.key), change<VA>{std::nullopt, std::move(s.value)}, end, r.headers});
            }
        }
        const windowed<K> key{r.key, session};
        VA next = _fold(r.key, r.value, aggregate);
        _store->put(key, next);
        // A record inside a session (no merge, no new bounds) updates it:
        // with the cache its delete and put are one change, new over old.
        _forwarder.forward(record<windowed<K>, change<VA>>{key, change<VA>{std::move(next), std::nullopt}, session.end_ms, r.headers});
        expire();
    }

private:
    // Drops the sessions that ended more than the retention before stream
    // time, once per retention period of stream time.
    void expire() {
        const std::int64_t retention = retention_ms(_windows);
        if (_observed - _last_expiry < retention) {
            return;
        }
        _last_expiry = _observed;
        std::vector<windowed<K>> gone;
        for (const auto& s : _store->all()) {
            if (s.key.window.end_ms < _observed - retention) {
                gone.push_back(s.key);
            }
        }
        for (const auto& k : gone) {
            _store->remove(k);
        }
    }

    std::string _store_name;
    session_windows _windows;
    Init _init;
    Merge _merge;
    Fold _fold;
    std::optional<session_store<K, VA>> _store;
    internal::change_forwarder<windowed<K>, VA> _forwarder;
    std::int64_t _observed = -1;
    std::int64_t _last_expiry = 0;
};

} // namespace eddy::operators
