#include "runtime/internal/client_config.h"

#include <array>

#include <fmt/format.h>

namespace eddy::runtime::internal {

std::map<std::string, std::string> client_settings(const streams_config& config, std::string_view prefix) {
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : config.settings()) {
        if (streams_config::is_shared_client_setting(key)) {
            out[key] = value;
        }
    }
    for (const auto& [key, value] : config.settings()) {
        if (key.size() > prefix.size() && key.starts_with(prefix)) {
            out[key.substr(prefix.size())] = value;
        }
    }
    return out;
}

rd_kafka_t* make_client(rd_kafka_type_t type, const std::map<std::string, std::string>& settings,
    rd_kafka_conf_t* conf) {
    std::array<char, 512> err{};
    if (conf == nullptr) {
        conf = rd_kafka_conf_new();
    }
    for (const auto& [key, value] : settings) {
        if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err.data(), err.size()) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            // Secrets (passwords, keys) are not shown.
            const bool secret = key.find("password") != std::string::npos || key.find("secret") != std::string::npos
                || key.find(".key") != std::string::npos;
            throw config_error(fmt::format(
                "setting {}={} is refused by the Kafka client: {}", key, secret ? "(hidden)" : value, err.data()));
        }
    }
    rd_kafka_t* rk = rd_kafka_new(type, conf, err.data(), err.size());
    if (rk == nullptr) {
        rd_kafka_conf_destroy(conf);
        throw config_error(fmt::format("cannot create a Kafka client: {}", err.data()));
    }
    return rk;
}

} // namespace eddy::runtime::internal
