#include "kpiwatch/backup.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

namespace kpiwatch {
namespace fs = std::filesystem;
namespace {

Error backup_error(std::string message) { return {ErrorCode::backup_failed, std::move(message), "", std::nullopt}; }

// Closes a connection when the scope ends.
struct Connection {
  sqlite3* db = nullptr;
  ~Connection() { sqlite3_close_v2(db); }
  std::string error() const { return db ? sqlite3_errmsg(db) : "out of memory"; }
};

Status fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return backup_error(fmt::format("cannot open {} to sync it: {}", path, std::strerror(errno)));
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  if (rc != 0) return backup_error(fmt::format("cannot sync {}: {}", path, std::strerror(saved)));
  return ok_status();
}

void remove_leftovers(const std::string& tmp) {
  std::error_code ec;
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(tmp + suffix, ec);
}

// PRAGMA quick_check on the copy: "ok", or the first problem it reports.
Status quick_check(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &stmt, nullptr) != SQLITE_OK)
    return backup_error(fmt::format("cannot check the copy: {}", sqlite3_errmsg(db)));
  std::string result;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(stmt, 0);
    result = text ? reinterpret_cast<const char*>(text) : "";
  } else {
    result = sqlite3_errmsg(db);
  }
  sqlite3_finalize(stmt);
  if (result != "ok") return backup_error(fmt::format("the copy fails PRAGMA quick_check: {}", result));
  return ok_status();
}

// Copies every page of `src` into `dst` in one step, which reads one snapshot.
// Retries while a writer holds a lock that blocks the read, up to `timeout`.
Result<std::int64_t> copy_pages(sqlite3* src, sqlite3* dst, std::chrono::milliseconds timeout) {
  sqlite3_backup* backup = sqlite3_backup_init(dst, "main", src, "main");
  if (!backup) return backup_error(fmt::format("cannot start the backup: {}", sqlite3_errmsg(dst)));
  auto until = std::chrono::steady_clock::now() + timeout;
  int rc = SQLITE_OK;
  for (;;) {
    rc = sqlite3_backup_step(backup, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    if (std::chrono::steady_clock::now() > until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::int64_t pages = sqlite3_backup_pagecount(backup);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE)
    return backup_error(
        fmt::format("the backup did not complete: {} (source: {})", sqlite3_errstr(rc), sqlite3_errmsg(src)));
  return pages;
}

}  // namespace

Result<BackupReport> backup_database(const std::string& source, const std::string& destination, int busy_timeout_ms) {
  std::error_code ec;
  if (!fs::is_regular_file(source, ec)) return backup_error(fmt::format("no database at {}", source));
  if (fs::exists(destination, ec) && fs::equivalent(source, destination, ec))
    return backup_error(fmt::format("{} is the live database itself; choose another file", destination));
  const std::string tmp = destination + ".tmp";
  remove_leftovers(tmp);

  Connection src;
  if (sqlite3_open_v2(source.c_str(), &src.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
    return backup_error(fmt::format("cannot open {}: {}", source, src.error()));
  sqlite3_busy_timeout(src.db, busy_timeout_ms);

  // The copy holds every figure and alert: 0600, whatever the umask (SQLite would make it 0644).
  if (int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600); fd >= 0)
    ::close(fd);
  else
    return backup_error(fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));

  BackupReport report;
  {
    Connection dst;
    if (sqlite3_open_v2(tmp.c_str(), &dst.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      auto e = backup_error(fmt::format("cannot create {}: {}", tmp, dst.error()));
      remove_leftovers(tmp);
      return e;
    }
    auto pages = copy_pages(src.db, dst.db, std::chrono::milliseconds(busy_timeout_ms));
    Status checked = pages ? quick_check(dst.db) : Status(pages.error());
    if (!checked) {
      sqlite3_close_v2(dst.db);
      dst.db = nullptr;
      remove_leftovers(tmp);
      return checked.error();
    }
    report.pages = pages.value();
  }
  if (auto s = fsync_path(tmp, O_RDONLY); !s) {
    remove_leftovers(tmp);
    return s.error();
  }
  if (::rename(tmp.c_str(), destination.c_str()) != 0) {
    auto e = backup_error(fmt::format("cannot rename {} to {}: {}", tmp, destination, std::strerror(errno)));
    remove_leftovers(tmp);
    return e;
  }
  auto dir = fs::absolute(destination, ec).parent_path().string();
  if (auto s = fsync_path(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY); !s) return s.error();
  report.bytes = static_cast<std::int64_t>(fs::file_size(destination, ec));
  return report;
}

}  // namespace kpiwatch
