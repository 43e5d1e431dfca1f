#pragma once

// A collector that passes what an exception handler sends on to another
// collector, noting that it sent something (a dead letter): the nodes and
// the stream thread's producer side count and log dead letters by it.

#include <string>

#include "task_context.h"

namespace eddy::operators::internal {

class noting_collector final : public record_collector {
public:
    explicit noting_collector(record_collector& inner) : _inner(&inner) {}
    void send(const raw_record& r) override {
        _inner->send(r);
        ++_sent;
        _topic = r.topic;
    }
    int sent() const noexcept { return _sent; }
    const std::string& topic() const noexcept { return _topic; }

private:
    record_collector* _inner;
    int _sent = 0;
    std::string _topic;
};

} // namespace eddy::operators::internal
