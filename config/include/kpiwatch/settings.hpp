#pragma once
// The daemon's configuration: one TOML file, or the embedded default.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kpiwatch/labels.hpp"
#include "kpiwatch/result.hpp"
#include "kpiwatch/submission.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {

// A bearer token, kept only as the SHA-256 of its text.
struct TokenConfig {
  std::string name;
  std::array<unsigned char, 32> sha256{};
  std::vector<std::string> bodies;  // reporting bodies whose KPIs it may submit
  std::vector<std::string> kpis;    // single KPIs it may submit
  bool admin = false;               // may submit anything and administer
  std::vector<std::string> scopes;  // "read": may read the API when [api] read_token is set
  // A token that may read but neither submit nor administer.
  bool read_only() const { return !admin && bodies.empty() && kpis.empty(); }
};

// What a receiver's requests look like (docs/NOTIFICATIONS.md).
enum class ReceiverFormat { alertmanager, slack, teams, alertmanager_api };
std::string_view to_string(ReceiverFormat format);
// The names of to_string; false (out untouched) for anything else.
bool parse_receiver_format(std::string_view text, ReceiverFormat& out);

// Where a receiver's notifications go: an HTTP endpoint, or a mailbox through SMTP.
enum class ReceiverType { webhook, email };

// A scheduled digest (docs/NOTIFICATIONS.md): what fired, resolved and became
// overdue since the last one, sent at a local time instead of one email per alert.
struct DigestConfig {
  enum class Every { daily, weekly } every = Every::daily;
  int weekday = 1;             // weekly: 0 Sunday, 1 Monday, ... 6 Saturday
  int minute_of_day = 9 * 60;  // local time
  std::string time_zone = "Asia/Tokyo";
  // The outbox group of the digest's notifications, e.g. "digest:weekly:monday:09:00:Asia/Tokyo".
  std::string group_key() const;
};
// The digest of a group_key(); none for any other text.
std::optional<DigestConfig> parse_digest_key(std::string_view key);

// How an SMTP connection is protected: STARTTLS required (smtp://), TLS from the
// first byte (smtps://), or none (a relay on the same host).
enum class SmtpTls { starttls, implicit, none };

struct EmailConfig {
  std::string smtp_url;  // smtp://host[:port] or smtps://host[:port]
  SmtpTls tls = SmtpTls::starttls;
  std::string from_name, from_address;  // From: from_name <from_address>
  std::vector<std::string> to, cc;
  std::string username;
  // Where the password is read when sending: never written in the config.
  std::string password_file, password_env;
  Lang language = Lang::ja;
  std::string time_zone = "Asia/Tokyo";  // of the times written in the messages
  std::optional<DigestConfig> digest;
};

// A receiver (docs/NOTIFICATIONS.md): a webhook, or an email address list.
struct ReceiverConfig {
  std::string name;
  ReceiverType type = ReceiverType::webhook;
  EmailConfig email;  // type email
  std::string url;
  ReceiverFormat format = ReceiverFormat::alertmanager;
  std::string secret;
  std::chrono::milliseconds timeout{5'000};
  std::vector<std::pair<std::string, std::string>> headers;
  std::string ca_file;
  std::chrono::milliseconds repeat_interval{0};       // 0: no repeats
  std::chrono::milliseconds resend_interval{60'000};  // alertmanager_api only
};

// How a route's notifications are grouped (docs/NOTIFICATIONS.md), as Alertmanager does.
struct Grouping {
  std::vector<std::string> group_by;                  // label names; empty: every alert is sent alone
  std::chrono::milliseconds group_wait{30'000};       // a new group waits this long for more alerts
  std::chrono::milliseconds group_interval{300'000};  // and then sends at most once per this
  bool grouped() const { return !group_by.empty(); }
};

struct RouteConfig {
  Matchers match;
  std::vector<std::string> receivers;
  bool continue_matching = false;
  Grouping grouping;  // unset keys: those of [alerting]
  // Of its email receivers: the language of the messages, and a digest instead of one email per alert.
  std::optional<Lang> language;
  std::optional<DigestConfig> digest;
};

struct AlertingConfig {
  std::string external_url;  // empty: http://<listen address>
  std::string default_receiver;
  Grouping grouping;  // of the default receiver and of the receivers rules name
  std::chrono::milliseconds retry_initial{1'000};
  std::chrono::milliseconds retry_max{300'000};
  std::chrono::milliseconds max_age{86'400'000};
};

struct Settings {
  std::string source = "<embedded default>";  // the file these came from

  // [server]
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::size_t max_connections = 512;
  std::size_t max_body_bytes = std::size_t{8} * 1024 * 1024;
  std::chrono::milliseconds read_timeout{10'000};  // a whole request must arrive within it
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive connections idle longer are closed
  std::chrono::milliseconds shutdown_timeout{10'000};

  // [storage]
  std::string state_directory;           // resolved: config, $STATE_DIRECTORY, or ./kpiwatch-state
  std::string database = "kpiwatch.db";  // relative to state_directory
  std::string synchronous = "full";      // SQLite PRAGMA synchronous: normal | full | extra
  int busy_timeout_ms = 5000;
  // How often the daemon looks for revisions that another process (kpiwatch import) committed.
  std::chrono::milliseconds external_check_interval{1'000};

  // [catalog] / [dataset]
  std::string catalog_path;  // empty: the embedded catalog
  bool load_bundled_dataset = true;

  // [report]
  std::string report_templates_path;  // headline templates; empty: the shipped ones (config/report/headlines.toml)

  // [rules]
  std::vector<std::string> rule_paths;                    // files or directories; empty: the shipped rules
  std::chrono::milliseconds evaluation_interval{60'000};  // how often missing-data rules run

  // [limits]
  ValidationLimits limits;

  // [log]
  std::string log_level = "info";

  // [api]
  bool read_token = false;  // every API read (and the event stream) needs a token

  // [[tokens]]
  std::vector<TokenConfig> tokens;

  // [alerting], [[receivers]], [[routes]]
  AlertingConfig alerting;
  std::vector<ReceiverConfig> receivers;
  std::vector<RouteConfig> routes;
  const ReceiverConfig* receiver(std::string_view name) const;

  std::string database_path() const;
};

// An address as SMTP takes it: local@domain, without spaces, brackets or quotes.
bool is_address(std::string_view text);
// Whether the system's time zone database knows `name` ("Asia/Tokyo").
bool is_time_zone(const std::string& name);

// The embedded default: no file needed. The state directory is
// $STATE_DIRECTORY (as systemd sets it) or ./kpiwatch-state.
Settings default_settings();

// Parses a config file's text; unknown keys and wrong types are errors.
// Relative paths are resolved against `base_dir`.
Loaded<Settings> parse_settings(std::string_view toml, const std::string& source, const std::string& base_dir);
Loaded<Settings> load_settings(const std::string& path);

}  // namespace kpiwatch
