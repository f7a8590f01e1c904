// The live event hub on a real io_context, with streams that record what they are sent.
#include "http/events.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <thread>
#include <vector>

namespace kpiwatch {
namespace {
using namespace std::chrono_literals;

class RecordingStream : public ResponseStream {
 public:
  void send(std::string chunk) override { sent.push_back(std::move(chunk)); }
  void finish() override { end(); }
  void on_end(std::function<void()> ended) override { ended_ = std::move(ended); }
  bool ended() const override { return done; }
  void end() {
    if (done) return;
    done = true;
    if (ended_) ended_();
  }

  std::vector<std::string> sent;
  bool done = false;

 private:
  std::function<void()> ended_;
};

TEST(EventHub, FormatsAnEventWithEachDataLineAsAField) {
  EXPECT_EQ(sse_event(7, "alert", R"({"a":1})"), "id: 7\nevent: alert\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(sse_event(8, "x", "one\ntwo"), "id: 8\nevent: x\ndata: one\ndata: two\n\n");
}

TEST(EventHub, SendsRetryFirstThenEveryEventWithIncreasingIdsFromAnyThread) {
  boost::asio::io_context io;
  EventHub hub(io);
  auto stream = std::make_shared<RecordingStream>();
  hub.add(stream);
  std::thread writer([&] { hub.publish("submission", R"({"kpi":"k"})"); });
  writer.join();
  hub.publish("ack", R"({"fingerprint":"f"})");
  io.poll();
  ASSERT_EQ(stream->sent.size(), 3u);
  EXPECT_EQ(stream->sent[0], "retry: 2000\n\n");
  EXPECT_EQ(stream->sent[1], "id: 1\nevent: submission\ndata: {\"kpi\":\"k\"}\n\n");
  EXPECT_EQ(stream->sent[2], "id: 2\nevent: ack\ndata: {\"fingerprint\":\"f\"}\n\n");
}

TEST(EventHub, IsFullAtItsCapAndAnEndedStreamFreesItsPlace) {
  boost::asio::io_context io;
  EventHub hub(io, {.max_streams = 2, .keepalive = 15s});
  auto first = std::make_shared<RecordingStream>();
  hub.add(first);
  hub.add(std::make_shared<RecordingStream>());
  EXPECT_TRUE(hub.full());
  first->end();
  EXPECT_FALSE(hub.full());
  EXPECT_EQ(hub.streams(), 1u);
}

TEST(EventHub, SendsKeepaliveCommentsWhileStreamsAreOpenAndHoldsNoWorkWithout) {
  boost::asio::io_context io;
  EventHub hub(io, {.max_streams = 64, .keepalive = 10ms});
  auto stream = std::make_shared<RecordingStream>();
  hub.add(stream);
  // Runs until the second keepalive, bounded.
  for (auto until = std::chrono::steady_clock::now() + 5s;
       std::count(stream->sent.begin(), stream->sent.end(), ": keepalive\n\n") < 2 &&
       std::chrono::steady_clock::now() < until;)
    io.run_one_for(100ms);
  EXPECT_GE(std::count(stream->sent.begin(), stream->sent.end(), ": keepalive\n\n"), 2);
  stream->end();
  // With no stream left the timer lapses, so the loop runs out of work and returns.
  io.restart();
  io.run_for(5s);
  EXPECT_TRUE(io.stopped());
}

TEST(EventHub, StopEndsEveryStreamAndRefusesMore) {
  boost::asio::io_context io;
  EventHub hub(io);
  auto stream = std::make_shared<RecordingStream>();
  hub.add(stream);
  hub.stop();
  EXPECT_TRUE(stream->done);
  EXPECT_TRUE(hub.full());
  hub.publish("ack", "{}");
  io.poll();
  EXPECT_EQ(stream->sent.size(), 1u);  // only the retry
}

}  // namespace
}  // namespace kpiwatch
