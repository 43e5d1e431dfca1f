// Fuzzes decode_dead_letter_headers (operators/error_handlers.h). The input
// is a list of headers, each one byte choosing the key (one of the
// dead-letter keys or another), one byte of value length (255: a null
// value), then the value. Whatever decodes must come back the same from the
// headers make_dead_letter writes for it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "operators/error_handlers.h"
#include "serde/serde.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace h = eddy::dead_letter_headers;

constexpr std::array<std::string_view, 10> keys = {h::error_class, h::error_message, h::source_topic,
    h::source_partition, h::source_offset, h::processor_node, h::attempts, h::application_id, h::time, "trace"};

eddy::headers parse_headers(std::string_view in) {
    eddy::headers hs;
    while (in.size() >= 2) {
        const auto key = keys[static_cast<unsigned char>(in[0]) % keys.size()];
        const auto length = static_cast<unsigned char>(in[1]);
        in.remove_prefix(2);
        if (length == 255) {
            hs.add(std::string(key), std::nullopt);
            continue;
        }
        const auto value = in.substr(0, length);
        in.remove_prefix(value.size());
        hs.add(std::string(key), std::string(value));
    }
    return hs;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const eddy::headers hs = parse_headers(std::string_view(reinterpret_cast<const char*>(data), size));
    eddy::dead_letter_info info;
    try {
        info = eddy::decode_dead_letter_headers(hs);
    } catch (const eddy::serde_error&) {
        return 0;
    }
    const eddy::raw_record original{
        info.source_topic, info.source_partition, info.source_offset, 0, std::nullopt, std::nullopt, {}};
    const eddy::error_context ctx{
        info.application_id, info.processor_node, info.error_class, info.error_message, original, info.time_ms};
    const eddy::raw_record dead = eddy::make_dead_letter(ctx, "dlq", info.attempts);
    EDDY_FUZZ_CHECK(eddy::decode_dead_letter_headers(dead.headers) == info);
    return 0;
}
