#pragma once
// A client of GET /api/v1/events for end-to-end tests: reads the chunked
// text/event-stream as a browser's fetch() reader does, over loopback.

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace kpiwatch::test {

struct SseEvent {
  std::string id;
  std::string event;
  std::string data;
  boost::json::value json() const { return boost::json::parse(data); }
};

class SseClient {
 public:
  // Connects and reads the reply's head (bounded); `token` goes in Authorization.
  explicit SseClient(unsigned short port, const std::string& token = "",
                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~SseClient();

  int status() const { return status_; }
  const std::map<std::string, std::string>& headers() const { return headers_; }  // lower-case names
  // The body of a reply that is no stream (an error), read whole.
  const std::string& body() const { return body_; }
  // The stream's "retry:" value, once read; "" before.
  const std::string& retry() const { return retry_; }

  // The next event named `event`, skipping others; nullopt if none came within `deadline`.
  std::optional<SseEvent> next(const std::string& event, std::chrono::milliseconds deadline);
  // Comments (keepalives) read so far.
  std::size_t comments() const { return comments_; }
  // True once the server ended the stream (its last chunk, or a close) within `deadline`.
  bool ended_by_server(std::chrono::milliseconds deadline);

 private:
  struct Impl;
  // Reads more of the stream for at most `for_at_most`; false once it has ended.
  bool read_more(std::chrono::milliseconds for_at_most);
  void parse();

  std::unique_ptr<Impl> impl_;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  std::string body_;
  std::string text_;  // stream text not yet parsed into events
  std::deque<SseEvent> events_;
  std::string retry_;
  std::size_t comments_ = 0;
  bool ended_ = false;
};

}  // namespace kpiwatch::test
