#include "bench_daemon.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>

namespace kpiwatch::bench {
namespace {

std::runtime_error sys_error(const std::string& what) { return std::runtime_error(what + ": " + std::strerror(errno)); }

// The port of "listening on 127.0.0.1:PORT" in the log, or 0.
unsigned short find_port(const std::string& log) {
  static constexpr std::string_view marker = "listening on 127.0.0.1:";
  auto at = log.find(marker);
  if (at == std::string::npos) return 0;
  auto start = at + marker.size();
  auto end = log.find_first_not_of("0123456789", start);
  if (end == std::string::npos || end == start) return 0;  // the line is not complete yet
  unsigned long port = std::stoul(log.substr(start, end - start));
  return port > 0 && port < 65536 ? static_cast<unsigned short>(port) : 0;
}

}  // namespace

TempDir::TempDir(const std::string& parent, const std::string& prefix) {
  std::string pattern = parent + "/" + prefix + "XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!mkdtemp(buffer.data())) throw sys_error("mkdtemp " + pattern);
  path_ = buffer.data();
}

TempDir::~TempDir() {
  if (keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string random_token() {
  std::random_device rd;
  std::string token = "kpw_bench_";
  static constexpr char hex[] = "0123456789abcdef";
  for (int i = 0; i < 4; ++i)
    for (unsigned v = rd(), j = 0; j < 8; ++j, v <<= 4) token += hex[(v >> 28) & 0xf];
  return token;
}

DaemonProcess::DaemonProcess(const std::string& binary, const std::string& config, const std::string& state_dir,
                             std::chrono::milliseconds startup) {
  // argv is built before fork: the child only calls async-signal-safe functions.
  std::vector<std::string> args = {binary, "serve", "--state-dir", state_dir, "--listen", "127.0.0.1:0"};
  if (!config.empty()) args.insert(args.begin() + 2, {"--config", config});
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw sys_error("pipe2");
  pid_t parent = getpid();
  started_at_ = std::chrono::steady_clock::now();
  pid_ = fork();
  if (pid_ < 0) {
    close(fds[0]);
    close(fds[1]);
    throw sys_error("fork");
  }
  if (pid_ == 0) {
    // Child: stderr into the pipe, no stdin/stdout; dies with the benchmark.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
      dup2(null_fd, 0);
      dup2(null_fd, 1);
    }
    dup2(fds[1], 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  err_fd_ = fds[0];

  // Read stderr until the port is logged, the child exits, or the deadline.
  auto deadline = std::chrono::steady_clock::now() + startup;
  bool eof = false;
  while (port_ == 0 && !eof) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{err_fd_, POLLIN, 0};
    int rc = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 200)));
    if (rc < 0 && errno != EINTR) break;
    if (rc <= 0) continue;
    char buf[4096];
    ssize_t n = read(err_fd_, buf, sizeof buf);
    if (n <= 0) {
      eof = n == 0 || errno != EINTR;
      continue;
    }
    std::lock_guard lock(mutex_);
    append(buf, static_cast<std::size_t>(n));
    port_ = find_port(log_);
  }
  if (port_ == 0) {
    stop(std::chrono::seconds(5));
    close(err_fd_);
    err_fd_ = -1;
    throw std::runtime_error("kpiwatch did not log its port (" + std::string(eof ? "it exited" : "timeout") +
                             "); its log:\n" + log());
  }
  // Keep draining stderr so that the daemon never blocks on a full pipe.
  reader_ = std::thread([this] { drain(); });
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) stop();
  if (reader_.joinable()) reader_.join();
  if (err_fd_ >= 0) close(err_fd_);
}

void DaemonProcess::drain() {
  for (;;) {
    pollfd p{err_fd_, POLLIN, 0};
    int rc = poll(&p, 1, 200);
    if (rc < 0 && errno != EINTR) return;
    if (rc <= 0) {
      if (reaped_) return;  // exited, and nothing left to read
      continue;
    }
    char buf[4096];
    ssize_t n = read(err_fd_, buf, sizeof buf);
    if (n == 0) return;
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    std::lock_guard lock(mutex_);
    if (log_.size() < (1u << 20)) append(buf, static_cast<std::size_t>(n));
  }
}

int DaemonProcess::stop(std::chrono::milliseconds deadline) {
  if (pid_ <= 0) return -1;
  pid_t pid = pid_;
  pid_ = -1;
  kill(pid, SIGTERM);
  int status = 0;
  auto until = std::chrono::steady_clock::now() + deadline;
  bool exited = false;
  while (std::chrono::steady_clock::now() < until) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) {
      exited = r == pid;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  int result = -1;
  if (exited) {
    result = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  } else {
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  reaped_ = true;
  if (reader_.joinable()) reader_.join();
  return result;
}

void DaemonProcess::append(const char* data, std::size_t n) {
  log_.append(data, n);
  reads_.emplace_back(log_.size(), std::chrono::steady_clock::now());
}

std::optional<std::chrono::steady_clock::time_point> DaemonProcess::logged_at(std::string_view text) const {
  std::lock_guard lock(mutex_);
  auto at = log_.find(text);
  if (at == std::string::npos) return std::nullopt;
  auto end = at + text.size();
  for (const auto& [size, when] : reads_)
    if (size >= end) return when;
  return std::nullopt;
}

std::string DaemonProcess::log() const {
  std::lock_guard lock(mutex_);
  return log_;
}

}  // namespace kpiwatch::bench
