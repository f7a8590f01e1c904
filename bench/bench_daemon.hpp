#pragma once
// The real kpiwatch binary as a child process of the benchmark: started with
// fork/exec on 127.0.0.1 port 0, its port read from its stderr log, stopped by
// its PID (SIGTERM, a bounded wait, then SIGKILL).

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace kpiwatch::bench {

// A fresh directory made with mkdtemp under `parent`, removed with its
// contents when this goes out of scope (unless keep()).
class TempDir {
 public:
  explicit TempDir(const std::string& parent, const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

void write_file(const std::string& path, const std::string& text);
// A fresh admin token for a benchmark's configuration ("kpw_bench_" + 32 hex digits).
std::string random_token();

class DaemonProcess {
 public:
  // Runs `binary serve --config CONFIG --state-dir STATE --listen 127.0.0.1:0`
  // (no --config if CONFIG is empty: the embedded default) and waits (at most
  // `startup`) until it logs "listening on 127.0.0.1:PORT".
  // Throws std::runtime_error with the log if it does not.
  DaemonProcess(const std::string& binary, const std::string& config, const std::string& state_dir,
                std::chrono::milliseconds startup = std::chrono::seconds(30));
  ~DaemonProcess();  // stop() if still running
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  unsigned short port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Just before fork.
  std::chrono::steady_clock::time_point started_at() const { return started_at_; }
  // When the end of the first occurrence of `text` was read from its stderr, if it was.
  std::optional<std::chrono::steady_clock::time_point> logged_at(std::string_view text) const;

  // SIGTERM to the PID, wait at most `deadline`, then SIGKILL.
  // Returns the exit status, or -1 if it had to be killed (or died of a signal).
  int stop(std::chrono::milliseconds deadline = std::chrono::seconds(20));
  // Everything the daemon wrote to stderr so far.
  std::string log() const;

 private:
  void drain();                                  // the reader thread: stderr into log_ until EOF
  void append(const char* data, std::size_t n);  // REQUIRES: mutex_ held

  pid_t pid_ = -1;
  int err_fd_ = -1;
  unsigned short port_ = 0;
  mutable std::mutex mutex_;
  std::string log_;
  // (size of log_ after a read, when it was read): when each line arrived.
  std::vector<std::pair<std::size_t, std::chrono::steady_clock::time_point>> reads_;
  std::chrono::steady_clock::time_point started_at_;
  std::atomic<bool> reaped_{false};
  std::thread reader_;
};

}  // namespace kpiwatch::bench
