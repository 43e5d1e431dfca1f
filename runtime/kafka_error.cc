#include "runtime/kafka_error.h"

#include <librdkafka/rdkafka.h>

namespace eddy {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "eddy.kafka"; }
    std::string message(int code) const override {
        return rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(code));
    }
};

} // namespace

const std::error_category& kafka_category() noexcept {
    static const category c;
    return c;
}

kafka_error::kafka_error(int code, const std::string& what) : std::system_error(code, kafka_category(), what) {}

} // namespace eddy
