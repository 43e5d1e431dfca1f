#pragma once

// A store engine: ordered bytes to bytes, as RocksDB and the in-memory
// engine keep them. Keys order as their serialised bytes do (unsigned byte
// order), as in Kafka Streams. The typed stores and the changelogging
// layer sit on top; engines know nothing of Kafka.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eddy::statestore::internal {

// Visits entries in key order (or reverse); returns false to stop.
using bytes_visitor = std::function<bool(std::string_view key, std::string_view value)>;

// A key and its value, or no value (a delete), as restore applies them
// (views of the consumed records: no copy before the engine's own).
using bytes_update = std::pair<std::string_view, std::optional<std::string_view>>;

struct memory_budget;

class bytes_store {
public:
    virtual ~bytes_store() = default;

    // Opens the store under `task_dir` (persistent engines keep their files
    // in `task_dir`/rocksdb/<name>); `memory` bounds what persistent
    // engines of one instance use together. Throws store_corrupted when the
    // files are there but cannot be read as a store, store_error otherwise.
    virtual void open(const std::filesystem::path& task_dir, const std::shared_ptr<memory_budget>& memory) = 0;
    // Whether the last open found no store on disk and made a new, empty
    // one (always so in memory): a checkpoint written for the files that
    // were there before does not count for it.
    virtual bool opened_empty() const noexcept = 0;
    virtual void close() = 0;
    // Deletes what the store holds on disk (before a full restore).
    virtual void wipe(const std::filesystem::path& task_dir) = 0;
    virtual bool persistent() const noexcept = 0;

    virtual std::optional<std::string> get(std::string_view key) const = 0;
    virtual void put(std::string_view key, std::string_view value) = 0;
    virtual void remove(std::string_view key) = 0;
    // Applies updates in one batch (restore's path).
    virtual void write_batch(const std::vector<bytes_update>& updates) = 0;
    // Entries with from <= key <= to (either bound open when empty), in key
    // order or in reverse.
    virtual void scan(const std::optional<std::string>& from, const std::optional<std::string>& to, bool reverse,
        const bytes_visitor& visit) const = 0;
    virtual std::uint64_t approximate_num_entries() const = 0;
    // Makes what was written durable (persistent engines flush memtables).
    virtual void flush() = 0;
};

using bytes_store_factory = std::function<std::unique_ptr<bytes_store>()>;

// The in-memory engine (a sorted map); restored from its changelog whenever
// its task starts.
std::unique_ptr<bytes_store> make_in_memory_store(std::string name);
// The RocksDB engine.
std::unique_ptr<bytes_store> make_rocksdb_store(std::string name);

// Where RocksDB stores of one instance share memory: one block cache, with
// the memtables charged to it through one write buffer manager.
std::shared_ptr<memory_budget> make_memory_budget(std::uint64_t max_bytes);

} // namespace eddy::statestore::internal
