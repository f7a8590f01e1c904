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

// The status page's policy: its own scripts, styles and fetches only, no frames, no other origin.
constexpr std::pair<std::string_view, std::string_view> kSecurityHeaders[] = {
    {"Content-Security-Policy",
     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
     "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"X-Frame-Options", "DENY"},
};

// What a stream may have queued before its client counts as gone.
constexpr std::size_t kMaxStreamBacklog = std::size_t{1024} * 1024;
// The first read of a request: its start line and usually its whole head.
constexpr std::size_t kFirstRead = 4096;

constexpr std::string_view kFramingRule =
    "a request body is framed by one Content-Length, or by \"Transfer-Encoding: chunked\" alone, never both";

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Framing a proxy in front could read otherwise than we do is refused, so that
// the bytes after a request never run as one of their own (request smuggling).
std::optional<std::string> framing_error(const http::request_header<>& head) {
  std::size_t encodings = 0;
  std::size_t hosts = 0;
  bool chunked = false;
  for (const auto& field : head) {
    if (field.name() == http::field::transfer_encoding) {
      ++encodings;
      chunked = beast::iequals(trimmed(field.value()), "chunked");
    } else if (field.name() == http::field::host) {
      ++hosts;
    }
  }
  if (encodings > 0 && head.find(http::field::content_length) != head.end()) return std::string(kFramingRule);
  if (encodings > 1 || (encodings == 1 && !chunked))
    return std::string("the only Transfer-Encoding accepted is exactly \"chunked\"");
  if (hosts > 1) return std::string("a request carries one Host header, not several");
  if (hosts == 0 && head.version() >= 11) return std::string("an HTTP/1.1 request needs a Host header");
  return std::nullopt;
}
}  // namespace

// A response that sets its own policy keeps it (the report allows its one style element by hash).
void set_security_headers(http::fields& fields) {
  for (auto [name, value] : kSecurityHeaders)
    if (name != "Content-Security-Policy" || fields.find(name) == fields.end()) fields.set(name, value);
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
  // At the cap: closes the connection that has waited longest for a request
  // (as nginx reuses its idle connections); false if every one is busy.
  bool drop_oldest_idle();
  void session_ended(Session* s);
  void check_drained();
};

namespace {

class Session : public std::enable_shared_from_this<Session>, public ResponseStream {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::State> server)
      : stream_(std::move(socket)), deadline_(stream_.get_executor()), server_(std::move(server)) {}

  ~Session() override { server_->session_ended(this); }

  void start() {
    server_->sessions.insert(this);
    wait_for_request();
  }

  // Graceful stop: an idle connection closes now, a busy one after its response,
  // a stream after its last chunk.
  void stop() {
    closing_ = true;
    if (streaming_) return finish();
    if (!busy_) close();
  }

  void close() {
    auto self = shared_from_this();  // an ended stream's owner may let go of it
    closing_ = true;
    deadline_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    end_stream();
  }

