// Writes dead-letter records for eddy_dlq_test.sh: each line of stdin
// becomes one record, built by eddy::make_dead_letter (the same function the
// dead_letter handler uses) or, for "plain" lines, a record without
// dead-letter headers. Fields are separated by '|':
//
//   dead|KEY|VALUE|CLASS|MESSAGE|SOURCE_TOPIC|PARTITION|OFFSET|NODE|ATTEMPTS|APP|TIME_MS|TIMESTAMP|H=V;H=V
//   plain|KEY|VALUE|H=V;H=V
//
// KEY and VALUE: text, "hex:0aff..." for bytes, or "\N" for null.
//
//   dlq_seed BOOTSTRAP TOPIC < records.txt

#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "operators/error_handlers.h"

namespace {

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> out;
    std::string::size_type start = 0;
    for (;;) {
        auto at = text.find(sep, start);
        out.push_back(text.substr(start, at - start));
        if (at == std::string::npos) {
            return out;
        }
        start = at + 1;
    }
}

std::optional<std::string> bytes(const std::string& field) {
    if (field == "\\N") {
        return std::nullopt;
    }
    if (field.starts_with("hex:")) {
        std::string out;
        for (std::size_t i = 4; i + 1 < field.size(); i += 2) {
            out += static_cast<char>(std::stoi(field.substr(i, 2), nullptr, 16));
        }
        return out;
    }
    return field;
}

eddy::headers parse_headers(const std::string& field) {
    eddy::headers hs;
    if (field.empty()) {
        return hs;
    }
    for (const auto& entry : split(field, ';')) {
        auto eq = entry.find('=');
        hs.add(entry.substr(0, eq), eq == std::string::npos ? std::nullopt : bytes(entry.substr(eq + 1)));
    }
    return hs;
}

int failures = 0;

void on_delivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* /*opaque*/) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::fprintf(stderr, "dlq_seed: delivery failed: %s\n", rd_kafka_err2str(m->err));
        ++failures;
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: dlq_seed BOOTSTRAP TOPIC < records\n");
        return 2;
    }
    const std::string topic = argv[2];
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err) != RD_KAFKA_CONF_OK) {
        std::fprintf(stderr, "dlq_seed: %s\n", err);
        return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (producer == nullptr) {
        std::fprintf(stderr, "dlq_seed: %s\n", err);
        return 1;
    }

    int count = 0;
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line.empty()) {
            continue;
        }
        const auto f = split(line, '|');
        eddy::raw_record out;
        try {
            if (f.at(0) == "dead" && f.size() == 14) {
                eddy::raw_record original{f[5], std::stoi(f[6]), std::stoll(f[7]), std::stoll(f[12]), bytes(f[1]),
                    bytes(f[2]), parse_headers(f[13])};
                const eddy::error_context ctx{f[10], f[8], f[3], f[4], original, std::stoll(f[11])};
                out = eddy::make_dead_letter(ctx, topic, std::stoi(f[9]));
            } else if (f.at(0) == "plain" && f.size() == 4) {
                out = {topic, 0, 0, 0, bytes(f[1]), bytes(f[2]), parse_headers(f[3])};
            } else {
                throw std::invalid_argument("wrong field count or kind");
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "dlq_seed: line %d: %s\n", count + 1, e.what());
            return 1;
        }
        rd_kafka_headers_t* hs = rd_kafka_headers_new(out.headers.size());
        for (const auto& h : out.headers) {
            rd_kafka_header_add(hs, h.key.data(), static_cast<ssize_t>(h.key.size()),
                h.value ? h.value->data() : nullptr, h.value ? static_cast<ssize_t>(h.value->size()) : 0);
        }
        const void* key = out.key ? static_cast<const void*>(out.key->data()) : nullptr;
        const std::size_t key_size = out.key ? out.key->size() : 0;
        void* value = out.value ? static_cast<void*>(out.value->data()) : nullptr;
        const std::size_t value_size = out.value ? out.value->size() : 0;
        auto e = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_VALUE(value, value_size),
            RD_KAFKA_V_TIMESTAMP(out.timestamp), RD_KAFKA_V_HEADERS(hs), RD_KAFKA_V_END);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_headers_destroy(hs);
            std::fprintf(stderr, "dlq_seed: produce: %s\n", rd_kafka_err2str(e));
            return 1;
        }
        ++count;
        // One at a time, so that offsets follow the lines' order.
        if (rd_kafka_flush(producer, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR || failures > 0) {
            std::fprintf(stderr, "dlq_seed: record %d not delivered\n", count);
            return 1;
        }
    }
    rd_kafka_destroy(producer);
    std::fprintf(stderr, "dlq_seed: %d records to %s\n", count, topic.c_str());
    return 0;
}
