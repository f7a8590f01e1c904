// backup_database(): a consistent, atomically renamed copy of a live database.

#include "kpiwatch/backup.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/dataset.hpp"
#include "kpiwatch/store.hpp"
#include "temp_dir.hpp"

namespace kpiwatch {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using test::TempDir;

// A store holding the bundled dataset (126 revisions).
std::unique_ptr<Store> store_with_dataset(const std::string& path) {
  auto store = Store::open({path});
  if (!store) throw std::runtime_error(store.error().message);
  auto batch = parse_submissions(*Catalog::embedded(), bundled_dataset_json(), ValidationLimits{.max_batch = 1000});
  if (!batch) throw std::runtime_error(batch.error().message);
  if (auto stored = store.value()->revisions().append(batch.value(), "test", "2025-01-01T00:00:00Z"); !stored)
    throw std::runtime_error(stored.error().message);
  return std::move(store.value());
}

std::string scalar(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

TEST(Backup, CopiesAnOpenDatabaseIntoAFileThatOpensAsAKpiwatchStore) {
  TempDir dir;
  auto live = store_with_dataset(dir.file("live.db"));  // stays open, as in the daemon
  auto report = backup_database(dir.file("live.db"), dir.file("copy.db"));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_GT(report->pages, 0);
  EXPECT_EQ(report->bytes, static_cast<std::int64_t>(fs::file_size(dir.file("copy.db"))));
  EXPECT_FALSE(fs::exists(dir.file("copy.db.tmp")));
  EXPECT_EQ(scalar(dir.file("copy.db"), "SELECT COUNT(*) FROM revisions"), "126");
  EXPECT_EQ(scalar(dir.file("copy.db"), "PRAGMA journal_mode"), "wal");

  auto copy = Store::open({dir.file("copy.db")});
  ASSERT_TRUE(copy) << copy.error().message;
  EXPECT_EQ(copy.value()->schema_version(), Store::current_schema_version());
  auto count = copy.value()->revisions().count();
  ASSERT_TRUE(count);
  EXPECT_EQ(count.value(), 126);
}

TEST(Backup, ReplacesAnOlderCopyAndALeftoverTemporaryFile) {
  TempDir dir;
  auto live = store_with_dataset(dir.file("live.db"));
  std::ofstream(dir.file("copy.db")) << "an old copy";
  std::ofstream(dir.file("copy.db.tmp")) << "left by an interrupted backup";
  auto report = backup_database(dir.file("live.db"), dir.file("copy.db"));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(scalar(dir.file("copy.db"), "SELECT COUNT(*) FROM revisions"), "126");
  EXPECT_FALSE(fs::exists(dir.file("copy.db.tmp")));
}

TEST(Backup, NeverCreatesTheSourceAndNeverOverwritesIt) {
  TempDir dir;
  auto missing = backup_database(dir.file("absent.db"), dir.file("copy.db"));
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("no database at " + dir.file("absent.db")));
  EXPECT_FALSE(fs::exists(dir.file("absent.db")));
  EXPECT_FALSE(fs::exists(dir.file("copy.db")));

  auto live = store_with_dataset(dir.file("live.db"));
  auto itself = backup_database(dir.file("live.db"), dir.file("./live.db"));
  ASSERT_FALSE(itself);
  EXPECT_THAT(itself.error().message, HasSubstr("is the live database itself"));
  EXPECT_EQ(scalar(dir.file("live.db"), "SELECT COUNT(*) FROM revisions"), "126");
}

TEST(Backup, AnUnwritableDestinationFailsAndLeavesNothingBehind) {
  TempDir dir;
  auto live = store_with_dataset(dir.file("live.db"));
  auto failed = backup_database(dir.file("live.db"), dir.file("no/such/dir/copy.db"));
  ASSERT_FALSE(failed);
  EXPECT_THAT(failed.error().message, HasSubstr("cannot create " + dir.file("no/such/dir/copy.db.tmp")));
  EXPECT_FALSE(fs::exists(dir.file("no")));
}

}  // namespace
}  // namespace kpiwatch