  std::shared_ptr<ResponseStream> start_stream(const Response& head) {
    if (closing_ || server_->stopping || streaming_) return nullptr;
    streaming_ = true;
    busy_ = false;  // a stream does not hold the graceful stop
    head_.emplace(head.result(), head.version());
    for (const auto& field : head) head_->set(field.name_string(), field.value());
    set_security_headers(*head_);
    head_->keep_alive(false);
    head_->chunked(true);
    serializer_.emplace(*head_);
    stream_.expires_after(server_->limits.read_timeout);
    http::async_write_header(stream_, *serializer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->head_sent_ = true;
      self->watch_for_close();
      self->pump();
    });
    return shared_from_this();
  }

  void send(std::string chunk) override {
    if (ended_ || finishing_) return;
    backlog_ += chunk.size();
    if (backlog_ > kMaxStreamBacklog) {
      spdlog::info("an event stream's client takes nothing; closing it");
      return close();
    }
    queued_ += chunk;
    pump();
  }

  void finish() override {
    if (ended_ || finishing_) return;
    finishing_ = true;
    pump();
  }

  void on_end(std::function<void()> ended) override { on_end_ = std::move(ended); }
  bool ended() const override { return ended_; }

  // Waiting for the first byte of a request (a new or a kept-alive connection), and since when.
  bool idle() const { return idle_ && !closing_; }
  std::chrono::steady_clock::time_point idle_since() const { return idle_since_; }

 private:
  void wait_for_request() {
    if (closing_) return close();
    parser_.emplace();
    parser_->body_limit(server_->limits.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(server_->limits.max_header_bytes));
    if (buffer_.size() > 0) return read_request();  // a pipelined request is already here
    // Idle until the first bytes of the next request arrive. A new connection gets no
    // longer than a request would to send its first byte (nginx's client_header_timeout).
    const auto& limits = server_->limits;
    idle_ = true;
    idle_since_ = std::chrono::steady_clock::now();
    stream_.expires_after(served_ == 0 ? std::min(limits.idle_timeout, limits.read_timeout) : limits.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstRead),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->idle_ = false;
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_request();
                            });
  }

  // From its first byte, the whole request (head and body) must arrive within
  // read_timeout. Its own timer, not the stream's, so a late body can get its 408.
  void read_request() {
    stream_.expires_never();
    reading_ = true;
    timed_out_ = false;
    deadline_.expires_after(server_->limits.read_timeout);
    deadline_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || !self->reading_) return;  // the request arrived as the timer went off
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
    http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->on_read_error(ec);
      if (auto refused = framing_error(self->parser_->get()))
        return self->reply_error(ErrorCode::bad_request, *refused);
      if (self->parser_->is_done()) return self->on_request();
      // The deadline passed as the head arrived: its cancel found no read to stop.
      if (self->timed_out_) return self->on_read_error(beast::error::timeout);
      http::async_read(self->stream_, self->buffer_, *self->parser_, [self](beast::error_code ec, std::size_t) {
        if (ec) return self->on_read_error(ec);
        self->on_request();
      });
    });
  }

  void on_read_error(beast::error_code ec) {
    if (timed_out_) {
      // A client still sending its head may not read at all; one whose head arrived is told.
      if (!parser_->is_header_done()) return close();
      return reply_error(ErrorCode::request_timeout,
                         fmt::format("the request did not arrive within {} ms (read_timeout_ms)",
                                     server_->limits.read_timeout.count()));
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof)
      return close();
    if (ec == http::error::body_limit)
      return reply_error(ErrorCode::body_too_large,
                         fmt::format("the request body is larger than {} bytes", server_->limits.max_body_bytes));
    if (ec == http::error::header_limit)
      return reply_error(ErrorCode::headers_too_large, "the request headers are too large");
    if (ec == http::error::bad_transfer_encoding || ec == http::error::bad_content_length ||
        ec == http::error::multiple_content_length)
      return reply_error(ErrorCode::bad_request, std::string(kFramingRule));
    return reply_error(ErrorCode::bad_request, "malformed HTTP request: " + ec.message());
  }

  // Answers a request that could not be read, then closes the connection.
  void reply_error(ErrorCode code, std::string message) {
    reading_ = false;
    deadline_.cancel();
    busy_ = true;
    closing_ = true;
    write(error_response(Error{code, std::move(message), "", {}}));
  }

  void on_request() {
    reading_ = false;
    deadline_.cancel();
    ++served_;
    busy_ = true;
    keep_alive_ = parser_->keep_alive();
    auto version = parser_->get().version();
    server_->handler(
        parser_->release(),
        [self = shared_from_this(), version](Response res) {
          res.version(version);
          self->write(std::move(res));
        },
        [self = shared_from_this(), version](Response head) {
          head.version(version);
          return self->start_stream(head);
        });
  }

  // The client sends nothing on a stream; a read ends when it goes away.
  void watch_for_close() {
    stream_.socket().async_read_some(asio::buffer(sink_),
                                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                       if (ec) return self->close();
                                       self->watch_for_close();
                                     });
  }

  // Writes what is queued as one chunk; the last chunk once finishing and nothing is left.
  void pump() {
    if (!head_sent_ || writing_ || ended_) return;
    auto done = [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      self->backlog_ -= self->writing_chunk_.size();
      if (ec) return self->close();
      self->pump();
    };
    stream_.expires_after(server_->limits.read_timeout);
    if (!queued_.empty()) {
      writing_ = true;
      writing_chunk_ = std::move(queued_);
      queued_.clear();
      return asio::async_write(stream_, http::make_chunk(asio::buffer(writing_chunk_)), std::move(done));
    }
    if (!finishing_) return;
    writing_ = true;
    asio::async_write(stream_, http::make_chunk_last(), [self = shared_from_this()](beast::error_code, std::size_t) {
      self->writing_ = false;
      self->close();
    });
  }

  void end_stream() {
    if (!streaming_ || ended_) return;
    ended_ = true;
    if (auto ended = std::move(on_end_)) ended();
  }

  void write(Response res) {
    bool keep = keep_alive_ && !closing_ && !server_->stopping;
    set_security_headers(res);
    res.keep_alive(keep);
    res.prepare_payload();
    response_ = std::make_shared<Response>(std::move(res));
    // A large body (an export of 10^5 figures) gets read_timeout per MiB, so a slow
    // link is not cut off mid-file while a stalled client still is.
    auto mebibytes = static_cast<long>(response_->body().size() >> 20);
    stream_.expires_after(server_->limits.read_timeout * (1 + mebibytes));
    http::async_write(stream_, *response_, [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
      self->response_.reset();
      self->busy_ = false;
      if (ec || !keep) return self->close();
      self->wait_for_request();
    });
  }

  beast::tcp_stream stream_;
  asio::steady_timer deadline_;  // the request's read_timeout
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> response_;
  std::shared_ptr<HttpServer::State> server_;
  bool busy_ = false;
  bool closing_ = false;
  bool keep_alive_ = true;
  bool idle_ = false;
  bool reading_ = false;  // between a request's first byte and its last
  bool timed_out_ = false;
  std::size_t served_ = 0;  // requests read on this connection
  std::chrono::steady_clock::time_point idle_since_;
  // A streaming response.
  bool streaming_ = false;
  bool head_sent_ = false;
  bool writing_ = false;
  bool finishing_ = false;
  bool ended_ = false;
  std::optional<http::response<http::empty_body>> head_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  std::string queued_;
  std::string writing_chunk_;
  std::size_t backlog_ = 0;
  std::array<char, 256> sink_{};
  std::function<void()> on_end_;
};

}  // namespace

