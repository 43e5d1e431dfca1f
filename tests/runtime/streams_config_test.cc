// Settings kafka_streams checks before it touches a broker: a bad value fails
// the constructor with a config_error naming the setting (issue 14: an
// application.id of "../../esc-out" wrote RocksDB data outside state.dir; a
// negative commit.interval.ms ran; num.stream.threads=100000 was killed by
// the OOM killer with no message; unknown settings did nothing).

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
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
using ::testing::Not;

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

TEST(StreamsConfigTest, AnUnknownSettingIsRefusedNamingItAndTheNearestKnownOne) {
    EXPECT_THAT(refusal("comit.interval.ms", "100"),
        HasSubstr("unknown setting comit.interval.ms (did you mean commit.interval.ms?)"));
    EXPECT_THAT(refusal("num.stream.thread", "2"),
        HasSubstr("unknown setting num.stream.thread (did you mean num.stream.threads?)"));
    const auto far = refusal("totally.made.up", "1");
    EXPECT_THAT(far, HasSubstr("unknown setting totally.made.up;"));
    EXPECT_THAT(far, Not(HasSubstr("did you mean")));
    EXPECT_THAT(far, HasSubstr("consumer., producer. or admin. prefix"));
    // The value never shows: it could be a password under a misspelt name.
    const auto secret = refusal("sasl_password", "hunter2");
    EXPECT_THAT(secret, HasSubstr("unknown setting sasl_password"));
    EXPECT_THAT(secret, Not(HasSubstr("hunter2")));
}

TEST(StreamsConfigTest, KnownPrefixedAndSharedClientSettingsAreTaken) {
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{{"consumer.session.timeout.ms", "6000"},
             {"producer.linger.ms", "1"}, {"admin.request.timeout.ms", "5000"}, {"sasl.username", "todo"},
             {"ssl.ca.location", "/etc/ssl/certs/ca-certificates.crt"}, {"client.id", "todo"},
             {"statistics.interval.ms", "1000"}, {"errors.dead.letter.degraded.rate", "5"}}) {
        EXPECT_EQ(refusal(key, value), "") << key;
    }
}

// docs/running.md's configuration reference is the one generated from the
// settings' specs: the table between its two markers is
// streams_config::reference_markdown(), byte for byte.
TEST(StreamsConfigTest, TheConfigurationReferenceIsGeneratedFromTheSpecs) {
    const char* root = std::getenv("EDDY_SOURCE_ROOT");
    ASSERT_NE(root, nullptr) << "EDDY_SOURCE_ROOT names the source tree (meson test sets it)";
    std::ifstream in(std::string(root) + "/docs/running.md");
    ASSERT_TRUE(in) << root;
    std::stringstream text;
    text << in.rdbuf();
    const auto doc = text.str();
    const std::string begin = "<!-- generated from eddy::streams_config::specs(): edit them, not this table -->\n";
    const std::string end = "<!-- end of the generated table -->\n";
    const auto from = doc.find(begin);
    const auto to = doc.find(end);
    ASSERT_NE(from, std::string::npos) << "docs/running.md lacks the line " << begin;
    ASSERT_NE(to, std::string::npos) << "docs/running.md lacks the line " << end;
    const auto table = doc.substr(from + begin.size(), to - from - begin.size());
    const auto expected = eddy::streams_config::reference_markdown();
    if (table != expected) {
        std::ofstream("running-md-reference.expected") << expected;
        FAIL() << "docs/running.md's configuration reference differs from the specs; the table to put between the "
                  "markers is in running-md-reference.expected (in the build folder):\n"
               << expected;
    }
}

TEST(StreamsConfigTest, IntegerSettingsAreCheckedAgainstTheirSpec) {
    eddy::streams_config config{{"num.stream.threads", "3"}, {"poll.ms", "x"}};
    EXPECT_EQ(config.integer("num.stream.threads"), 3);
    EXPECT_EQ(config.integer("statestore.cache.max.bytes"), 10LL << 20) << "the spec's default";
    EXPECT_EQ(config.integer("commit.interval.ms", 100), 100) << "a default given where it depends on others";
    EXPECT_THROW((void)config.integer("poll.ms"), eddy::config_error);
    EXPECT_THROW((void)config.integer("no.such.setting"), std::out_of_range);
    EXPECT_THAT(refusal("embedded.brokers", "33"), HasSubstr("setting embedded.brokers=33 must be from 1 to 32"));
    EXPECT_THAT(refusal("buffered.records.per.partition", "1"),
        HasSubstr("setting buffered.records.per.partition=1 must be at least 2"));
    EXPECT_THAT(refusal("replication.factor", "0"), HasSubstr("setting replication.factor=0 must be from 1 to 32767"));
}

} // namespace
