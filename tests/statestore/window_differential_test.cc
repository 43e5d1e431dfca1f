// A seeded, randomized differential test of eddy's windowed operators: each
// case runs through eddy on topology_test_driver and through a small
// reference model written in this file from the semantics alone, and each
// input's outputs must agree.
//
// Families, each on RocksDB and on in-memory stores (TEST_P parameters):
//   TimeUpdate, TimeFinal        tumbling and hopping time windows, emitting
//                                every update / only on window close
//   SessionUpdate, SessionFinal  session windows, the same two ways
//   SlidingUpdate, SlidingFinal  sliding windows, the same two ways
//   InnerJoin, LeftJoin          windowed stream-stream joins
// Every aggregation sums the values: initializer 0, adder v + agg, session
// merger a + b.
//
// The model (the "reference model" section) uses the standard library only,
// nothing of eddy. It is Kafka Streams' semantics with record caching on, as
// the driver shows them when it flushes after every input: each input's
// outputs are each window that input changed, once, with its latest value.
// The comment on each model function says what it implements and which
// corners it leaves open (a case reaching one is "ambiguous" and skipped).
// The table's old values are not visible through the DSL (to_stream() gives
// the new value), so outputs are compared by key, window, new value (empty
// for a deleted session) and timestamp.
//
// The generator: per case, random window parameters (grace often 0) and 5 to
// 40 records with keys from {a, b, c}, values 1..9 (joins: the input's number,
// so each result names its records) and times in 0..250 ms: mostly in order,
// some at the same time as an earlier record, some jumps that close windows,
// and late records both within the grace period and beyond it.
// Outputs are compared per input: in order; as a set for sliding windows on
// update (one record's window updates come in an implementation's own
// order); as a multiset for joins; without timestamps on window close.
//
// On a mismatch the case is shrunk (records dropped one at a time, then
// times, values and keys simplified, while eddy still disagrees) and printed:
// the parameters, the inputs and, per input, what eddy emitted and what the
// model expected. Then the test fails.
//
//   EDDY_DIFF_SEED       base seed (default 1); each case's seed derives from
//                        it, the family, the case number and the
//                        --gtest_repeat round, so every repeat runs new cases
//   EDDY_DIFF_CASES      cases per family and engine (default 150; 25 in
//                        unoptimized or sanitizer builds)
//   EDDY_DIFF_CASE_SEED  run only the case of this seed (as a failure prints
//                        it), with --gtest_filter naming its family
//   EDDY_DIFF_SHRINK_SECONDS  time the shrinking of one failure may take
//                        (default 5)
//
//   EDDY_DIFF_SEED=7 EDDY_DIFF_CASES=2000 build/tests/statestore_window_differential_test --gtest_repeat=5

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "eddy.h"

namespace {

// ===========================================================================
// Cases: families, parameters, inputs and outputs (standard library only).

enum class family {
    time_update,
    time_final,
    session_update,
    session_final,
    sliding_update,
    sliding_final,
    inner_join,
    left_join,
};

constexpr family all_families[] = {family::time_update, family::time_final, family::session_update,
    family::session_final, family::sliding_update, family::sliding_final, family::inner_join, family::left_join};

const char* family_name(family f) {
    switch (f) {
    case family::time_update: return "TimeUpdate";
    case family::time_final: return "TimeFinal";
    case family::session_update: return "SessionUpdate";
    case family::session_final: return "SessionFinal";
    case family::sliding_update: return "SlidingUpdate";
    case family::sliding_final: return "SlidingFinal";
    case family::inner_join: return "InnerJoin";
    case family::left_join: return "LeftJoin";
    }
    return "?";
}

bool is_time(family f) { return f == family::time_update || f == family::time_final; }
bool is_session(family f) { return f == family::session_update || f == family::session_final; }
bool is_sliding(family f) { return f == family::sliding_update || f == family::sliding_final; }
bool is_join(family f) { return f == family::inner_join || f == family::left_join; }
bool is_final(family f) {
    return f == family::time_final || f == family::session_final || f == family::sliding_final;
}

// The window parameters of a case, in ms; each family reads its own.
struct params {
    std::int64_t size = 0; // time windows
    std::int64_t advance = 0;
    std::int64_t gap = 0; // session windows
    std::int64_t difference = 0; // sliding windows
    std::int64_t before = 0; // join windows
    std::int64_t after = 0;
    std::int64_t grace = 0;
};

std::string describe(family f, const params& p) {
    std::ostringstream os;
    if (is_time(f)) {
        os << (p.advance == p.size ? "tumbling" : "hopping") << " time windows, size " << p.size << " ms, advance "
           << p.advance << " ms";
    } else if (is_session(f)) {
        os << "session windows, gap " << p.gap << " ms";
    } else if (is_sliding(f)) {
        os << "sliding windows, time difference " << p.difference << " ms";
    } else {
        os << (f == family::inner_join ? "inner" : "left") << " join, before " << p.before << " ms, after "
           << p.after << " ms";
    }
    os << ", grace " << p.grace << " ms" << (is_final(f) ? ", emit on window close" : "");
    return os.str();
}

struct input {
    std::string key;
    std::int64_t ts = 0;
    std::int64_t value = 0;
    bool right = false; // a join's right side
};

std::string show(const input& x, family f) {
    std::string s = x.key + "@" + std::to_string(x.ts) + "=" + std::to_string(x.value);
    if (is_join(f)) {
        s = std::string(x.right ? "right " : "left  ") + s;
    }
    return s;
}

// One output record. Windowed families: the key, the window [start, end] and
// the aggregate ("null": a deleted session). Joins: the key and the joiner's
// text, with start = end = -1.
struct output {
    std::string key;
    std::int64_t start = -1;
    std::int64_t end = -1;
    std::string value;
    std::int64_t ts = 0;

