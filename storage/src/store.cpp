// Opening the database: the file, the connection's settings, the migrations.
#include "kpiwatch/store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

#include "migrations.hpp"
#include "statement.hpp"

namespace kpiwatch {
namespace {

// PRAGMA application_id of a kpiwatch database ("KPIW"): set when the file is
// created, so that a foreign SQLite file is recognised and left alone.
constexpr std::int64_t kApplicationId = 0x4b504957;
// The tables every kpiwatch schema has had: a database from before the
// application id is recognised by them.
constexpr std::array<std::string_view, 3> kOwnTables = {"meta", "revisions", "series"};

Error storage_error(std::string message) { return {ErrorCode::storage_error, std::move(message), "", {}}; }

// The missing directories are made 0700: the database holds every figure and
// alert, and outside systemd (StateDirectoryMode=) nothing else protects it.
Status create_parent_directory(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  std::vector<std::filesystem::path> missing;
  std::error_code ec;
  for (auto p = parent; !p.empty() && !std::filesystem::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  std::reverse(missing.begin(), missing.end());  // outermost first
  for (const auto& dir : missing)
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return storage_error(fmt::format("cannot create {}: {}", dir.string(), std::strerror(errno)));
  return ok_status();
}

std::uint32_t big_endian(const unsigned char* p, int bytes) {
  std::uint32_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

// Creates a missing database file 0600 (SQLite gives its -wal and -shm files the
// database's mode). An existing file is not opened here: closing a descriptor of
// a file drops every POSIX lock this process holds on it, the writer's included.
Status create_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return storage_error(fmt::format("{} is not a regular file", path));
    return ok_status();
  }
  if (errno != ENOENT) return storage_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno != EEXIST) return storage_error(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  if (fd >= 0) ::close(fd);
  return ok_status();
}

// Checks the file's SQLite header before anything reads or writes the database,
// through SQLite's own descriptor (https://www.sqlite.org/fileformat2.html#the_database_header).
Status check_header(sqlite3* db, const std::string& path) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file || !file->pMethods)
    return ok_status();  // no file to look at: SQLite's own checks apply
  sqlite3_int64 size = 0;
  if (file->pMethods->xFileSize(file, &size) != SQLITE_OK)
    return storage_error(fmt::format("cannot read the size of {}", path));
  if (size == 0) return ok_status();  // an empty database: SQLite makes it one
  std::array<unsigned char, 100> header{};
  int rc = file->pMethods->xRead(file, header.data(), static_cast<int>(header.size()), 0);
  if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return storage_error(fmt::format("cannot read {}", path));
  const std::string_view magic("SQLite format 3\0", 16);
  constexpr const char* kLeftAlone = "kpiwatch leaves it as it is: restore a backup or move it away";
  if (size < 16 || std::string_view(reinterpret_cast<const char*>(header.data()), 16) != magic)
    return storage_error(
        fmt::format("{} is not a SQLite database (it does not start with the SQLite header); {}", path, kLeftAlone));
  if (size < static_cast<sqlite3_int64>(header.size()))
    return storage_error(
        fmt::format("{} is truncated: {} bytes, less than the 100-byte SQLite header; {}", path, size, kLeftAlone));
  // The size in the header is kept only while "version-valid-for" equals the change counter. With
  // a WAL to replay, the file may legitimately be shorter until the next checkpoint.
  std::uint32_t page_size = big_endian(&header[16], 2);
  if (page_size == 1) page_size = 65536;
  std::uint32_t pages = big_endian(&header[28], 4);
  bool size_valid = big_endian(&header[24], 4) == big_endian(&header[92], 4);
  std::error_code ec;
  auto wal_size = std::filesystem::file_size(path + "-wal", ec);
  bool wal = !ec && wal_size > 0;
  auto expected = static_cast<std::int64_t>(pages) * page_size;
  if (size_valid && !wal && size < expected)
    return storage_error(
        fmt::format("{} is truncated: its header says {} pages of {} bytes ({} bytes), the file has {} "
                    "bytes; {}",
                    path, pages, page_size, expected, size, kLeftAlone));
  return ok_status();
}

Status configure(Connection& db, const std::string& synchronous) {
  if (synchronous != "normal" && synchronous != "full" && synchronous != "extra")
    return Error{
        ErrorCode::storage_error, fmt::format("unknown synchronous setting \"{}\"", synchronous), "synchronous", {}};
  if (auto s = db.exec("PRAGMA journal_mode = WAL"); !s) return s;
  if (auto s = db.exec(fmt::format("PRAGMA synchronous = {}", synchronous)); !s) return s;
  return db.exec("PRAGMA foreign_keys = ON");
}

}  // namespace

int Store::current_schema_version() { return static_cast<int>(migrations::kSteps.size()); }

