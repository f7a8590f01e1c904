// The SQLite store, on real database files in a temporary directory.

#include "kpiwatch/store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "kpiwatch/dims.hpp"
#include "temp_dir.hpp"

namespace kpiwatch {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using test::TempDir;

// A second, raw connection to the same file: what another process would see.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) ADD_FAILURE() << "cannot open " << path;
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  // Runs `sql`; returns the error message, or "" on success.
  std::string exec(const std::string& sql) {
    char* message = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    std::string out = rc == SQLITE_OK ? "" : (message ? message : "error");
    sqlite3_free(message);
    return out;
  }
  // The first column of the first row of `sql`, as text.
  std::string scalar(const std::string& sql) { return scalar_on(db_, sql); }
  std::int64_t count(const std::string& table) { return std::stoll(scalar("SELECT COUNT(*) FROM " + table)); }

  static std::string scalar_on(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
      return out;
    }
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(stmt, 0);
      if (text) out = reinterpret_cast<const char*>(text);
    } else {
      ADD_FAILURE() << sql << ": no row: " << sqlite3_errmsg(db);
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::unique_ptr<Store> open_store(const std::string& path, const std::string& synchronous = "full") {
  auto store = Store::open({path, synchronous, 5000});
  EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
  return store.ok() ? std::move(store.value()) : nullptr;
}

Submission figure(const std::string& kpi, int year, double value, Dims dims = {}, std::string note = "") {
  Submission s;
  s.kpi = kpi;
  s.period = Period{PeriodKind::year, year, 0};
  s.dims = std::move(dims);
  s.value = value;
  s.body = "amed";
  s.source = "follow-up report";
  s.note = std::move(note);
  return s;
}

Submission item_list(const std::string& kpi, int year, std::vector<std::string> items) {
  Submission s;
  s.kpi = kpi;
  s.period = Period{PeriodKind::year, year, 0};
  s.items = std::move(items);
  return s;
}

std::vector<Revision> appended(Store& store, const std::vector<Submission>& batch, const std::string& by = "test") {
  auto r = store.revisions().append(batch, by, "2025-01-01T00:00:00.000Z");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : std::vector<Revision>{};
}

std::vector<Revision> series_of(Store& store, const std::string& kpi, Dims dims = {}, bool revisions = false) {
  auto r = store.revisions().series({kpi, std::move(dims), revisions});
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : std::vector<Revision>{};
}

// Records the most recently opened SQLite connection of this process, so that
// a test can read the per-connection settings the Store applied to its own.
sqlite3* g_last_connection = nullptr;
int record_connection(sqlite3* db, const char**, const struct sqlite3_api_routines*) {
  g_last_connection = db;
  return SQLITE_OK;
}
using EntryPoint = void (*)();

class ConnectionSpy {
 public:
  ConnectionSpy() {
    g_last_connection = nullptr;
    sqlite3_auto_extension(reinterpret_cast<EntryPoint>(&record_connection));
  }
  ~ConnectionSpy() { sqlite3_cancel_auto_extension(reinterpret_cast<EntryPoint>(&record_connection)); }
  ConnectionSpy(const ConnectionSpy&) = delete;
  ConnectionSpy& operator=(const ConnectionSpy&) = delete;
  sqlite3* last() const { return g_last_connection; }
};

TEST(Store, CreatesTheSchemaAtTheCurrentVersionInWalMode) {
  TempDir dir;
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  EXPECT_GE(Store::current_schema_version(), 1);
  EXPECT_EQ(store->schema_version(), Store::current_schema_version());
  RawDb raw(dir.file("k.db"));
  EXPECT_EQ(raw.scalar("PRAGMA user_version"), std::to_string(Store::current_schema_version()));
  EXPECT_EQ(raw.scalar("PRAGMA journal_mode"), "wal");
}

TEST(Store, CreatesMissingParentDirectories) {
  TempDir dir;
  auto store = open_store(dir.file("a/b/k.db"));
  ASSERT_TRUE(store);
  EXPECT_TRUE(fs::exists(dir.file("a/b/k.db")));
}

TEST(Store, AppliesTheConfiguredSynchronousSetting) {
  TempDir dir;
  for (auto [mode, level] : {std::pair{"full", "2"}, std::pair{"normal", "1"}, std::pair{"extra", "3"}}) {
    ConnectionSpy spy;
    auto store = open_store(dir.file(std::string(mode) + ".db"), mode);
    ASSERT_TRUE(store);
    ASSERT_NE(spy.last(), nullptr);
    EXPECT_EQ(RawDb::scalar_on(spy.last(), "PRAGMA synchronous"), level) << mode;
    EXPECT_EQ(RawDb::scalar_on(spy.last(), "PRAGMA foreign_keys"), "1");
    EXPECT_EQ(RawDb::scalar_on(spy.last(), "PRAGMA busy_timeout"), "5000");
  }
}

TEST(Store, RefusesAnUnknownSynchronousSetting) {
  TempDir dir;
  auto store = Store::open({dir.file("k.db"), "off", 5000});
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message, HasSubstr("synchronous"));
}

