// Faults that a long-running service meets, on the real daemon: who may read
// its files, a crash between its two commits, a full disk, and a database file
// that is not its own (docs/OPERATIONS.md, "Faults and recovery").
//
// The crash tests run kpiwatch_fault_injection, the kpiwatch binary whose fault
// points (daemon/src/ingest/fault_point.hpp) end the process where
// $KPIWATCH_FAULT says; the shipped binary has none that fire.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <thread>

#include "http_client.hpp"
#include "process.hpp"
#include "receiver.hpp"

namespace kpiwatch::test {
namespace {
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

// The exit status of a fault point (support/fault_exit.cpp).
constexpr int kFaultExit = 86;
constexpr const char* kRule = "g06-stage-up-rate-falling";

// ---------------------------------------------------------------------------
// Helpers

mode_t mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 07777;  // no such file: no mode matches
  return st.st_mode & 07777;
}

// One value read straight from the SQLite file; "" for NULL, "error: ..." on failure.
std::string scalar(const std::string& database, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    out = std::string("error: ") + sqlite3_errmsg(db);
    sqlite3_close(db);
    return out;
  }
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    out = std::string("error: ") + sqlite3_errmsg(db);
  } else if (sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(stmt, 0);
    out = text ? reinterpret_cast<const char*>(text) : "";
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// The shipped rule on g06.stage_up_rate, stage = "basic": the bundled 24.1 (2024)
// followed by 10 (2025) is a fall of 14.1 points, which fires. Only that series
// goes to the receiver.
std::string alerting_to(const TestReceiver& receiver) {
  return fmt::format(R"(
[alerting]
default_receiver = ""
retry_initial_ms = 50
retry_max_ms = 400

[[receivers]]
name = "hook"
url = "{}"
format = "alertmanager"
timeout_ms = 2000

[[routes]]
match = {{ rule = "{}", stage = "basic" }}
receivers = ["hook"]
)",
                     receiver.url("/hook"), kRule);
}

HttpReply submit_basic_fall(unsigned short port) {
  return http_post(port, "/api/v1/submissions",
                   R"({"kpi": "g06.stage_up_rate", "period": "2025", "dims": {"stage": "basic"}, "value": 10})",
                   kAdminToken);
}

// Webhook requests about the rule's alert on stage = "basic" that said `status`.
std::function<bool(const ReceivedRequest&)> about_basic(const std::string& status) {
  return [status](const ReceivedRequest& r) {
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    if (ec || !v.is_object() || !v.as_object().contains("alerts")) return false;
    const auto& labels = v.at("alerts").at(0).at("labels").as_object();
    return labels.contains("rule") && labels.at("rule") == kRule && labels.contains("stage") &&
           labels.at("stage") == "basic" && v.at("status") == status.c_str();
  };
}

constexpr const char* kBasicAlert =
    "SELECT fingerprint FROM alerts WHERE rule_id = 'g06-stage-up-rate-falling' AND labels LIKE "
    "'%\"stage\":\"basic\"%'";

std::string basic_state(const std::string& database) {
  return scalar(database, fmt::format("SELECT state FROM alerts WHERE fingerprint = ({})", kBasicAlert));
}

// The outbox rows of the basic alert's firing: "status key" per row, in order.
std::vector<std::string> basic_firing_outbox(const std::string& database) {
  std::vector<std::string> rows;
  auto n = scalar(
      database, fmt::format("SELECT COUNT(*) FROM outbox WHERE event = 'firing' AND fingerprint = ({})", kBasicAlert));
  for (int i = 0; i < std::atoi(n.c_str()); ++i)
    rows.push_back(scalar(database, fmt::format("SELECT status || ' ' || idempotency_key FROM outbox WHERE event = "
                                                "'firing' AND fingerprint = ({}) ORDER BY id LIMIT 1 OFFSET {}",
                                                kBasicAlert, i)));
  return rows;
}

long long basic_2025_revisions(const std::string& database) {
  return std::atoll(scalar(database,
                           "SELECT COUNT(*) FROM revisions r JOIN series s ON s.id = r.series_id WHERE s.kpi = "
                           "'g06.stage_up_rate' AND s.dims = 'stage=basic' AND r.period = '2025' AND r.value = 10")
                        .c_str());
}

