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

// What an email is made of; the mailer adds the MIME structure.
struct MailMessage {
  std::string envelope_from;
  std::vector<std::string> recipients;  // To, then Cc
  std::vector<std::string> headers;     // "From: ...", "To: ...", "Subject: ...", "Date: ...", "Message-ID: ..."
  std::string text, html;
  std::string subject;  // unencoded, for the log
};

enum class EmailKind { alone, group, digest };

// The email of `items` (email_item texts) for `receiver`: one alert, a group's alerts, or a digest.
// `key` is the idempotency key (Message-ID <key@from-domain>), `date` the Date header.
MailMessage compose_email(const ReceiverConfig& receiver, EmailKind kind, const std::vector<std::string>& items,
                          const std::string& key, TimePoint date, const std::string& external_url);

// A header value as RFC 2047 encoded words (UTF-8, base64) where it is not plain ASCII, folded
// so that no line is longer than 78 characters. `used` is the length of the line before it ("Subject: ").
std::string encode_header(std::string_view text, std::size_t used);

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

  void send(const ReceiverConfig& receiver, MailMessage message, std::function<void(PostResult)> done) override;
  // Waits for the sends in progress (each bounded by its receiver's timeout).
  void join();

 private:
  boost::asio::io_context& io_;
  boost::asio::thread_pool pool_;
};

// The receiver's SMTP password, read now from its file or environment variable; empty if it logs in without.
Result<std::string> smtp_password(const EmailConfig& email);

}  // namespace kpiwatch
