#pragma once

// eddy's error for what librdkafka reports: a std::system_error whose code is
// librdkafka's error code in the "eddy.kafka" category, with a message that
// says what eddy was doing.

#include <string>
#include <system_error>

namespace eddy {

const std::error_category& kafka_category() noexcept;

class kafka_error : public std::system_error {
public:
    // `code` is an rd_kafka_resp_err_t value.
    kafka_error(int code, const std::string& what);

    // Whether retrying the same call may succeed.
    bool retriable() const noexcept { return _retriable; }
    kafka_error& set_retriable(bool r) noexcept {
        _retriable = r;
        return *this;
    }

private:
    bool _retriable = false;
};

} // namespace eddy
