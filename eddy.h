#pragma once

// eddy: typed Kafka stream processing for C++20. One include for all of it.
//
//   #include <eddy/eddy.h>
//
//   eddy::streams_builder builder;
//   builder.stream<std::string, std::string>("in")
//       .filter([](const std::string&, const std::string& v) { return !v.empty(); })
//       .to("out");
//   eddy::topology_test_driver driver(builder.build());
//
// Two serde families are pieces of their own, included where they are used:
// <eddy/serde/json.h> (Hana structs as JSON) and <eddy/serde/protobuf.h>
// (Protobuf messages; link with pkg-config's eddy-protobuf, which brings
// libprotobuf). A program that uses neither needs neither.

#include "operators/circuit_breaker.h"
#include "operators/error_handlers.h"
#include "core/log.h"
#include "operators/processor.h"
#include "core/record.h"
#include "operators/retry_policy.h"
#include "runtime/admin.h"
#include "runtime/embedded_broker.h"
#include "runtime/health.h"
#include "runtime/kafka_error.h"
#include "runtime/kafka_streams.h"
#include "runtime/query_server.h"
#include "runtime/streams_config.h"
#include "runtime/streams_metadata.h"
#include "runtime/topology_test_driver.h"
#include "serde/serde.h"
#include "serde/serdes.h"
#include "statestore/key_value_store.h"
#include "statestore/session_store.h"
#include "statestore/store_error.h"
#include "statestore/stores.h"
#include "topology/global_ktable.h"
#include "topology/kgrouped_stream.h"
#include "topology/kstream.h"
#include "topology/ktable.h"
#include "topology/named.h"
#include "topology/streams_builder.h"
#include "topology/topology.h"
#include "topology/topology_error.h"
