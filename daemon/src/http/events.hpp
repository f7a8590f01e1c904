#pragma once
// Live updates for the status page: every change it shows (a figure stored,
// an alert's transition, an acknowledgement, a silence created or expired) as a
// server-sent event on GET /api/v1/events. Publishers on any thread only post
// to the io_context; the hub writes to its streams there, so no publisher
// waits for a client.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http/server.hpp"

namespace kpiwatch {

class EventHub {
 public:
  struct Options {
    std::size_t max_streams = 64;
    std::chrono::milliseconds keepalive{15'000};  // a comment, so that proxies keep an idle stream open
  };

  EventHub(boost::asio::io_context& io, Options options);
  explicit EventHub(boost::asio::io_context& io) : EventHub(io, Options{}) {}
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Any thread. `event` names it (submission, alert, ack, silence); `data` is
  // its JSON text. Each event gets the next id, in the order they reach the loop.
  void publish(std::string event, std::string data);

  // The rest on the io_context thread only.
  bool full() const;
  // A new subscriber; it gets "retry: 2000" first. REQUIRES: !full().
  void add(std::shared_ptr<ResponseStream> stream);
  std::size_t streams() const;
  // Ends every stream (their last chunk) and refuses new ones.
  void stop();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// The text of one event: "id: 7\nevent: alert\ndata: {...}\n\n".
std::string sse_event(std::uint64_t id, std::string_view event, std::string_view data);

}  // namespace kpiwatch
