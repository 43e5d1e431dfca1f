#include "tools/dlq_filter.h"

#include <charconv>
#include <chrono>
#include <limits>
#include <system_error>

#include <fmt/format.h>

#include "serde/internal/json_io.h"
#include "tools/kafka_client.h"

namespace eddy::tools {
namespace {

// A decimal integer that is the whole of `text`, or nullopt.
template<typename T>
std::optional<T> whole_integer(std::string_view text) {
    T out{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return out;
}

// Reads exactly `digits` decimal digits at `pos`, moving past them.
std::optional<int> fixed_digits(std::string_view text, std::size_t& pos, std::size_t digits) {
    if (pos + digits > text.size()) {
        return std::nullopt;
    }
    int out = 0;
    for (std::size_t i = 0; i < digits; ++i) {
        char c = text[pos + i];
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        out = out * 10 + (c - '0');
    }
    pos += digits;
    return out;
}

// The ISO-8601 forms parse_time documents, or nullopt.
std::optional<std::int64_t> parse_iso8601(std::string_view text) {
    using namespace std::chrono;
    std::size_t pos = 0;
    auto year = fixed_digits(text, pos, 4);
    if (!year || pos >= text.size() || text[pos++] != '-') {
        return std::nullopt;
    }
    auto month = fixed_digits(text, pos, 2);
    if (!month || pos >= text.size() || text[pos++] != '-') {
        return std::nullopt;
    }
    auto day = fixed_digits(text, pos, 2);
    if (!day) {
        return std::nullopt;
    }
    const year_month_day date{std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
        std::chrono::day(static_cast<unsigned>(*day))};
    if (!date.ok()) {
        return std::nullopt;
    }
    std::int64_t ms = duration_cast<milliseconds>(sys_days(date).time_since_epoch()).count();
    if (pos == text.size()) {
        return ms;
    }
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') {
        return std::nullopt;
    }
    ++pos;
    auto hour = fixed_digits(text, pos, 2);
    if (!hour || pos >= text.size() || text[pos++] != ':') {
        return std::nullopt;
    }
    auto minute = fixed_digits(text, pos, 2);
    if (!minute || *hour > 23 || *minute > 59) {
        return std::nullopt;
    }
    int second = 0;
    int millis = 0;
    if (pos < text.size() && text[pos] == ':') {
        ++pos;
        auto s = fixed_digits(text, pos, 2);
        if (!s || *s > 59) {
            return std::nullopt;
        }
        second = *s;
        if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
            ++pos;
            // Up to nanoseconds; what is finer than a millisecond is dropped.
            std::size_t digits = 0;
            int scale = 100;
            while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && digits < 9) {
                millis += (text[pos] - '0') * scale;
                scale /= 10;
                ++pos;
                ++digits;
            }
            if (digits == 0) {
                return std::nullopt;
            }
        }
    }
    ms += ((*hour * 60LL + *minute) * 60 + second) * 1000 + millis;
    if (pos == text.size() || ((text[pos] == 'Z' || text[pos] == 'z') && pos + 1 == text.size())) {
        return ms;
    }
    if (text[pos] != '+' && text[pos] != '-') {
        return std::nullopt;
    }
    const int sign = text[pos++] == '+' ? 1 : -1;
    auto zone_hours = fixed_digits(text, pos, 2);
    if (!zone_hours) {
        return std::nullopt;
    }
    if (pos < text.size() && text[pos] == ':') {
        ++pos;
    }
    auto zone_minutes = fixed_digits(text, pos, 2);
    if (!zone_minutes || pos != text.size() || *zone_hours > 23 || *zone_minutes > 59) {
        return std::nullopt;
    }
    // 08:30+01:00 is 07:30 UTC.
    return ms - sign * (*zone_hours * 60LL + *zone_minutes) * 60'000;
}

} // namespace

bool dlq_filter::on_headers() const noexcept {
    return error || source_topic || node || since_ms || until_ms;
}

bool dlq_filter::matches(std::int32_t record_partition, std::int64_t record_offset,
    const dead_letter_info* info) const {
    if (partition && *partition != record_partition) {
        return false;
    }
    if ((min_offset && record_offset < *min_offset) || (max_offset && record_offset > *max_offset)) {
        return false;
    }
    if (info == nullptr) {
        return !on_headers();
    }
    if (error && info->error_class.find(*error) == std::string::npos
        && info->error_message.find(*error) == std::string::npos) {
        return false;
    }
    if (source_topic && info->source_topic != *source_topic) {
        return false;
    }
    if (node && info->processor_node != *node) {
        return false;
    }
    if ((since_ms && info->time_ms < *since_ms) || (until_ms && info->time_ms >= *until_ms)) {
        return false;
    }
    return true;
}