// After a crash at `fault` while storing the fall: one restart sends the firing
// notification once, and a further restart sends nothing more.
void expect_one_notification_after(const std::string& fault) {
  TestReceiver receiver;
  receiver.start();
  Daemon daemon("", alerting_to(receiver));
  daemon.use_binary(KPIWATCH_FAULT_BINARY);
  daemon.start({{"KPIWATCH_FAULT", fault}});
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();

  // The process ends before it answers: the connection closes without a reply.
  EXPECT_ANY_THROW(submit_basic_fall(daemon.port()));
  ASSERT_EQ(daemon.wait_exit(20s), kFaultExit) << daemon.log();
  ASSERT_NE(daemon.log().find("fault injected: exiting at " + fault), std::string::npos) << daemon.log();
  EXPECT_EQ(basic_2025_revisions(daemon.database()), 1) << "the revision was committed before the fault";
  if (fault == "after-revision-commit") {
    EXPECT_NE(basic_state(daemon.database()), "firing") << "the fault came before the alert's commit";
    EXPECT_TRUE(basic_firing_outbox(daemon.database()).empty());
  } else {
    EXPECT_EQ(basic_state(daemon.database()), "firing") << "the fault came after the alert's commit";
    auto queued = basic_firing_outbox(daemon.database());
    ASSERT_EQ(queued.size(), 1u);
    EXPECT_EQ(queued[0].substr(0, 8), "pending ") << "its delivery was not recorded before the fault";
  }

  daemon.use_binary("");
  daemon.start();
  auto got = receiver.wait_for(1, about_basic("firing"));
  ASSERT_GE(got.size(), 1u) << daemon.log();
  EXPECT_EQ(basic_state(daemon.database()), "firing");
  ASSERT_TRUE(eventually([&] {
    auto rows = basic_firing_outbox(daemon.database());
    return rows.size() == 1 && rows[0].substr(0, 10) == "delivered ";
  })) << daemon.log();
  ASSERT_EQ(daemon.stop(), 0);

  // A further start must not evaluate the revision into a second notification.
  daemon.start();
  ASSERT_TRUE(eventually([&] { return http_get(daemon.port(), "/readyz").status == 200; })) << daemon.log();
  ASSERT_EQ(daemon.stop(), 0);
  auto rows = basic_firing_outbox(daemon.database());
  ASSERT_EQ(rows.size(), 1u) << "one notification queued for the firing";
  got = receiver.requests(about_basic("firing"));
  // Queued before the fault, it may have been on its way when the process ended: then it is
  // sent again, with the same key, which a receiver deduplicates by.
  if (fault == "after-revision-commit") {
    EXPECT_EQ(got.size(), 1u) << "nothing was queued before the fault";
  }
  for (const auto& r : got) EXPECT_EQ(rows[0], "delivered " + r.header("Idempotency-Key"));
  EXPECT_EQ(basic_2025_revisions(daemon.database()), 1) << "the figure was stored once";
}

// A tmpfs mounted for one test, unmounted however the test ends.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, const std::string& size) : dir_(dir) {
    fs::create_directories(dir);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size + ",mode=0700").c_str()) == 0)
      mounted_ = true;
    else
      error_ = std::strerror(errno);
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string error_;
};

// Writes `path` until the file system is full; the bytes written.
long long fill(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  std::string chunk(std::size_t{64} * 1024, 'x');
  long long total = 0;
  for (;;) {
    ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n <= 0) break;
    total += n;
  }
  ::close(fd);
  return total;
}

// A batch of `n` g01.trainees figures (years from 2100) whose notes carry `tag`,
// large enough (4 KB a note) that it cannot fit in what the WAL file already holds.
std::string tagged_batch(const std::string& tag, int n) {
  std::string padding(3900, 'n');
  std::string out = R"({"submissions": [)";
  for (int i = 0; i < n; ++i)
    out += fmt::format(R"({}{{"kpi": "g01.trainees", "period": "{}", "value": {}, "note": "{} {}"}})", i ? "," : "",
                       2100 + i, i + 1, tag, padding);
  return out + "]}";
}

long long tagged(const std::string& database, const std::string& tag) {
  return std::atoll(scalar(database, "SELECT COUNT(*) FROM revisions WHERE note LIKE '" + tag + " %'").c_str());
}

std::string bytes_of(const std::string& path) { return read_file(path); }

