#include "runtime/admin.h"

#include <array>
#include <stdexcept>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include "runtime/internal/client_config.h"
#include "runtime/internal/log.h"
#include "runtime/internal/rdkafka_handles.h"
#include "runtime/kafka_error.h"

namespace eddy {

using runtime::internal::admin_options_ptr;
using runtime::internal::event_ptr;
using runtime::internal::metadata_ptr;
using runtime::internal::queue_ptr;
using runtime::internal::rdkafka_ptr;

struct admin_client::impl {
    runtime::internal::client_ptr rk;
    std::string bootstrap;
    std::chrono::milliseconds timeout;
};

admin_client::admin_client(const streams_config& config, std::chrono::milliseconds timeout)
    : _impl(std::make_unique<impl>()) {
    _impl->bootstrap = config.required(streams_config::bootstrap_servers);
    _impl->timeout = timeout;
    auto settings = runtime::internal::client_settings(config, "admin.");
    _impl->rk.reset(runtime::internal::make_client(RD_KAFKA_PRODUCER, settings));
}

admin_client::~admin_client() = default;

void admin_client::create_topics(const std::vector<topic_spec>& topics) {
    if (topics.empty()) {
        return;
    }
    std::array<char, 512> err{};
    std::vector<rdkafka_ptr<rd_kafka_NewTopic_t>> owned;
    std::vector<rd_kafka_NewTopic_t*> specs;
    for (const auto& t : topics) {
        auto* nt = rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, t.replication_factor, err.data(), err.size());
        if (nt == nullptr) {
            throw kafka_error(RD_KAFKA_RESP_ERR__INVALID_ARG, fmt::format("topic {}: {}", t.name, err.data()));
        }
        owned.emplace_back(nt);
        for (const auto& [k, v] : t.configs) {
            rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
        }
        specs.push_back(nt);
    }
    const queue_ptr queue(rd_kafka_queue_new(_impl->rk.get()));
    const admin_options_ptr options(rd_kafka_AdminOptions_new(_impl->rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS));
    rd_kafka_AdminOptions_set_request_timeout(
        options.get(), static_cast<int>(_impl->timeout.count()), err.data(), err.size());
    rd_kafka_CreateTopics(_impl->rk.get(), specs.data(), specs.size(), options.get(), queue.get());
    const event_ptr event(rd_kafka_queue_poll(queue.get(), static_cast<int>(_impl->timeout.count()) + 2000));
    if (event == nullptr) {
        throw kafka_error(RD_KAFKA_RESP_ERR__TIMED_OUT,
            fmt::format("creating topics on {}: no answer within {} ms", _impl->bootstrap, _impl->timeout.count()));
    }
    if (auto e = rd_kafka_event_error(event.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw kafka_error(
            e, fmt::format("creating topics on {}: {}", _impl->bootstrap, rd_kafka_event_error_string(event.get())));
    }
    std::size_t n = 0;
    const auto* result = rd_kafka_event_CreateTopics_result(event.get());
    const auto** results = rd_kafka_CreateTopics_result_topics(result, &n);
    for (std::size_t i = 0; i < n; ++i) {
        auto e = rd_kafka_topic_result_error(results[i]);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            throw kafka_error(e, fmt::format("cannot create topic {}: {}", rd_kafka_topic_result_name(results[i]),
                rd_kafka_topic_result_error_string(results[i]) ? rd_kafka_topic_result_error_string(results[i]) : ""));
        }
        runtime::internal::logger()->info("topic ready topic={} created={}", rd_kafka_topic_result_name(results[i]),
            e == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
}

std::map<std::string, topic_description> admin_client::list_topics() {
    const rd_kafka_metadata_t* md = nullptr;
    auto e = rd_kafka_metadata(_impl->rk.get(), 1, nullptr, &md, static_cast<int>(_impl->timeout.count()));
    const metadata_ptr owned(md);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // kafka_error appends librdkafka's text for `e`.
        throw kafka_error(
            e, fmt::format("cannot reach Kafka at {} ({})", _impl->bootstrap, streams_config::bootstrap_servers));
    }
    std::map<std::string, topic_description> out;
    for (int i = 0; i < md->topic_cnt; ++i) {
        const auto& t = md->topics[i];
        std::string name = t.topic;
        if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR || name.starts_with("__")) {
            continue;
        }
        topic_description d{name, t.partition_cnt, {}};
        d.leaders.resize(static_cast<std::size_t>(t.partition_cnt), -1);
        for (int p = 0; p < t.partition_cnt; ++p) {
            if (t.partitions[p].id >= 0 && t.partitions[p].id < t.partition_cnt) {
                d.leaders[static_cast<std::size_t>(t.partitions[p].id)] = t.partitions[p].leader;
            }
        }
        out.emplace(name, std::move(d));
    }
    return out;
}

std::optional<topic_description> admin_client::describe_topic(const std::string& topic) {
    auto all = list_topics();
    auto it = all.find(topic);
    return it == all.end() ? std::nullopt : std::optional<topic_description>(it->second);
}

std::optional<int> admin_client::partition_count(const std::string& topic) {
    auto d = describe_topic(topic);
    return d ? std::optional<int>(d->partitions) : std::nullopt;
}

std::map<std::string, std::string> admin_client::topic_configs(const std::string& topic) {
    std::array<char, 512> err{};
    const rdkafka_ptr<rd_kafka_ConfigResource_t> resource(
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
    const queue_ptr queue(rd_kafka_queue_new(_impl->rk.get()));
    const admin_options_ptr options(rd_kafka_AdminOptions_new(_impl->rk.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS));
    rd_kafka_AdminOptions_set_request_timeout(
        options.get(), static_cast<int>(_impl->timeout.count()), err.data(), err.size());
    rd_kafka_ConfigResource_t* resources_asked[] = {resource.get()};
    rd_kafka_DescribeConfigs(_impl->rk.get(), resources_asked, 1, options.get(), queue.get());
    const event_ptr event(rd_kafka_queue_poll(queue.get(), static_cast<int>(_impl->timeout.count()) + 2000));
    if (event == nullptr) {
        throw kafka_error(RD_KAFKA_RESP_ERR__TIMED_OUT, fmt::format("describing the configs of topic {} on {}: no answer "
                                                                    "within {} ms",
                                                            topic, _impl->bootstrap, _impl->timeout.count()));
    }
    if (auto e = rd_kafka_event_error(event.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw kafka_error(
            e, fmt::format("describing the configs of topic {}: {}", topic, rd_kafka_event_error_string(event.get())));
    }
    std::map<std::string, std::string> out;
    std::size_t n = 0;
    const auto* result = rd_kafka_event_DescribeConfigs_result(event.get());
    const auto** resources = rd_kafka_DescribeConfigs_result_resources(result, &n);
    for (std::size_t i = 0; i < n; ++i) {
        if (auto e = rd_kafka_ConfigResource_error(resources[i]); e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            const char* why = rd_kafka_ConfigResource_error_string(resources[i]);
            throw kafka_error(e, fmt::format("describing the configs of topic {}: {}", topic, why ? why : ""));
        }
        std::size_t count = 0;
        const auto** entries = rd_kafka_ConfigResource_configs(resources[i], &count);
        for (std::size_t j = 0; j < count; ++j) {
            const char* value = rd_kafka_ConfigEntry_value(entries[j]);
            out[rd_kafka_ConfigEntry_name(entries[j])] = value ? value : "";
        }
    }
    return out;
}

} // namespace eddy
