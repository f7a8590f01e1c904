#include "receiver.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "http_client.hpp"

namespace kpiwatch::test {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// fork + exec; stdin from /dev/null, stdout to `out_path`, stderr appended to `err_path`.
pid_t spawn_program(const std::string& program, const std::vector<std::string>& args, const std::string& out_path,
                    const std::string& err_path, bool search_path) {
  // Everything the child needs is prepared before fork().
  std::vector<std::string> copy;
  copy.push_back(program);
  copy.insert(copy.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Dies with the test process, even if that one crashes before stopping it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (search_path)
      execvp(argv[0], argv.data());
    else
      execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Exit status (128 + signal if killed by one), or -1 if still running at the deadline.
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
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > until) return -1;
    std::this_thread::sleep_for(5ms);
  }
}

}  // namespace

unsigned short read_port(const std::string& path) {
  auto text = read_file(path);
  if (text.empty() || text.back() != '\n') return 0;
  try {
    return static_cast<unsigned short>(std::stoi(text));
  } catch (const std::exception&) {
    return 0;
  }
}

std::string ReceivedRequest::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? "" : it->second;
}

ReceivedRequest parse_received(const boost::json::value& line) {
  const auto& o = line.as_object();
  ReceivedRequest r;
  r.seq = o.at("seq").to_number<long long>();
  r.received_ms = o.at("received_ms").to_number<long long>();
  r.method = o.at("method").as_string();
  r.target = o.at("target").as_string();
  for (const auto& [k, v] : o.at("headers").as_object()) r.headers[std::string(k)] = v.as_string();
  r.body = o.at("body").as_string();
  r.tls = o.at("tls").as_bool();
  r.signature = o.at("signature").as_string();
  r.mode = o.at("mode").as_string();
  r.status = static_cast<int>(o.at("status").to_number<long long>());
  return r;
}

pid_t start_program(const std::string& program, const std::vector<std::string>& args, const std::string& out_path,
                    const std::string& err_path) {
  return spawn_program(program, args, out_path, err_path, true);
}

int wait_program(pid_t pid, std::chrono::milliseconds deadline) { return wait_pid(pid, deadline); }

int stop_program(pid_t pid, std::chrono::milliseconds deadline) {
  if (pid <= 0) return -1;
  ::kill(pid, SIGTERM);
  int code = wait_pid(pid, deadline);
  if (code == -1) {
    ::kill(pid, SIGKILL);
    wait_pid(pid, 10s);
  }
  return code;
}

CommandResult run_program(const std::string& program, const std::vector<std::string>& args,
                          std::chrono::milliseconds deadline) {
  TempDir dir;
  pid_t pid = spawn_program(program, args, dir.file("out"), dir.file("err"), true);
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

TestReceiver::TestReceiver(ReceiverOptions options) : options_(std::move(options)) {}

TestReceiver::~TestReceiver() { kill_hard(); }

void TestReceiver::start() {
  if (pid_ > 0) throw std::runtime_error("test receiver already running");
  const auto port_file = dir_.file("port");
  const auto control_port_file = dir_.file("control-port");
  std::error_code ec;
  fs::remove(port_file, ec);
  fs::remove(control_port_file, ec);

  std::vector<std::string> args{"--port",
                                std::to_string(port_),
                                "--port-file",
                                port_file,
                                "--control-port-file",
                                control_port_file,
                                "--record",
                                record_path(),
                                "--mode",
                                options_.mode,
                                "--status",
                                std::to_string(options_.status),
                                "--fail-status",
                                std::to_string(options_.fail_status),
                                "--fail-count",
                                std::to_string(options_.fail_count)};
  if (!options_.secret.empty()) args.insert(args.end(), {"--secret", options_.secret});
  if (!options_.cert_file.empty()) args.insert(args.end(), {"--cert", options_.cert_file, "--key", options_.key_file});

  // A restart on the same port may briefly find it still held by a connection
  // of the previous process being torn down: retry for a bounded time.
  auto until = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    pid_ = spawn_program(KPIWATCH_TEST_RECEIVER, args, dir_.file("receiver.out"), dir_.file("receiver.log"), false);
    for (;;) {
      auto port = read_port(port_file);
      auto control_port = read_port(control_port_file);
      if (port && control_port) {
        port_ = port;
        control_port_ = control_port;
        return;
      }
      int code = wait_pid(pid_, 0ms);
      if (code != -1) {
        pid_ = -1;
        if (std::chrono::steady_clock::now() > until)
          throw std::runtime_error(fmt::format("test receiver exited with {} during start-up:\n{}", code, log()));
        std::this_thread::sleep_for(50ms);
        break;  // retry
      }
      if (std::chrono::steady_clock::now() > until) {
        kill_hard();
        throw std::runtime_error("test receiver did not start within 20 s:\n" + log());
      }
      std::this_thread::sleep_for(5ms);
    }
  }
}

