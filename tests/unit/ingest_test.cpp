// Group commit: concurrent batches share transactions, each in its own
// savepoint, and are acknowledged only once committed.
//
// Contention is made certain, not hoped for: the first batch's completion
// callback runs on the writer thread and holds it (a Gate) until the test has
// queued the other batches, so they must be written together afterwards.

#include "kpiwatch/ingest.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "temp_dir.hpp"

namespace kpiwatch {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using test::TempDir;

class FixedClock final : public Clock {
 public:
  TimePoint now() const override { return TimePoint{std::chrono::milliseconds(1719750896789)}; }
};
const std::string kReceivedAt = "2024-06-30T12:34:56.789Z";

// Runs `sql` on a fresh connection to `path` and returns the first column of the first row.
std::string query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      if (const auto* text = sqlite3_column_text(stmt, 0)) out = reinterpret_cast<const char*>(text);
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

std::int64_t revisions_in(const std::string& path) { return std::stoll(query(path, "SELECT COUNT(*) FROM revisions")); }

std::unique_ptr<Store> open_store(const std::string& path) {
  auto store = Store::open({path, "full", 5000});
  EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
  return store.ok() ? std::move(store.value()) : nullptr;
}

Submission figure(int year, double value, const std::string& series = "main", const std::string& note = "") {
  Submission s;
  s.kpi = "g01.trainees";
  s.period = Period{PeriodKind::year, year, 0};
  s.dims = {{"series", series}};
  s.value = value;
  s.note = note;
  return s;
}

// Holds the writer thread inside a completion callback until opened.
class Gate {
 public:
  void enter_and_wait() {
    std::unique_lock lock(mutex_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  void wait_until_entered() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return entered_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool open_ = false;
};

// Opens the gate when the test ends, even after a failed assertion, so that
// stopping the Ingest cannot hang. Declare it after the Ingest.
struct OpenOnExit {
  Gate& gate;
  ~OpenOnExit() { gate.open(); }
};

// Collects completion results from the writer thread.
class Results {
 public:
  Ingest::Done callback(std::size_t slot) {
    return [this, slot](Result<std::vector<Revision>> r) {
      std::lock_guard lock(mutex_);
      results_.emplace(slot, std::move(r));
      cv_.notify_all();
    };
  }
  // Waits until `n` results arrived; they do once the writer gets to them.
  void wait_for(std::size_t n) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return results_.size() >= n; });
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return results_.size();
  }
  Result<std::vector<Revision>>& at(std::size_t slot) {
    std::lock_guard lock(mutex_);
    return results_.at(slot);
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::size_t, Result<std::vector<Revision>>> results_;
};

// Makes an INSERT of a revision noted `note` fail with RAISE(`raise`): ABORT fails the
// statement, as a broken constraint does; ROLLBACK ends the whole transaction, as a full
// disk or an I/O error does.
void fail_revisions_noted(const std::string& path, const std::string& note, const std::string& raise) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string sql = "CREATE TRIGGER test_" + note + " BEFORE INSERT ON revisions WHEN NEW.note = '" + note +
                    "' BEGIN SELECT RAISE(" + raise + ", 'provoked " + note + "'); END;";
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

// Holds the writer in a first batch's completion until `gate` opens, so that the batches
// submitted meanwhile are written as one group.
void hold_writer(Ingest& ingest, Gate& gate, Results& results) {
  ingest.submit({figure(2000, 0, "gate")}, "gate", [&](Result<std::vector<Revision>> r) {
    results.callback(0)(std::move(r));
    gate.enter_and_wait();
  });
  gate.wait_until_entered();
}

TEST(Ingest, StoresABatchAndAcknowledgesItOnlyAfterCommit) {
  TempDir dir;
  auto path = dir.file("k.db");
  FixedClock clock;
  Ingest ingest(open_store(path), clock);
  ingest.start();

  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  std::int64_t visible = -1;
  Result<std::vector<Revision>> result = Error{ErrorCode::not_ready, "", "", {}};
  ingest.submit({figure(2023, 1), figure(2024, 2)}, "amed-uploader", [&](Result<std::vector<Revision>> r) {
    // Another connection already sees the rows: the batch was committed.
    std::int64_t count = revisions_in(path);
    std::lock_guard lock(mutex);
    visible = count;
    result = std::move(r);
    done = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return done; });
  }
  EXPECT_EQ(visible, 2);
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ(result.value().size(), 2u);
  EXPECT_EQ(result.value()[0].revision, 1);
  EXPECT_EQ(result.value()[1].submission.value, 2.0);
  EXPECT_EQ(result.value()[0].submitted_by, "amed-uploader");
  EXPECT_EQ(result.value()[0].received_at, kReceivedAt);
  ingest.stop();
  EXPECT_EQ(ingest.stats().commits, 1u);
  EXPECT_EQ(ingest.stats().batches, 1u);
}

