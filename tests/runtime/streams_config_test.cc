// Settings kafka_streams checks before it touches a broker: a bad value fails
// the constructor with a config_error naming the setting (issue 14: an
// application.id of "../../esc-out" wrote RocksDB data outside state.dir; a
// negative commit.interval.ms ran; num.stream.threads=100000 was killed by
// the OOM killer with no message; unknown settings did nothing).

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
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

// docs/running.md's configuration reference lists exactly the settings eddy
// reads.
TEST(StreamsConfigTest, TheConfigurationReferenceListsEverySettingEddyReads) {
    const char* root = std::getenv("EDDY_SOURCE_ROOT");
    ASSERT_NE(root, nullptr) << "EDDY_SOURCE_ROOT names the source tree (meson test sets it)";
    std::ifstream in(std::string(root) + "/docs/running.md");
    ASSERT_TRUE(in) << root;
    std::stringstream text;
    text << in.rdbuf();
    const auto doc = text.str();
    const auto start = doc.find("## Configuration reference");
    ASSERT_NE(start, std::string::npos);
    std::set<std::string> listed;
    std::istringstream lines(doc.substr(start));
    std::string line;
    const std::regex name("`([^`]+)`");
    while (std::getline(lines, line)) {
        if (!line.starts_with("| `")) {
            if (!listed.empty() && line.empty()) {
                break; // the table's end
            }
            continue;
        }
        const auto first_cell = line.substr(1, line.find('|', 1) - 1);
        for (std::sregex_iterator it(first_cell.begin(), first_cell.end(), name), end; it != end; ++it) {
            listed.insert((*it)[1]);
        }
    }
    for (auto known : eddy::streams_config::known_settings()) {
        EXPECT_TRUE(listed.contains(std::string(known))) << known << " is missing from docs/running.md";
    }
    for (const auto& n : listed) {
        if (n.find('*') != std::string::npos) {
            continue;
        }
        const auto& known = eddy::streams_config::known_settings();
        EXPECT_TRUE(std::find(known.begin(), known.end(), n) != known.end()
            || eddy::streams_config::is_shared_client_setting(n))
            << n << " is listed in docs/running.md but eddy does not read it";
    }
}

} // namespace