TEST(Store, FirstSubmissionIsRevisionOneAndAResubmissionRevisionTwo) {
  TempDir dir;
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  auto first = appended(*store, {figure("g01.trainees", 2024, 4086)}, "amed-uploader");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].revision, 1);
  EXPECT_GT(first[0].id, 0);
  EXPECT_EQ(first[0].submitted_by, "amed-uploader");
  auto second = appended(*store, {figure("g01.trainees", 2024, 4090)});
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].revision, 2);
  EXPECT_GT(second[0].id, first[0].id);
  EXPECT_EQ(store->revisions().count().value(), 2);
}

TEST(Store, RevisionsAreNumberedPerPeriodAndPerSeries) {
  TempDir dir;
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  appended(*store, {figure("g01.trainees", 2023, 1)});
  auto r =
      appended(*store, {figure("g01.trainees", 2024, 1), figure("g01.training_courses", 2023, 1),
                        figure("g06.stage_up_rate", 2023, 1, {{"stage", "basic"}}),
                        figure("g06.stage_up_rate", 2023, 1, {{"stage", "all"}}), figure("g01.trainees", 2023, 2)});
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0].revision, 1);
  EXPECT_EQ(r[1].revision, 1);
  EXPECT_EQ(r[2].revision, 1);
  EXPECT_EQ(r[3].revision, 1);
  EXPECT_EQ(r[4].revision, 2);
}

TEST(Store, SeriesReturnsOnlyTheCurrentRevisionUnlessHistoryIsAsked) {
  TempDir dir;
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  appended(*store, {figure("g01.trainees", 2023, 2783), figure("g01.trainees", 2024, 4000)});
  appended(*store, {figure("g01.trainees", 2024, 4086)});

  auto current = series_of(*store, "g01.trainees");
  ASSERT_EQ(current.size(), 2u);
  EXPECT_EQ(current[0].submission.period.str(), "2023");
  EXPECT_EQ(current[0].submission.value, 2783.0);
  EXPECT_EQ(current[1].submission.period.str(), "2024");
  EXPECT_EQ(current[1].submission.value, 4086.0);
  EXPECT_EQ(current[1].revision, 2);

  auto history = series_of(*store, "g01.trainees", {}, true);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[1].submission.period.str(), "2024");
  EXPECT_EQ(history[1].revision, 1);
  EXPECT_EQ(history[1].submission.value, 4000.0);
  EXPECT_EQ(history[2].revision, 2);
  EXPECT_EQ(history[2].submission.value, 4086.0);

  EXPECT_TRUE(series_of(*store, "g01.training_courses").empty());
}

TEST(Store, SeriesRoundTripsEveryField) {
  TempDir dir;
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  Submission s = figure("g06.stage_up_rate", 2024, 26.8, {{"stage", "all"}}, "a note, with \"quotes\"");
  s.source = "第2期医療機器基本計画 KPIフォローアップ報告";
  auto stored = store->revisions().append({s}, "importer", "2025-06-30T12:34:56.789Z");
  ASSERT_TRUE(stored.ok());
  auto back = series_of(*store, "g06.stage_up_rate");
  ASSERT_EQ(back.size(), 1u);
  const auto& r = back[0];
  EXPECT_EQ(r.id, stored.value()[0].id);
  EXPECT_EQ(r.revision, 1);
  EXPECT_EQ(r.submitted_by, "importer");
  EXPECT_EQ(r.received_at, "2025-06-30T12:34:56.789Z");
  EXPECT_EQ(r.submission.kpi, "g06.stage_up_rate");
  EXPECT_EQ(r.submission.dims, (Dims{{"stage", "all"}}));
  EXPECT_EQ(r.submission.period, s.period);
  EXPECT_EQ(r.submission.value, 26.8);
  EXPECT_TRUE(r.submission.items.empty());
  EXPECT_EQ(r.submission.body, "amed");
  EXPECT_EQ(r.submission.source, s.source);
  EXPECT_EQ(r.submission.note, s.note);
}