// `kpiwatch serve` on a config whose database is `database`: bounded, it exits by itself when refused.
CommandResult serve_once(Daemon& daemon) { return run_kpiwatch({"serve", "--config", daemon.config_path()}, 30s); }

// ---------------------------------------------------------------------------
// File modes

TEST(Faults, AFreshStateDirectoryIsPrivateUnderAUmaskOf022) {
  mode_t before = ::umask(022);  // inherited by the daemon
  Daemon daemon;
  daemon.start();
  ::umask(before);
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  // A write: the -wal and -shm files are in use.
  ASSERT_EQ(http_post(daemon.port(), "/api/v1/submissions", R"({"kpi": "g01.trainees", "period": "2030", "value": 1})",
                      kAmedToken)
                .status,
            201);
  EXPECT_EQ(mode_of(daemon.state_dir()), 0700u) << "state directory";
  EXPECT_EQ(mode_of(daemon.database()), 0600u) << "database";
  EXPECT_EQ(mode_of(daemon.database() + "-wal"), 0600u) << "-wal";
  EXPECT_EQ(mode_of(daemon.database() + "-shm"), 0600u) << "-shm";

  // A backup holds the same figures: it is as private.
  const std::string copy = daemon.dir() + "/backups/kpiwatch-copy.db";
  fs::create_directories(daemon.dir() + "/backups");
  before = ::umask(022);
  auto backup = run_kpiwatch({"backup", "--config", daemon.config_path(), copy});
  ::umask(before);
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  EXPECT_EQ(mode_of(copy), 0600u) << "backup";
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Faults, NestedMissingStateDirectoriesAreAllCreatedPrivate) {
  Daemon daemon;
  const std::string state = daemon.dir() + "/a/b/state";
  daemon.write_config(test_config(state));
  mode_t before = ::umask(022);
  daemon.start();
  ::umask(before);
  for (const auto& d : {daemon.dir() + "/a", daemon.dir() + "/a/b", state}) EXPECT_EQ(mode_of(d), 0700u) << d;
  EXPECT_EQ(mode_of(state + "/kpiwatch.db"), 0600u);
  EXPECT_EQ(daemon.stop(), 0);
}

// ---------------------------------------------------------------------------
// A crash between the commit of a revision and the commit of its alert transition

TEST(Faults, AKillAfterTheRevisionCommitIsRecoveredAtStartWithOneNotification) {
  expect_one_notification_after("after-revision-commit");
}

TEST(Faults, AKillAfterTheAlertCommitSendsItsNotificationOnceAfterTheRestart) {
  expect_one_notification_after("after-alert-commit");
}

TEST(Faults, TheShippedBinaryHasNoFaultThatFires) {
  // The same environment on the shipped binary: the submission is stored and answered.
  Daemon daemon;
  daemon.start({{"KPIWATCH_FAULT", "after-revision-commit"}});
  auto reply = submit_basic_fall(daemon.port());
  EXPECT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(daemon.stop(), 0);
}

// ---------------------------------------------------------------------------
// A full disk

TEST(Faults, AFullDiskAnswers503WritesNothingAndRecoversWhenSpaceReturns) {
  Daemon daemon;
  TmpfsMount disk(daemon.state_dir(), "48m");
  if (!disk.mounted())
    GTEST_SKIP() << "cannot mount a tmpfs on " << daemon.state_dir() << " (" << disk.error()
                 << "): this test needs root with CAP_SYS_ADMIN";
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  const std::string db = daemon.database();
  auto post = [&](const std::string& body) {
    return http_post(daemon.port(), "/api/v1/submissions", body, kAmedToken);
  };
  auto first = post(tagged_batch("before", 50));
  ASSERT_EQ(first.status, 201) << first.body;

  const std::string filler = daemon.state_dir() + "/filler";
  ASSERT_GT(fill(filler), 0);

  // Batches until one meets the full disk (the WAL may first reuse room it already has).
  std::string refused;
  std::vector<std::string> stored{"before"};
  for (int i = 0; i < 8 && refused.empty(); ++i) {
    std::string tag = fmt::format("full{}", i);
    auto reply = post(tagged_batch(tag, 200));
    if (reply.status == 201) {
      stored.push_back(tag);
      continue;
    }
    ASSERT_EQ(reply.status, 503) << reply.body;
    EXPECT_EQ(reply.error_code(), "storage_full") << reply.body;
    refused = tag;
  }
  ASSERT_FALSE(refused.empty()) << "no batch met the full disk";
  EXPECT_EQ(tagged(db, refused), 0) << "nothing of the refused batch is stored";
  for (const auto& tag : stored) EXPECT_EQ(tagged(db, tag), tag == "before" ? 50 : 200) << tag;
  EXPECT_EQ(http_get(daemon.port(), "/healthz").status, 200);
  auto series = http_get(daemon.port(), "/api/v1/kpis/g01.trainees/series");
  EXPECT_EQ(series.status, 200) << series.body;

  // Room again: the refused batch is resent whole.
  ASSERT_TRUE(fs::remove(filler));
  auto again = post(tagged_batch(refused, 200));
  EXPECT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(tagged(db, refused), 200);
  auto more = post(tagged_batch("after", 10));
  EXPECT_EQ(more.status, 201) << more.body;
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(scalar(db, "PRAGMA quick_check"), "ok");
}

