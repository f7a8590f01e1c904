// kpiwatch_test_receiver: a webhook receiver for the end-to-end tests.
//
// Listens on 127.0.0.1 (port 0 by default: the kernel picks one), writes the
// port to --port-file, and appends every request it reads to --record as one
// JSON line: {"seq", "received_ms", "method", "target", "headers" (lower-case
// names), "body", "tls", "signature", "timestamp_skew_s", "status"}.
//
// Modes (flags, or at run time POST /control/mode {"mode": ..., ...}):
//   ok    answer --status (default 200)
//   fail  answer --fail-status (default 503); with --fail-count N only the next
//         N requests fail, then the mode is ok again
//   hang  read the request, record it, never answer (the connection stays open
//         until the client closes it)
//   close read the request, record it, close the connection without answering
//
// --secret S checks X-Kpiwatch-Signature as docs/NOTIFICATIONS.md describes:
//   "sha256=" + hex HMAC-SHA256(S, X-Kpiwatch-Timestamp + "." + body)
// and records "signature": "valid" | "invalid" | "missing" ("unchecked"
// without --secret).
//
// --cert FILE --key FILE: HTTPS. The control endpoint is then served in plain
// HTTP on a second port (--control-port-file); without TLS that file holds the
// same port as --port-file, and both ports serve /control/.
//
// Control endpoint (never recorded):
//   POST /control/mode  {"mode": "ok|fail|hang|close", "status": 200,
//                        "fail_status": 503, "fail_count": 0}  -> 200 state
//   GET  /control/state                                      -> 200 state
//
// SIGTERM or SIGINT: stops. Logs to stderr.

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

enum class Mode { ok, fail, hang, close };

std::optional<Mode> parse_mode(std::string_view s) {
  if (s == "ok") return Mode::ok;
  if (s == "fail") return Mode::fail;
  if (s == "hang") return Mode::hang;
  if (s == "close") return Mode::close;
  return std::nullopt;
}

const char* to_string(Mode m) {
  switch (m) {
    case Mode::ok:
      return "ok";
    case Mode::fail:
      return "fail";
    case Mode::hang:
      return "hang";
    case Mode::close:
      return "close";
  }
  return "?";
}

struct State {
  Mode mode = Mode::ok;
  int status = 200;
  int fail_status = 503;
  int fail_count = 0;  // with mode fail: requests left to fail (0: until told otherwise)
  std::string secret;
  std::string record_path;
  int record_fd = -1;
  long long seq = 0;
  long long answered = 0;

  json::object describe() const {
    return {{"mode", to_string(mode)},  {"status", status}, {"fail_status", fail_status},
            {"fail_count", fail_count}, {"requests", seq},  {"answered", answered}};
  }
};

State state;

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0xf];
  }
  return out;
}

std::string hmac_sha256_hex(const std::string& key, const std::string& message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac, &size);
  return hex(mac, size);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// Appends one line with a single write(2), so that a reader never sees half a