int TestReceiver::stop(std::chrono::milliseconds deadline) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int code = wait_pid(pid_, deadline);
  if (code == -1) {
    kill_hard();
    return -1;
  }
  pid_ = -1;
  return code;
}

void TestReceiver::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait_pid(pid_, 10s);
  pid_ = -1;
}

std::string TestReceiver::url(const std::string& path, const std::string& host) const {
  return fmt::format("{}://{}:{}{}", tls() ? "https" : "http", host, port_, path);
}

void TestReceiver::control(const std::string& body) {
  if (pid_ <= 0) throw std::runtime_error("test receiver not running");
  auto reply = HttpClient(control_port_, 10s).post("/control/mode", body);
  if (reply.status != 200) throw std::runtime_error("test receiver control: " + reply.body);
}

void TestReceiver::set_mode(const std::string& mode, int fail_count) {
  options_.mode = mode;
  options_.fail_count = fail_count;
  control(fmt::format(R"({{"mode": "{}", "fail_count": {}}})", mode, fail_count));
}

void TestReceiver::set_status(int status) {
  options_.status = status;
  control(fmt::format(R"({{"status": {}}})", status));
}

void TestReceiver::set_fail_status(int status) {
  options_.fail_status = status;
  control(fmt::format(R"({{"fail_status": {}}})", status));
}

std::vector<ReceivedRequest> TestReceiver::requests() const {
  std::vector<ReceivedRequest> out;
  auto text = read_file(record_path());
  std::size_t at = 0;
  for (;;) {
    auto end = text.find('\n', at);
    if (end == std::string::npos) break;  // a line being written
    auto line = text.substr(at, end - at);
    at = end + 1;
    if (line.empty()) continue;
    out.push_back(parse_received(boost::json::parse(line)));
  }
  return out;
}

std::vector<ReceivedRequest> TestReceiver::requests(const std::function<bool(const ReceivedRequest&)>& match) const {
  auto all = requests();
  std::vector<ReceivedRequest> out;
  std::copy_if(all.begin(), all.end(), std::back_inserter(out), match);
  return out;
}

std::vector<ReceivedRequest> TestReceiver::wait_for(std::size_t count,
                                                    const std::function<bool(const ReceivedRequest&)>& match,
                                                    std::chrono::milliseconds deadline) const {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    auto found = requests(match);
    if (found.size() >= count || std::chrono::steady_clock::now() > until) return found;
    std::this_thread::sleep_for(10ms);
  }
}

std::vector<ReceivedRequest> TestReceiver::wait_for(std::size_t count, std::chrono::milliseconds deadline) const {
  return wait_for(
      count, [](const ReceivedRequest&) { return true; }, deadline);
}

TestCertificates::TestCertificates() {
  auto openssl = [](const std::vector<std::string>& args) {
    auto r = run_program("openssl", args, 60s);
    if (r.exit_code != 0)
      throw std::runtime_error(
          fmt::format("openssl {} failed ({}): {}{}", args.empty() ? "" : args[0], r.exit_code, r.out, r.err));
  };
  const std::vector<std::string> ec_key{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };

  ca_file = dir.file("ca.pem");
  const auto ca_key = dir.file("ca.key");
  openssl(with({"req", "-x509"}, with(ec_key, {"-keyout", ca_key, "-out", ca_file, "-days", "30", "-subj",
                                               "/CN=kpiwatch test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                                               "-addext", "keyUsage=critical,keyCertSign,cRLSign"})));

  // A certificate signed by the test CA for `san`.
  auto issue = [&](const std::string& name, const std::string& cn, const std::string& san, int serial) {
    const auto key = dir.file(name + ".key");
    const auto csr = dir.file(name + ".csr");
    const auto cert = dir.file(name + ".pem");
    const auto ext = dir.file(name + ".ext");
    write_file(ext, fmt::format("subjectAltName={}\nbasicConstraints=critical,CA:FALSE\n"
                                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
                                san));
    openssl(with({"req"}, with(ec_key, {"-keyout", key, "-out", csr, "-subj", "/CN=" + cn})));
    openssl({"x509", "-req", "-in", csr, "-CA", ca_file, "-CAkey", ca_key, "-set_serial", std::to_string(serial),
             "-days", "30", "-sha256", "-extfile", ext, "-out", cert});
    return std::pair{cert, key};
  };
  std::tie(server_cert, server_key) = issue("server", "localhost", "DNS:localhost,IP:127.0.0.1", 1001);
  std::tie(wrong_host_cert, wrong_host_key) = issue("wrong-host", "wrong.example", "DNS:wrong.example", 1002);

  self_signed_cert = dir.file("self-signed.pem");
  self_signed_key = dir.file("self-signed.key");
  openssl(
      with({"req", "-x509"}, with(ec_key, {"-keyout", self_signed_key, "-out", self_signed_cert, "-days", "30", "-subj",
                                           "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"})));
}

}  // namespace kpiwatch::test
