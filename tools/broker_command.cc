// eddy broker: an embedded broker (librdkafka's mock cluster) with the
// topics asked for, in the foreground until SIGINT or SIGTERM. Its one line
// on stdout, "bootstrap.servers=<address>", is for scripts to read.

#include <charconv>
#include <csignal>
#include <cstdio>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <pthread.h>

#include <fmt/format.h>

#include "runtime/embedded_broker.h"
#include "tools/commands.h"

namespace eddy::tools {
namespace {

// What the mock cluster is asked for at most: librdkafka's mock aborts the
// process (inside its own allocation and thread start) well before
// --brokers 30000 or a topic of 100,000,000 partitions, so larger asks are a
// usage error here. A development broker needs no more.
constexpr int max_brokers = 32;
constexpr int max_partitions = 1000;

// "NAME" or "NAME:PARTITIONS" (a topic name cannot hold ':').
std::pair<std::string, int> parse_topic(const std::string& arg, int default_partitions) {
    auto colon = arg.rfind(':');
    std::string name = arg.substr(0, colon);
    int partitions = default_partitions;
    if (colon != std::string::npos) {
        std::string_view count(arg.data() + colon + 1, arg.size() - colon - 1);
        auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), partitions);
        if (count.empty() || ec != std::errc() || end != count.data() + count.size() || partitions < 1
            || partitions > max_partitions) {
            throw tool_error(fmt::format(
                "--topic {}: expected NAME or NAME:PARTITIONS with PARTITIONS from 1 to {}", arg, max_partitions));
        }
    }
    check_topic_name(name);
    return {name, partitions};
}

} // namespace

int run_broker(const broker_options& options) {
    if (options.brokers < 1 || options.brokers > max_brokers) {
        throw tool_error(fmt::format("--brokers {}: from 1 to {}", options.brokers, max_brokers));
    }
    if (options.default_partitions < 1 || options.default_partitions > max_partitions) {
        throw tool_error(fmt::format("--partitions {}: from 1 to {}", options.default_partitions, max_partitions));
    }
    std::vector<std::pair<std::string, int>> topics;
    std::set<std::string> names;
    for (const auto& arg : options.topics) {
        auto topic = parse_topic(arg, options.default_partitions);
        if (!names.insert(topic.first).second) {
            throw tool_error(fmt::format("--topic {}: topic {} is given twice", arg, topic.first));
        }
        topics.push_back(std::move(topic));
    }

    // Blocked before the broker starts its threads, which inherit the mask,
    // so that the signals wait for sigwait below instead of killing the
    // process halfway through a request.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    if (int rc = pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr); rc != 0) {
        throw tool_error(fmt::format("cannot block SIGINT and SIGTERM: {}", std::generic_category().message(rc)));
    }

    embedded_broker broker(options.brokers);
    for (const auto& [name, partitions] : topics) {
        broker.create_topic(name, partitions);
        logger()->info("topic created topic={} partitions={}", name, partitions);
    }
    fmt::print("bootstrap.servers={}\n", broker.bootstrap_servers());
    std::fflush(stdout);
    logger()->info("broker running bootstrap={} brokers={} topics={}", broker.bootstrap_servers(), options.brokers,
        topics.size());

    int signal = 0;
    if (int rc = sigwait(&stop_signals, &signal); rc != 0) {
        throw tool_error(fmt::format("sigwait: {}", std::generic_category().message(rc)));
    }
    logger()->info("broker stopping signal={}", signal == SIGINT ? "SIGINT" : "SIGTERM");
    return 0;
}

} // namespace eddy::tools