// ---------------------------------------------------------------------------
// A database file that is not kpiwatch's

// Starting on `database` as it is: refused, naming the file, and the file unchanged.
void expect_refused_unchanged(Daemon& daemon, const std::string& said) {
  const std::string before = bytes_of(daemon.database());
  auto r = serve_once(daemon);
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.exit_code, -1) << "it kept running on the file:\n" << r.err;
  EXPECT_NE(r.err.find(daemon.database()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(said), std::string::npos) << r.err;
  EXPECT_TRUE(bytes_of(daemon.database()) == before) << "the file was written to";
}

TEST(Faults, ADatabaseOfRandomBytesIsRefusedAndLeftAsItIs) {
  Daemon daemon;
  fs::create_directories(daemon.state_dir());
  std::mt19937 random(14);
  std::string bytes(std::size_t{64} * 1024, '\0');
  for (auto& b : bytes) b = static_cast<char>(random());
  write_file(daemon.database(), bytes);
  expect_refused_unchanged(daemon, "is not a SQLite database");
}

TEST(Faults, ATruncatedDatabaseIsRefusedAndLeftAsItIs) {
  Daemon daemon;
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  ASSERT_EQ(daemon.stop(), 0);
  ASSERT_FALSE(fs::exists(daemon.database() + "-wal")) << "a clean stop checkpoints the WAL";
  auto size = fs::file_size(daemon.database());
  ASSERT_GT(size, 8192u);
  fs::resize_file(daemon.database(), size / 2 / 4096 * 4096);
  expect_refused_unchanged(daemon, "is truncated");

  // A file shorter than SQLite's header.
  fs::resize_file(daemon.database(), 50);
  expect_refused_unchanged(daemon, "is truncated");
}

TEST(Faults, ASqliteDatabaseOfAnotherProgramIsRefusedAndLeftAsItIs) {
  Daemon daemon;
  fs::create_directories(daemon.state_dir());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(daemon.database().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); "
                         "INSERT INTO customers (name) VALUES ('a'), ('b')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  expect_refused_unchanged(daemon, "is not a kpiwatch database");

  // Another program's application id, even with tables named as ours.
  ASSERT_EQ(sqlite3_open(daemon.database().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE series (x); CREATE TABLE revisions (x); CREATE TABLE meta (x); "
                         "PRAGMA application_id = 1179603795",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  expect_refused_unchanged(daemon, "application_id 0x464f5353");
}

TEST(Faults, ADatabaseFromBeforeTheApplicationIdIsOpenedAndMarked) {
  Daemon daemon;
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  ASSERT_EQ(daemon.stop(), 0);
  EXPECT_EQ(scalar(daemon.database(), "PRAGMA application_id"), std::to_string(0x4b504957)) << "set when created";
  const long long revisions = count_revisions(daemon.database());

  // As a kpiwatch before the application id left it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(daemon.database().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA application_id = 0", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  daemon.start();
  EXPECT_EQ(http_get(daemon.port(), "/healthz").status, 200);
  ASSERT_EQ(daemon.stop(), 0);
  EXPECT_EQ(scalar(daemon.database(), "PRAGMA application_id"), std::to_string(0x4b504957));
  EXPECT_EQ(count_revisions(daemon.database()), revisions);
}

}  // namespace
}  // namespace kpiwatch::test
