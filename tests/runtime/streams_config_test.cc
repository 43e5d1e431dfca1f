// Settings kafka_streams checks before it touches a broker: a bad value fails
// the constructor with a config_error naming the setting (issue 14: an
// application.id of "../../esc-out" wrote RocksDB data outside state.dir; a
// negative commit.interval.ms ran; num.stream.threads=100000 was killed by
// the OOM killer with no message).

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/kafka_error.h"
#include "runtime/kafka_streams.h"
#include "runtime/streams_config.h"
#include "topology/streams_builder.h"

namespace {

using ::testing::HasSubstr;

eddy::topology pass_through() {
    eddy::streams_builder builder;
    builder.stream<std::string, std::string>("in").to("out");
    return builder.build();
}

// The constructor's config_error for `key`=`value`, or "" when it took it.
std::string refusal(const std::string& key, const std::string& value) {
    eddy::streams_config config{{"application.id", "config-test"}, {"bootstrap.servers", "127.0.0.1:1"}};
    config.set(key, value);
    try {
        eddy::kafka_streams app(pass_through(), config);
    } catch (const eddy::config_error& e) {
        return e.what();
    }
    return "";
}

TEST(StreamsConfigTest, AnApplicationIdThatIsNotATopicNameIsRefusedNamingTheSetting) {
    for (const std::string& id :
        std::vector<std::string>{"../../esc-out", "a/b", "..", ".", "has space", "é", std::string(201, 'a')}) {
        EXPECT_THAT(refusal("application.id", id), HasSubstr("setting application.id=" + id + " is not a valid id"))
            << id;
    }
}

TEST(StreamsConfigTest, LegalApplicationIdsAreTaken) {
    for (const std::string& id : std::vector<std::string>{"todo-backbone", "app_1.v2", std::string(200, 'a')}) {
        eddy::streams_config config{{"application.id", id}};
        EXPECT_EQ(config.application_id_checked(), id);
    }
}

TEST(StreamsConfigTest, TimeSettingsBelowTheirLeastAreRefused) {
    EXPECT_THAT(refusal("commit.interval.ms", "-100"), HasSubstr("setting commit.interval.ms=-100 must be at least 0"));
    EXPECT_THAT(refusal("poll.ms", "-1"), HasSubstr("setting poll.ms=-1 must be at least 0"));
    EXPECT_THAT(refusal("max.task.idle.ms", "-5"), HasSubstr("setting max.task.idle.ms=-5 must be at least 0"));
    EXPECT_THAT(
        refusal("transaction.timeout.ms", "0"), HasSubstr("setting transaction.timeout.ms=0 must be at least 1"));
}

TEST(StreamsConfigTest, ThreadCountsOutsideOneTo256AreRefused) {
    EXPECT_THAT(refusal("num.stream.threads", "100000"), HasSubstr("setting num.stream.threads=100000 must be from 1 to 256"));
    EXPECT_THAT(refusal("num.stream.threads", "0"), HasSubstr("setting num.stream.threads=0 must be from 1 to 256"));
}

} // namespace