    friend bool operator==(const output&, const output&) = default;
    friend bool operator<(const output& a, const output& b) {
        return std::tie(a.start, a.key, a.end, a.value, a.ts) < std::tie(b.start, b.key, b.end, b.value, b.ts);
    }
    friend std::ostream& operator<<(std::ostream& os, const output& o) {
        if (o.start < 0) {
            return os << o.key << ":" << o.value << "@" << o.ts;
        }
        return os << "[" << o.key << "@" << o.start << "/" << o.end << "]=" << o.value << "@" << o.ts;
    }
};

// Per input, the records it brought out.
using outputs = std::vector<std::vector<output>>;

output window_output(
    const std::string& key, std::int64_t start, std::int64_t end, std::optional<std::int64_t> agg, std::int64_t ts) {
    return {key, start, end, agg ? std::to_string(*agg) : "null", ts};
}

// The joiner of both join families, eddy's and the model's: "L<left>+R<right>",
// "L<left>+null" for an unmatched left record.
std::string joined_text(std::int64_t left, std::optional<std::int64_t> right) {
    return "L" + std::to_string(left) + "+" + (right ? "R" + std::to_string(*right) : std::string("null"));
}

std::string show(const output& o, family f) {
    std::ostringstream os;
    if (is_join(f)) {
        os << o.key << ":" << o.value << "@" << o.ts;
    } else {
        os << "[" << o.key << "@" << o.start << "/" << o.end << "]=" << o.value;
        if (!is_final(f)) {
            os << "@" << o.ts;
        }
    }
    return os.str();
}

std::string show(const std::vector<output>& records, family f) {
    if (records.empty()) {
        return "(nothing)";
    }
    std::string s;
    for (const auto& o : records) {
        s += (s.empty() ? "" : ", ") + show(o, f);
    }
    return s;
}

// The comparison's view of each input's outputs: as a set for sliding windows
// on update (by start, then key), a multiset for joins, no timestamps on
// window close.
outputs normalized(family f, outputs all) {
    for (auto& step : all) {
        if (is_final(f)) {
            for (auto& o : step) {
                o.ts = 0;
            }
        }
        if (f == family::sliding_update) {
            std::stable_sort(step.begin(), step.end(),
                [](const output& a, const output& b) { return std::tie(a.start, a.key) < std::tie(b.start, b.key); });
        }
        if (is_join(f)) {
            std::sort(step.begin(), step.end());
        }
    }
    return all;
}

// Sliding windows: a record that is not dropped (t + difference >= close,
// close = stream time - grace) although its own left window has closed (the
// left window ends at max(t, difference)). See model_sliding.
bool sliding_corner(std::int64_t t, std::int64_t close, std::int64_t difference) {
    return t + difference >= close && std::max(t, difference) < close;
}

// ===========================================================================
// The reference model. Standard library only: nothing here knows eddy.

struct model_result {
    outputs out;
    // The case reaches a corner the semantics leave open (see the models): it
    // proves nothing either way.
    bool ambiguous = false;
};

constexpr std::int64_t no_time = std::numeric_limits<std::int64_t>::min() / 4;

// Time windows [s, s + size), s >= 0 a multiple of the advance. Stream time is
// the largest time seen, this record's included. A record at t counts in
// every window holding it whose end is after stream time - grace, and is
// dropped for the others. On update: each window it counted in, by ascending
// start, with its new sum, stamped with the latest record time in the window.
// On close: a window is emitted once, with its final sum, by the first input
// after which end + grace <= stream time; windows closing at one input come
// out by (start, key).
model_result model_time_windows(const params& p, bool emit_final, const std::vector<input>& in) {
    struct window_state {
        std::int64_t sum = 0;
        std::int64_t ts = 0;
        bool emitted = false;
    };
    std::map<std::pair<std::int64_t, std::string>, window_state> windows; // by (start, key)
    std::int64_t stream_time = no_time;
    model_result result;
    for (const auto& x : in) {
        auto& out = result.out.emplace_back();
        stream_time = std::max(stream_time, x.ts);
        for (std::int64_t start = 0; start <= x.ts; start += p.advance) {
            const std::int64_t end = start + p.size;
            if (end <= x.ts || end <= stream_time - p.grace) {
                continue; // not in this window, or the window has closed
            }
            auto& w = windows[{start, x.key}];
            w.sum += x.value;
            w.ts = std::max(w.ts, x.ts);
            if (!emit_final) {
                out.push_back(window_output(x.key, start, end, w.sum, w.ts));
            }
        }
        if (emit_final) {
            for (auto& [at, w] : windows) {
                if (!w.emitted && at.first + p.size + p.grace <= stream_time) {
                    w.emitted = true;
                    out.push_back(window_output(at.second, at.first, at.first + p.size, w.sum, w.ts));
                }
            }
        }
    }
    return result;
}

// Session windows [start, end], both ends inclusive. A record at t gathers
// its key's sessions that end at or after t - gap and start at or before
// t + gap, with [t, t], into one session [min start, max end]. If that ends
// before close = stream time - grace - gap, the record is dropped and nothing
// changes. Otherwise the gathered sessions are replaced by the merged one,
// whose sum is theirs plus the value. On update: when the record fell into
// one session without moving its bounds, one update of that session;
// otherwise a delete (null) of each gathered session by ascending end, then
// the merged session. Each output is stamped with its session's end.
// Sessions never expire here, so a record may still merge into a closed
// session when the merged one ends at or after close. (Kafka Streams' session
// store stops finding a session that ends gap + grace or more before the
// newest session end it holds: AbstractRocksDBSegmentedBytesStore's
// getActualFrom, InMemorySessionStore.) On close: a session is emitted once,
// with its final sum,
// by the first input after which its end < stream time - gap - grace;
// sessions closing at one input come out by (end, start, key); a session
// merged away before that is never emitted.
model_result model_sessions(const params& p, bool emit_final, const std::vector<input>& in) {
    struct session {
        std::string key;
        std::int64_t start = 0;
        std::int64_t end = 0;
        std::int64_t sum = 0;
        bool emitted = false;
    };
    std::vector<session> sessions;
    std::int64_t stream_time = no_time;
    model_result result;
    for (const auto& x : in) {
        auto& out = result.out.emplace_back();
        stream_time = std::max(stream_time, x.ts);
        std::vector<std::size_t> near;
        for (std::size_t i = 0; i < sessions.size(); ++i) {
            const auto& s = sessions[i];
            if (s.key == x.key && s.end >= x.ts - p.gap && s.start <= x.ts + p.gap) {
                near.push_back(i);
            }
        }
        std::sort(near.begin(), near.end(), [&](std::size_t a, std::size_t b) {
            return std::tie(sessions[a].end, sessions[a].start) < std::tie(sessions[b].end, sessions[b].start);
        });
        std::int64_t start = x.ts;
        std::int64_t end = x.ts;
        std::int64_t sum = 0;
        for (const std::size_t i : near) {
            start = std::min(start, sessions[i].start);
            end = std::max(end, sessions[i].end);
            sum += sessions[i].sum;
        }
        if (end >= stream_time - p.grace - p.gap) {
            if (near.size() == 1 && sessions[near[0]].start == start && sessions[near[0]].end == end) {
                auto& s = sessions[near[0]];
                s.sum += x.value;
                if (!emit_final) {
                    out.push_back(window_output(x.key, start, end, s.sum, end));
                }
            } else {
                std::vector<session> rest;
                for (std::size_t i = 0; i < sessions.size(); ++i) {
                    if (std::find(near.begin(), near.end(), i) == near.end()) {
                        rest.push_back(sessions[i]);
                    }
                }
                if (!emit_final) {
                    for (const std::size_t i : near) {
                        const auto& gone = sessions[i];
                        out.push_back(window_output(x.key, gone.start, gone.end, std::nullopt, gone.end));
                    }
                    out.push_back(window_output(x.key, start, end, sum + x.value, end));
                }
                rest.push_back({x.key, start, end, sum + x.value, false});
                sessions = std::move(rest);
            }
        }
        if (emit_final) {
            std::vector<session*> closing;
            for (auto& s : sessions) {
                if (!s.emitted && s.end < stream_time - p.gap - p.grace) {
                    closing.push_back(&s);
                }
            }
            std::sort(closing.begin(), closing.end(), [](const session* a, const session* b) {
                return std::tie(a->end, a->start, a->key) < std::tie(b->end, b->start, b->key);
            });
            for (session* s : closing) {
                s->emitted = true;
                out.push_back(window_output(s->key, s->start, s->end, s->sum, s->end));
            }
        }
    }
    return result;
}

// Sliding windows [start, start + difference], both ends inclusive, that
// exist only where records are. They are defined from scratch from the
// accepted records of a key: a record at t has its left window
// [t - difference, t] ([0, difference] when t < difference) and, when a record
// of the key lies in (t, t + 1 + difference], its right window
// [t + 1, t + 1 + difference]. A window's sum is that of the records in it,
// its time their latest. With close = stream time - grace, a record is
// dropped when t + difference < close; otherwise it is accepted, and every
// window ending at or after close whose sum it changed, or that it made, is
// emitted (on update); a window ending before close keeps its value, or is
// never made. On close: a window is emitted once, with its final sum, by the
// first input after which end + grace < stream time; windows closing at one
// input come out by (start, key).
//
// Left open: a record accepted although its own left window has already
// closed (sliding_corner). Kafka Streams (KStreamSlidingWindowAggregate)
// makes a new window from the stored sums of its neighbours; such a record
// updates only the open windows that exist and may leave no window behind, so
// a window made later misses it where the definition above counts it: in
// Kafka Streams' testAggregateLargeInput on window close (grace 10; ported
// in sliding_window_test.cc) [C@5/15] holds C@15 alone, not the late C@11.
// Cases reaching the corner are ambiguous; the generator steers clear of it.
model_result model_sliding(const params& p, bool emit_final, const std::vector<input>& in) {
    const std::int64_t d = p.difference;
    struct window_state {
        std::int64_t sum = 0;
        std::int64_t ts = 0;
        bool emitted = false;
    };
    std::map<std::string, std::vector<std::pair<std::int64_t, std::int64_t>>> accepted; // key -> (time, value)
    std::map<std::pair<std::int64_t, std::string>, window_state> table; // by (start, key)
    std::int64_t stream_time = no_time;
    model_result result;
    for (const auto& x : in) {
        auto& out = result.out.emplace_back();
        stream_time = std::max(stream_time, x.ts);
        const std::int64_t close = stream_time - p.grace;
        if (x.ts + d >= close) {
            if (sliding_corner(x.ts, close, d)) {
                result.ambiguous = true;
            }
            auto& records = accepted[x.key];
            records.emplace_back(x.ts, x.value);
            std::set<std::int64_t> starts;
            for (const auto& r : records) {
                starts.insert(std::max<std::int64_t>(0, r.first - d));
                for (const auto& later : records) {
                    if (r.first < later.first && later.first <= r.first + 1 + d) {
                        starts.insert(r.first + 1);
                        break;
                    }
                }
            }
            for (const std::int64_t start : starts) {
                if (start + d < close) {
                    continue; // closed
                }
                std::int64_t sum = 0;
                std::int64_t latest = 0;
                for (const auto& r : records) {
                    if (start <= r.first && r.first <= start + d) {
                        sum += r.second;
                        latest = std::max(latest, r.first);
                    }
                }
                auto [it, made] = table.try_emplace({start, x.key});
                if (!made && it->second.sum == sum) {
                    continue;
                }
                it->second.sum = sum;
                it->second.ts = latest;
                if (!emit_final) {
                    out.push_back(window_output(x.key, start, start + d, sum, latest));
                }
            }
        }
        if (emit_final) {
            for (auto& [at, w] : table) {
                if (!w.emitted && at.first + d + p.grace < stream_time) {
                    w.emitted = true;
                    out.push_back(window_output(at.second, at.first, at.first + d, w.sum, w.ts));
                }
            }
        }
    }
    return result;
}

// Windowed stream-stream joins (docs/joins.md; windows inclusive at both
// ends). Stream time is shared by both sides. A left record at t joins each
// kept right record of its key in [t - before, t + after]; a right record at
// t each kept left record in [t - after, t + before]. A result is
// joiner(left, right) stamped with the later of the two times. Each side
// keeps a record while its time >= (that side's newest time) - (before +
// after + grace); an older one is still joined with what the other side
// keeps, but no later record meets it. (Kafka Streams' window stores keep it
// only while its time is > that bound: getActualFrom, InMemoryWindowStore.)
// Left join: a left record with no match when it arrives is emitted with an
// empty right at once if t + after < stream time; otherwise it waits until a
// right record joins it (it is then never emitted unmatched) or until a
// record at stream time finds stream time past t + after + grace, when it is
// emitted, stamped t. (A record too old to be kept has t + after < stream
// time, so it goes out at once.) Which record finds it follows Kafka Streams'
// code (KStreamKStreamJoin.emitNonJoinedOuterRecords): its cheap check before
// the look uses the side's own after, which for a right record is the
// window's before; docs/joins.md says so.
model_result model_join(const params& p, bool left_join, const std::vector<input>& in) {
    struct kept {
        std::int64_t ts = 0;
        std::int64_t value = 0;
    };
    struct waiting {
        std::string key;
        std::int64_t ts = 0;
        std::int64_t value = 0;
    };
    std::map<std::string, std::vector<kept>> lefts;
    std::map<std::string, std::vector<kept>> rights;
    std::vector<waiting> waiting_lefts;
    constexpr std::int64_t no_min = std::numeric_limits<std::int64_t>::max();
    std::int64_t min_waiting = no_min;
    const std::int64_t retention = p.before + p.after + p.grace;
    std::int64_t stream_time = no_time;
    std::int64_t newest_left = no_time;
    std::int64_t newest_right = no_time;
    model_result result;
    for (const auto& x : in) {
        auto& out = result.out.emplace_back();
        stream_time = std::max(stream_time, x.ts);
        auto& newest_own = x.right ? newest_right : newest_left;
        newest_own = std::max(newest_own, x.ts);
        // Kafka Streams' emitNonJoinedOuterRecords, as its code has it: only
        // a record at stream time looks; it skips the look while the
        // remembered earliest waiting time + the side's own "after" (a right
        // record's is the window's before) + grace has not passed; a look
        // remembers the time of the last waiting record it visited.
        const std::int64_t side_after = x.right ? p.before : p.after;
        if (left_join && x.ts == stream_time
            && !(min_waiting != no_min && min_waiting + side_after + p.grace >= stream_time)) {
            min_waiting = no_min;
            std::stable_sort(waiting_lefts.begin(), waiting_lefts.end(),
                [](const waiting& a, const waiting& b) { return std::tie(a.ts, a.key) < std::tie(b.ts, b.key); });
            std::erase_if(waiting_lefts, [&](const waiting& w) {
                min_waiting = w.ts;
                if (w.ts + p.after + p.grace >= stream_time) {
                    return false;
                }
                out.push_back({w.key, -1, -1, joined_text(w.value, std::nullopt), w.ts});
                return true;
            });
        }
        const auto& others = (x.right ? lefts : rights)[x.key];
        const std::int64_t newest_other = x.right ? newest_left : newest_right;
        const std::int64_t from = x.ts - (x.right ? p.after : p.before);
        const std::int64_t to = x.ts + (x.right ? p.before : p.after);
        bool matched = false;
        for (const auto& o : others) {
            if (o.ts < from || o.ts > to || o.ts < newest_other - retention) {
                continue;
            }
            matched = true;
            const std::int64_t left_value = x.right ? o.value : x.value;
            const std::int64_t right_value = x.right ? x.value : o.value;
            out.push_back({x.key, -1, -1, joined_text(left_value, right_value), std::max(x.ts, o.ts)});
            if (x.right) {
                std::erase_if(
                    waiting_lefts, [&](const waiting& w) { return w.key == x.key && w.ts == o.ts; });
            }
        }
        if (left_join && !x.right && !matched) {
            if (x.ts + p.after < stream_time) {
                out.push_back({x.key, -1, -1, joined_text(x.value, std::nullopt), x.ts});
            } else {
                waiting_lefts.push_back({x.key, x.ts, x.value});
                min_waiting = std::min(min_waiting, x.ts);
            }
        }
        (x.right ? rights : lefts)[x.key].push_back({x.ts, x.value});
    }
    return result;
}

model_result run_model(family f, const params& p, const std::vector<input>& in) {
    switch (f) {
    case family::time_update: return model_time_windows(p, false, in);
    case family::time_final: return model_time_windows(p, true, in);
    case family::session_update: return model_sessions(p, false, in);
    case family::session_final: return model_sessions(p, true, in);
    case family::sliding_update: return model_sliding(p, false, in);
    case family::sliding_final: return model_sliding(p, true, in);
    case family::inner_join: return model_join(p, false, in);
    case family::left_join: return model_join(p, true, in);
    }
    throw std::logic_error("unknown family");
}

// ===========================================================================
// eddy: the same cases through topology_test_driver.

enum class engine { rocksdb, in_memory };

const char* engine_name(engine e) { return e == engine::rocksdb ? "RocksDB" : "InMemory"; }

template<typename VA>
eddy::materialized<std::string, VA> aggregate_store(engine e) {
    return e == engine::in_memory
        ? eddy::materialized<std::string, VA>::as(eddy::stores::in_memory_key_value_store("aggregate"))
        : eddy::materialized<std::string, VA>::as("aggregate");
}

eddy::serde_ref<eddy::windowed<std::string>> windowed_key_serde(family f, const params& p) {
    if (is_session(f)) {
        return eddy::serdes::session_windowed<std::string>{eddy::serdes::string{}};
    }
    // Sliding windows are written as time windows of the time difference.
    return eddy::serdes::time_windowed<std::string>{eddy::serdes::string{}, is_sliding(f) ? p.difference : p.size};
}

// The windowed table's changes, to "out": a deleted session is a null value.
void write_changes(const eddy::ktable<eddy::windowed<std::string>, std::int64_t>& table, family f, const params& p) {
    table.map_values([](std::int64_t sum) { return std::optional<std::int64_t>(sum); })
        .to_stream()
        .to("out", eddy::produced<eddy::windowed<std::string>, std::optional<std::int64_t>>::with(
                       windowed_key_serde(f, p), eddy::serdes::nullable<eddy::serdes::int64>{}));
}

eddy::topology eddy_topology(family f, engine e, const params& p) {
    using ms = std::chrono::milliseconds;
    eddy::streams_builder builder;
    const auto zero = [] { return std::int64_t{0}; };
    const auto add = [](const std::string&, const std::int64_t& v, const std::int64_t& sum) { return v + sum; };
    const auto merge = [](const std::string&, const std::int64_t& a, const std::int64_t& b) { return a + b; };
    const auto on_close = eddy::emit_strategy::on_window_close();
    if (is_time(f)) {
        auto windowed = builder.stream<std::string, std::int64_t>("in").group_by_key().windowed_by(
            eddy::time_windows::of_size_and_grace(ms(p.size), ms(p.grace)).advance_by(ms(p.advance)));
        if (f == family::time_final) {
            windowed = windowed.emit_strategy(on_close);
        }
        write_changes(windowed.aggregate(zero, add, aggregate_store<std::int64_t>(e)), f, p);
    } else if (is_session(f)) {
        auto windowed = builder.stream<std::string, std::int64_t>("in").group_by_key().windowed_by(
            eddy::session_windows::of_inactivity_gap_and_grace(ms(p.gap), ms(p.grace)));
        if (f == family::session_final) {
            windowed = windowed.emit_strategy(on_close);
        }
        write_changes(windowed.aggregate(zero, add, merge, aggregate_store<std::int64_t>(e)), f, p);
    } else if (is_sliding(f)) {
        auto windowed = builder.stream<std::string, std::int64_t>("in").group_by_key().windowed_by(
            eddy::sliding_windows::of_time_difference_and_grace(ms(p.difference), ms(p.grace)));
        if (f == family::sliding_final) {
            windowed = windowed.emit_strategy(on_close);
        }
        write_changes(windowed.aggregate(zero, add, aggregate_store<std::int64_t>(e)), f, p);
    } else {
        auto left = builder.stream<std::string, std::int64_t>("left");
        auto right = builder.stream<std::string, std::int64_t>("right");
        const auto windows =
            eddy::join_windows::of_time_difference_and_grace(ms(p.after), ms(p.grace)).before(ms(p.before));
        auto joined = eddy::stream_joined<std::string, std::int64_t, std::int64_t>::with(
            eddy::serdes::string{}, eddy::serdes::int64{}, eddy::serdes::int64{});
        if (e == engine::in_memory) {
            joined = joined.with_in_memory_stores();
        }
        if (f == family::inner_join) {
            left.join(
                    right, [](const std::int64_t& l, const std::int64_t& r) { return joined_text(l, r); }, windows,
                    joined)
                .to("out");
        } else {
            left.left_join(
                    right,
                    [](const std::int64_t& l, const std::optional<std::int64_t>& r) { return joined_text(l, r); },
                    windows, joined)
                .to("out");
        }
    }
    return builder.build();
}

// Pipes the inputs one at a time (the driver flushes the caches after each),
// collecting what each brought out into `got` (kept if eddy throws midway).
void run_eddy(family f, engine e, const params& p, const std::vector<input>& in, outputs& got) {
    eddy::topology_test_driver driver(eddy_topology(f, e, p));
    if (is_join(f)) {
        auto left = driver.create_input_topic<std::string, std::int64_t>("left");
        auto right = driver.create_input_topic<std::string, std::int64_t>("right");
        auto out = driver.create_output_topic<std::string, std::string>("out");
        for (const auto& x : in) {
            (x.right ? right : left).pipe_input(x.key, x.value, x.ts);
            auto& step = got.emplace_back();
            for (const auto& r : out.read_records_to_list()) {
                step.push_back({r.key, -1, -1, r.value, r.timestamp});
            }
        }
        return;
    }
    auto topic = driver.create_input_topic<std::string, std::int64_t>("in");
    auto out = driver.create_output_topic<eddy::windowed<std::string>, std::optional<std::int64_t>>(
        "out", windowed_key_serde(f, p), eddy::serdes::nullable<eddy::serdes::int64>{});
    for (const auto& x : in) {
        topic.pipe_input(x.key, x.value, x.ts);
        auto& step = got.emplace_back();
        for (const auto& r : out.read_records_to_list()) {
            step.push_back(window_output(r.key.key, r.key.window.start_ms, r.key.window.end_ms, r.value, r.timestamp));
        }
    }
}

// ===========================================================================
// The generator, the comparison and the shrinker.

// splitmix64: the same cases from the same seed on every platform.
class rng {
public:
    explicit rng(std::uint64_t seed) : _state(seed) {}

