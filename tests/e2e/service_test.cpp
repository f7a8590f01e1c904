// Running under systemd, without systemd: the notify protocol on a datagram
// socket of our own, environment overrides for the unit's drop-ins, and
// `kpiwatch backup` while the daemon ingests.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <thread>

#include "http_client.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {
using namespace std::chrono_literals;

// An AF_UNIX datagram socket standing in for systemd's notify socket.
// `name` starting with '@' is an abstract socket, else a file-system path.
class NotifySocket {
 public:
  explicit NotifySocket(std::string name) : name_(std::move(name)) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (name_.size() >= sizeof(addr.sun_path)) throw std::runtime_error("socket name too long: " + name_);
    std::memcpy(addr.sun_path, name_.data(), name_.size());
    if (name_[0] == '@') addr.sun_path[0] = '\0';
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size() + (name_[0] == '@' ? 0 : 1));
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0)
      throw std::runtime_error(fmt::format("bind {} failed: {}", name_, std::strerror(errno)));
  }
  ~NotifySocket() {
    close(fd_);
    if (name_[0] != '@') unlink(name_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // The value of NOTIFY_SOCKET.
  const std::string& name() const { return name_; }

  // The next datagram, or nothing by the deadline.
  std::optional<std::string> receive(std::chrono::milliseconds deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(deadline.count())) <= 0) return std::nullopt;
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }

  // Receives until a message containing `tag` (e.g. "READY=1"), within `deadline`;
  // keeps every message in history(). Watchdog pings are counted, not kept.
  std::optional<std::string> wait_for(const std::string& tag, std::chrono::milliseconds deadline = 30s) {
    auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      auto message = receive(left);
      if (!message) return std::nullopt;
      if (*message == "WATCHDOG=1") {
        ++watchdog_pings_;
        if (tag == "WATCHDOG=1") return message;
        continue;
      }
      history_.push_back(*message);
      if (message->find(tag) != std::string::npos) return message;
    }
  }

  const std::vector<std::string>& history() const { return history_; }
  int watchdog_pings() const { return watchdog_pings_; }

 private:
  std::string name_;
  int fd_ = -1;
  std::vector<std::string> history_;
  int watchdog_pings_ = 0;
};

// The first line of each non-watchdog message that is a state change
// (READY=1, RELOADING=1, STOPPING=1), in the order they came.
std::vector<std::string> state_changes(const std::vector<std::string>& history) {
  std::vector<std::string> out;
  for (const auto& m : history)
    for (const char* tag : {"READY=1", "RELOADING=1", "STOPPING=1"})
      if (m.find(tag) != std::string::npos) out.emplace_back(tag);
  return out;
}

std::string field(const std::string& message, const std::string& name) {
  auto at = message.find(name + "=");
  if (at == std::string::npos) return "";
  at += name.size() + 1;
  return message.substr(at, message.find('\n', at) - at);
}

unsigned long long monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL + static_cast<unsigned long long>(ts.tv_nsec) / 1000;
}

class ServiceNotify : public ::testing::TestWithParam<bool> {
 protected:
  // A WATCHDOG_PID inherited from a supervisor would name another process.
  void SetUp() override { unsetenv("WATCHDOG_PID"); }

  std::string socket_name(const Daemon& daemon) const {
    if (GetParam())
      return fmt::format("@kpiwatch-test-notify-{}-{}", getpid(), daemon.dir().substr(daemon.dir().size() - 6));
    return daemon.dir() + "/notify.sock";
  }
};