TEST(Store, KeepsPeriodKindsOtherThanYears) {
  TempDir dir;
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  Submission fy = figure("g08.device_lag", 0, -0.5);
  fy.period = Period{PeriodKind::fiscal_year, 2023, 0};
  Submission month = figure("x99.monthly", 0, 3);
  month.period = Period{PeriodKind::month, 2024, 12};
  appended(*store, {fy, month});
  auto a = series_of(*store, "g08.device_lag");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].submission.period, fy.period);
  EXPECT_EQ(a[0].submission.value, -0.5);
  auto b = series_of(*store, "x99.monthly");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].submission.period.str(), "2024-12");
}

TEST(Store, FiltersSeriesByDims) {
  TempDir dir;
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  appended(*store, {figure("k.two", 2024, 1, {{"region", "east"}, {"stage", "basic"}}),
                    figure("k.two", 2024, 2, {{"region", "west"}, {"stage", "basic"}}),
                    figure("k.two", 2024, 3, {{"region", "east"}, {"stage", "basic_plus"}}),
                    figure("k.two", 2024, 4, {{"region", "east"}, {"stage", "all"}})});

  auto basic = series_of(*store, "k.two", {{"stage", "basic"}});
  ASSERT_EQ(basic.size(), 2u);  // not "basic_plus"
  for (const auto& r : basic) EXPECT_EQ(r.submission.dims.at("stage"), "basic");

  auto east_basic = series_of(*store, "k.two", {{"region", "east"}, {"stage", "basic"}});
  ASSERT_EQ(east_basic.size(), 1u);
  EXPECT_EQ(east_basic[0].submission.value, 1.0);

  EXPECT_EQ(series_of(*store, "k.two", {{"region", "east"}}).size(), 3u);
  EXPECT_EQ(series_of(*store, "k.two").size(), 4u);
  EXPECT_TRUE(series_of(*store, "k.two", {{"stage", "clinical"}}).empty());
  EXPECT_TRUE(series_of(*store, "k.two", {{"phase", "basic"}}).empty());
}

TEST(Store, ADimsFilterReadsThePairsOfItsSeries) {
  TempDir dir;
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  appended(*store, {figure("k.two", 2024, 1, {{"region", "east"}, {"stage", "basic"}}),
                    figure("k.two", 2024, 2, {{"region", "west"}, {"stage", "basic"}}),
                    figure("k.other", 2024, 3, {{"region", "east"}, {"stage", "basic"}})});
  RawDb raw(dir.file("k.db"));
  EXPECT_EQ(raw.count("series_dims"), 6);  // two pairs per series
  EXPECT_EQ(raw.scalar("SELECT series FROM kpi_series WHERE kpi = 'k.two'"), "2");
  SeriesQuery east{"k.two", {{"region", "east"}}, false};
  EXPECT_EQ(store->revisions().series_count(east).value(), 1);
  EXPECT_EQ(store->revisions().series_count({"k.two", {}, false}).value(), 2);
  EXPECT_EQ(store->revisions().series_count({"k.none", {}, false}).value(), 0);
  // A series created in a transaction that is rolled back leaves no pairs and no count.
  {
    Transaction tx(store->connection());
    ASSERT_TRUE(tx.began().ok());
    ASSERT_TRUE(store->revisions().insert({figure("k.two", 2024, 4, {{"region", "north"}})}, "t", "now").ok());
  }
  EXPECT_EQ(raw.count("series_dims"), 6);
  EXPECT_EQ(store->revisions().series_count({"k.two", {}, false}).value(), 2);
}

