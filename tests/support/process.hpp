#pragma once
// Real processes for end-to-end tests: the kpiwatch binary started on
// 127.0.0.1 port 0 in a temporary state directory, stopped by its PID.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "temp_dir.hpp"

namespace kpiwatch::test {

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& text);

// Whether `condition` holds within `deadline`, looked at every `poll`.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline = std::chrono::seconds(30),
                std::chrono::milliseconds poll = std::chrono::milliseconds(20));

// Variables added to a child's environment.
using Environment = std::vector<std::pair<std::string, std::string>>;

struct CommandResult {
  int exit_code = -1;  // -1 if killed at the deadline
  std::string out;
  std::string err;
};

// Runs the kpiwatch binary with `args`, bounded in time.
CommandResult run_kpiwatch(const std::vector<std::string>& args,
                           std::chrono::milliseconds deadline = std::chrono::seconds(60), const Environment& env = {});

// Tokens the test configs accept.
inline constexpr const char* kAdminToken = "kpw_test_admin";
inline constexpr const char* kAmedToken = "kpw_test_amed";
inline constexpr const char* kJfmdaToken = "kpw_test_jfmda";

// A config for tests: listens on 127.0.0.1:0, state in `state_dir`, the three
// tokens above, plus `extra` TOML appended (tables not used above).
std::string test_config(const std::string& state_dir, const std::string& server_extra = "",
                        const std::string& extra = "");

class Daemon {
 public:
  // Writes test_config() for a state directory inside a new temp dir.
  explicit Daemon(const std::string& server_extra = "", const std::string& extra = "");
  // Replaces the config file (takes effect at the next start).
  void write_config(const std::string& text) { write_file(config_path(), text); }
  ~Daemon();  // SIGKILL if still running

  // Starts `kpiwatch serve` (with `env` added to its environment) and waits
  // until it logs the port it listens on.
  void start(const Environment& env = {});
  void restart() { start(); }
  // Starts another kpiwatch binary from the next start on (e.g. KPIWATCH_FAULT_BINARY).
  void use_binary(std::string path) { binary_ = std::move(path); }
  // SIGTERM, then waits; returns the exit status (-1 on timeout, then SIGKILL).
  int stop(std::chrono::milliseconds deadline = std::chrono::seconds(20));
  void kill_hard();  // SIGKILL, and reaps the process
  void signal(int sig);
  // Waits for the process to exit; exit status, or -1 if still running.
  int wait_exit(std::chrono::milliseconds deadline);
  // Waits until the log contains `text`; false at the deadline.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds deadline = std::chrono::seconds(20));

  unsigned short port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string log() const;
  const std::string& dir() const { return dir_.path(); }
  std::string state_dir() const { return dir_.file("state"); }
  std::string database() const { return state_dir() + "/kpiwatch.db"; }
  std::string config_path() const { return dir_.file("kpiwatch.toml"); }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
  int starts_ = 0;
  std::string log_path_;
  std::string binary_;
};

// Rows in the revisions table, read straight from the SQLite file.
long long count_revisions(const std::string& database);

}  // namespace kpiwatch::test
