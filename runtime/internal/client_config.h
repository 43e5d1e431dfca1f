#pragma once

// librdkafka client settings from a streams_config: the connection and
// security settings every client shares, plus the settings under one prefix
// ("producer.", "consumer.", "admin.") with the prefix removed, as Kafka
// Streams passes them through.

#include <map>
#include <string>
#include <string_view>

#include <librdkafka/rdkafka.h>

#include "../streams_config.h"

namespace eddy::runtime::internal {

std::map<std::string, std::string> client_settings(const streams_config& config, std::string_view prefix);

// A client of `type` with `settings`; a setting librdkafka rejects is a
// config_error naming it. Takes ownership of `conf` when given (it may hold
// callbacks already).
rd_kafka_t* make_client(rd_kafka_type_t type, const std::map<std::string, std::string>& settings,
    rd_kafka_conf_t* conf = nullptr);

} // namespace eddy::runtime::internal