TEST_P(ServiceNotify, ReadyWatchdogReloadingReadyStoppingInThatOrder) {
  Daemon daemon;
  NotifySocket notify(socket_name(daemon));
  daemon.start({{"NOTIFY_SOCKET", notify.name()}, {"WATCHDOG_USEC", "200000"}});

  auto ready = notify.wait_for("READY=1");
  ASSERT_TRUE(ready) << daemon.log();
  EXPECT_NE(field(*ready, "STATUS").find("serving 38 KPIs on 127.0.0.1:"), std::string::npos) << *ready;
  EXPECT_EQ(http_get(daemon.port(), "/readyz").status, 200);  // READY=1 means the API answers
  EXPECT_TRUE(daemon.wait_for_log("watchdog pings every 100 ms"));

  // Pings keep coming at half of WATCHDOG_USEC: at least 3 within 3 s (10 or more when not loaded).
  auto until = std::chrono::steady_clock::now() + 3s;
  while (notify.watchdog_pings() < 3 && std::chrono::steady_clock::now() < until) notify.wait_for("WATCHDOG=1", 1s);
  EXPECT_GE(notify.watchdog_pings(), 3);

  daemon.signal(SIGHUP);
  auto reloading = notify.wait_for("RELOADING=1");
  ASSERT_TRUE(reloading) << daemon.log();
  auto stamp = std::stoull(field(*reloading, "MONOTONIC_USEC"));
  EXPECT_LE(stamp, monotonic_usec());
  EXPECT_GT(stamp + 30'000'000ULL, monotonic_usec());  // CLOCK_MONOTONIC, taken just now
  auto reloaded = notify.wait_for("READY=1");
  ASSERT_TRUE(reloaded) << daemon.log();
  EXPECT_NE(field(*reloaded, "STATUS").find("serving"), std::string::npos) << *reloaded;

  int pings_before_stop = notify.watchdog_pings();
  notify.wait_for("WATCHDOG=1", 2s);
  EXPECT_GT(notify.watchdog_pings(), pings_before_stop) << "the watchdog stopped after a reload";

  daemon.signal(SIGTERM);
  ASSERT_TRUE(notify.wait_for("STOPPING=1")) << daemon.log();
  EXPECT_EQ(daemon.wait_exit(20s), 0);

  EXPECT_EQ(state_changes(notify.history()),
            (std::vector<std::string>{"READY=1", "RELOADING=1", "READY=1", "STOPPING=1"}));
  EXPECT_NE(notify.history().front().find("STATUS="), std::string::npos);  // start-up says what it does
}

TEST_P(ServiceNotify, AFailedReloadIsReportedAndTheServiceStaysReady) {
  Daemon daemon;
  NotifySocket notify(socket_name(daemon));
  daemon.start({{"NOTIFY_SOCKET", notify.name()}});
  ASSERT_TRUE(notify.wait_for("READY=1")) << daemon.log();

  daemon.write_config(test_config(daemon.state_dir(), "max_conections = 3"));
  daemon.signal(SIGHUP);
  ASSERT_TRUE(notify.wait_for("RELOADING=1")) << daemon.log();
  auto ready = notify.wait_for("READY=1");
  ASSERT_TRUE(ready) << daemon.log();
  EXPECT_NE(field(*ready, "STATUS").find("reload failed"), std::string::npos) << *ready;
  EXPECT_EQ(http_get(daemon.port(), "/readyz").status, 200);

  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(notify.watchdog_pings(), 0);  // no WATCHDOG_USEC, no pings
  EXPECT_EQ(daemon.log().find("watchdog pings every"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(NotifySocketForms, ServiceNotify, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "AbstractSocket" : "PathSocket"; });

TEST(ServiceEnvironment, KpiwatchVariablesOverrideTheConfigAndFlagsOverrideThem) {
  Daemon daemon;  // its config logs at debug: every request and response
  const std::string other_state = daemon.dir() + "/other-state";
  daemon.start(
      {{"KPIWATCH_STATE_DIRECTORY", other_state}, {"KPIWATCH_DATABASE", "drop-in.db"}, {"KPIWATCH_LOG_LEVEL", "info"}});
  EXPECT_EQ(http_get(daemon.port(), "/healthz").status, 200);
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(count_revisions(other_state + "/drop-in.db"), 126);
  EXPECT_FALSE(std::filesystem::exists(daemon.database()));
  EXPECT_EQ(daemon.log().find("request GET /healthz"), std::string::npos) << daemon.log();

  // KPIWATCH_CONFIG names the file; a flag beats its variable.
  auto checked = run_kpiwatch({"check"}, 60s, {{"KPIWATCH_CONFIG", daemon.config_path()}});
  EXPECT_EQ(checked.exit_code, 0) << checked.err;
  EXPECT_NE(checked.out.find("config " + daemon.config_path()), std::string::npos) << checked.out;
  auto flag_wins = run_kpiwatch({"check", "--config", daemon.config_path()}, 60s,
                                {{"KPIWATCH_CONFIG", "/nonexistent/kpiwatch.toml"}});
  EXPECT_EQ(flag_wins.exit_code, 0) << flag_wins.err;
  auto missing = run_kpiwatch({"check"}, 60s, {{"KPIWATCH_CONFIG", "/nonexistent/kpiwatch.toml"}});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/kpiwatch.toml"), std::string::npos) << missing.err;
  auto bad_level = run_kpiwatch({"check"}, 60s, {{"KPIWATCH_LOG_LEVEL", "loud"}});
  EXPECT_EQ(bad_level.exit_code, 1);
  EXPECT_NE(bad_level.err.find("unknown log level \"loud\""), std::string::npos) << bad_level.err;
}

TEST(ServiceEnvironment, KpiwatchListenReachesServeOnly) {
  Daemon daemon;
  // An address that cannot be parsed shows the variable is read, without binding anything.
  auto bad = run_kpiwatch({"serve", "--config", daemon.config_path()}, 60s, {{"KPIWATCH_LISTEN", "nowhere"}});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--listen"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("not \"nowhere\""), std::string::npos) << bad.err;
  auto check = run_kpiwatch({"check", "--config", daemon.config_path()}, 60s, {{"KPIWATCH_LISTEN", "nowhere"}});
  EXPECT_EQ(check.exit_code, 0) << check.err;
}

