#include <cstdarg>
#include <cstdio>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/log.h"

#include "statestore/internal/bytes_store.h"
#include "statestore/store_error.h"

namespace eddy::statestore::internal {

struct memory_budget {
    std::shared_ptr<rocksdb::Cache> cache;
    std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;
};

std::shared_ptr<memory_budget> make_memory_budget(std::uint64_t max_bytes) {
    auto budget = std::make_shared<memory_budget>();
    // Half of the budget may be memtables; they are charged to the cache, so
    // the cache's capacity bounds both. Writers stall (allow_stall) rather
    // than let memtables grow past their half: the bound holds however many
    // stores share it, at the cost of small flushes when many stores write
    // at once.
    budget->cache = rocksdb::NewLRUCache(max_bytes);
    budget->write_buffers = std::make_shared<rocksdb::WriteBufferManager>(max_bytes / 2, budget->cache, true);
    return budget;
}

namespace {

const std::shared_ptr<spdlog::logger>& logger() {
    static const auto log = module_logger("eddy.statestore");
    return log;
}

// RocksDB's info log, through spdlog rather than a LOG file in each store's
// folder: a file that the disk has no room for made the next line abort
// the process (Debian builds RocksDB with its assertions on, and a log
// writer that saw an error asserts on its next append). Warnings and
// worse only.
class spdlog_info_log final : public rocksdb::Logger {
public:
    explicit spdlog_info_log(std::string store) : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), _store(std::move(store)) {}

    using rocksdb::Logger::Logv;
    void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
    void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
        if (level < GetInfoLogLevel()) {
            return;
        }
        char line[1024];
        std::vsnprintf(line, sizeof line, format, ap);
        const auto at = level >= rocksdb::InfoLogLevel::ERROR_LEVEL ? spdlog::level::err : spdlog::level::warn;
        logger()->log(at, "rocksdb store={} {}", _store, line);
    }

private:
    std::string _store;
};

void check(const rocksdb::Status& s, const std::string& store, std::string_view what) {
    if (!s.ok()) {
        throw store_error(fmt::format("store {}: {} failed: {}", store, what, s.ToString()));
    }
}

class rocksdb_store final : public bytes_store {
public:
    explicit rocksdb_store(std::string name) : _name(std::move(name)) {}
    ~rocksdb_store() override { close(); }

    void open(const std::filesystem::path& task_dir, const std::shared_ptr<memory_budget>& memory) override {
        const auto dir = task_dir / "rocksdb" / _name;
        std::error_code made;
        std::filesystem::create_directories(dir, made);
        if (made) {
            throw store_error(fmt::format("store {}: cannot make its folder {}: {}", _name, dir.string(), made.message()));
        }
        // RocksDB names its current MANIFEST in CURRENT: without it there is
        // no store here, whatever else the folder holds.
        const bool had_store = std::filesystem::exists(dir / "CURRENT", made);
        rocksdb::Options options;
        options.create_if_missing = true;
        options.max_open_files = 64;
        // Small memtables in small arena blocks: an instance has a store per
        // partition, and the write buffer manager bounds them together.
        options.write_buffer_size = 4 << 20;
        options.arena_block_size = 256 << 10;
        options.max_write_buffer_number = 2;
        options.table_cache_numshardbits = 2;
        options.info_log = std::make_shared<spdlog_info_log>(_name);
        options.compression = rocksdb::kLZ4Compression;
        rocksdb::BlockBasedTableOptions table;
        table.block_size = 16 << 10;
        table.cache_index_and_filter_blocks = true;
        if (memory) {
            table.block_cache = memory->cache;
            options.write_buffer_manager = memory->write_buffers;
        }
        options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
        rocksdb::DB* db = nullptr;
        const auto opened = rocksdb::DB::Open(options, dir.string(), &db);
        // Files that are there but do not make a store (CURRENT or a
        // MANIFEST damaged, a table file gone) are a corruption; a lock held
        // elsewhere, a full disk or missing rights are not.
        if (had_store && (opened.IsCorruption() || opened.IsNotFound() || opened.IsPathNotFound())) {
            throw store_corrupted(
                fmt::format("store {}: its files in {} are damaged: {}", _name, dir.string(), opened.ToString()));
        }
        check(opened, _name, "open " + dir.string());
        _db.reset(db);
        _opened_empty = !had_store;
        _failed = false;
        // The changelog is the log of record: no write-ahead log.
        _write.disableWAL = true;
    }

