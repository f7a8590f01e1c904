// GET /api/v1/events and the hub behind it.
#include "http/events.hpp"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <vector>

#include "http/api.hpp"
#include "http/errors.hpp"

namespace kpiwatch {
namespace asio = boost::asio;

struct EventHub::State {
  asio::io_context& io;
  Options options;
  asio::steady_timer keepalive;
  std::map<ResponseStream*, std::shared_ptr<ResponseStream>> streams;
  std::uint64_t last_id = 0;
  bool stopped = false;

  State(asio::io_context& io_, Options o) : io(io_), options(o), keepalive(io_) {}

  // A copy: a stream that fails while being written to leaves the map.
  std::vector<std::shared_ptr<ResponseStream>> subscribers() const {
    std::vector<std::shared_ptr<ResponseStream>> out;
    out.reserve(streams.size());
    for (const auto& [ptr, stream] : streams) out.push_back(stream);
    return out;
  }

  void broadcast(const std::string& text) {
    for (const auto& stream : subscribers()) stream->send(text);
  }

  // The timer runs only while there are streams, so that it holds no work at shutdown.
  void arm(const std::shared_ptr<State>& self) {
    keepalive.expires_after(options.keepalive);
    keepalive.async_wait([weak = std::weak_ptr<State>(self)](boost::system::error_code ec) {
      auto state = weak.lock();
      if (ec || !state || state->streams.empty()) return;
      state->broadcast(": keepalive\n\n");
      if (!state->streams.empty()) state->arm(state);
    });
  }
};

std::string sse_event(std::uint64_t id, std::string_view event, std::string_view data) {
  std::string text = fmt::format("id: {}\nevent: {}\n", id, event);
  // A line break inside the data would end the field: each line is its own data field.
  std::size_t start = 0;
  while (true) {
    auto end = data.find('\n', start);
    text += fmt::format("data: {}\n", data.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return text + "\n";
}

EventHub::EventHub(asio::io_context& io, Options options) : state_(std::make_shared<State>(io, options)) {}

EventHub::~EventHub() { state_->keepalive.cancel(); }

void EventHub::publish(std::string event, std::string data) {
  asio::post(state_->io, [state = state_, event = std::move(event), data = std::move(data)] {
    if (state->stopped) return;
    state->broadcast(sse_event(++state->last_id, event, data));
  });
}

bool EventHub::full() const { return state_->stopped || state_->streams.size() >= state_->options.max_streams; }

std::size_t EventHub::streams() const { return state_->streams.size(); }

void EventHub::add(std::shared_ptr<ResponseStream> stream) {
  auto* key = stream.get();
  bool first = state_->streams.empty();
  state_->streams.emplace(key, stream);
  stream->on_end([weak = std::weak_ptr<State>(state_), key] {
    if (auto state = weak.lock()) state->streams.erase(key);
  });
  stream->send("retry: 2000\n\n");
  if (first) state_->arm(state_);
}

void EventHub::stop() {
  state_->stopped = true;
  state_->keepalive.cancel();
  for (const auto& stream : state_->subscribers()) stream->finish();
}

void Api::get_events(const Call& call, Respond respond) const {
  if (call.request.method() == http::verb::head) {
    Response res{http::status::ok, call.request.version()};
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-cache");
    return respond(std::move(res));
  }
  if (!events_ || !call.stream)
    return respond(error_response(ErrorCode::not_ready, "live events are not available on this server"));
  if (call.request.version() < 11)
    return respond(error_response(ErrorCode::bad_request, "the event stream needs HTTP/1.1"));
  if (events_->full()) {
    auto res = error_response(ErrorCode::too_many_connections,
                              "the server has as many event streams open as it allows; retry later");
    res.set(http::field::retry_after, "5");
    return respond(std::move(res));
  }
  Response head{http::status::ok, call.request.version()};
  head.set(http::field::content_type, "text/event-stream");
  head.set(http::field::cache_control, "no-cache");
  head.set("X-Accel-Buffering", "no");  // a proxy in front must not hold events back
  auto stream = call.stream(std::move(head));
  if (!stream) return respond(error_response(ErrorCode::shutting_down, "the server is stopping"));
  if (metrics_) metrics_->add("kpiwatch_http_requests_total", {{"route", "/api/v1/events"}, {"status", "200"}});
  events_->add(std::move(stream));
}

}  // namespace kpiwatch