void HttpServer::State::accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      spdlog::warn("accept failed: {}", ec.message());
    } else if (self->stopping) {
      return;
    } else if (self->sessions.size() < self->limits.max_connections || self->drop_oldest_idle()) {
      std::make_shared<Session>(std::move(socket), self)->start();
    } else {
      // Over the cap with no idle connection to close: a short 503, then the connection is closed.
      auto socket_ptr = std::make_shared<tcp::socket>(std::move(socket));
      auto body =
          error_json({ErrorCode::too_many_connections, "the server is at its connection limit; retry later", "", {}});
      std::string security;
      for (auto [name, value] : kSecurityHeaders) security += fmt::format("{}: {}\r\n", name, value);
      auto text = std::make_shared<std::string>(
          fmt::format("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                      "{}Connection: close\r\nContent-Length: {}\r\n\r\n{}",
                      security, body.size(), body));
      asio::async_write(*socket_ptr, asio::buffer(*text), [socket_ptr, text](beast::error_code, std::size_t) {
        beast::error_code ignored;
        socket_ptr->shutdown(tcp::socket::shutdown_both, ignored);
        socket_ptr->close(ignored);
      });
    }
    self->accept();
  });
}

bool HttpServer::State::drop_oldest_idle() {
  Session* oldest = nullptr;
  for (Session* s : sessions)
    if (s->idle() && (!oldest || s->idle_since() < oldest->idle_since())) oldest = s;
  if (!oldest) return false;
  spdlog::debug("at the connection limit ({}); closing the longest idle connection", limits.max_connections);
  oldest->close();
  return true;
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
