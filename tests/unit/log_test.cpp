// log_event(): structured fields, on stderr lines or in the journal.

#include "kpiwatch/log.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace kpiwatch {
namespace {

using ::testing::HasSubstr;

// Sets (or unsets) an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      setenv(name, value->c_str(), 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Makes `logger` the default logger for the scope of a test.
class ScopedLogger {
 public:
  explicit ScopedLogger(std::shared_ptr<spdlog::logger> logger) : old_(spdlog::default_logger()) {
    spdlog::set_default_logger(std::move(logger));
  }
  ~ScopedLogger() { spdlog::set_default_logger(old_); }

 private:
  std::shared_ptr<spdlog::logger> old_;
};

std::shared_ptr<spdlog::logger> stream_logger(std::ostringstream& out, spdlog::level::level_enum level) {
  auto logger = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  logger->set_pattern("%l %v");
  logger->set_level(level);
  return logger;
}

std::string stderr_identity() {
  struct stat st {};
  fstat(STDERR_FILENO, &st);
  return fmt::format("{}:{}", st.st_dev, st.st_ino);
}

TEST(StderrIsJournal, OnlyWhenJournalStreamNamesStderrsDeviceAndInode) {
  {
    ScopedEnv env("JOURNAL_STREAM", std::nullopt);
    EXPECT_FALSE(stderr_is_journal());
  }
  {
    ScopedEnv env("JOURNAL_STREAM", stderr_identity());
    EXPECT_TRUE(stderr_is_journal());
  }
  struct stat st {};
  fstat(STDERR_FILENO, &st);
  // Inherited by a child whose stderr was redirected elsewhere: another inode.
  for (const auto& other : {fmt::format("{}:{}", st.st_dev, st.st_ino + 1), std::string("garbage"),
                            fmt::format("{}:", st.st_dev), fmt::format("{}:{}x", st.st_dev, st.st_ino)}) {
    ScopedEnv env("JOURNAL_STREAM", other);
    EXPECT_FALSE(stderr_is_journal()) << other;
  }
}

TEST(LogEvent, OutsideTheJournalFieldsEndTheLineAsLowerCaseNameValuePairs) {
  std::ostringstream out;
  ScopedLogger scoped(stream_logger(out, spdlog::level::info));
  log_event(LogLevel::warn, "alert firing",
            {{kFieldRule, "g06.stage_up_low"},
             {kFieldKpi, "g06.stage_up_rate"},
             {kFieldFingerprint, "3f2a"},
             {kFieldReceiver, "ops team"}});
  EXPECT_EQ(out.str(),
            "warning alert firing rule=g06.stage_up_low kpi=g06.stage_up_rate fingerprint=3f2a "
            "receiver=\"ops team\"\n");
}

TEST(LogEvent, FieldNamesAreMadeValidJournalNames) {
  std::ostringstream out;
  ScopedLogger scoped(stream_logger(out, spdlog::level::info));
  log_event(LogLevel::info, "m", {{"period-end", "2025"}, {"_private", "x"}, {"2nd", "y"}, {"", "z"}, {"v", ""}});
  EXPECT_EQ(out.str(), "info m period_end=2025 private=x f_2nd=y f_=z v=\"\"\n");
}

TEST(LogEvent, RespectsTheLoggersLevel) {
  std::ostringstream out;
  ScopedLogger scoped(stream_logger(out, spdlog::level::warn));
  log_event(LogLevel::info, "evaluated", {{kFieldRule, "r"}});
  log_event(LogLevel::debug, "details");
  EXPECT_EQ(out.str(), "");
  log_event(LogLevel::error, "delivery failed", {{kFieldReceiver, "ops"}});
  log_event(LogLevel::critical, "cannot continue");
  EXPECT_EQ(out.str(), "error delivery failed receiver=ops\ncritical cannot continue\n");
}

// In a child with a private mount namespace, a datagram socket at the journal's
// own path stands in for journald: whatever sd_journal_send() writes arrives there.
// Returns the datagrams, or nothing if the child may not mount (exit code 77).
std::optional<std::vector<std::string>> capture_journal(const std::function<void()>& log, int datagrams) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return std::nullopt;
  pid_t pid = fork();
  if (pid == 0) {
    close(pipe_fds[0]);
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") != 0)
      _exit(77);
    mkdir("/run/systemd", 0755);
    mkdir("/run/systemd/journal", 0755);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, "/run/systemd/journal/socket");
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) _exit(78);
    log();
    for (int i = 0; i < datagrams; ++i) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) _exit(79);
      char buf[8192];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) _exit(80);
      std::uint32_t size = static_cast<std::uint32_t>(n);
      if (write(pipe_fds[1], &size, sizeof size) != sizeof size || write(pipe_fds[1], buf, size) != n) _exit(81);
    }
    _exit(0);
  }
  close(pipe_fds[1]);
  std::vector<std::string> out;
  std::uint32_t size = 0;
  while (read(pipe_fds[0], &size, sizeof size) == sizeof size) {
    std::string datagram(size, '\0');
    if (read(pipe_fds[0], datagram.data(), size) != static_cast<ssize_t>(size)) break;
    out.push_back(datagram);
  }
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) return std::nullopt;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  return out;
}

TEST(LogEvent, UnderSystemdEachEventIsAJournalEntryWithPriorityAndFields) {
  auto datagrams = capture_journal(
      [] {
        ScopedLogger scoped(spdlog::systemd_logger_mt("journal-test", "kpiwatch"));
        log_event(LogLevel::warn, "alert firing",
                  {{kFieldRule, "g06.stage_up_low"},
                   {kFieldKpi, "g06.stage_up_rate"},
                   {kFieldFingerprint, "3f2a"},
                   {kFieldReceiver, "ops team"}});
        spdlog::error("plain spdlog lines keep their priority");
      },
      2);
  if (!datagrams) GTEST_SKIP() << "needs to mount a private /run (CAP_SYS_ADMIN) to stand in for journald";
  ASSERT_EQ(datagrams->size(), 2u);
  const std::string& event = (*datagrams)[0];
  for (const char* line :
       {"MESSAGE=alert firing\n", "PRIORITY=4\n", "SYSLOG_IDENTIFIER=kpiwatch\n", "RULE=g06.stage_up_low\n",
        "KPI=g06.stage_up_rate\n", "FINGERPRINT=3f2a\n", "RECEIVER=ops team\n"})
    EXPECT_THAT(event, HasSubstr(line));
  EXPECT_THAT((*datagrams)[1], HasSubstr("MESSAGE=plain spdlog lines keep their priority\n"));
  EXPECT_THAT((*datagrams)[1], HasSubstr("PRIORITY=3\n"));
}

}  // namespace
}  // namespace kpiwatch