TEST(Store, ASeriesPageStartsAfterItsCursor) {
  TempDir dir;
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  std::vector<Submission> batch;
  for (const char* site : {"a", "b", "c", "d"})
    for (const char* stage : {"basic", "all"})
      batch.push_back(figure("k.sites", 2024, 1, {{"site", site}, {"stage", stage}}));
  appended(*store, batch);
  SeriesQuery all{"k.sites", {{"stage", "all"}}, false};
  auto page = store->revisions().series(all, SeriesPage{2, 0, "site=b,stage=all"});
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ(page->at(0).submission.dims.at("site"), "c");
  EXPECT_EQ(page->at(1).submission.dims.at("site"), "d");
  all.dims.clear();
  page = store->revisions().series(all, SeriesPage{3, 1, "site=c,stage=all"});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);  // from the second series after the cursor
  EXPECT_EQ(dims_key(page->at(0).submission.dims), "site=d,stage=all");
  EXPECT_EQ(dims_key(page->at(1).submission.dims), "site=d,stage=basic");
}

TEST(Store, MigratingAnOlderDatabaseIndexesItsSeriesDimsAndAlertOrder) {
  TempDir dir;
  {
    auto store = open_store(dir.file("k.db"));
    ASSERT_TRUE(store);
    appended(*store, {figure("k.two", 2024, 1, {{"region", "east"}, {"stage", "basic"}}),
                      figure("k.two", 2024, 2, {{"region", "west"}, {"stage", "basic"}}), figure("k.none", 2024, 3)});
  }
  {
    // Back to schema version 5: as a database written before migration 6.
    RawDb raw(dir.file("k.db"));
    ASSERT_EQ(raw.exec("DROP INDEX alerts_listed; DROP INDEX alerts_kpi_listed; "
                       "ALTER TABLE alerts DROP COLUMN list_state; ALTER TABLE alerts DROP COLUMN list_missing; "
                       "ALTER TABLE alerts DROP COLUMN list_severity; ALTER TABLE alerts DROP COLUMN list_goal; "
                       "DROP TABLE series_dims; DROP TABLE kpi_series; PRAGMA user_version = 5"),
              "");
  }
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  EXPECT_EQ(store->schema_version(), Store::current_schema_version());
  RawDb raw(dir.file("k.db"));
  EXPECT_EQ(raw.scalar("SELECT group_concat(name || '=' || value || '@' || series_id, ' ') FROM (SELECT * FROM "
                       "series_dims ORDER BY kpi, name, value)"),
            "region=east@1 region=west@2 stage=basic@1 stage=basic@2");
  EXPECT_EQ(raw.scalar("SELECT group_concat(kpi || '=' || series) FROM (SELECT * FROM kpi_series ORDER BY kpi)"),
            "k.none=1,k.two=2");
  EXPECT_EQ(series_of(*store, "k.two", {{"region", "west"}}).size(), 1u);
  appended(*store, {figure("k.two", 2024, 5, {{"region", "north"}, {"stage", "basic"}})});
  EXPECT_EQ(series_of(*store, "k.two", {{"stage", "basic"}}).size(), 3u);
  EXPECT_EQ(store->revisions().series_count({"k.two", {}, false}).value(), 3);
}

TEST(Store, ItemListsRoundTrip) {
  TempDir dir;
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  std::vector<std::string> items = {"Brazil", "Côte d'Ivoire", "ウズベキスタン", "a, b | \"c\"", "[not json]"};
  appended(*store, {item_list("g10.new_reference_countries", 2024, items)});
  auto back = series_of(*store, "g10.new_reference_countries");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].submission.items, items);
  EXPECT_FALSE(back[0].submission.value.has_value());
}

// A trigger that fails any revision whose note is "fail", added from another
// connection as an operator's tool might.
void add_failing_trigger(const std::string& path) {
  RawDb raw(path);
  ASSERT_EQ(raw.exec("CREATE TRIGGER test_fail BEFORE INSERT ON revisions WHEN NEW.note = 'fail' "
                     "BEGIN SELECT RAISE(ABORT, 'provoked failure'); END;"),
            "");
}

