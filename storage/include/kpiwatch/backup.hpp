#pragma once
// A consistent copy of the live database, taken with SQLite's online backup API.

#include <cstdint>
#include <string>

#include "kpiwatch/result.hpp"

namespace kpiwatch {

struct BackupReport {
  std::int64_t pages = 0;  // database pages copied
  std::int64_t bytes = 0;  // size of the copy
};

// Copies the database at `source` to `destination` as one snapshot, through a
// connection of its own: safe while the daemon (or an import) writes to it.
// The copy is written to `destination` + ".tmp", checked (PRAGMA quick_check),
// synced, then renamed over `destination`, so `destination` is either the old
// file or a complete copy. The copy is a kpiwatch database (WAL mode) that
// `serve --database` can open as it is.
// REQUIRES: `source` exists (it is never created); `destination` is not `source`.
// Waits up to `busy_timeout_ms` for a lock held by a writer.
Result<BackupReport> backup_database(const std::string& source, const std::string& destination,
                                     int busy_timeout_ms = 5000);

}  // namespace kpiwatch
