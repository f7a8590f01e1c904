#pragma once
// HTTP/1.1 server on Boost.Beast: keep-alive, a body size limit, timeouts that
// defeat slow clients, a connection cap, and a graceful stop. Runs on one
// io_context thread; handlers answer through the Respond callback, which
// must be called on that thread, or take the connection over for a streaming
// response (StartStream). Every response carries the security headers.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "kpiwatch/result.hpp"

namespace kpiwatch {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using Respond = std::function<void(Response)>;

// A streaming response (server-sent events) once its head is queued: chunks go
// out in order until the client goes, the server stops, or finish(). Used on
// the io_context thread only.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Queues one chunk. A client that takes nothing within the read timeout, or
  // lets more than a megabyte pile up, is cut off.
  virtual void send(std::string chunk) = 0;
  // Sends the last chunk, then closes the connection.
  virtual void finish() = 0;
  // Runs once, when the stream has ended for whatever reason.
  virtual void on_end(std::function<void()> ended) = 0;
  virtual bool ended() const = 0;
};

// Takes the request's connection over: `head` (its headers; the body is
// ignored) is sent chunked, then whatever the stream sends. A stream is not
// busy for the graceful stop and has no idle or read timeout. Null if the
// connection is closing. Call it instead of Respond, at most once.
using StartStream = std::function<std::shared_ptr<ResponseStream>(Response head)>;
using Handler = std::function<void(Request&&, Respond, StartStream)>;

// The headers every response carries (the status page's content security policy among them).
void set_security_headers(http::fields& fields);

struct ServerLimits {
  std::size_t max_connections = 512;
  std::size_t max_body_bytes = std::size_t{8} * 1024 * 1024;
  std::size_t max_header_bytes = std::size_t{16} * 1024;
  std::chrono::milliseconds read_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ServerLimits limits, Handler handler);
  ~HttpServer();

  // Binds and starts accepting; returns the bound endpoint (port 0 picks one).
  Result<boost::asio::ip::tcp::endpoint> listen(const std::string& host, unsigned short port);
  // Stops accepting, closes idle connections, lets in-flight requests finish,
  // and calls `drained` once no connection is left (or after `deadline`).
  void stop(std::chrono::milliseconds deadline, std::function<void()> drained);
  std::size_t connections() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// A JSON response with the given status.
Response json_response(http::status status, std::string body, unsigned version = 11);

}  // namespace kpiwatch