TEST(Store, AppendIsAllOrNothing) {
  TempDir dir;
  auto path = dir.file("k.db");
  auto store = open_store(path);
  ASSERT_TRUE(store);
  add_failing_trigger(path);

  auto failed = store->revisions().append(
      {figure("g01.trainees", 2024, 1), figure("g01.trainees", 2023, 2, {}, "fail")}, "t", "2025-01-01T00:00:00.000Z");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(to_string(failed.error().code), "storage_error");
  EXPECT_THAT(failed.error().message, HasSubstr("provoked failure"));

  RawDb raw(path);
  EXPECT_EQ(raw.count("revisions"), 0);
  EXPECT_EQ(raw.count("series"), 0);  // the series created for the batch went with it
  EXPECT_EQ(store->revisions().count().value(), 0);

  // The store is usable afterwards, and the series is created anew.
  auto ok = appended(*store, {figure("g01.trainees", 2024, 1)});
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].revision, 1);
  EXPECT_EQ(raw.count("revisions"), 1);
  EXPECT_EQ(raw.count("series"), 1);
  EXPECT_EQ(series_of(*store, "g01.trainees").size(), 1u);
}

TEST(Store, AFailedResubmissionLeavesTheCurrentRevision) {
  TempDir dir;
  auto path = dir.file("k.db");
  auto store = open_store(path);
  ASSERT_TRUE(store);
  appended(*store, {figure("g01.trainees", 2024, 100)});
  add_failing_trigger(path);
  EXPECT_FALSE(store->revisions()
                   .append({figure("g01.trainees", 2024, 200), figure("g01.trainees", 2025, 0, {}, "fail")}, "t",
                           "2025-01-01T00:00:00.000Z")
                   .ok());
  auto current = series_of(*store, "g01.trainees", {}, true);
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(current[0].submission.value, 100.0);
  EXPECT_EQ(appended(*store, {figure("g01.trainees", 2024, 300)}).at(0).revision, 2);
}

TEST(Store, RollingBackToASavepointKeepsTheOtherBatchesOfTheTransaction) {
  TempDir dir;
  auto path = dir.file("k.db");
  auto store = open_store(path);
  ASSERT_TRUE(store);
  add_failing_trigger(path);
  const std::string at = "2025-01-01T00:00:00.000Z";

  auto& revisions = store->revisions();
  {
    Transaction tx(store->connection());
    ASSERT_TRUE(tx.began().ok());
    {
      Savepoint a(tx);
      ASSERT_TRUE(a.began().ok());
      ASSERT_TRUE(revisions.insert({figure("g01.trainees", 2024, 1)}, "a", at).ok());
      ASSERT_TRUE(a.release().ok());
    }
    {
      Savepoint b(tx);
      ASSERT_TRUE(b.began().ok());
      // A new series, then a failure: both must go when `b` is rolled back to.
      EXPECT_FALSE(
          revisions
              .insert({figure("g01.training_courses", 2024, 5), figure("g01.training_courses", 2023, 6, {}, "fail")},
                      "b", at)
              .ok());
    }
    {
      Savepoint c(tx);
      ASSERT_TRUE(c.began().ok());
      auto stored =
          revisions.insert({figure("g01.training_courses", 2022, 7), figure("g01.trainees", 2024, 2)}, "c", at);
      ASSERT_TRUE(stored.ok()) << stored.error().message;
      EXPECT_EQ(stored.value()[1].revision, 2);  // sees batch a, in the same transaction
      ASSERT_TRUE(c.release().ok());
    }
    ASSERT_TRUE(tx.commit().ok());
  }

  RawDb raw(path);
  EXPECT_EQ(raw.count("revisions"), 3);
  EXPECT_EQ(raw.count("series"), 2);
  auto courses = series_of(*store, "g01.training_courses");
  ASSERT_EQ(courses.size(), 1u);
  EXPECT_EQ(courses[0].submission.period.str(), "2022");
  EXPECT_EQ(courses[0].submitted_by, "c");
  EXPECT_EQ(series_of(*store, "g01.trainees", {}, true).size(), 2u);
}