// record followed by another one.
void append_record(const json::object& record) {
  if (state.record_fd < 0) return;
  std::string line = json::serialize(record) + "\n";
  std::string_view rest = line;
  while (!rest.empty()) {
    auto n = ::write(state.record_fd, rest.data(), rest.size());
    if (n < 0) {
      std::perror("receiver: writing the record file");
      return;
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response make_response(const Request& req, int status, std::string body) {
  Response res{static_cast<http::status>(status), req.version()};
  res.set(http::field::server, "kpiwatch-test-receiver");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response control(const Request& req) {
  auto path = std::string_view(req.target());
  if (path == "/control/state" && req.method() == http::verb::get)
    return make_response(req, 200, json::serialize(state.describe()));
  if (path == "/control/mode" && req.method() == http::verb::post) {
    boost::system::error_code ec;
    auto v = json::parse(req.body(), ec);
    if (ec || !v.is_object()) return make_response(req, 400, R"({"error":"body must be a JSON object"})");
    const auto& o = v.as_object();
    State next = state;
    if (const auto* m = o.if_contains("mode")) {
      auto mode = m->is_string() ? parse_mode(std::string_view(m->as_string())) : std::nullopt;
      if (!mode) return make_response(req, 400, R"({"error":"mode: ok, fail, hang or close"})");
      next.mode = *mode;
      next.fail_count = 0;
    }
    try {
      if (const auto* s = o.if_contains("status")) next.status = static_cast<int>(s->to_number<long long>());
      if (const auto* s = o.if_contains("fail_status")) next.fail_status = static_cast<int>(s->to_number<long long>());
      if (const auto* s = o.if_contains("fail_count")) next.fail_count = static_cast<int>(s->to_number<long long>());
    } catch (const std::exception&) {
      return make_response(req, 400, R"({"error":"status, fail_status, fail_count: integers"})");
    }
    state = std::move(next);
    std::cerr << "receiver: mode " << to_string(state.mode) << "\n";
    return make_response(req, 200, json::serialize(state.describe()));
  }
  return make_response(req, 404, R"({"error":"unknown control request"})");
}

// Records a webhook request; returns the mode it is answered in.
std::pair<Mode, int> record(const Request& req, bool tls) {
  Mode mode = state.mode;
  int status = mode == Mode::ok ? state.status : mode == Mode::fail ? state.fail_status : 0;
  if (mode == Mode::fail && state.fail_count > 0 && --state.fail_count == 0) state.mode = Mode::ok;

  json::object headers;
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto* existing = headers.if_contains(name))
      *existing = std::string(existing->as_string()) + ", " + std::string(field.value());
    else
      headers[name] = std::string(field.value());
  }

  std::string signature = "unchecked";
  json::value skew = nullptr;
  auto ts = req.find("X-Kpiwatch-Timestamp");
  if (ts != req.end()) {
    try {
      skew = now_ms() / 1000 - std::stoll(std::string(ts->value()));
    } catch (const std::exception&) {
      skew = nullptr;
    }
  }
  if (!state.secret.empty()) {
    auto sig = req.find("X-Kpiwatch-Signature");
    if (sig == req.end() || ts == req.end()) {
      signature = "missing";
    } else {
      auto expected = "sha256=" + hmac_sha256_hex(state.secret, std::string(ts->value()) + "." + req.body());
      signature = constant_time_equal(expected, sig->value()) ? "valid" : "invalid";
    }
  }

  ++state.seq;
  append_record({{"seq", state.seq},
                 {"received_ms", now_ms()},
                 {"method", std::string(req.method_string())},
                 {"target", std::string(req.target())},
                 {"headers", std::move(headers)},
                 {"body", req.body()},
                 {"tls", tls},
                 {"signature", signature},
                 {"timestamp_skew_s", skew},
                 {"mode", to_string(mode)},
                 {"status", status}});
  std::cerr << "receiver: " << req.method_string() << " " << req.target() << " -> " << to_string(mode) << " " << status
            << "\n";
  return {mode, status};
}

// Serves one connection: plain (beast::tcp_stream) or TLS (ssl_stream).
template <class Stream>
asio::awaitable<void> serve(Stream stream, bool tls, bool control_only) {
  beast::flat_buffer buffer;
  try {
    auto& lowest = beast::get_lowest_layer(stream);
    if constexpr (!std::is_same_v<Stream, beast::tcp_stream>) {
      lowest.expires_after(10s);
      co_await stream.async_handshake(ssl::stream_base::server, asio::use_awaitable);
    }
    for (;;) {
      lowest.expires_after(60s);
      http::request_parser<http::string_body> parser;
      parser.body_limit(std::uint64_t{64} * 1024 * 1024);
      co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
      Request req = parser.release();
      Response res;
      if (std::string_view(req.target()).starts_with("/control/")) {
        res = control(req);
      } else if (control_only) {
        res = make_response(req, 404, R"({"error":"control port"})");
      } else {
        auto [mode, status] = record(req, tls);
        if (mode == Mode::close) co_return;
        if (mode == Mode::hang) {
          // Never answer; wait until the client gives up and closes.
          lowest.expires_never();
          char byte;
          for (;;) co_await stream.async_read_some(asio::buffer(&byte, 1), asio::use_awaitable);
        }
        res = make_response(req, status, status < 300 ? R"({"status":"received"})" : R"({"status":"failing"})");
        ++state.answered;
      }
      bool keep_alive = res.keep_alive();
      lowest.expires_after(10s);
      co_await http::async_write(stream, res, asio::use_awaitable);
      if (!keep_alive) break;
    }
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      beast::error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  } catch (const boost::system::system_error& e) {
    auto code = e.code();
    if (code != http::error::end_of_stream && code != asio::error::eof && code != asio::error::connection_reset &&
        code != asio::ssl::error::stream_truncated && code != asio::error::operation_aborted)
      std::cerr << "receiver: connection: " << e.code().message() << " (" << e.what() << ")\n";
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor acceptor, ssl::context* tls, bool control_only) {
  auto executor = co_await asio::this_coro::executor;
  for (;;) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    if (tls) {
      asio::co_spawn(executor, serve(beast::ssl_stream<beast::tcp_stream>(std::move(socket), *tls), true, false),
                     asio::detached);
    } else {
      asio::co_spawn(executor, serve(beast::tcp_stream(std::move(socket)), false, control_only), asio::detached);
    }
  }
}

tcp::acceptor listen(asio::io_context& io, unsigned short port) {
  tcp::acceptor acceptor(io);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen();
  return acceptor;
}

// Writes then renames, so that a reader sees the whole port or nothing.
void write_port_file(const std::string& path, unsigned short port) {
  if (path.empty()) return;
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

[[noreturn]] void usage(const std::string& error) {
  std::cerr << "kpiwatch_test_receiver: " << error << "\n"
            << "usage: kpiwatch_test_receiver [--port N] [--port-file F] [--control-port-file F] [--record F]\n"
            << "         [--mode ok|fail|hang|close] [--status N] [--fail-status N] [--fail-count N]\n"
            << "         [--secret S] [--cert F --key F]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::string port_file, control_port_file, cert, key;
  unsigned short port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return argv[++i];
    };
    auto number = [&]() -> int {
      auto v = value();
      try {
        return std::stoi(v);
      } catch (const std::exception&) {
        usage(arg + ": not a number: " + v);
      }
    };
    if (arg == "--port")
      port = static_cast<unsigned short>(number());
    else if (arg == "--port-file")
      port_file = value();
    else if (arg == "--control-port-file")
      control_port_file = value();
    else if (arg == "--record")
      state.record_path = value();
    else if (arg == "--mode") {
      auto m = parse_mode(value());
      if (!m) usage("--mode: ok, fail, hang or close");
      state.mode = *m;
    } else if (arg == "--status")
      state.status = number();
    else if (arg == "--fail-status")
      state.fail_status = number();
    else if (arg == "--fail-count")
      state.fail_count = number();
    else if (arg == "--secret")
      state.secret = value();
    else if (arg == "--cert")
      cert = value();
    else if (arg == "--key")
      key = value();
    else
      usage("unknown argument " + arg);
  }
  if (cert.empty() != key.empty()) usage("--cert and --key go together");

  if (!state.record_path.empty()) {
    state.record_fd = ::open(state.record_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (state.record_fd < 0) {
      std::perror(("receiver: " + state.record_path).c_str());
      return 1;
    }
  }

  try {
    asio::io_context io;
    std::optional<ssl::context> tls;
    if (!cert.empty()) {
      tls.emplace(ssl::context::tls_server);
      tls->use_certificate_chain_file(cert);
      tls->use_private_key_file(key, ssl::context::pem);
    }
    auto acceptor = listen(io, port);
    const unsigned short bound = acceptor.local_endpoint().port();
    unsigned short control_port = bound;
    asio::co_spawn(io, accept_loop(std::move(acceptor), tls ? &*tls : nullptr, false), asio::detached);
    if (tls) {
      auto control_acceptor = listen(io, 0);
      control_port = control_acceptor.local_endpoint().port();
      asio::co_spawn(io, accept_loop(std::move(control_acceptor), nullptr, true), asio::detached);
    }

    asio::signal_set signals(io, SIGTERM, SIGINT);
    signals.async_wait([&](const boost::system::error_code&, int sig) {
      std::cerr << "receiver: signal " << sig << ", stopping\n";
      io.stop();
    });

    write_port_file(control_port_file, control_port);
    write_port_file(port_file, bound);
    std::cout << "listening on 127.0.0.1:" << bound << (tls ? " (https)" : "") << " control " << control_port
              << std::endl;
    std::cerr << "receiver: listening on 127.0.0.1:" << bound << " mode " << to_string(state.mode) << std::endl;
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "receiver: " << e.what() << "\n";
    return 1;
  }
  if (state.record_fd >= 0) ::close(state.record_fd);
  return 0;
}
