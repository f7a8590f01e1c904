#include "sse_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>

namespace kpiwatch::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct SseClient::Impl {
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  std::string chunks;     // chunk bodies read, not yet taken
  bool reading = false;   // a read is pending; it stays pending between calls
  bool finished = false;  // the last chunk or an error
  // The parser keeps a reference to it.
  std::function<std::size_t(std::uint64_t, beast::string_view, beast::error_code&)> on_chunk =
      [this](std::uint64_t, beast::string_view body, beast::error_code&) {
        chunks.append(body.data(), body.size());
        return body.size();
      };
};

SseClient::SseClient(unsigned short port, const std::string& token, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  auto& s = *impl_;
  s.stream.expires_after(timeout);
  s.stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req{http::verb::get, "/api/v1/events", 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::accept, "text/event-stream");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  http::write(s.stream, req);
  s.parser.body_limit(boost::none);
  s.parser.on_chunk_body(s.on_chunk);
  http::read_header(s.stream, s.buffer, s.parser);
  s.stream.expires_never();
  const auto& res = s.parser.get();
  status_ = static_cast<int>(res.result_int());
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    headers_[name] = std::string(field.value());
  }
  if (!s.parser.chunked()) {
    s.stream.expires_after(timeout);
    http::read(s.stream, s.buffer, s.parser);
    body_ = s.parser.get().body();
    ended_ = true;
  }
}

SseClient::~SseClient() {
  beast::error_code ec;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  impl_->stream.socket().close(ec);
}

bool SseClient::read_more(std::chrono::milliseconds for_at_most) {
  auto& s = *impl_;
  if (s.finished) return false;
  if (!s.reading) {
    s.reading = true;
    http::async_read_some(s.stream, s.buffer, s.parser, [&s](beast::error_code ec, std::size_t) {
      s.reading = false;
      if (ec || s.parser.is_done()) s.finished = true;
    });
  }
  s.io.restart();
  s.io.run_one_for(for_at_most);
  text_ += s.chunks;
  s.chunks.clear();
  parse();
  return !s.finished;
}

void SseClient::parse() {
  for (auto end = text_.find("\n\n"); end != std::string::npos; end = text_.find("\n\n")) {
    std::string block = text_.substr(0, end + 1);
    text_.erase(0, end + 2);
    SseEvent e;
    bool any = false;
    for (std::size_t start = 0; start < block.size();) {
      auto nl = block.find('\n', start);
      std::string line = block.substr(start, nl - start);
      start = nl + 1;
      if (line.starts_with(":")) {
        ++comments_;
        continue;
      }
      auto colon = line.find(':');
      std::string field = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      if (value.starts_with(' ')) value.erase(0, 1);
      if (field == "retry") retry_ = value;
      if (field == "id") e.id = value;
      if (field == "event") e.event = value;
      if (field == "data") e.data += (e.data.empty() ? "" : "\n") + value;
      any = any || field == "data";
    }
    if (any) events_.push_back(std::move(e));
  }
}

std::optional<SseEvent> SseClient::next(const std::string& event, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    while (!events_.empty()) {
      SseEvent e = std::move(events_.front());
      events_.pop_front();
      if (e.event == event) return e;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (!read_more(left) && events_.empty()) return std::nullopt;
  }
}

bool SseClient::ended_by_server(std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (!read_more(left)) return true;
  }
}

}  // namespace kpiwatch::test