TEST(Ingest, ConcurrentBatchesAreGatheredIntoOneCommit) {
  TempDir dir;
  auto path = dir.file("k.db");
  FixedClock clock;
  Gate gate;
  Results results;
  Ingest ingest(open_store(path), clock);
  OpenOnExit guard{gate};
  ingest.start();

  hold_writer(ingest, gate, results);  // the writer is busy: everything below queues up

  constexpr int kThreads = 16;
  constexpr int kBatchesPerThread = 8;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatchesPerThread; ++b) {
        std::size_t slot = 1 + static_cast<std::size_t>(t * kBatchesPerThread + b);
        ingest.submit({figure(2024, b, "thread" + std::to_string(t)), figure(2025, b, "thread" + std::to_string(t))},
                      "thread" + std::to_string(t), results.callback(slot));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(results.size(), 1u);  // nothing else can have been written yet
  gate.open();

  const std::size_t batches = 1 + kThreads * kBatchesPerThread;
  results.wait_for(batches);
  for (int t = 0; t < kThreads; ++t) {
    for (int b = 0; b < kBatchesPerThread; ++b) {
      auto& r = results.at(1 + static_cast<std::size_t>(t * kBatchesPerThread + b));
      ASSERT_TRUE(r.ok()) << r.error().message;
      ASSERT_EQ(r.value().size(), 2u);
      // Each thread resubmits its own series: revisions count up in its submission order.
      EXPECT_EQ(r.value()[0].revision, b + 1);
      EXPECT_EQ(r.value()[0].submission.dims.at("series"), "thread" + std::to_string(t));
      EXPECT_EQ(r.value()[1].submission.period.str(), "2025");
      EXPECT_EQ(r.value()[0].submitted_by, "thread" + std::to_string(t));
    }
  }
  auto stats = ingest.stats();
  EXPECT_EQ(stats.batches, batches);
  EXPECT_EQ(stats.commits, 2u);  // the gate's own, then everything queued behind it
  ingest.stop();
  EXPECT_EQ(revisions_in(path), static_cast<std::int64_t>(1 + 2 * kThreads * kBatchesPerThread));
}

