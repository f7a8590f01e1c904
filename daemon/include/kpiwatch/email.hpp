#pragma once
// Email notifications (docs/NOTIFICATIONS.md, "Email"): what an alert's email
// says, composed for people in the route's language; the schedule of digests;
// and the mailer that hands messages to an SMTP relay through libcurl.
//
// An alert's email is kept in the outbox as an item (JSON with its texts, its
// figures and its criterion, written when the notification is queued); the
// message itself is composed from its items when it is sent, so that one
// email, a group's email and a digest read the same way, and every attempt
// says the same thing under the same Message-ID.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/alert.hpp"
#include "kpiwatch/clock.hpp"
#include "kpiwatch/settings.hpp"
#include "kpiwatch/webhook_client.hpp"

namespace kpiwatch {

class RuleSet;
class SeriesIndex;

// The outbox item of `alert` for an email in `lang`: `event` is firing, resolved or repeat.
std::string email_item(const AlertRecord& alert, std::string_view event, Lang lang, const RuleSet* rules,
                       const SeriesIndex& index, const std::string& external_url);

// Whether an outbox body is an email_item (its first key is "lang"): a receiver renamed or
// changed type by a reload may find the other kind's notifications waiting.
bool is_email_item(std::string_view body);

// What an email is made of; the mailer adds the MIME structure.
struct MailMessage {
  std::string envelope_from;
  std::vector<std::string> recipients;  // To, then Cc
  std::vector<std::string> headers;     // "From: ...", "To: ...", "Subject: ...", "Date: ...", "Message-ID: ..."
  std::string text, html;
  std::string subject;  // unencoded, for the log
};

enum class EmailKind { alone, group, digest };

// The email of `items` (email_item texts) for `receiver`: one alert, a group's alerts, or a digest
// (of `digest`'s schedule). `key` is the idempotency key (Message-ID <key@from-domain>), `date`
// the Date header: when the notification was queued or the digest claimed, the same for every attempt.
MailMessage compose_email(const ReceiverConfig& receiver, EmailKind kind, const std::vector<std::string>& items,
                          const std::string& key, TimePoint date, const std::string& external_url,
                          const DigestConfig* digest = nullptr);

// A header value as RFC 2047 encoded words (UTF-8, base64) where it is not plain ASCII, folded
// so that no line is longer than 78 characters, "Subject: " or "From: " included.
std::string encode_header(std::string_view text);

// The first digest time strictly after `now`.
TimePoint next_digest(const DigestConfig& digest, TimePoint now);

// How emails leave the process: delivery's seam for tests. `done` is called on the
// io_context's thread; `result.status` is the SMTP reply code (250 when accepted).
class Mailer {
 public:
  virtual ~Mailer() = default;
  virtual void send(const ReceiverConfig& receiver, MailMessage message, std::function<void(PostResult)> done) = 0;
};

// SMTP through libcurl: certificate and host name verified, STARTTLS required on smtp://.
// Each send runs on a thread of its own pool, never on the event loop.
class SmtpMailer final : public Mailer {
 public:
  explicit SmtpMailer(boost::asio::io_context& io);
  ~SmtpMailer() override;
  SmtpMailer(const SmtpMailer&) = delete;
  SmtpMailer& operator=(const SmtpMailer&) = delete;

  // Each send holds the io_context's work until its answer is posted: io_context::run()
  // returns only once the sends in progress have finished (each bounded by its timeout).
  void send(const ReceiverConfig& receiver, MailMessage message, std::function<void(PostResult)> done) override;
  // Sends not started yet are dropped (they stay pending in the outbox); those in progress finish.
  void stop();
  // Waits for the pool's threads.
  void join();

 private:
  boost::asio::io_context& io_;
  std::atomic<bool> stopping_ = false;
  boost::asio::thread_pool pool_;
};

// The receiver's SMTP password, read now: the first line of its file, or its environment variable
// (as the process started with it); empty if it logs in without.
Result<std::string> smtp_password(const EmailConfig& email);

}  // namespace kpiwatch
