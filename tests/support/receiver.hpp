#pragma once
// The test receiver (kpiwatch_test_receiver, support/receiver_main.cpp) as a
// real process: started on 127.0.0.1 port 0, read through its record file,
// switched between modes through its control endpoint, stopped by its PID.

#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "process.hpp"

namespace kpiwatch::test {

// One request the receiver read, as it recorded it.
struct ReceivedRequest {
  long long seq = 0;
  long long received_ms = 0;  // Unix milliseconds
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool tls = false;
  std::string signature;  // "valid", "invalid", "missing", or "unchecked" (no secret)
  std::string mode;       // the mode it was answered in: ok, fail, hang, close
  int status = 0;         // the status answered (0: none, hang or close)

  // The header's value, or "" if absent; `name` in any case.
  std::string header(const std::string& name) const;
  boost::json::value json() const { return boost::json::parse(body); }
};

struct ReceiverOptions {
  std::string mode = "ok";  // ok | fail | hang | close
  int status = 200;         // answered in mode ok
  int fail_status = 503;    // answered in mode fail
  int fail_count = 0;       // mode fail: only the first N requests fail (0: all)
  std::string secret{};     // checks X-Kpiwatch-Signature when set
  std::string cert_file{};  // HTTPS with this certificate chain and key
  std::string key_file{};
};

class TestReceiver {
 public:
  explicit TestReceiver(ReceiverOptions options = {});
  ~TestReceiver();  // SIGKILL if still running
  TestReceiver(const TestReceiver&) = delete;
  TestReceiver& operator=(const TestReceiver&) = delete;

  // Starts the process and waits until it has written its port. The first
  // start binds port 0; later starts (after stop()) bind the same port again,
  // so that a receiver can be "down" and come back at the same URL. The record
  // file is kept across restarts.
  void start();
  // SIGTERM, bounded wait, then SIGKILL. Exit status, or -1 if it had to be killed.
  int stop(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  void kill_hard();
  bool running() const { return pid_ > 0; }

  unsigned short port() const { return port_; }
  unsigned short control_port() const { return control_port_; }
  pid_t pid() const { return pid_; }
  bool tls() const { return !options_.cert_file.empty(); }
  // "http(s)://HOST:PORT" + path.
  std::string url(const std::string& path = "/hook", const std::string& host = "127.0.0.1") const;

  // Changes the mode at run time (POST /control/mode). `fail_count` > 0 with
  // "fail": only that many requests fail, then it answers ok again.
  void set_mode(const std::string& mode, int fail_count = 0);
  void set_status(int status);       // the status answered in mode ok
  void set_fail_status(int status);  // the status answered in mode fail

  // Every complete request recorded so far (all starts), oldest first.
  std::vector<ReceivedRequest> requests() const;
  // Requests for which `match` holds.
  std::vector<ReceivedRequest> requests(const std::function<bool(const ReceivedRequest&)>& match) const;
  // Waits until at least `count` requests matching `match` are recorded; returns
  // those recorded at that moment (fewer if the deadline passed).
  std::vector<ReceivedRequest> wait_for(std::size_t count, const std::function<bool(const ReceivedRequest&)>& match,
                                        std::chrono::milliseconds deadline = std::chrono::seconds(30)) const;
  std::vector<ReceivedRequest> wait_for(std::size_t count,
                                        std::chrono::milliseconds deadline = std::chrono::seconds(30)) const;

  std::string record_path() const { return dir_.file("requests.jsonl"); }
  std::string log() const { return read_file(dir_.file("receiver.log")); }

 private:
  void control(const std::string& body);

  ReceiverOptions options_;
  TempDir dir_;
  pid_t pid_ = -1;
  unsigned short port_ = 0;
  unsigned short control_port_ = 0;
};

// A test certificate authority and certificates it signed, made with the
// `openssl` command in a temporary directory (EC P-256 keys, valid 30 days).
struct TestCertificates {
  TestCertificates();  // throws std::runtime_error if openssl fails
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  TempDir dir;
  std::string ca_file;      // the CA certificate (PEM): a receiver's ca_file
  std::string server_cert;  // for DNS:localhost and IP:127.0.0.1, signed by the CA
  std::string server_key;
  std::string wrong_host_cert;  // for DNS:wrong.example only, signed by the CA
  std::string wrong_host_key;
  std::string self_signed_cert;  // for DNS:localhost and IP:127.0.0.1, not signed by the CA
  std::string self_signed_key;
};

// Runs a program (looked up in PATH) with `args`, bounded in time. exit_code is
// -1 if it was killed at the deadline.
CommandResult run_program(const std::string& program, const std::vector<std::string>& args,
                          std::chrono::milliseconds deadline = std::chrono::seconds(60));

// A program in the background: stdin from /dev/null, stdout to `out_path`,
// stderr appended to `err_path`. `program` is looked up in PATH. Like every
// process started here (receivers, openssl), it is killed if the thread that
// started it ends, so that a crashed test leaves nothing running.
pid_t start_program(const std::string& program, const std::vector<std::string>& args, const std::string& out_path,
                    const std::string& err_path);
// Exit status (128 + signal if killed by one), or -1 if still running at the deadline.
int wait_program(pid_t pid, std::chrono::milliseconds deadline);
// SIGTERM, bounded wait, then SIGKILL; the exit status, or -1 if it had to be killed.
int stop_program(pid_t pid, std::chrono::milliseconds deadline = std::chrono::seconds(10));

// The port a test server wrote to `path` (a number and a newline); 0 until the whole line is there.
unsigned short read_port(const std::string& path);

// Parses one JSON line of a record file (as written by the receiver).
ReceivedRequest parse_received(const boost::json::value& line);

}  // namespace kpiwatch::test
