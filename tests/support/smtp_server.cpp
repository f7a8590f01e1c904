#include "smtp_server.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <filesystem>
#include <stdexcept>
#include <thread>

#include "receiver.hpp"

namespace kpiwatch::test {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {
// Debian's python3, which has python3-aiosmtpd: not whichever python3 comes first in PATH.
constexpr const char* kPython = "/usr/bin/python3";
}  // namespace

TestSmtpServer::TestSmtpServer(SmtpServerOptions options) : options_(std::move(options)) {
  fs::create_directories(dir_.file("messages"));
}

TestSmtpServer::~TestSmtpServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait_program(pid_, 10s);
  }
}

void TestSmtpServer::start() {
  if (pid_ > 0) throw std::runtime_error("test SMTP server already running");
  const auto port_file = dir_.file("port");
  std::error_code ec;
  fs::remove(port_file, ec);
  const std::string script = std::string(KPIWATCH_SOURCE_DIR) + "/tests/support/smtp_server.py";
  std::vector<std::string> args{script,
                                "--dir",
                                dir_.file("messages"),
                                "--port",
                                std::to_string(port_),
                                "--port-file",
                                port_file,
                                "--tls",
                                options_.tls,
                                "--fail-first",
                                std::to_string(options_.fail_first)};
  if (!options_.cert_file.empty()) args.insert(args.end(), {"--cert", options_.cert_file, "--key", options_.key_file});
  if (!options_.auth.empty()) args.insert(args.end(), {"--auth", options_.auth});
  // A restart on the same port may find it still held for a moment: retry, bounded.
  auto until = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    pid_ = start_program(kPython, args, dir_.file("server.out"), dir_.file("server.log"));
    for (;;) {
      if (auto port = read_port(port_file)) {
        port_ = port;
        return;
      }
      int code = wait_program(pid_, 0ms);
      if (code != -1) break;  // exited: retry or give up below
      if (std::chrono::steady_clock::now() > until) {
        stop();
        throw std::runtime_error("test SMTP server did not start: " + log());
      }
      std::this_thread::sleep_for(10ms);
    }
    pid_ = -1;
    if (std::chrono::steady_clock::now() > until) throw std::runtime_error("test SMTP server exited: " + log());
    std::this_thread::sleep_for(100ms);
  }
}

int TestSmtpServer::stop(std::chrono::milliseconds deadline) {
  int code = stop_program(pid_, deadline);
  pid_ = -1;
  return code;
}

std::string TestSmtpServer::url(const std::string& host) const {
  return fmt::format("{}://{}:{}", options_.tls == "implicit" ? "smtps" : "smtp", host, port_);
}

std::vector<boost::json::object> TestSmtpServer::messages() const {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_.file("messages")))
    if (entry.path().extension() == ".json") names.push_back(entry.path().string());
  std::sort(names.begin(), names.end());
  std::vector<boost::json::object> out;
  for (const auto& name : names) out.push_back(boost::json::parse(read_file(name)).as_object());
  return out;
}

std::vector<boost::json::object> TestSmtpServer::wait_for(std::size_t count, std::chrono::milliseconds deadline) const {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    auto found = messages();
    if (found.size() >= count || std::chrono::steady_clock::now() > until) return found;
    std::this_thread::sleep_for(20ms);
  }
}

std::string TestSmtpServer::log() const { return read_file(dir_.file("server.log")); }

}  // namespace kpiwatch::test