    void close() override {
        if (!_db) {
            return;
        }
        // After a failed write or flush (a full disk, a folder deleted
        // underneath) nothing more is written: the changelog restores what
        // the store lacks, and RocksDB's debug builds assert on some writes
        // after an I/O error. Otherwise the memtables go to disk first (no
        // write-ahead log keeps them).
        if (!_failed) {
            (void)_db->Flush(rocksdb::FlushOptions());
        }
        (void)_db->Close();
        _db.reset();
    }

    void wipe(const std::filesystem::path& task_dir) override {
        close();
        std::filesystem::remove_all(task_dir / "rocksdb" / _name);
    }

    bool persistent() const noexcept override { return true; }
    bool opened_empty() const noexcept override { return _opened_empty; }

    std::optional<std::string> get(std::string_view key) const override {
        std::string value;
        auto s = db().Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
        if (s.IsNotFound()) {
            return std::nullopt;
        }
        check(s, _name, "get");
        return value;
    }
    void put(std::string_view key, std::string_view value) override {
        written(db().Put(_write, rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size())),
            "put");
    }
    void remove(std::string_view key) override {
        written(db().Delete(_write, rocksdb::Slice(key.data(), key.size())), "delete");
    }
    void write_batch(const std::vector<bytes_update>& updates) override {
        rocksdb::WriteBatch batch;
        for (const auto& [key, value] : updates) {
            const rocksdb::Slice k(key.data(), key.size());
            if (value) {
                batch.Put(k, rocksdb::Slice(value->data(), value->size()));
            } else {
                batch.Delete(k);
            }
        }
        written(db().Write(_write, &batch), "write batch");
    }
    void scan(const std::optional<std::string>& from, const std::optional<std::string>& to, bool reverse,
        const bytes_visitor& visit) const override {
        if (from && to && *from > *to) {
            return;
        }
        std::unique_ptr<rocksdb::Iterator> it(db().NewIterator(rocksdb::ReadOptions()));
        if (!reverse) {
            from ? it->Seek(*from) : it->SeekToFirst();
            for (; it->Valid(); it->Next()) {
                if (to && it->key().compare(*to) > 0) {
                    break;
                }
                if (!visit(it->key().ToStringView(), it->value().ToStringView())) {
                    return;
                }
            }
        } else {
            to ? it->SeekForPrev(*to) : it->SeekToLast();
            for (; it->Valid(); it->Prev()) {
                if (from && it->key().compare(*from) < 0) {
                    break;
                }
                if (!visit(it->key().ToStringView(), it->value().ToStringView())) {
                    return;
                }
            }
        }
        check(it->status(), _name, "scan");
    }
    std::uint64_t approximate_num_entries() const override {
        std::uint64_t n = 0;
        db().GetIntProperty("rocksdb.estimate-num-keys", &n);
        return n;
    }
    void flush() override {
        if (_db) {
            written(_db->Flush(rocksdb::FlushOptions()), "flush");
        }
    }

private:
    // Checks the status of a write or flush, and remembers a failure.
    void written(const rocksdb::Status& s, std::string_view what) {
        if (!s.ok()) {
            _failed = true;
            check(s, _name, what);
        }
    }

    rocksdb::DB& db() const {
        if (!_db) {
            throw store_error(fmt::format("store {} is not open", _name));
        }
        return *_db;
    }

    std::string _name;
    std::unique_ptr<rocksdb::DB> _db;
    rocksdb::WriteOptions _write;
    bool _opened_empty = true;
    bool _failed = false;
};

} // namespace

std::unique_ptr<bytes_store> make_rocksdb_store(std::string name) {
    return std::make_unique<rocksdb_store>(std::move(name));
}

} // namespace eddy::statestore::internal
