#include "kpiwatch/webhook_client.hpp"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

namespace kpiwatch {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

std::string describe(const beast::error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category() || ec.category() == ssl::error::get_stream_category())
    return "TLS: " + ec.message();
  return ec.message();
}

// One POST over a plain or TLS stream; owns itself until done.
template <class Stream>
class PostOp : public std::enable_shared_from_this<PostOp<Stream>> {
 public:
  PostOp(asio::io_context& io, std::unique_ptr<Stream> stream, std::string host, std::string port,
         http::request<http::string_body> request, std::chrono::milliseconds timeout,
         std::function<void(PostResult)> done)
      : resolver_(io),
        timer_(io),
        stream_(std::move(stream)),
        host_(std::move(host)),
        port_(std::move(port)),
        request_(std::move(request)),
        timeout_(timeout),
        done_(std::move(done)) {}

  void run() {
    auto self = this->shared_from_this();
    timer_.expires_after(timeout_);
    timer_.async_wait([self](beast::error_code ec) {
      if (ec) return;
      self->timed_out_ = true;
      self->resolver_.cancel();
      beast::error_code ignored;
      beast::get_lowest_layer(*self->stream_).socket().close(ignored);
    });
    resolver_.async_resolve(host_, port_, [self](beast::error_code ec, tcp::resolver::results_type results) {
      if (ec) return self->finish(0, "cannot resolve " + self->host_ + ": " + describe(ec));
      beast::get_lowest_layer(*self->stream_)
          .async_connect(results, [self](beast::error_code ec, const tcp::endpoint&) {
            if (ec) return self->finish(0, "cannot connect: " + describe(ec));
            self->handshake();
          });
    });
  }

 private:
  void handshake() {
    auto self = this->shared_from_this();
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      stream_->async_handshake(ssl::stream_base::client, [self](beast::error_code ec) {
        if (ec) return self->finish(0, "TLS handshake failed: " + describe(ec));
        self->write();
      });
    } else {
      write();
    }
  }

  void write() {
    auto self = this->shared_from_this();
    http::async_write(*stream_, request_, [self](beast::error_code ec, std::size_t) {
      if (ec) return self->finish(0, "sending failed: " + describe(ec));
      http::async_read(*self->stream_, self->buffer_, self->response_, [self](beast::error_code ec, std::size_t) {
        if (ec) return self->finish(0, "no response: " + describe(ec));
        int status = static_cast<int>(self->response_.result_int());
        if (status >= 200 && status < 300) return self->finish(status, "");
        std::string body = self->response_.body().substr(0, 200);
        self->finish(status, fmt::format("HTTP {}{}{}", status, body.empty() ? "" : ": ", body));
      });
    });
  }

  void finish(int status, std::string error) {
    if (!done_) return;
    timer_.cancel();
    if (timed_out_) error = fmt::format("timed out after {} ms", timeout_.count());
    beast::error_code ignored;
    beast::get_lowest_layer(*stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(*stream_).socket().close(ignored);
    auto done = std::move(done_);
    done_ = nullptr;
    done(PostResult{status, std::move(error)});
  }

  tcp::resolver resolver_;
  asio::steady_timer timer_;
  std::unique_ptr<Stream> stream_;
  std::string host_, port_;
  http::request<http::string_body> request_;
  std::chrono::milliseconds timeout_;
  std::function<void(PostResult)> done_;
  beast::flat_buffer buffer_;
  http::response<http::string_body> response_;
  bool timed_out_ = false;
};

}  // namespace

std::shared_ptr<ssl::context> WebhookClient::tls_context(const std::string& ca_file, std::string& error) {
  if (auto it = contexts_.find(ca_file); it != contexts_.end()) return it->second;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  beast::error_code ec;
  ctx->set_verify_mode(ssl::verify_peer, ec);
  if (ca_file.empty())
    ctx->set_default_verify_paths(ec);
  else
    ctx->load_verify_file(ca_file, ec);
  if (ec) {
    error = fmt::format("cannot load CA certificates {}: {}", ca_file.empty() ? "(system)" : ca_file, ec.message());
    return nullptr;
  }
  contexts_[ca_file] = ctx;
  return ctx;
}

void WebhookClient::post(const std::string& url, const Headers& headers, std::string body,
                         std::chrono::milliseconds timeout, const std::string& ca_file,
                         std::function<void(PostResult)> done) {
  auto fail = [&](std::string error) {
    asio::post(io_, [done = std::move(done), error = std::move(error)] { done(PostResult{0, error}); });
  };
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return fail(fmt::format("malformed URL \"{}\"", url));
  bool tls = parsed->scheme() == "https";
  std::string host = parsed->encoded_host().decode();
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  std::string port = parsed->has_port() ? std::string(parsed->port()) : (tls ? "443" : "80");
  std::string target = std::string(parsed->encoded_path());
  if (target.empty()) target = "/";
  if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());

  http::request<http::string_body> request{http::verb::post, target, 11};
  request.set(http::field::host, parsed->has_port() ? host + ":" + port : host);
  request.set(http::field::content_type, "application/json");
  request.set(http::field::user_agent, "kpiwatch/" KPIWATCH_VERSION);
  for (const auto& [k, v] : headers) request.set(k, v);
  request.body() = std::move(body);
  request.keep_alive(false);
  request.prepare_payload();

  if (!tls) {
    auto stream = std::make_unique<beast::tcp_stream>(io_);
    std::make_shared<PostOp<beast::tcp_stream>>(io_, std::move(stream), host, port, std::move(request), timeout,
                                                std::move(done))
        ->run();
    return;
  }
  std::string error;
  auto ctx = tls_context(ca_file, error);
  if (!ctx) return fail(error);
  auto stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io_, *ctx);
  if (!SSL_set_tlsext_host_name(stream->native_handle(), host.c_str())) return fail("cannot set the TLS server name");
  stream->set_verify_callback(ssl::host_name_verification(host));
  std::make_shared<PostOp<beast::ssl_stream<beast::tcp_stream>>>(io_, std::move(stream), host, port, std::move(request),
                                                                 timeout, std::move(done))
      ->run();
}

}  // namespace kpiwatch
