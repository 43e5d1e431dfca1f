#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <fmt/format.h>

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
        std::filesystem::create_directories(dir);
        rocksdb::Options options;
        options.create_if_missing = true;
        options.max_open_files = 64;
        // Small memtables in small arena blocks: an instance has a store per
        // partition, and the write buffer manager bounds them together.
        options.write_buffer_size = 4 << 20;
        options.arena_block_size = 256 << 10;
        options.max_write_buffer_number = 2;
        options.table_cache_numshardbits = 2;
        options.keep_log_file_num = 2;
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
        check(rocksdb::DB::Open(options, dir.string(), &db), _name, "open " + dir.string());
        _db.reset(db);
        // The changelog is the log of record: no write-ahead log.
        _write.disableWAL = true;
    }

    void close() override {
        if (_db) {
            (void)_db->Flush(rocksdb::FlushOptions());
            (void)_db->Close();
            _db.reset();
        }
    }

    void wipe(const std::filesystem::path& task_dir) override {
        close();
        std::filesystem::remove_all(task_dir / "rocksdb" / _name);
    }

    bool persistent() const noexcept override { return true; }

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
        check(db().Put(_write, rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size())),
            _name, "put");
    }
    void remove(std::string_view key) override {
        check(db().Delete(_write, rocksdb::Slice(key.data(), key.size())), _name, "delete");
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
        check(db().Write(_write, &batch), _name, "write batch");
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
            check(_db->Flush(rocksdb::FlushOptions()), _name, "flush");
        }
    }

private:
    rocksdb::DB& db() const {
        if (!_db) {
            throw store_error(fmt::format("store {} is not open", _name));
        }
        return *_db;
    }

    std::string _name;
    std::unique_ptr<rocksdb::DB> _db;
    rocksdb::WriteOptions _write;
};

} // namespace

std::unique_ptr<bytes_store> make_rocksdb_store(std::string name) {
    return std::make_unique<rocksdb_store>(std::move(name));
}

} // namespace eddy::statestore::internal