// Polls `done` every 5 ms until it holds or `deadline` passes.
template <class Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds deadline = 30s) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Each batch holds two submissions and is all or nothing, so a consistent
// snapshot holds the 126 bundled figures plus an even number.
TEST(BackupCommand, CopiesTheLiveDatabaseConsistentlyWhileTheDaemonIngests) {
  Daemon daemon;
  daemon.start();
  // Posts two-submission batches until destroyed.
  struct Writer {
    std::atomic<bool> stop{false};
    std::atomic<int> accepted{0};
    std::thread thread;
    explicit Writer(unsigned short port)
        : thread([this, port] {
            try {
              HttpClient client(port);
              for (int i = 0; !stop; ++i) {
                auto body = fmt::format(R"({{"submissions": [{{"kpi": "g01.trainees", "period": "{}", "value": {}}},
                                            {{"kpi": "g01.trainees", "period": "{}", "value": {}}}]}})",
                                        2100 + i % 400, i, 2500 + i % 400, i);
                if (client.post("/api/v1/submissions", body, kAdminToken).status == 201) ++accepted;
              }
            } catch (const std::exception& e) {
              ADD_FAILURE() << "writer: " << e.what();
            }
          }) {}
    ~Writer() { join(); }
    void join() {
      stop = true;
      if (thread.joinable()) thread.join();
    }
  } writer(daemon.port());
  auto& accepted = writer.accepted;
  ASSERT_TRUE(wait_until([&] { return accepted >= 20; })) << daemon.log();

  long long previous = 0;
  for (int round = 0; round < 3; ++round) {
    const std::string copy = daemon.dir() + "/backup.db";
    auto result = run_kpiwatch({"backup", "--config", daemon.config_path(), copy});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("backed up " + daemon.database() + " to " + copy), std::string::npos) << result.out;
    EXPECT_FALSE(std::filesystem::exists(copy + ".tmp"));

    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(copy.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    auto text = [db](const char* sql) {
      sqlite3_stmt* stmt = nullptr;
      std::string out;
      if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
        out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      sqlite3_finalize(stmt);
      return out;
    };
    EXPECT_EQ(text("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(text("PRAGMA journal_mode"), "wal");
    sqlite3_close(db);
    long long rows = count_revisions(copy);
    EXPECT_GE(rows, 126 + 2 * 20);
    EXPECT_EQ((rows - 126) % 2, 0) << "a batch was copied half";
    EXPECT_GE(rows, previous);
    previous = rows;
    int wait_more = accepted + 5;
    EXPECT_TRUE(wait_until([&] { return accepted >= wait_more; }));
  }
  writer.join();
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(count_revisions(daemon.database()), 126 + 2 * accepted);

  // A copy made after the stop is complete, and the daemon can run on it.
  const std::string last = daemon.dir() + "/last.db";
  auto result = run_kpiwatch({"backup", "--config", daemon.config_path(), last});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(count_revisions(last), 126 + 2 * accepted);
  daemon.start({{"KPIWATCH_DATABASE", last}});
  EXPECT_EQ(http_get(daemon.port(), "/api/v1/kpis/g01.trainees/series").status, 200);
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(count_revisions(last), 126 + 2 * accepted) << "the bundled dataset is not loaded twice";
}

TEST(BackupCommand, RefusesToOverwriteTheLiveDatabaseOrToInventOne) {
  Daemon daemon;
  auto none = run_kpiwatch({"backup", "--config", daemon.config_path(), daemon.dir() + "/copy.db"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no database at " + daemon.database()), std::string::npos) << none.err;
  EXPECT_FALSE(std::filesystem::exists(daemon.database()));

  daemon.start();
  auto itself = run_kpiwatch({"backup", "--config", daemon.config_path(), daemon.database()});
  EXPECT_EQ(itself.exit_code, 1);
  EXPECT_NE(itself.err.find("is the live database itself"), std::string::npos) << itself.err;
  EXPECT_EQ(http_get(daemon.port(), "/readyz").status, 200);
  EXPECT_EQ(daemon.stop(), 0);
  EXPECT_EQ(count_revisions(daemon.database()), 126);
}

}  // namespace
}  // namespace kpiwatch::test
