#include "bench_http.hpp"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cmath>
#include <memory>
#include <stdexcept>

namespace kpiwatch::bench {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

double LoadResult::percentile_ms(double p) const {
  if (latencies_ms.empty()) return 0;
  auto i = static_cast<std::size_t>(std::lround(p / 100.0 * static_cast<double>(latencies_ms.size() - 1)));
  return latencies_ms[std::min(i, latencies_ms.size() - 1)];
}

namespace {

struct Shared {
  const LoadPlan& plan;
  LoadResult& result;
  std::size_t running = 0;
  Clock::time_point last_done;
  asio::steady_timer& deadline;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& io, Shared& shared, std::vector<std::string>& bodies)
      : stream_(io), shared_(shared), bodies_(bodies) {}

  void connect(unsigned short port) {
    stream_.socket().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    stream_.socket().set_option(tcp::no_delay(true));
  }

  void start() {
    ++shared_.running;
    send();
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void send() {
    if (next_ == bodies_.size()) return finish();
    bool post = shared_.plan.method == "POST";
    request_ = {post ? http::verb::post : http::verb::get, shared_.plan.target, 11};
    request_.set(http::field::host, "127.0.0.1");
    if (post) {
      request_.set(http::field::content_type, "application/json");
      request_.set(http::field::authorization, "Bearer " + shared_.plan.token);
      request_.body() = std::move(bodies_[next_]);  // each body is sent once
    }
    request_.keep_alive(true);
    request_.prepare_payload();
    sent_at_ = Clock::now();
    stream_.expires_after(shared_.plan.request_timeout);
    http::async_write(stream_, request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail("write: " + ec.message());
      self->read();
    });
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(64u << 20);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->fail("read: " + ec.message());
      self->on_response();
    });
  }

  void on_response() {
    auto now = Clock::now();
    auto& res = parser_->get();
    if (res.result_int() != shared_.plan.expected_status) {
      return fail("HTTP " + std::to_string(res.result_int()) + ": " + res.body().substr(0, 500));
    }
    auto& r = shared_.result;
    ++r.requests;
    r.latencies_ms.push_back(std::chrono::duration<double, std::milli>(now - sent_at_).count());
    shared_.last_done = now;
    ++next_;
    if (!res.keep_alive()) return fail("the server closed the keep-alive connection");
    send();
  }

  // The rest of this connection's requests count as failed.
  void fail(const std::string& what) {
    auto& r = shared_.result;
    if (r.first_error.empty()) r.first_error = what;
    r.failed += bodies_.size() - next_;
    next_ = bodies_.size();
    close();
    finish();
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    if (--shared_.running == 0) shared_.deadline.cancel();
  }

  beast::tcp_stream stream_;
  Shared& shared_;
  std::vector<std::string>& bodies_;
  std::size_t next_ = 0;
  bool finished_ = false;
  http::request<http::string_body> request_;
  std::optional<http::response_parser<http::string_body>> parser_;
  beast::flat_buffer buffer_;
  Clock::time_point sent_at_;
};

}  // namespace

struct HttpClient::Impl {
  asio::io_context io{1};
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  unsigned short port = 0;
  std::string token;
  bool open = false;

  void close() {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
    buffer.clear();
    open = false;
  }
  // Runs the queued operations to their end: each is bounded by the stream's expiry.
  void run() {
    io.restart();
    io.run();
  }
};

HttpClient::HttpClient(unsigned short port, std::string token) : impl_(std::make_unique<Impl>()) {
  impl_->port = port;
  impl_->token = std::move(token);
}

HttpClient::~HttpClient() { impl_->close(); }

Reply HttpClient::get(const std::string& target, std::chrono::milliseconds timeout) {
  return request(false, target, {}, timeout);
}

Reply HttpClient::post(const std::string& target, const std::string& body, std::chrono::milliseconds timeout) {
  return request(true, target, body, timeout);
}

Reply HttpClient::request(bool post, const std::string& target, const std::string& body,
                          std::chrono::milliseconds timeout) {
  auto& c = *impl_;
  for (int attempt = 0;; ++attempt) {
    bool reused = c.open;
    beast::error_code ec;
    if (!c.open) {
      c.stream.expires_after(timeout);
      c.stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), c.port),
                             [&](beast::error_code e) { ec = e; });
      c.run();
      if (ec) {
        c.close();
        throw std::runtime_error("connect: " + ec.message());
      }
      c.stream.socket().set_option(tcp::no_delay(true));
      c.open = true;
    }
    http::request<http::string_body> req{post ? http::verb::post : http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!c.token.empty()) req.set(http::field::authorization, "Bearer " + c.token);
    if (post) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.keep_alive(true);
    req.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    auto sent = Clock::now();
    c.stream.expires_after(timeout);
    http::async_write(c.stream, req, [&](beast::error_code e, std::size_t) {
      if (e) {
        ec = e;
        return;
      }
      http::async_read(c.stream, c.buffer, parser, [&](beast::error_code e2, std::size_t) { ec = e2; });
    });
    c.run();
    if (ec) {
      c.close();
      // A keep-alive connection the server had closed: once more on a new one.
      if (reused && attempt == 0 &&
          (ec == http::error::end_of_stream || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
           ec == asio::error::eof))
        continue;
      throw std::runtime_error(target + ": " +
                               (ec == beast::error::timeout ? "no answer within the timeout" : ec.message()));
    }
    Reply reply{parser.get().result_int(), std::move(parser.get().body()),
                std::chrono::duration<double, std::milli>(Clock::now() - sent).count()};
    if (!parser.get().keep_alive()) c.close();
    return reply;
  }
}

LoadResult run_load(LoadPlan plan) {
  LoadResult result;
  asio::io_context io(1);
  asio::steady_timer deadline(io);
  Shared shared{plan, result, 0, {}, deadline};

  std::vector<std::shared_ptr<Connection>> connections;
  std::size_t total = 0;
  for (auto& bodies : plan.bodies) {
    auto c = std::make_shared<Connection>(io, shared, bodies);
    c->connect(plan.port);  // throws if the daemon does not accept
    connections.push_back(std::move(c));
    total += bodies.size();
  }
  result.latencies_ms.reserve(total);

  bool timed_out = false;
  deadline.expires_after(plan.total_timeout);
  deadline.async_wait([&](beast::error_code ec) {
    if (ec) return;  // cancelled: every connection finished
    timed_out = true;
    for (auto& c : connections) c->close();
  });

  auto start = Clock::now();
  shared.last_done = start;
  for (auto& c : connections) c->start();
  io.run();
  result.seconds = std::chrono::duration<double>(shared.last_done - start).count();
  if (timed_out && result.first_error.empty()) result.first_error = "the run hit its total timeout";
  std::sort(result.latencies_ms.begin(), result.latencies_ms.end());
  return result;
}

}  // namespace kpiwatch::bench