TEST(Store, RollbackDiscardsTheWholeTransaction) {
  TempDir dir;
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  {
    Transaction tx(store->connection());
    ASSERT_TRUE(tx.began().ok());
    ASSERT_TRUE(store->revisions().insert({figure("g01.trainees", 2024, 1)}, "a", "t").ok());
    ASSERT_TRUE(store->meta().set("k", "v").ok());
  }  // not committed: rolled back
  EXPECT_FALSE(store->connection().in_transaction());
  EXPECT_EQ(store->revisions().count().value(), 0);
  EXPECT_FALSE(store->meta().get("k").value().has_value());
  // The series created in the discarded transaction is created again.
  EXPECT_EQ(appended(*store, {figure("g01.trainees", 2024, 1)}).size(), 1u);
  EXPECT_EQ(series_of(*store, "g01.trainees").size(), 1u);
}

TEST(Store, ASecondTransactionOnTheConnectionFailsAloneAndTheFirstStillCommits) {
  TempDir dir;
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  Transaction outer(store->connection());
  ASSERT_TRUE(outer.began().ok());
  ASSERT_TRUE(store->revisions().insert({figure("g01.trainees", 2024, 1)}, "a", "t").ok());
  {
    Transaction inner(store->connection());
    EXPECT_FALSE(inner.began().ok());
    Savepoint batch(inner);
    EXPECT_FALSE(batch.began().ok());
    EXPECT_FALSE(batch.release().ok());
    EXPECT_FALSE(inner.commit().ok());
  }
  EXPECT_TRUE(store->connection().in_transaction()) << "the failed one rolled back nothing";
  ASSERT_TRUE(outer.commit().ok());
  EXPECT_FALSE(outer.commit().ok()) << "committed once only";
  EXPECT_EQ(store->revisions().count().value(), 1);
}

TEST(Store, RevisionsCannotBeUpdatedOrDeleted) {
  TempDir dir;
  auto path = dir.file("k.db");
  auto store = open_store(path);
  ASSERT_TRUE(store);
  appended(*store, {figure("g01.trainees", 2024, 4086)});
  RawDb raw(path);
  EXPECT_THAT(raw.exec("UPDATE revisions SET value = 0"), HasSubstr("append-only"));
  EXPECT_THAT(raw.exec("DELETE FROM revisions"), HasSubstr("append-only"));
  EXPECT_EQ(raw.count("revisions"), 1);
  EXPECT_EQ(raw.scalar("SELECT value FROM revisions"), "4086.0");
}

TEST(Store, MetaIsReadAndOverwritten) {
  TempDir dir;
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  auto missing = store->meta().get("bundled_dataset");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing.value().has_value());

  {
    Transaction tx(store->connection());
    ASSERT_TRUE(store->meta().set("bundled_dataset", "sha256:1").ok());
    ASSERT_TRUE(tx.commit().ok());
  }
  EXPECT_EQ(store->meta().get("bundled_dataset").value(), "sha256:1");

  {
    Transaction tx(store->connection());
    ASSERT_TRUE(store->meta().set("bundled_dataset", "sha256:2").ok());
    ASSERT_TRUE(tx.commit().ok());
  }
  EXPECT_EQ(store->meta().get("bundled_dataset").value(), "sha256:2");
  EXPECT_FALSE(store->meta().get("other").value().has_value());
}

TEST(Store, ReopeningKeepsDataAndDoesNotMigrateAgain) {
  TempDir dir;
  auto path = dir.file("k.db");
  {
    auto store = open_store(path);
    ASSERT_TRUE(store);
    appended(*store, {figure("g01.trainees", 2024, 4086)});
    Transaction tx(store->connection());
    ASSERT_TRUE(store->meta().set("k", "v").ok());
    ASSERT_TRUE(tx.commit().ok());
  }
  std::string schema_before;
  {
    RawDb raw(path);
    // A marker table: a re-run migration would not know it, and must not need to.
    ASSERT_EQ(raw.exec("CREATE TABLE marker (x)"), "");
    schema_before = raw.scalar("SELECT group_concat(name) FROM (SELECT name FROM sqlite_schema ORDER BY name)");
  }
  auto store = open_store(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->schema_version(), Store::current_schema_version());
  EXPECT_EQ(store->revisions().count().value(), 1);
  EXPECT_EQ(store->meta().get("k").value(), "v");
  RawDb raw(path);
  EXPECT_EQ(raw.scalar("SELECT group_concat(name) FROM (SELECT name FROM sqlite_schema ORDER BY name)"), schema_before);
  // Revision numbering continues from the stored history.
  EXPECT_EQ(appended(*store, {figure("g01.trainees", 2024, 4090)}).at(0).revision, 2);
}

