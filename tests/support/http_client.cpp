#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace kpiwatch::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string HttpReply::error_code() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return "";
  const auto* error = v.as_object().if_contains("error");
  if (!error || !error->is_object()) return "";
  const auto* code = error->as_object().if_contains("code");
  return code && code->is_string() ? std::string(code->as_string()) : "";
}

struct HttpClient::Impl {
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  std::chrono::milliseconds timeout;
  unsigned short port;

  void run_until_done(const bool& done) {
    io.restart();
    while (!done && io.run_one()) {
    }
  }
};

HttpClient::HttpClient(unsigned short port, std::chrono::milliseconds timeout) : impl_(std::make_unique<Impl>()) {
  impl_->timeout = timeout;
  impl_->port = port;
  impl_->stream.expires_after(timeout);
  impl_->stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
}

HttpClient::~HttpClient() {
  beast::error_code ec;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

HttpReply HttpClient::read_reply() {
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{256} * 1024 * 1024);
  impl_->stream.expires_after(impl_->timeout);
  bool done = false;
  beast::error_code error;
  http::async_read(impl_->stream, impl_->buffer, parser, [&](beast::error_code ec, std::size_t) {
    error = ec;
    done = true;
  });
  impl_->run_until_done(done);
  if (error) throw beast::system_error(error);
  auto res = parser.release();
  HttpReply reply;
  reply.status = static_cast<int>(res.result_int());
  reply.body = res.body();
  reply.keep_alive = res.keep_alive();
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = std::string(field.value());
  }
  return reply;
}

HttpReply HttpClient::request(const std::string& method, const std::string& target, const std::string& body,
                              const std::map<std::string, std::string>& headers) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  impl_->stream.expires_after(impl_->timeout);
  http::write(impl_->stream, req);
  return read_reply();
}

HttpReply HttpClient::get(const std::string& target) { return request("GET", target, "", {}); }

HttpReply HttpClient::post(const std::string& target, const std::string& body, const std::string& token,
                           const std::string& content_type) {
  std::map<std::string, std::string> headers{{"Content-Type", content_type}};
  if (!token.empty()) headers["Authorization"] = "Bearer " + token;
  return request("POST", target, body, headers);
}

void HttpClient::send_raw(const std::string& bytes) {
  impl_->stream.expires_after(impl_->timeout);
  asio::write(impl_->stream.socket(), asio::buffer(bytes));
}

bool HttpClient::reply_arrived() {
  beast::error_code ec;
  return impl_->stream.socket().available(ec) > 0;
}

bool HttpClient::closed_by_server(std::chrono::milliseconds deadline) {
  impl_->stream.expires_after(deadline);
  bool done = false;
  beast::error_code error;
  char byte;
  impl_->stream.async_read_some(asio::buffer(&byte, 1), [&](beast::error_code ec, std::size_t) {
    error = ec;
    done = true;
  });
  impl_->run_until_done(done);
  return error == asio::error::eof || error == asio::error::connection_reset;
}

HttpReply http_get(unsigned short port, const std::string& target) { return HttpClient(port).get(target); }

HttpReply http_post(unsigned short port, const std::string& target, const std::string& body, const std::string& token) {
  return HttpClient(port).post(target, body, token);
}

}  // namespace kpiwatch::test
