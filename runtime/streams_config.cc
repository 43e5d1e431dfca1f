#include "runtime/streams_config.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "operators/error_handlers.h"

namespace eddy {

streams_config& streams_config::set(std::string_view key, std::string value) {
    _settings.insert_or_assign(std::string(key), std::move(value));
    return *this;
}

std::optional<std::string> streams_config::get(std::string_view key) const {
    auto it = _settings.find(key);
    return it == _settings.end() ? std::nullopt : std::optional<std::string>(it->second);
}

std::string streams_config::get_or(std::string_view key, std::string fallback) const {
    auto v = get(key);
    return v ? *v : std::move(fallback);
}

std::string streams_config::required(std::string_view key) const {
    auto v = get(key);
    if (!v || v->empty()) {
        throw config_error(fmt::format("missing required setting {}", key));
    }
    return *v;
}

std::string streams_config::application_id_checked() const {
    auto id = required(application_id);
    const bool legal = std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
            || c == '-';
    });
    if (!legal || id.size() > 200 || id == "." || id == "..") {
        throw config_error(fmt::format("setting {}={} is not a valid id: 1 to 200 letters, digits, '.', '_' or '-', "
                                       "not \".\" or \"..\" (it names topics, the consumer group and a folder under "
                                       "state.dir)",
            application_id, id));
    }
    return id;
}

std::int64_t streams_config::get_int(std::string_view key, std::int64_t fallback) const {
    auto v = get(key);
    if (!v) {
        return fallback;
    }
    std::int64_t out = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (ec != std::errc() || end != v->data() + v->size()) {
        throw config_error(fmt::format("setting {}={} is not an integer", key, *v));
    }
    return out;
}

namespace {

// The built-in handler the setting `key` names.
std::shared_ptr<any_exception_handler> builtin_handler(const streams_config& config, std::string_view key) {
    auto name = config.get_or(key, "log_and_fail");
    if (name == "log_and_fail") {
        return handlers::log_and_fail();
    }
    if (name == "log_and_continue") {
        return handlers::log_and_continue();
    }
    if (name == "dead_letter") {
        auto topic = config.get(streams_config::dead_letter_topic);
        if (!topic || topic->empty()) {
            throw config_error(fmt::format(
                "setting {}=dead_letter needs {} (the dead-letter topic)", key, streams_config::dead_letter_topic));
        }
        return handlers::dead_letter(*topic);
    }
    throw config_error(fmt::format("setting {}={} is not one of log_and_fail, log_and_continue, dead_letter", key, name));
}

} // namespace

streams_config& streams_config::set_deserialization_exception_handler(
    std::shared_ptr<eddy::deserialization_exception_handler> h) {
    _deserialization_handler = std::move(h);
    return *this;
}

streams_config& streams_config::set_processing_exception_handler(std::shared_ptr<eddy::processing_exception_handler> h) {
    _processing_handler = std::move(h);
    return *this;
}

streams_config& streams_config::set_production_exception_handler(std::shared_ptr<eddy::production_exception_handler> h) {
    _production_handler = std::move(h);
    return *this;
}

std::shared_ptr<eddy::deserialization_exception_handler> streams_config::make_deserialization_handler() const {
    if (_deserialization_handler) {
        return _deserialization_handler;
    }
    return builtin_handler(*this, deserialization_exception_handler);
}

std::shared_ptr<eddy::processing_exception_handler> streams_config::make_processing_handler() const {
    if (_processing_handler) {
        return _processing_handler;
    }
    return builtin_handler(*this, processing_exception_handler);
}

std::shared_ptr<eddy::production_exception_handler> streams_config::make_production_handler() const {
    if (_production_handler) {
        return _production_handler;
    }
    return builtin_handler(*this, production_exception_handler);
}

} // namespace eddy