TEST(Store, RefusesADatabaseFromANewerVersion) {
  TempDir dir;
  auto path = dir.file("k.db");
  {
    RawDb raw(path);
    ASSERT_EQ(raw.exec("PRAGMA user_version = " + std::to_string(Store::current_schema_version() + 1)), "");
  }
  auto store = Store::open({path, "full", 5000});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(to_string(store.error().code), "storage_error");
  EXPECT_THAT(store.error().message, HasSubstr("newer"));
  RawDb raw(path);
  EXPECT_EQ(raw.scalar("PRAGMA user_version"), std::to_string(Store::current_schema_version() + 1));
  EXPECT_EQ(raw.scalar("SELECT COUNT(*) FROM sqlite_schema"), "0");  // nothing created in it
}

TEST(Store, RefusesAFileThatIsNotADatabase) {
  TempDir dir;
  auto path = dir.file("k.db");
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not an SQLite database, but it is long enough to have a header.........", f);
    std::fclose(f);
  }
  auto store = Store::open({path, "full", 5000});
  EXPECT_FALSE(store.ok());
}

TEST(Store, RevisionsAfterAnIdAreInCommitOrderWithTheirSeries) {
  TempDir dir;
  auto store = open_store(dir.file("k.db"));
  ASSERT_TRUE(store);
  auto last = store->revisions().last_id();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last.value(), 0);
  auto first = appended(*store, {figure("g01.trainees", 2023, 2783)});
  appended(*store, {figure("g06.stage_up_rate", 2024, 26.8, {{"stage", "all"}}), figure("g01.trainees", 2023, 2800)});
  ASSERT_EQ(first.size(), 1u);

  auto after = store->revisions().after(first[0].id);
  ASSERT_TRUE(after.ok()) << after.error().message;
  ASSERT_EQ(after.value().size(), 2u);
  EXPECT_EQ(after.value()[0].submission.kpi, "g06.stage_up_rate");
  EXPECT_EQ(after.value()[0].submission.dims, (Dims{{"stage", "all"}}));
  EXPECT_EQ(after.value()[0].submission.value, 26.8);
  EXPECT_EQ(after.value()[1].submission.kpi, "g01.trainees");
  EXPECT_EQ(after.value()[1].revision, 2);
  EXPECT_LT(after.value()[0].id, after.value()[1].id);
  EXPECT_EQ(store->revisions().last_id().value(), after.value()[1].id);
  EXPECT_TRUE(store->revisions().after(after.value()[1].id).value().empty());
}

TEST(Store, DataVersionChangesOnlyForAnotherConnectionsCommits) {
  TempDir dir;
  auto daemon = open_store(dir.file("k.db"));
  auto importer = open_store(dir.file("k.db"));
  ASSERT_TRUE(daemon && importer);
  auto before = daemon->connection().data_version();
  ASSERT_TRUE(before.ok());
  appended(*daemon, {figure("g01.trainees", 2023, 2783)});
  EXPECT_EQ(daemon->connection().data_version().value(), before.value()) << "its own commit";
  appended(*importer, {figure("g01.trainees", 2024, 4086)}, "import:figures.csv");
  auto after = daemon->connection().data_version();
  EXPECT_NE(after.value(), before.value()) << "another connection's commit";
  auto external = daemon->revisions().after(1);
  ASSERT_EQ(external.value().size(), 1u);
  EXPECT_EQ(external.value()[0].submitted_by, "import:figures.csv");
}

TEST(Store, ACommittedAppendIsVisibleToAnotherConnection) {
  TempDir dir;
  auto path = dir.file("k.db");
  auto store = open_store(path);
  ASSERT_TRUE(store);
  appended(*store, {figure("g01.trainees", 2024, 4086), item_list("g10.new_reference_countries", 2024, {"Peru"})});
  RawDb raw(path);
  EXPECT_EQ(raw.count("revisions"), 2);
  EXPECT_EQ(raw.scalar("SELECT items FROM revisions WHERE items IS NOT NULL"), R"(["Peru"])");
}

}  // namespace
}  // namespace kpiwatch