void apply_where(dlq_filter& filter, std::string_view condition) {
    const auto eq = condition.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        throw tool_error(fmt::format("--where {}: expected KEY=VALUE with KEY one of error, source-topic, node, "
                                     "since, until, partition, offset",
            condition));
    }
    const std::string_view key = condition.substr(0, eq);
    const std::string_view value = condition.substr(eq + 1);
    const std::string what = fmt::format("--where {}", condition);
    if (key == "error") {
        filter.error = std::string(value);
    } else if (key == "source-topic") {
        filter.source_topic = std::string(value);
    } else if (key == "node") {
        filter.node = std::string(value);
    } else if (key == "since") {
        filter.since_ms = parse_time(value, what);
    } else if (key == "until") {
        filter.until_ms = parse_time(value, what);
    } else if (key == "partition") {
        auto p = whole_integer<std::int32_t>(value);
        if (!p || *p < 0) {
            throw tool_error(fmt::format("{}: expected a partition number", what));
        }
        filter.partition = *p;
    } else if (key == "offset") {
        // N, or FIRST-LAST (both inclusive).
        const auto dash = value.find('-');
        auto first = whole_integer<std::int64_t>(value.substr(0, dash));
        auto last = dash == std::string_view::npos ? first : whole_integer<std::int64_t>(value.substr(dash + 1));
        if (!first || !last || *first < 0 || *last < 0) {
            throw tool_error(fmt::format("{}: expected an offset N or a range FIRST-LAST", what));
        }
        filter.min_offset = *first;
        filter.max_offset = *last;
    } else {
        throw tool_error(fmt::format(
            "{}: unknown key {}: one of error, source-topic, node, since, until, partition, offset", what, key));
    }
}

void check_filter(const dlq_filter& filter) {
    if (filter.since_ms && filter.until_ms && *filter.since_ms >= *filter.until_ms) {
        throw tool_error(fmt::format("--since {} is not before --until {}: no record can match",
            format_time(*filter.since_ms), format_time(*filter.until_ms)));
    }
    if (filter.min_offset && filter.max_offset && *filter.min_offset > *filter.max_offset) {
        throw tool_error(fmt::format(
            "offset range {}-{} is backwards: no record can match", *filter.min_offset, *filter.max_offset));
    }
}

namespace {

// 9999-12-31T23:59:59.999Z: the last time ISO-8601's four-digit years show.
constexpr std::int64_t last_time_ms = 253'402'300'799'999;
// 0001-01-01T00:00:00.000Z.
constexpr std::int64_t first_time_ms = -62'135'596'800'000;

} // namespace

std::int64_t parse_time(std::string_view text, std::string_view what) {
    if (auto ms = whole_integer<std::int64_t>(text); ms && *ms >= 0) {
        if (*ms > last_time_ms) {
            throw tool_error(fmt::format("{}: {} is past 9999-12-31 (at most {} epoch milliseconds)", what, text,
                last_time_ms));
        }
        return *ms;
    }
    if (auto ms = parse_iso8601(text)) {
        return *ms;
    }
    throw tool_error(fmt::format("{}: \"{}\" is not a time: epoch milliseconds (1700000000000) or ISO-8601 "
                                 "(2026-12-01, 2026-12-01T08:30:00Z, 2026-12-01T09:30:00.250+01:00)",
        what, text));
}

std::string format_time(std::int64_t epoch_ms) {
    using namespace std::chrono;
    // A header can hold any number: beyond the calendar's years it shows as
    // it is (it printed year -6911 for int64's largest).
    if (epoch_ms < first_time_ms || epoch_ms > last_time_ms) {
        return fmt::format("{}ms", epoch_ms);
    }
    const sys_time<milliseconds> t{milliseconds(epoch_ms)};
    const auto day = floor<days>(t);
    const year_month_day date{day};
    const hh_mm_ss clock{t - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(date.year()),
        static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), clock.hours().count(),
        clock.minutes().count(), clock.seconds().count(), clock.subseconds().count());
}

bool is_printable_utf8(std::string_view bytes) {
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
                return false;
            }
            ++i;
            continue;
        }
        std::size_t length = 0;
        std::uint32_t code = 0;
        if ((c & 0xe0) == 0xc0) {
            length = 2;
            code = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            length = 3;
            code = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            length = 4;
            code = c & 0x07;
        } else {
            return false;
        }
        if (i + length > bytes.size()) {
            return false;
        }
        for (std::size_t k = 1; k < length; ++k) {
            const auto cc = static_cast<unsigned char>(bytes[i + k]);
            if ((cc & 0xc0) != 0x80) {
                return false;
            }
            code = (code << 6) | (cc & 0x3f);
        }
        // Overlong forms, surrogates, beyond U+10FFFF, and the C1 controls.
        static constexpr std::uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (code < least[length] || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff
            || (code >= 0x80 && code <= 0x9f)) {
            return false;
        }
        i += length;
    }
    return true;
}

rendered_bytes render_bytes(std::string_view bytes) {
    if (is_printable_utf8(bytes)) {
        return {std::string(bytes), "utf8"};
    }
    return {serdes::internal::base64_encode(bytes), "base64"};
}

} // namespace eddy::tools
