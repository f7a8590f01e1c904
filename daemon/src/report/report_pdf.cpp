#include "report/report_pdf.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace kpiwatch {
namespace {

Error print_error(std::string message) { return {ErrorCode::print_failed, std::move(message), "", std::nullopt}; }

bool executable(const std::string& path) { return !path.empty() && ::access(path.c_str(), X_OK) == 0; }

// A directory only this process uses, removed when it goes.
struct TempDir {
  std::string path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kpiwatch-report-XXXXXX").string();
    if (::mkdtemp(pattern.data())) path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// The browser's flags: headless, nothing fetched in the background, no header or footer on the pages.
std::vector<std::string> chromium_args(const std::string& chromium, const TempDir& dir, const std::string& pdf) {
  return {chromium,
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--disable-extensions",
          "--disable-dev-shm-usage",
          "--no-pdf-header-footer",
          "--user-data-dir=" + dir.path + "/profile",
          "--print-to-pdf=" + pdf,
          "file://" + dir.path + "/report.html"};
}

// Forks the browser into a process group of its own, its output into `log`.
pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid > 0) ::setpgid(pid, pid);  // in both, so that a kill of the group never precedes it
  if (pid != 0) return pid;
  ::setpgid(0, 0);
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int null = ::open("/dev/null", O_RDONLY);
  if (fd >= 0) ::dup2(fd, 1), ::dup2(fd, 2);
  if (null >= 0) ::dup2(null, 0);
  ::execv(argv[0], argv.data());
  ::_exit(127);
}

// Waits for `pid` up to `limit`; then kills its group. The exit status, or -1 if it was killed.
int wait_bounded(pid_t pid, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (true) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return -1;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(-pid, SIGKILL);  // helpers the browser left behind
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string tail_of(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > 600 ? text.substr(text.size() - 600) : text;
}

}  // namespace

std::string find_chromium() {
  if (const char* env = std::getenv("KPIWATCH_CHROMIUM"); env && *env) return executable(env) ? env : "";
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/bin:/bin";
  while (!dirs.empty()) {
    auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    for (const char* name : {"chromium", "chromium-browser"})
      if (std::string candidate = dir + "/" + name; executable(candidate)) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return "";
}

Result<std::string> print_pdf(const std::string& chromium, const std::string& html, std::chrono::seconds limit) {
  TempDir dir;
  if (dir.path.empty()) return print_error(fmt::format("cannot make a temporary directory: {}", std::strerror(errno)));
  {
    std::ofstream out(dir.path + "/report.html", std::ios::binary);
    out << html;
    if (!out.flush()) return print_error("cannot write the report's HTML to the temporary directory");
  }
  std::string target = dir.path + "/report.pdf";
  pid_t pid = spawn(chromium_args(chromium, dir, target), dir.path + "/chromium.log");
  if (pid < 0) return print_error(fmt::format("cannot start {}: {}", chromium, std::strerror(errno)));
  int status = wait_bounded(pid, limit);
  if (status == -1) return print_error(fmt::format("{} did not print the PDF within {} s", chromium, limit.count()));
  std::ifstream in(target, std::ios::binary);
  std::string pdf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (status != 0 || pdf.empty())
    return print_error(fmt::format("{} exited with {} without printing the PDF: {}", chromium, status,
                                   tail_of(dir.path + "/chromium.log")));
  return pdf;
}

Status replace_file(const std::string& path, std::string_view bytes) {
  // A temporary file of its own beside `path`, so that two runs never write one file.
  std::string tmp = path + ".XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) return print_error(fmt::format("cannot write beside {}: {}", path, std::strerror(errno)));
  auto fail = [&](std::string what) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return print_error(fmt::format("cannot {} {}: {}", what, path, std::strerror(e)));
  };
  for (std::size_t done = 0; done < bytes.size();) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write");
    done += static_cast<std::size_t>(n);
  }
  mode_t mask = ::umask(0);  // mkstemp makes it 0600; a report is as readable as any file the user writes
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0 || ::fsync(fd) != 0) return fail("write");
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return print_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto e = print_error(fmt::format("cannot rename {} to {}: {}", tmp, path, std::strerror(errno)));
    ::unlink(tmp.c_str());
    return e;
  }
  return ok_status();
}

}  // namespace kpiwatch
