#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/json.hpp>
#include <set>

#include "http/errors.hpp"
#include "kpiwatch/json.hpp"

namespace kpiwatch {
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {
class Session;
}

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  asio::io_context& io;
  ServerLimits limits;
  Handler handler;
  tcp::acceptor acceptor;
  std::set<Session*> sessions;
  bool stopping = false;
  std::function<void()> drained;
  std::unique_ptr<asio::steady_timer> stop_timer;

  State(asio::io_context& io_, ServerLimits l, Handler h) : io(io_), limits(l), handler(std::move(h)), acceptor(io_) {}

  void accept();
  void session_ended(Session* s);
  void check_drained();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::State> server)
      : stream_(std::move(socket)), server_(std::move(server)) {}

  ~Session() { server_->session_ended(this); }

  void start() {
    server_->sessions.insert(this);
    wait_for_request();
  }

  // Graceful stop: an idle connection closes now, a busy one after its response.
  void stop() {
    closing_ = true;
    if (!busy_) close();
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void wait_for_request() {
    if (closing_) return close();
    parser_.emplace();
    parser_->body_limit(server_->limits.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(server_->limits.max_header_bytes));
    if (buffer_.size() > 0) return read_rest();  // a pipelined request is already here
    // Idle until the first bytes of the next request arrive.
    stream_.expires_after(server_->limits.idle_timeout);
    http::async_read_some(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->on_read_error(ec);
      if (self->parser_->is_done()) return self->on_request();
      self->read_rest();
    });
  }

  void read_rest() {
    // From its first byte, the whole request must arrive within read_timeout.
    stream_.expires_after(server_->limits.read_timeout);
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->on_read_error(ec);
      self->on_request();
    });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof)
      return close();
    if (ec == http::error::body_limit)
      return reply_error(ErrorCode::body_too_large,
                         fmt::format("the request body is larger than {} bytes", server_->limits.max_body_bytes));
    if (ec == http::error::header_limit)
      return reply_error(ErrorCode::headers_too_large, "the request headers are too large");
    return reply_error(ErrorCode::bad_request, "malformed HTTP request: " + ec.message());
  }

  // Answers a request that could not be read, then closes the connection.
  void reply_error(ErrorCode code, std::string message) {
    busy_ = true;
    closing_ = true;
    write(error_response(Error{code, std::move(message), "", {}}));
  }

  void on_request() {
    busy_ = true;
    keep_alive_ = parser_->keep_alive();
    auto version = parser_->get().version();
    server_->handler(parser_->release(), [self = shared_from_this(), version](Response res) {
      res.version(version);
      self->write(std::move(res));
    });
  }

  void write(Response res) {
    bool keep = keep_alive_ && !closing_ && !server_->stopping;
    res.keep_alive(keep);
    res.prepare_payload();
    response_ = std::make_shared<Response>(std::move(res));
    stream_.expires_after(server_->limits.read_timeout);
    http::async_write(stream_, *response_, [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
      self->response_.reset();
      self->busy_ = false;
      if (ec || !keep) return self->close();
      self->wait_for_request();
    });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> response_;
  std::shared_ptr<HttpServer::State> server_;
  bool busy_ = false;
  bool closing_ = false;
  bool keep_alive_ = true;
};

}  // namespace

void HttpServer::State::accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      spdlog::warn("accept failed: {}", ec.message());
    } else if (self->stopping) {
      return;
    } else if (self->sessions.size() >= self->limits.max_connections) {
      // Over the cap: a short 503, then the connection is closed.
      auto socket_ptr = std::make_shared<tcp::socket>(std::move(socket));
      auto body =
          error_json({ErrorCode::too_many_connections, "the server is at its connection limit; retry later", "", {}});
      auto text = std::make_shared<std::string>(
          fmt::format("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                      "Connection: close\r\nContent-Length: {}\r\n\r\n{}",
                      body.size(), body));
      asio::async_write(*socket_ptr, asio::buffer(*text), [socket_ptr, text](beast::error_code, std::size_t) {
        beast::error_code ignored;
        socket_ptr->shutdown(tcp::socket::shutdown_both, ignored);
        socket_ptr->close(ignored);
      });
    } else {
      std::make_shared<Session>(std::move(socket), self)->start();
    }
    self->accept();
  });
}

void HttpServer::State::session_ended(Session* s) {
  sessions.erase(s);
  check_drained();
}

void HttpServer::State::check_drained() {
  if (stopping && sessions.empty() && drained) {
    auto done = std::move(drained);
    drained = nullptr;
    if (stop_timer) stop_timer->cancel();
    asio::post(io, std::move(done));
  }
}

HttpServer::HttpServer(asio::io_context& io, ServerLimits limits, Handler handler)
    : state_(std::make_shared<State>(io, limits, std::move(handler))) {}

HttpServer::~HttpServer() {
  beast::error_code ec;
  state_->acceptor.close(ec);
}

Result<tcp::endpoint> HttpServer::listen(const std::string& host, unsigned short port) {
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec)
    return Error{
        ErrorCode::config_error, fmt::format("listen address \"{}\" is not an IP address", host), "listen", {}};
  tcp::endpoint endpoint(address, port);
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Error{
        ErrorCode::listen_failed, fmt::format("cannot listen on {}:{}: {}", host, port, ec.message()), "listen", {}};
  state_->accept();
  return acceptor.local_endpoint();
}

void HttpServer::stop(std::chrono::milliseconds deadline, std::function<void()> drained) {
  auto& s = *state_;
  s.stopping = true;
  s.drained = std::move(drained);
  beast::error_code ec;
  s.acceptor.close(ec);
  // Copy: stop() may end sessions, which erase themselves from the set.
  for (Session* session : std::vector<Session*>(s.sessions.begin(), s.sessions.end())) session->stop();
  s.stop_timer = std::make_unique<asio::steady_timer>(s.io, deadline);
  s.stop_timer->async_wait([state = state_](beast::error_code ec) {
    if (ec) return;
    if (!state->sessions.empty())
      spdlog::warn("{} connection(s) still open after the shutdown timeout; closing them", state->sessions.size());
    for (Session* session : std::vector<Session*>(state->sessions.begin(), state->sessions.end())) session->close();
  });
  s.check_drained();
}

std::size_t HttpServer::connections() const { return state_->sessions.size(); }

Response json_response(http::status status, std::string body, unsigned version) {
  Response res{status, version};
  res.set(http::field::content_type, "application/json; charset=utf-8");
  res.set(http::field::server, "kpiwatch");
  res.body() = std::move(body);
  return res;
}

}  // namespace kpiwatch