Store::Store(sqlite3* db)
    : connection_(db),
      revisions_(connection_),
      alerts_(connection_),
      outbox_(connection_),
      silences_(connection_),
      meta_(connection_) {}

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
  if (auto s = create_parent_directory(options.path); !s) return s.error();
  if (auto s = create_file(options.path); !s) return s.error();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(options.path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Store> store(new Store(db));  // closes `db` whatever happens next
  if (rc != SQLITE_OK) return sql::db_error(db, fmt::format("cannot open {}", options.path));
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  sqlite3_extended_result_codes(db, 1);
  if (auto s = check_header(db, options.path); !s) return s.error();
  // Before anything writes: even switching to WAL rewrites the header of a foreign file.
  auto mark = store->identify(options.path);
  if (!mark) return mark.error();
  if (auto s = configure(store->connection_, options.synchronous); !s) return s.error();
  if (mark.value())
    if (auto s = store->connection_.exec(fmt::format("PRAGMA application_id = {}", kApplicationId)); !s)
      return s.error();
  if (auto s = store->migrate(); !s) return s.error();
  return store;
}

Result<bool> Store::identify(const std::string& path) {
  auto unreadable = [&](const Error& e) {
    return storage_error(
        fmt::format("cannot read {} as a database: {}; kpiwatch leaves it as it is: restore a "
                    "backup or move it away",
                    path, e.message));
  };
  std::int64_t application_id = 0;
  std::int64_t version = 0;
  std::vector<std::string> tables;
  for (auto [sql, out] : {std::pair{"PRAGMA application_id", &application_id}, {"PRAGMA user_version", &version}}) {
    auto stmt = connection_.statement(sql);
    if (!stmt) return unreadable(stmt.error());
    if (auto s = stmt->row(sql); !s) return unreadable(s.error());
    *out = stmt->int64(0);
  }
  auto list = connection_.statement("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
  if (!list) return unreadable(list.error());
  if (auto s = list->each_row("read the tables", [&](sql::Statement& row) { tables.push_back(row.text(0)); }); !s)
    return unreadable(s.error());

  if (application_id == kApplicationId) return false;
  auto foreign = [&](std::string why) {
    return storage_error(
        fmt::format("{} is not a kpiwatch database ({}; tables: {}); kpiwatch leaves it as it is: move it away or set "
                    "[storage] database to another file",
                    path, why, tables.empty() ? std::string("none") : fmt::format("{}", fmt::join(tables, ", "))));
  };
  if (application_id != 0)
    return foreign(fmt::format("application_id {:#x}, not kpiwatch's {:#x}", application_id, kApplicationId));
  if (version > current_schema_version()) return false;  // migrate() says it is newer
  if (version == 0 && tables.empty()) return true;       // new
  // Written before kpiwatch set its application id: recognised by its schema.
  bool ours = version > 0 && std::all_of(kOwnTables.begin(), kOwnTables.end(), [&](std::string_view t) {
                return std::binary_search(tables.begin(), tables.end(), t);
              });
  if (!ours) return foreign(fmt::format("schema version {} without kpiwatch's tables", version));
  return true;
}

Status Store::migrate() {
  int version = schema_version();
  int target = current_schema_version();
  if (version > target)
    return Error{ErrorCode::storage_error,
                 fmt::format("the database has schema version {}, newer than this kpiwatch ({})", version, target),
                 "",
                 {}};
  for (; version < target; ++version) {
    Transaction tx(connection_);
    if (!tx.began()) return tx.began();
    auto step = connection_.exec(migrations::kSteps[static_cast<std::size_t>(version)]);
    if (step) step = connection_.exec(fmt::format("PRAGMA user_version = {}", version + 1));
    if (step) step = tx.commit();
    if (!step) {
      Error e = step.error();
      e.message = fmt::format("migration to schema version {} failed: {}", version + 1, e.message);
      return e;
    }
  }
  return ok_status();
}

int Store::schema_version() {
  auto stmt = connection_.statement("PRAGMA user_version");
  if (!stmt || !stmt->row("read the schema version")) return -1;
  return static_cast<int>(stmt->int64(0));
}

Result<std::optional<std::string>> MetaRepository::get(const std::string& key) {
  auto get = db_.statement("SELECT value FROM meta WHERE key = ?1");
  if (!get) return get.error();
  get->bind_all(key);
  int rc = get->step();
  if (rc == SQLITE_ROW) return std::optional<std::string>(get->text(0));
  if (rc != SQLITE_DONE) return get->error("read meta");
  return std::optional<std::string>();
}

Status MetaRepository::set(const std::string& key, const std::string& value) {
  auto set = db_.statement(
      "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = "
      "excluded.value");
  if (!set) return set.error();
  set->bind_all(key, value);
  return set->run("write meta");
}

Status Store::for_each_alert_state(const std::function<void(const std::string& fingerprint, AlertState state)>& f) {
  auto s = connection_.statement("SELECT fingerprint, state FROM alerts");
  if (!s) return s.error();
  return s->each_row("read alert states", [&](sql::Statement& row) {
    AlertState state = AlertState::inactive;
    parse_alert_state(row.text(1), state);
    f(row.text(0), state);
  });
}

}  // namespace kpiwatch