TEST(Ingest, ConcurrentResubmissionsOfOneFigureGetDistinctRevisions) {
  TempDir dir;
  auto path = dir.file("k.db");
  FixedClock clock;
  Results results;
  Ingest ingest(open_store(path), clock);
  ingest.start();

  constexpr int kThreads = 12;
  constexpr int kEach = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        ingest.submit({figure(2024, t)}, "t",
                      results.callback(static_cast<std::size_t>(t) * kEach + static_cast<std::size_t>(i)));
    });
  for (auto& thread : threads) thread.join();
  results.wait_for(std::size_t{kThreads} * kEach);

  std::set<int> revisions;
  for (std::size_t i = 0; i < std::size_t{kThreads} * kEach; ++i) {
    auto& r = results.at(i);
    ASSERT_TRUE(r.ok()) << r.error().message;
    revisions.insert(r.value().at(0).revision);
  }
  EXPECT_EQ(revisions.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(*revisions.begin(), 1);
  EXPECT_EQ(*revisions.rbegin(), kThreads * kEach);
  auto stats = ingest.stats();
  EXPECT_EQ(stats.batches, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_LE(stats.commits, stats.batches);
  ingest.stop();
  EXPECT_EQ(revisions_in(path), kThreads * kEach);
}

TEST(Ingest, AFailingBatchDoesNotFailTheOthersInItsGroup) {
  TempDir dir;
  auto path = dir.file("k.db");
  FixedClock clock;
  Gate gate;
  Results results;
  auto store = open_store(path);
  ASSERT_TRUE(store);
  fail_revisions_noted(path, "fail", "ABORT");
  Ingest ingest(std::move(store), clock);
  OpenOnExit guard{gate};
  ingest.start();
  hold_writer(ingest, gate, results);
  ingest.submit({figure(2024, 1, "a")}, "a", results.callback(1));
  // A new series and a good row first, then the failing row: all of it must go.
  ingest.submit({figure(2024, 2, "b"), figure(2023, 2, "b", "fail")}, "b", results.callback(2));
  ingest.submit({figure(2024, 3, "c"), figure(2024, 4, "a")}, "c", results.callback(3));
  gate.open();
  results.wait_for(4);

  ASSERT_TRUE(results.at(1).ok()) << results.at(1).error().message;
  ASSERT_FALSE(results.at(2).ok());
  EXPECT_THAT(results.at(2).error().message, HasSubstr("provoked fail"));
  ASSERT_TRUE(results.at(3).ok()) << results.at(3).error().message;
  EXPECT_EQ(results.at(3).value().at(1).revision, 2);  // follows batch a in the same transaction
  EXPECT_EQ(ingest.stats().commits, 2u);               // a, b and c were one group
  EXPECT_EQ(ingest.stats().batches, 4u);
  ingest.stop();

  EXPECT_EQ(revisions_in(path), 4);  // gate, a, and c's two
  EXPECT_EQ(query(path, "SELECT COUNT(*) FROM series WHERE dims = 'series=b'"), "0");
  EXPECT_EQ(query(path, "SELECT COUNT(*) FROM revisions WHERE submitted_by = 'b'"), "0");
}

TEST(Ingest, ABatchWhoseFailureEndsTheTransactionFailsTheGroupAndNothingIsWrittenAfterIt) {
  TempDir dir;
  auto path = dir.file("k.db");
  FixedClock clock;
  Gate gate;
  Results results;
  auto store = open_store(path);
  ASSERT_TRUE(store);
  fail_revisions_noted(path, "end", "ROLLBACK");
  Ingest ingest(std::move(store), clock);
  OpenOnExit guard{gate};
  ingest.start();
  hold_writer(ingest, gate, results);
  ingest.submit({figure(2024, 1, "a")}, "a", results.callback(1));
  ingest.submit({figure(2024, 2, "b", "end")}, "b", results.callback(2));
  ingest.submit({figure(2024, 3, "c")}, "c", results.callback(3));
  gate.open();
  results.wait_for(4);
  ingest.stop();

  // What each client is told is what is stored: a batch reported failed is not in the database.
  for (std::size_t i = 1; i <= 3; ++i) {
    SCOPED_TRACE(i);
    std::string by = std::string(1, static_cast<char>('a' + i - 1));
    auto stored = query(path, "SELECT COUNT(*) FROM revisions WHERE submitted_by = '" + by + "'");
    EXPECT_EQ(stored, results.at(i).ok() ? "1" : "0");
  }
  EXPECT_FALSE(results.at(2).ok());
  EXPECT_EQ(revisions_in(path), 1);  // the gate only: the group was rolled back whole
}

TEST(Ingest, GroupsRespectTheRowLimit) {
  TempDir dir;
  auto path = dir.file("k.db");
  FixedClock clock;
  Gate gate;
  Results results;
  Ingest ingest(open_store(path), clock, 2);
  OpenOnExit guard{gate};
  ingest.start();
  hold_writer(ingest, gate, results);
  for (std::size_t i = 1; i <= 5; ++i) ingest.submit({figure(2024, 1, std::to_string(i))}, "t", results.callback(i));
  // A batch larger than the limit still goes through, in a group of its own.
  ingest.submit({figure(2021, 1, "big"), figure(2022, 1, "big"), figure(2023, 1, "big")}, "t", results.callback(6));
  gate.open();
  results.wait_for(7);
  for (std::size_t i = 0; i < 7; ++i) EXPECT_TRUE(results.at(i).ok()) << i;
  // gate | 1 2 | 3 4 | 5 | big
  EXPECT_EQ(ingest.stats().commits, 5u);
  ingest.stop();
  EXPECT_EQ(revisions_in(path), 9);
}

TEST(Ingest, StopDrainsQueuedBatches) {
  TempDir dir;
  auto path = dir.file("k.db");
  FixedClock clock;
  Gate gate;
  Results results;
  Ingest ingest(open_store(path), clock);
  OpenOnExit guard{gate};
  ingest.start();
  hold_writer(ingest, gate, results);
  constexpr std::size_t kQueued = 20;
  for (std::size_t i = 1; i <= kQueued; ++i)
    ingest.submit({figure(2024, 1, std::to_string(i))}, "t", results.callback(i));

  std::thread stopper([&] { ingest.stop(); });
  // Probe until stop() has begun (a submission is refused at once); probes
  // accepted before that are queued work too.
  std::atomic<bool> refused = false;
  std::size_t probes = 0;
  while (!refused) {
    std::size_t slot = 1000 + probes;
    ingest.submit({}, "probe", [&, slot](Result<std::vector<Revision>> r) {
      if (!r.ok() && r.error().code == ErrorCode::shutting_down)
        refused = true;
      else
        results.callback(slot)(std::move(r));
    });
    if (!refused) ++probes;
    std::this_thread::yield();
  }
  gate.open();
  stopper.join();

  ASSERT_EQ(results.size(), 1 + kQueued + probes);
  for (std::size_t i = 1; i <= kQueued; ++i) EXPECT_TRUE(results.at(i).ok()) << i;
  EXPECT_EQ(revisions_in(path), static_cast<std::int64_t>(1 + kQueued));
}

TEST(Ingest, RefusesSubmissionsAfterStop) {
  TempDir dir;
  FixedClock clock;
  Ingest ingest(open_store(dir.file("k.db")), clock);
  ingest.start();
  ingest.stop();
  bool called = false;
  ingest.submit({figure(2024, 1)}, "t", [&](Result<std::vector<Revision>> r) {
    called = true;
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(to_string(r.error().code), "shutting_down");
    EXPECT_EQ(ingest.stats().batches, 0u);  // the callback may call back into the Ingest
  });
  EXPECT_TRUE(called);  // at once, on the caller's thread
}

TEST(Ingest, StopClosesTheDatabaseSoItCanBeReopened) {
  TempDir dir;
  auto path = dir.file("k.db");
  FixedClock clock;
  Results results;
  {
    Ingest ingest(open_store(path), clock);
    ingest.start();
    ingest.submit({figure(2024, 1)}, "t", results.callback(0));
    ingest.stop();
    ASSERT_EQ(results.size(), 1u);
    // The last connection to close checkpoints the WAL into the database and removes it.
    EXPECT_FALSE(fs::exists(path + "-wal"));
  }
  auto store = open_store(path);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->revisions().count().value(), 1);
}

}  // namespace
}  // namespace kpiwatch
