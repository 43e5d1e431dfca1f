#pragma once

// The configuration of an application, as Kafka Streams' StreamsConfig: a
// map of string settings with typed getters that reject bad values with a
// message naming the setting.
//
//   eddy::streams_config config;
//   config.set(eddy::streams_config::application_id, "todo-audit");

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace eddy {

class deserialization_exception_handler;
class processing_exception_handler;
class production_exception_handler;

// A setting that is missing or has a value eddy cannot use.
class config_error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// One setting eddy reads, declared once: docs/running.md's configuration
// reference is generated from these (streams_config::reference_markdown(),
// checked by a test).
struct setting_spec {
    std::string_view name;
    // An integer, taken from `least` to `most`, `default_value` when unset.
    bool integer = false;
    std::int64_t least = 0;
    std::int64_t most = std::numeric_limits<std::int64_t>::max();
    std::int64_t default_value = 0;
    // The default as the reference shows it ("" for none), and one line of
    // what the setting does.
    std::string_view default_text;
    std::string_view meaning;
};

class streams_config {
public:
    static constexpr std::string_view application_id = "application.id";
    static constexpr std::string_view bootstrap_servers = "bootstrap.servers";
    // log_and_fail (default), log_and_continue or dead_letter.
    static constexpr std::string_view deserialization_exception_handler = "deserialization.exception.handler";
    // log_and_fail (default), log_and_continue or dead_letter, for a
    // processor that throws (KIP-1033) and a record a sink cannot write.
    static constexpr std::string_view processing_exception_handler = "processing.exception.handler";
    static constexpr std::string_view production_exception_handler = "production.exception.handler";
    // Where the dead_letter handlers write; created on start.
    static constexpr std::string_view dead_letter_topic = "errors.dead.letter.queue.topic.name";
    // Dead letters per minute above which the app's health is degraded
    // (default 60; 0: never).
    static constexpr std::string_view dead_letter_degraded_rate = "errors.dead.letter.degraded.rate";

    streams_config() = default;
    streams_config(std::initializer_list<std::pair<const std::string, std::string>> settings)
        : _settings(settings) {}

    streams_config& set(std::string_view key, std::string value);
    std::optional<std::string> get(std::string_view key) const;
    std::string get_or(std::string_view key, std::string fallback) const;
    // Throws config_error when missing or empty.
    std::string required(std::string_view key) const;
    // application.id, checked: it names topics, the consumer group and a
    // folder under state.dir, so it takes only Kafka's topic characters
    // (letters, digits, '.', '_', '-'), 1 to 200 of them, and is not "." or
    // ".."; config_error naming the setting otherwise (or when missing).
    std::string application_id_checked() const;
    std::int64_t get_int(std::string_view key, std::int64_t fallback) const;

    // Handlers of your own, in code; each wins over its setting above.
    //   config.set_processing_exception_handler(std::make_shared<my_handler>());
    streams_config& set_deserialization_exception_handler(std::shared_ptr<eddy::deserialization_exception_handler> h);
    streams_config& set_processing_exception_handler(std::shared_ptr<eddy::processing_exception_handler> h);
    streams_config& set_production_exception_handler(std::shared_ptr<eddy::production_exception_handler> h);

    // The handler set in code, else the one the settings name (log_and_fail
    // when unset); config_error for an unknown name, or dead_letter without
    // errors.dead.letter.queue.topic.name.
    std::shared_ptr<eddy::deserialization_exception_handler> make_deserialization_handler() const;
    std::shared_ptr<eddy::processing_exception_handler> make_processing_handler() const;
    std::shared_ptr<eddy::production_exception_handler> make_production_handler() const;

    const std::map<std::string, std::string, std::less<>>& settings() const noexcept { return _settings; }

    // Every setting eddy itself reads. A Kafka client's own settings go with
    // the consumer., producer. or admin. prefix, or, for those every client
    // shares (is_shared_client_setting), without one.
    static const std::vector<setting_spec>& specs();
    // The spec of a setting of specs(); std::out_of_range for another name.
    static const setting_spec& spec(std::string_view name);
    // The configuration reference of docs/running.md, as Markdown: a row
    // per spec, then the client settings.
    static std::string reference_markdown();
    // An integer setting of specs(), checked against its range: its value,
    // else its default (or `fallback`, for a default that depends on other
    // settings); config_error naming it when it is no integer or out of
    // range.
    std::int64_t integer(std::string_view name) const;
    std::int64_t integer(std::string_view name, std::int64_t fallback) const;
    // bootstrap.servers, client.id, security.protocol, sasl.*, ssl.*, ...:
    // passed as they are to every client.
    static bool is_shared_client_setting(std::string_view key);
    // config_error naming the first setting that eddy does not read and no
    // client takes (a misspelt name did nothing before), with the known name
    // nearest to it when one is close, or an integer setting out of its
    // spec's range; kafka_streams checks at construction.
    void check_known() const;

private:
    std::map<std::string, std::string, std::less<>> _settings;
    std::shared_ptr<eddy::deserialization_exception_handler> _deserialization_handler;
    std::shared_ptr<eddy::processing_exception_handler> _processing_handler;
    std::shared_ptr<eddy::production_exception_handler> _production_handler;
};

} // namespace eddy
