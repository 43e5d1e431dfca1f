#include "operators/foreign_key_join.h"

#include <spdlog/logger.h>

#include "core/log.h"

namespace eddy::operators {

namespace {
constexpr std::uint64_t rotl(std::uint64_t x, int r) {
    return (x << r) | (x >> (64 - r));
}
constexpr std::uint64_t fmix(std::uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}
std::uint64_t load_le(std::string_view bytes, std::size_t at, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
    }
    return v;
}
} // namespace

value_hash murmur3_128(std::string_view bytes) {
    // Kafka Streams' seed for the foreign-key join's value hashes.
    constexpr std::uint64_t seed = 104729;
    constexpr std::uint64_t c1 = 0x87c37b91114253d5ULL;
    constexpr std::uint64_t c2 = 0x4cf5ad432745937fULL;
    std::uint64_t h1 = seed;
    std::uint64_t h2 = seed;
    const std::size_t blocks = bytes.size() / 16;
    for (std::size_t b = 0; b < blocks; ++b) {
        std::uint64_t k1 = load_le(bytes, b * 16, 8);
        std::uint64_t k2 = load_le(bytes, b * 16 + 8, 8);
        k1 *= c1;
        k1 = rotl(k1, 31);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;
        k2 *= c2;
        k2 = rotl(k2, 33);
        k2 *= c1;
        h2 ^= k2;
        h2 = rotl(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
    }
    const std::size_t tail = blocks * 16;
    const std::size_t rest = bytes.size() - tail;
    if (rest > 8) {
        std::uint64_t k2 = load_le(bytes, tail + 8, rest - 8);
        k2 *= c2;
        k2 = rotl(k2, 33);
        k2 *= c1;
        h2 ^= k2;
    }
    if (rest > 0) {
        std::uint64_t k1 = load_le(bytes, tail, std::min<std::size_t>(rest, 8));
        k1 *= c1;
        k1 = rotl(k1, 31);
        k1 *= c2;
        h1 ^= k1;
    }
    h1 ^= bytes.size();
    h2 ^= bytes.size();
    h1 += h2;
    h2 += h1;
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 += h2;
    h2 += h1;
    return {h1, h2};
}

namespace internal {

void put_hash(std::string& out, const std::optional<value_hash>& h) {
    out.push_back(h ? '\1' : '\0');
    if (h) {
        for (auto word : *h) {
            for (int shift = 56; shift >= 0; shift -= 8) {
                out.push_back(static_cast<char>((word >> shift) & 0xff));
            }
        }
    }
}

std::optional<value_hash> get_hash(std::string_view& bytes, const char* what) {
    if (bytes.empty()) {
        throw serde_error(std::string(what) + ": no hash flag");
    }
    const bool present = bytes[0] != '\0';
    bytes.remove_prefix(1);
    if (!present) {
        return std::nullopt;
    }
    if (bytes.size() < 16) {
        throw serde_error(std::string(what) + ": the value hash is cut short");
    }
    value_hash h{};
    for (std::size_t w = 0; w < 2; ++w) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            v = (v << 8) | static_cast<unsigned char>(bytes[w * 8 + i]);
        }
        h[w] = v;
    }
    bytes.remove_prefix(16);
    return h;
}

void log_null_foreign_key(const std::string& node, const std::optional<record_metadata>& where) {
    static const auto logger = module_logger("eddy.operators");
    if (where) {
        logger->warn("record skipped node={} reason=\"null foreign key\" topic={} partition={} offset={}", node,
            where->topic, where->partition, where->offset);
    } else {
        logger->warn("record skipped node={} reason=\"null foreign key\"", node);
    }
}

} // namespace internal
} // namespace eddy::operators
