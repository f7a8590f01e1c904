#pragma once
// The delivery worker: sends queued notifications from the outbox, retries with
// exponential backoff and jitter, and moves notifications older than max_age to
// dead letters. Runs on the io_context; it is woken when notifications are
// queued, and never blocks ingest or evaluation (outbox updates go through the
// writer thread).

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "kpiwatch/clock.hpp"
#include "kpiwatch/email.hpp"
#include "kpiwatch/ingest.hpp"
#include "kpiwatch/metrics.hpp"
#include "kpiwatch/notifications.hpp"
#include "kpiwatch/store.hpp"
#include "kpiwatch/webhook_client.hpp"

namespace kpiwatch {

// The wait before the next attempt after `attempts` failed ones (1 or more): `initial`
// doubled per failure, capped at `max`, with jitter: `draw` in [0, 1] picks a point
// in [delay/2, delay], so that receivers coming back are not hit all at once.
std::chrono::milliseconds retry_delay(int attempts, std::chrono::milliseconds initial, std::chrono::milliseconds max,
                                      double draw);

class Delivery {
 public:
  // A uniform random number in [0, 1], for the jitter of retry_delay.
  using Draw = std::function<double()>;
  static Draw random_draw();

  // The outbox is read and written on `writer`'s thread, never on the io_context's.
  // Times (due, dead-letter age, backoff, digests) come from `clock`.
  // Requests leave through `transport`, emails through `mailer`.
  Delivery(boost::asio::io_context& io, Ingest& writer, const Clock& clock, Metrics& metrics,
           std::shared_ptr<const NotifyConfig> config, Transport& transport, Mailer& mailer, Draw draw = random_draw());

  void start();
  // Looks for due notifications now. Call on the io_context thread.
  void wake();
  void stop();
  void swap(std::shared_ptr<const NotifyConfig> config) { config_ = std::move(config); }
  // Re-sends every firing alert to the receivers of format alertmanager_api now; start()
  // repeats it every resend_interval, since Alertmanager resolves alerts it stops hearing of.
  void resend_to_alertmanagers();
  // When the oldest notification waiting was queued, as of the last count (seconds
  // since the epoch; 0 if none waits). Any thread.
  double oldest_waiting() const { return oldest_waiting_; }

 private:
  void poll();
  void send(const OutboxEntry& entry);
  // The receiver's headers, a timestamp and the body's signature.
  std::vector<std::pair<std::string, std::string>> signed_headers(const ReceiverConfig& receiver,
                                                                  const std::string& body) const;
  void finished(const OutboxEntry& entry, const PostResult& result);

  enum class Fate { delivered, retry, dead };
  // What was attempted: a notification, or a group's message.
  struct Attempt {
    std::string receiver, fingerprint, group_key, what;
    int attempts = 0;  // before this one
    std::string created_at;
  };
  struct Outcome {
    Fate fate = Fate::delivered;
    int attempts = 0;  // with this one
    std::string at, next_at, error;
  };
  // Counts, logs, and decides delivered, retry (when) or dead.
  Outcome judge(const Attempt& attempt, const PostResult& result);

  // A group's message in flight.
  struct GroupSend {
    std::string flight;  // receiver + group key
    std::string message_key;
    std::string receiver, group_key;
    int attempts = 0;
    std::string created_at;  // of its oldest notification, or when a digest was first sent
    std::size_t alerts = 0;
  };
  void take_group(const DueGroup& group);
  // `aged_from`: when the message starts to age, if not from its oldest notification (a digest).
  void send_group(const std::string& flight, const std::string& message_key,
                  const Result<std::vector<OutboxEntry>>& entries, const std::string& aged_from);
  void finished_group(const GroupSend& group, const PostResult& result);
  void release_group(const std::string& flight);
  void arm(std::chrono::milliseconds delay);
  void arm_resend();
  // Sets the outbox gauges of /metrics, which reads them without a query. On the writer thread.
  void count_outbox(Store& store);
  // What a poll read on the writer thread.
  struct Due {
    Result<std::vector<OutboxEntry>> entries = std::vector<OutboxEntry>{};
    Result<std::vector<DueGroup>> groups = std::vector<DueGroup>{};
    Result<std::optional<std::string>> next = std::optional<std::string>{};
  };
  // Sends what is due, on the io_context thread.
  void take(TimePoint now, const Due& found);
  // Re-sends `alerts` (the firing ones) to the alertmanager_api receivers.
  void resend(const std::vector<AlertRecord>& alerts);

  boost::asio::io_context& io_;
  Ingest& writer_;
  const Clock& clock_;
  Metrics& metrics_;
  std::shared_ptr<const NotifyConfig> config_;
  Transport& transport_;
  Mailer& mailer_;
  Draw draw_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer resend_timer_;
  std::set<std::int64_t> in_flight_;
  std::set<std::string> groups_in_flight_;  // receiver + group key
  bool stopped_ = false;
  bool polling_ = false;
  bool reading_ = false;     // a poll's read is on the writer thread
  bool poll_again_ = false;  // woken meanwhile
  std::atomic<double> oldest_waiting_ = 0;
  // The last count of the outbox, on the writer thread.
  std::int64_t counted_depth_ = 0;
  std::chrono::steady_clock::time_point counted_at_;
};

}  // namespace kpiwatch