    std::uint64_t next() {
        std::uint64_t z = (_state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    // Uniform in [lo, hi].
    std::int64_t between(std::int64_t lo, std::int64_t hi) {
        return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
    }
    bool percent(std::int64_t p) { return between(0, 99) < p; }

private:
    std::uint64_t _state;
};

params random_params(family f, rng& r) {
    params p;
    p.grace = r.percent(40) ? 0 : r.between(1, 15);
    if (is_time(f)) {
        p.size = r.between(2, 30);
        p.advance = r.percent(50) ? p.size : r.between(std::max<std::int64_t>(1, p.size / 4), p.size);
    } else if (is_session(f)) {
        p.gap = r.between(1, 20);
    } else if (is_sliding(f)) {
        p.difference = r.between(1, 30);
        if (r.percent(30)) {
            p.grace = r.between(16, 40); // room for late records that still count
        }
    } else {
        p.before = r.percent(25) ? 0 : r.between(1, 20);
        p.after = r.percent(25) ? 0 : r.between(1, 20);
    }
    return p;
}

// The span of one window, to scale the generated gaps by.
std::int64_t window_scale(family f, const params& p) {
    if (is_time(f)) {
        return p.size;
    }
    if (is_session(f)) {
        return p.gap;
    }
    if (is_sliding(f)) {
        return p.difference;
    }
    return std::max<std::int64_t>(1, p.before + p.after);
}

// Sliding windows: a record in the open corner (sliding_corner) moves to the
// earliest time that keeps its left window open, or late enough to be
// dropped entirely.
std::int64_t away_from_the_sliding_corner(std::int64_t t, std::int64_t newest, const params& p, rng& r) {
    const std::int64_t close = std::max(newest, t) - p.grace;
    if (!sliding_corner(t, close, p.difference)) {
        return t;
    }
    const std::int64_t latest_dropped = close - p.difference - 1;
    return latest_dropped >= 0 && r.percent(40) ? r.between(0, latest_dropped) : close;
}

std::vector<input> random_inputs(family f, const params& p, rng& r) {
    const std::int64_t n = r.between(5, 40);
    const std::int64_t keys = r.between(1, 3);
    const std::int64_t scale = window_scale(f, p);
    const std::int64_t step = std::max<std::int64_t>(2, std::min<std::int64_t>(scale, 400 / n));
    std::vector<input> in;
    std::int64_t newest = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        input x;
        x.key = std::string(1, static_cast<char>('a' + r.between(0, keys - 1)));
        x.right = is_join(f) && r.percent(50);
        x.value = is_join(f) ? i + 1 : r.between(1, 9);
        const std::int64_t pick = r.between(0, 99);
        std::int64_t t = 0;
        if (in.empty()) {
            t = r.between(0, 20);
        } else if (pick < 55) {
            t = newest + r.between(0, step); // in order, now and then at the newest time again
        } else if (pick < 65) {
            t = newest + r.between(scale, 2 * scale + p.grace); // a jump that closes windows
        } else if (pick < 75) {
            t = in[static_cast<std::size_t>(r.between(0, static_cast<std::int64_t>(in.size()) - 1))].ts;
        } else {
            t = newest - r.between(1, scale + p.grace + 5); // late: within the grace period or beyond
        }
        t = std::clamp<std::int64_t>(t, 0, 250);
        if (is_sliding(f)) {
            t = away_from_the_sliding_corner(t, newest, p, r);
        }
        x.ts = t;
        newest = std::max(newest, t);
        in.push_back(std::move(x));
    }
    return in;
}

struct verdict {
    bool ambiguous = false;
    bool mismatch = false;
    outputs eddy;
    outputs model;
    std::string error; // what eddy threw
};

verdict check(family f, engine e, const params& p, const std::vector<input>& in) {
    verdict v;
    auto m = run_model(f, p, in);
    if (m.ambiguous) {
        v.ambiguous = true;
        return v;
    }
    v.model = normalized(f, std::move(m.out));
    outputs got;
    try {
        run_eddy(f, e, p, in, got);
    } catch (const std::exception& ex) {
        v.error = ex.what();
    }
    v.eddy = normalized(f, std::move(got));
    v.mismatch = !v.error.empty() || v.eddy != v.model;
    return v;
}

// Variants of `in` with record i simpler: value 1, key "a", an earlier time.
std::vector<std::vector<input>> simpler_at(family f, const std::vector<input>& in, std::size_t i) {
    std::vector<std::vector<input>> out;
    const auto with = [&](auto change) {
        auto c = in;
        change(c[i]);
        out.push_back(std::move(c));
    };
    if (!is_join(f) && in[i].value != 1) {
        with([](input& x) { x.value = 1; });
    }
    if (in[i].key != "a") {
        with([](input& x) { x.key = "a"; });
    }
    std::set<std::int64_t> earlier{0, in[i].ts / 2, in[i].ts - 1};
    for (const std::int64_t t : earlier) {
        if (t >= 0 && t < in[i].ts) {
            with([t](input& x) { x.ts = t; });
        }
    }
    return out;
}

// The smallest variant of a failing case found within a budget (800 eddy
// runs, and EDDY_DIFF_SHRINK_SECONDS of wall-clock time, default 5, so that a
// binary whose every family fails still ends within the suite's timeout):
// records dropped one at a time, all times moved down together, then each
// record's value, key and time simplified, for as long as eddy still differs
// from the model (an ambiguous variant does not count as differing).
std::vector<input> shrink(family f, engine e, const params& p, std::vector<input> in, std::uint64_t seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(static_cast<std::int64_t>(seconds));
    int budget = 800;
    const auto out_of_budget = [&] { return budget <= 0 || std::chrono::steady_clock::now() > deadline; };
    const auto fails = [&](const std::vector<input>& c) {
        if (out_of_budget()) {
            return false;
        }
        --budget;
        return check(f, e, p, c).mismatch;
    };
    for (bool progress = true; progress && !out_of_budget();) {
        progress = false;
        for (std::size_t i = 0; i < in.size();) {
            auto c = in;
            c.erase(c.begin() + static_cast<std::ptrdiff_t>(i));
            if (fails(c)) {
                in = std::move(c);
                progress = true;
            } else {
                ++i;
            }
        }
        std::int64_t earliest = std::numeric_limits<std::int64_t>::max();
        for (const auto& x : in) {
            earliest = std::min(earliest, x.ts);
        }
        if (!in.empty() && earliest > 0) {
            auto c = in;
            for (auto& x : c) {
                x.ts -= earliest;
            }
            if (fails(c)) {
                in = std::move(c);
                progress = true;
            }
        }
        for (std::size_t i = 0; i < in.size(); ++i) {
            for (auto& c : simpler_at(f, in, i)) {
                if (fails(c)) {
                    in = std::move(c);
                    progress = true;
                    break;
                }
            }
        }
    }
    return in;
}

std::string report(family f, engine e, const params& p, const std::vector<input>& in, const verdict& v,
    std::size_t original_size, const std::string& origin) {
    std::ostringstream os;
    os << family_name(f) << " on " << engine_name(e) << ": eddy differs from the model (" << origin << ")\n"
       << "  " << describe(f, p) << "\n"
       << "  shrunk to " << in.size() << " of " << original_size
       << " inputs; per input (key@time=value), what eddy emitted and what the model expects"
       << (is_final(f) ? " (timestamps not compared)" : "") << ":\n";
    if (!v.error.empty()) {
        os << "  eddy threw: " << v.error << "\n";
    }
    if (!v.mismatch) {
        os << "  (the shrunk case agrees now: is eddy's output deterministic?)\n";
    }
    for (std::size_t i = 0; i < in.size(); ++i) {
        const bool ran = i < v.eddy.size();
        const bool differs = !ran || (i < v.model.size() && v.eddy[i] != v.model[i]);
        os << "  #" << i << " " << show(in[i], f) << (differs ? "    <-- differs" : "") << "\n"
           << "      eddy:  " << (ran ? show(v.eddy[i], f) : "(not reached)") << "\n"
           << "      model: " << (i < v.model.size() ? show(v.model[i], f) : "?") << "\n";
    }
    return os.str();
}

std::optional<std::uint64_t> env_number(const char* name) {
    const char* text = std::getenv(name);
    if (text == nullptr || *text == '\0') {
        return std::nullopt;
    }
    char* end = nullptr;
    const auto n = std::strtoull(text, &end, 10);
    if (*end != '\0') {
        throw std::invalid_argument(std::string(name) + " must be a number, got \"" + text + "\"");
    }
    return n;
}

#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__)
constexpr std::uint64_t default_cases = 150;
#else
constexpr std::uint64_t default_cases = 25; // unoptimized and sanitizer builds run many times slower
#endif

std::uint64_t case_seed(std::uint64_t base, family f, std::uint64_t index) {
    rng r(base ^ ((static_cast<std::uint64_t>(f) + 1) * 0xD6E8FEB86659FD93ULL));
    rng mixed(r.next() + index * 0x9E3779B97F4A7C15ULL);
    return mixed.next();
}

struct kind {
    family f;
    engine e;
};

[[maybe_unused]] void PrintTo(const kind& k, std::ostream* os) {
    *os << family_name(k.f) << " on " << engine_name(k.e);
}

std::vector<kind> all_kinds() {
    std::vector<kind> kinds;
    for (const family f : all_families) {
        for (const engine e : {engine::rocksdb, engine::in_memory}) {
            kinds.push_back({f, e});
        }
    }
    return kinds;
}

class WindowDifferentialTest : public ::testing::TestWithParam<kind> {};

TEST_P(WindowDifferentialTest, EddyEmitsWhatTheModelExpectsForRandomInputs) {
    const family f = GetParam().f;
    const engine e = GetParam().e;
    // Each --gtest_repeat round runs the next cases; both engines the same ones.
    static std::map<std::pair<family, engine>, std::uint64_t> rounds;
    const std::uint64_t round = rounds[{f, e}]++;
    const std::uint64_t base = env_number("EDDY_DIFF_SEED").value_or(1);
    const auto only = env_number("EDDY_DIFF_CASE_SEED");
    const std::uint64_t cases = only ? 1 : env_number("EDDY_DIFF_CASES").value_or(default_cases);
    int ambiguous = 0;
    for (std::uint64_t i = 0; i < cases; ++i) {
        const std::uint64_t seed = only ? *only : case_seed(base, f, round * cases + i);
        rng r(seed);
        const params p = random_params(f, r);
        const auto in = random_inputs(f, p, r);
        const verdict v = check(f, e, p, in);
        if (v.ambiguous) {
            ++ambiguous;
            continue;
        }
        if (!v.mismatch) {
            continue;
        }
        const auto minimal = shrink(f, e, p, in, env_number("EDDY_DIFF_SHRINK_SECONDS").value_or(5));
        std::ostringstream origin;
        origin << "EDDY_DIFF_CASE_SEED=" << seed << "; case " << round * cases + i << " of EDDY_DIFF_SEED=" << base;
        ADD_FAILURE() << report(f, e, p, minimal, check(f, e, p, minimal), in.size(), origin.str());
        return;
    }
    RecordProperty("cases", static_cast<int>(cases));
    RecordProperty("ambiguous_cases_skipped", ambiguous);
}

INSTANTIATE_TEST_SUITE_P(Families, WindowDifferentialTest, ::testing::ValuesIn(all_kinds()),
    [](const ::testing::TestParamInfo<kind>& info) {
        return std::string(family_name(info.param.f)) + "_" + engine_name(info.param.e);
    });

// ===========================================================================
// Regressions: minimal cases the differential test found, with exact outputs
// for eddy on both engines and for the model.

void expect_case(family f, const params& p, const std::vector<input>& in, const outputs& expected) {
    const outputs want = normalized(f, expected);
    const auto m = run_model(f, p, in);
    EXPECT_FALSE(m.ambiguous);
    EXPECT_EQ(normalized(f, m.out), want) << "the model";
    for (const engine e : {engine::rocksdb, engine::in_memory}) {
        outputs got;
        run_eddy(f, e, p, in, got);
        EXPECT_EQ(normalized(f, std::move(got)), want) << engine_name(e);
    }
}

TEST(WindowDifferentialRegressionTest, TimeWindowsClosingAtOneInputComeOutByStartThenKey) {
    params p;
    p.size = 10;
    p.advance = 10;
    expect_case(family::time_final, p, {{"c", 39, 1}, {"b", 39, 1}, {"a", 40, 1}},
        {{}, {}, {window_output("b", 30, 40, 1, 0), window_output("c", 30, 40, 1, 0)}});
}

TEST(WindowDifferentialRegressionTest, SessionsClosingAtOneInputComeOutByEndStartThenKey) {
    params p;
    p.gap = 10;
    p.grace = 16;
    expect_case(family::session_final, p, {{"c", 0, 1}, {"a", 0, 1}, {"a", 34, 1}},
        {{}, {}, {window_output("a", 0, 0, 1, 0), window_output("c", 0, 0, 1, 0)}});
}

TEST(WindowDifferentialRegressionTest, ARecordBridgingTwoSessionsDeletesBothThenEmitsTheMergedOne) {
    params p;
    p.gap = 5;
    p.grace = 2;
    expect_case(family::session_update, p, {{"a", 2, 1}, {"c", 17, 1}, {"a", 10, 1}, {"a", 6, 1}},
        {{window_output("a", 2, 2, 1, 2)}, {window_output("c", 17, 17, 1, 17)}, {window_output("a", 10, 10, 1, 10)},
            {window_output("a", 2, 2, std::nullopt, 2), window_output("a", 10, 10, std::nullopt, 10),
                window_output("a", 2, 10, 3, 10)}});
}

TEST(WindowDifferentialRegressionTest, ARecordInsideASessionUpdatesItWithoutADelete) {
    params p;
    p.gap = 10;
    p.grace = 100;
    expect_case(family::session_update, p, {{"a", 3, 1}, {"a", 7, 1}, {"a", 3, 1}},
        {{window_output("a", 3, 3, 1, 3)}, {window_output("a", 3, 3, std::nullopt, 3), window_output("a", 3, 7, 2, 7)},
            {window_output("a", 3, 7, 3, 7)}});
}

TEST(WindowDifferentialRegressionTest, AZeroJoinWindowJoinsRecordsOfTheSameTime) {
    params p; // of_time_difference_with_no_grace(0ms)
    expect_case(family::inner_join, p, {{"a", 0, 1, true}, {"a", 0, 2, false}},
        {{}, {{"a", -1, -1, joined_text(2, 1), 0}}});
}

} // namespace
