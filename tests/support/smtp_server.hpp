#pragma once
// A real SMTP server for the email tests (support/smtp_server.py, on Debian's
// python3-aiosmtpd) as a process: on 127.0.0.1 port 0, the messages it accepted
// read back as parsed by Python's email package, stopped by its PID.

#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace kpiwatch::test {

struct SmtpServerOptions {
  std::string tls = "none";  // none | starttls | implicit
  std::string cert_file{}, key_file{};
  std::string auth{};  // "user:password": AUTH required, and only these accepted
  int fail_first = 0;  // the first N messages are answered 451
};

class TestSmtpServer {
 public:
  explicit TestSmtpServer(SmtpServerOptions options = {});
  ~TestSmtpServer();  // SIGKILL if still running
  TestSmtpServer(const TestSmtpServer&) = delete;
  TestSmtpServer& operator=(const TestSmtpServer&) = delete;

  // The first start binds port 0; later ones (after stop()) the same port again.
  void start();
  int stop(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  unsigned short port() const { return port_; }
  // "smtp://127.0.0.1:PORT" (or smtps:// for implicit TLS).
  std::string url(const std::string& host = "127.0.0.1") const;

  // Each accepted message, oldest first: mail_from, rcpt_tos, raw_headers, subject, from, to, cc,
  // message_id, date, content_types, text, html, text_charset, tls, login.
  std::vector<boost::json::object> messages() const;
  // Waits until at least `count` messages arrived; returns those at that moment.
  std::vector<boost::json::object> wait_for(std::size_t count,
                                            std::chrono::milliseconds deadline = std::chrono::seconds(30)) const;
  std::string log() const;

 private:
  SmtpServerOptions options_;
  TempDir dir_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
};

}  // namespace kpiwatch::test
