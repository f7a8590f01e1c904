#include "process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "kpiwatch/digest.hpp"
#include "kpiwatch/settings.hpp"

namespace kpiwatch::test {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

namespace {

// The kpiwatch under test: this build's, or $KPIWATCH_TEST_BINARY (another build's,
// e.g. the one before a fix, to see a new test fail there).
std::string kpiwatch_binary() {
  const char* other = std::getenv("KPIWATCH_TEST_BINARY");
  return other != nullptr && *other != '\0' ? other : KPIWATCH_BINARY;
}

pid_t spawn(const std::vector<std::string>& args, const std::string& out_path, const std::string& err_path,
            const Environment& env = {}, std::string binary = kpiwatch_binary()) {
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Dies with the test process (the starting thread), even if that crashes first.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> argv;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Exit status, or -1 if the process has not exited by the deadline.
int wait_pid(pid_t pid, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (std::chrono::steady_clock::now() > until) return -1;
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace

CommandResult run_kpiwatch(const std::vector<std::string>& args, std::chrono::milliseconds deadline,
                           const Environment& env) {
  TempDir dir;
  pid_t pid = spawn(args, dir.file("out"), dir.file("err"), env);
  CommandResult result;
  result.exit_code = wait_pid(pid, deadline);
  if (result.exit_code == -1) {
    ::kill(pid, SIGKILL);
    wait_pid(pid, 10s);
  }
  result.out = read_file(dir.file("out"));
  result.err = read_file(dir.file("err"));
  return result;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline,
                std::chrono::milliseconds poll) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

std::string test_config(const std::string& state_dir, const std::string& server_extra, const std::string& extra) {
  return fmt::format(R"(
[server]
listen = "127.0.0.1:0"
{}

[storage]
state_directory = "{}"

[log]
level = "debug"

[[tokens]]
name = "test-admin"
sha256 = "{}"
admin = true

[[tokens]]
name = "test-amed"
sha256 = "{}"
bodies = ["amed"]

[[tokens]]
name = "test-jfmda"
sha256 = "{}"
bodies = ["jfmda"]

{}
)",
                     server_extra, state_dir, sha256_hex(kAdminToken), sha256_hex(kAmedToken), sha256_hex(kJfmdaToken),
                     extra);
}

Daemon::Daemon(const std::string& server_extra, const std::string& extra) {
  log_path_ = dir_.file("kpiwatch.log");
  write_config(test_config(state_dir(), server_extra, extra));
}

Daemon::~Daemon() {
  if (pid_ > 0) kill_hard();
}

void Daemon::start(const Environment& env) {
  if (pid_ > 0) throw std::runtime_error("daemon already running");
  ++starts_;
  // Each start appends to the log; only this start's lines count for the port.
  write_file(log_path_, read_file(log_path_) + fmt::format("--- start {}\n", starts_));
  auto offset = read_file(log_path_).size();
  pid_ = spawn({"serve", "--config", config_path()}, dir_.file("stdout"), log_path_, env,
               binary_.empty() ? kpiwatch_binary() : binary_);
  auto until = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < until) {
    auto text = read_file(log_path_).substr(offset);
    auto at = text.find("listening on 127.0.0.1:");
    if (at != std::string::npos) {
      auto end = text.find('\n', at);
      if (end != std::string::npos) {
        port_ = static_cast<unsigned short>(std::stoi(text.substr(at + 23, end - at - 23)));
        return;
      }
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("kpiwatch exited during start-up:\n" + text);
    }
    std::this_thread::sleep_for(10ms);
  }
  throw std::runtime_error("kpiwatch did not start listening within 30 s:\n" + log());
}

void Daemon::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int Daemon::wait_exit(std::chrono::milliseconds deadline) {
  if (pid_ <= 0) return -1;
  int code = wait_pid(pid_, deadline);
  if (code != -1) pid_ = -1;
  return code;
}

int Daemon::stop(std::chrono::milliseconds deadline) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int code = wait_exit(deadline);
  if (code == -1) kill_hard();
  return code;
}

void Daemon::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait_pid(pid_, 10s);
  pid_ = -1;
}

bool Daemon::wait_for_log(const std::string& text, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

std::string Daemon::log() const { return read_file(log_path_); }

long long count_revisions(const std::string& database) {
  sqlite3* db = nullptr;
  long long count = -1;
  if (sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM revisions", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
      count = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return count;
}

}  // namespace kpiwatch::test
