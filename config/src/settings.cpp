#include "kpiwatch/settings.hpp"

#include <date/tz.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kpiwatch/toml_reader.hpp"

namespace kpiwatch {
namespace fs = std::filesystem;

std::string_view to_string(ReceiverFormat format) {
  switch (format) {
    case ReceiverFormat::alertmanager:
      return "alertmanager";
    case ReceiverFormat::slack:
      return "slack";
    case ReceiverFormat::teams:
      return "teams";
    case ReceiverFormat::alertmanager_api:
      return "alertmanager_api";
  }
  return "alertmanager";
}

bool parse_receiver_format(std::string_view text, ReceiverFormat& out) {
  for (auto f :
       {ReceiverFormat::alertmanager, ReceiverFormat::slack, ReceiverFormat::teams, ReceiverFormat::alertmanager_api})
    if (to_string(f) == text) {
      out = f;
      return true;
    }
  return false;
}
namespace {
constexpr std::string_view kDays[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};

// The index of `name` in kDays; -1 if it is not a day.
int weekday_of(std::string_view name) {
  auto it = std::find(std::begin(kDays), std::end(kDays), name);
  return it == std::end(kDays) ? -1 : static_cast<int>(it - std::begin(kDays));
}

// "09:00" as minutes after midnight; -1 unless it is HH:MM of a day.
int minute_of(std::string_view text) {
  auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9' ? text[i] - '0' : -100; };
  if (text.size() != 5 || text[2] != ':') return -1;
  int h = digit(0) * 10 + digit(1), m = digit(3) * 10 + digit(4);
  return h >= 0 && h < 24 && m >= 0 && m < 60 ? h * 60 + m : -1;
}
}  // namespace

std::optional<DigestConfig> parse_digest_key(std::string_view key) {
  if (!key.starts_with("digest:")) return std::nullopt;
  key.remove_prefix(7);
  DigestConfig d;
  if (key.starts_with("weekly:")) {
    key.remove_prefix(7);
    auto colon = key.find(':');
    d.every = DigestConfig::Every::weekly;
    d.weekday = weekday_of(key.substr(0, colon));
    if (d.weekday < 0 || colon == std::string_view::npos) return std::nullopt;
    key.remove_prefix(colon + 1);
  } else if (key.starts_with("daily:")) {
    key.remove_prefix(6);
  } else {
    return std::nullopt;
  }
  if (key.size() < 7 || key[5] != ':') return std::nullopt;
  d.minute_of_day = minute_of(key.substr(0, 5));
  d.time_zone = std::string(key.substr(6));
  if (d.minute_of_day < 0) return std::nullopt;
  return d;
}

std::string DigestConfig::group_key() const {
  return fmt::format("digest:{}:{:02}:{:02}:{}",
                     every == Every::weekly ? std::string("weekly:") + std::string(kDays[weekday % 7]) : "daily",
                     minute_of_day / 60, minute_of_day % 60, time_zone);
}

bool is_address(std::string_view text) {
  auto at = text.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= text.size() || text.find('@', at + 1) != text.npos)
    return false;
  return std::none_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= ' ' || u >= 0x7f || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' || c == ';' || c == '"';
  });
}

bool is_time_zone(const std::string& name) {
  try {
    return date::locate_zone(name) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

namespace {

std::string resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty() || fs::path(path).is_absolute() || base_dir.empty()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

bool parse_hex32(std::string_view hex, std::array<unsigned char, 32>& out) {
  if (hex.size() != 64) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < 32; ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return true;
}

// "kpiwatch <kpiwatch@example.go.jp>" or "kpiwatch@example.go.jp".
bool parse_mailbox(std::string_view text, std::string& name, std::string& address) {
  auto open = text.rfind('<');
  if (open == std::string_view::npos) {
    name.clear();
    address = std::string(text);
  } else {
    if (!text.ends_with('>')) return false;
    address = std::string(text.substr(open + 1, text.size() - open - 2));
    auto display = text.substr(0, open);
    while (!display.empty() && display.back() == ' ') display.remove_suffix(1);
    if (display.size() >= 2 && display.front() == '"' && display.back() == '"')
      display = display.substr(1, display.size() - 2);
    name = std::string(display);
    if (name.find_first_of("\r\n\"") != std::string::npos) return false;
  }
  return is_address(address);
}

bool parse_listen(std::string_view text, std::string& host, std::uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  host = std::string(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto digits = text.substr(colon + 1);
  if (digits.empty() || digits.size() > 5) return false;
  unsigned value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

std::chrono::milliseconds positive_ms(TomlTable& t, std::string_view key, std::chrono::milliseconds fallback) {
  auto v = t.integer(key);
  if (!v) return fallback;
  if (*v <= 0) {
    t.error(*t.raw().get(key), fmt::format("\"{}\" must be a positive number of milliseconds", key));
    return fallback;
  }
  return std::chrono::milliseconds(*v);
}

std::size_t positive_size(TomlTable& t, std::string_view key, std::size_t fallback) {
  auto v = t.integer(key);
  if (!v) return fallback;
  if (*v <= 0) {
    t.error(*t.raw().get(key), fmt::format("\"{}\" must be positive", key));
    return fallback;
  }
  return static_cast<std::size_t>(*v);
}

// Reads each table of the config file into its part of the settings.
class SettingsReader {
 public:
  SettingsReader(Settings& s, const std::string& source, const std::string& base_dir, Diagnostics& diags)
      : s_(s), source_(source), base_dir_(base_dir), diags_(diags) {}

  void read(TomlTable& top) {
    section(top, "server", &SettingsReader::read_server);
    section(top, "storage", &SettingsReader::read_storage);
    section(top, "catalog", &SettingsReader::read_catalog);
    section(top, "dataset", &SettingsReader::read_dataset);
    section(top, "rules", &SettingsReader::read_rules);
    section(top, "report", &SettingsReader::read_report);
    section(top, "limits", &SettingsReader::read_limits);
    section(top, "log", &SettingsReader::read_log);
    section(top, "api", &SettingsReader::read_api);
    array(top, "tokens", &SettingsReader::read_token);
    section(top, "alerting", &SettingsReader::read_alerting);
    array(top, "receivers", &SettingsReader::read_receiver);
    array(top, "routes", &SettingsReader::read_route);
  }

 private:
  using Read = void (SettingsReader::*)(TomlTable&);

  // A [table]; keys its reader did not ask for are errors.
  void section(TomlTable& top, std::string_view key, Read read) {
    const auto* t = top.table(key);
    if (!t) return;
    TomlTable r(*t, std::string(key), source_, diags_);
    (this->*read)(r);
    r.reject_unknown_keys();
  }

  // An [[array]] of tables, each named key[i] in messages.
  void array(TomlTable& top, std::string_view key, Read read) {
    for (std::size_t i = 0; const auto* t : top.tables(key)) {
      TomlTable r(*t, fmt::format("{}[{}]", key, i++), source_, diags_);
      (this->*read)(r);
    }
  }

  void read_server(TomlTable& r) {
    if (auto listen = r.string("listen"); listen && !parse_listen(*listen, s_.listen_host, s_.listen_port))
      r.error(*r.raw().get("listen"),
              fmt::format("\"listen\" must be HOST:PORT, e.g. \"127.0.0.1:8080\", not \"{}\"", *listen));
    s_.max_connections = positive_size(r, "max_connections", s_.max_connections);
    s_.max_body_bytes = positive_size(r, "max_body_bytes", s_.max_body_bytes);
    s_.read_timeout = positive_ms(r, "read_timeout_ms", s_.read_timeout);
    s_.idle_timeout = positive_ms(r, "idle_timeout_ms", s_.idle_timeout);
    s_.shutdown_timeout = positive_ms(r, "shutdown_timeout_ms", s_.shutdown_timeout);
  }

  void read_storage(TomlTable& r) {
    if (auto dir = r.string("state_directory")) s_.state_directory = resolve(*dir, base_dir_);
    if (auto db = r.string("database")) s_.database = *db;
    if (auto sync = r.string("synchronous")) {
      if (*sync == "normal" || *sync == "full" || *sync == "extra")
        s_.synchronous = *sync;
      else
        r.error(*r.raw().get("synchronous"),
                fmt::format("\"synchronous\" must be \"normal\", \"full\" or \"extra\", not \"{}\"", *sync));
    }
    if (auto busy = r.integer("busy_timeout_ms")) {
      if (*busy < 0 || *busy > 600'000)
        r.error(*r.raw().get("busy_timeout_ms"), "\"busy_timeout_ms\" must be 0–600000");
      else
        s_.busy_timeout_ms = static_cast<int>(*busy);
    }
    s_.external_check_interval = positive_ms(r, "external_check_ms", s_.external_check_interval);
  }

  void read_catalog(TomlTable& r) {
    if (auto path = r.string("path")) s_.catalog_path = resolve(*path, base_dir_);
  }

  void read_dataset(TomlTable& r) {
    if (auto load = r.boolean("load_bundled")) s_.load_bundled_dataset = *load;
  }

  void read_rules(TomlTable& r) {
    for (const auto& path : r.strings("paths").value_or(std::vector<std::string>{}))
      s_.rule_paths.push_back(resolve(path, base_dir_));
    s_.evaluation_interval = positive_ms(r, "evaluation_interval_ms", s_.evaluation_interval);
  }

  void read_report(TomlTable& r) {
    if (auto path = r.string("templates")) s_.report_templates_path = resolve(*path, base_dir_);
  }

  void read_limits(TomlTable& r) {
    s_.limits.max_batch = positive_size(r, "max_batch", s_.limits.max_batch);
    s_.limits.max_items = positive_size(r, "max_items", s_.limits.max_items);
    s_.limits.max_text = positive_size(r, "max_text_bytes", s_.limits.max_text);
  }

  void read_log(TomlTable& r) {
    auto level = r.string("level");
    if (!level) return;
    static const std::vector<std::string> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
    if (std::find(levels.begin(), levels.end(), *level) == levels.end())
      r.error(*r.raw().get("level"),
              fmt::format("unknown log level \"{}\" (trace, debug, info, warn, error, critical, off)", *level));
    else
      s_.log_level = *level;
  }

  void read_api(TomlTable& r) {
    if (auto read = r.boolean("read_token")) s_.read_token = *read;
  }

  void read_token(TomlTable& r) {
    TokenConfig token;
    token.name = r.string("name", true).value_or("");
    if (auto hash = r.string("sha256", true); hash && !parse_hex32(*hash, token.sha256))
      r.error(*r.raw().get("sha256"), "\"sha256\" must be 64 hex digits (see `kpiwatch token create`)");
    token.bodies = r.strings("bodies").value_or(std::vector<std::string>{});
    token.kpis = r.strings("kpis").value_or(std::vector<std::string>{});
    token.admin = r.boolean("admin").value_or(false);
    token.scopes = r.strings("scopes").value_or(std::vector<std::string>{});
    for (const auto& scope : token.scopes)
      if (scope != "read")
        r.error(*r.raw().get("scopes"), fmt::format("unknown scope \"{}\" in \"scopes\" (known: \"read\")", scope));
    r.reject_unknown_keys();
    if (token.read_only() && token.scopes.empty())
      r.error("a token needs a scope: \"bodies\", \"kpis\", scopes = [\"read\"] or admin = true");
    for (const auto& other : s_.tokens)
      if (other.name == token.name) r.error(fmt::format("duplicate token name \"{}\"", token.name));
    s_.tokens.push_back(std::move(token));
  }

  void read_alerting(TomlTable& r) {
    auto& a = s_.alerting;
    if (auto url = r.string("external_url")) a.external_url = *url;
    if (auto d = r.string("default_receiver")) a.default_receiver = *d;
    a.retry_initial = positive_ms(r, "retry_initial_ms", a.retry_initial);
    a.retry_max = positive_ms(r, "retry_max_ms", a.retry_max);
    a.max_age = positive_ms(r, "max_age_ms", a.max_age);
    read_grouping(r, a.grouping);
  }

  static void read_grouping(TomlTable& r, Grouping& g) {
    if (auto by = r.strings("group_by")) {
      for (const auto& name : *by)
        if (!is_identifier(name))
          r.error(*r.raw().get("group_by"),
                  fmt::format("\"group_by\" lists label names (e.g. [\"goal\"]), not \"{}\"", name));
      g.group_by = std::move(*by);
    }
    g.group_wait = positive_ms(r, "group_wait_ms", g.group_wait);
    g.group_interval = positive_ms(r, "group_interval_ms", g.group_interval);
  }

  void read_receiver(TomlTable& r) {
    ReceiverConfig rc;
    rc.name = r.string("name", true).value_or("");
    if (auto type = r.string("type")) {
      if (*type == "email")
        rc.type = ReceiverType::email;
      else if (*type != "webhook")
        r.error(*r.raw().get("type"), fmt::format("\"type\" must be webhook or email, not \"{}\"", *type));
    }
    // An SMTP session is several round trips, and a relay may scan a message before it answers.
    rc.timeout = positive_ms(r, "timeout_ms", rc.type == ReceiverType::email ? std::chrono::seconds(30) : rc.timeout);
    rc.ca_file = resolve(r.string("ca_file").value_or(""), base_dir_);
    if (auto repeat = r.integer("repeat_interval_ms")) {
      if (*repeat < 0)
        r.error(*r.raw().get("repeat_interval_ms"), "\"repeat_interval_ms\" must be 0 (never) or positive");
      else
        rc.repeat_interval = std::chrono::milliseconds(*repeat);
    }
    if (rc.type == ReceiverType::email)
      read_email(r, rc.email);
    else
      read_webhook(r, rc);
    r.reject_unknown_keys();
    if (s_.receiver(rc.name)) r.error(fmt::format("duplicate receiver name \"{}\"", rc.name));
    s_.receivers.push_back(std::move(rc));
  }

  static void read_webhook(TomlTable& r, ReceiverConfig& rc) {
    rc.url = r.string("url", true).value_or("");
    if (!rc.url.empty() && !rc.url.starts_with("http://") && !rc.url.starts_with("https://"))
      r.error(*r.raw().get("url"), fmt::format("\"url\" must start with http:// or https://, not \"{}\"", rc.url));
    if (auto format = r.string("format")) {
      if (!parse_receiver_format(*format, rc.format))
        r.error(*r.raw().get("format"),
                fmt::format("\"format\" must be alertmanager, slack, teams or alertmanager_api, not \"{}\"", *format));
    }
    rc.secret = r.string("secret").value_or("");
    rc.headers = string_pairs(r, "headers", "header \"{}\" must be a string");
    rc.resend_interval = positive_ms(r, "resend_interval_ms", rc.resend_interval);
  }

  void read_email(TomlTable& r, EmailConfig& e) {
    e.smtp_url = r.string("smtp_url", true).value_or("");
    bool smtps = e.smtp_url.starts_with("smtps://");
    if (!e.smtp_url.empty() && !smtps && !e.smtp_url.starts_with("smtp://"))
      r.error(*r.raw().get("smtp_url"),
              fmt::format("\"smtp_url\" must start with smtp:// (STARTTLS) or smtps:// (TLS), not \"{}\"", e.smtp_url));
    read_tls(r, e, smtps);
    if (auto from = r.string("from", true); from && !parse_mailbox(*from, e.from_name, e.from_address))
      r.error(*r.raw().get("from"),
              fmt::format("\"from\" must be an address, or a name and <address>, not \"{}\"", *from));
    e.to = r.strings("to", true).value_or(std::vector<std::string>{});
    if (e.to.empty() && r.raw().get("to")) r.error(*r.raw().get("to"), "\"to\" lists at least one address");
    e.cc = r.strings("cc").value_or(std::vector<std::string>{});
    for (const char* key : {"to", "cc"})
      for (const auto& address : key == std::string_view("to") ? e.to : e.cc)
        if (!is_address(address))
          r.error(*r.raw().get(key), fmt::format("\"{}\" lists \"{}\", which is not an email address", key, address));
    read_login(r, e);
    if (auto lang = r.string("language"); lang && !parse_lang(*lang, e.language))
      r.error(*r.raw().get("language"), fmt::format("\"language\" must be ja or en, not \"{}\"", *lang));
    read_time_zone(r, e.time_zone);
    e.digest = read_digest(r, e.time_zone);
  }

  static void read_tls(TomlTable& r, EmailConfig& e, bool smtps) {
    e.tls = smtps ? SmtpTls::implicit : SmtpTls::starttls;
    if (auto tls = r.string("tls")) {
      bool known = *tls == "starttls" || *tls == "tls" || *tls == "none";
      if (!known)
        r.error(*r.raw().get("tls"), fmt::format("\"tls\" must be starttls, tls or none, not \"{}\"", *tls));
      else if (smtps != (*tls == "tls"))
        r.error(*r.raw().get("tls"), smtps ? fmt::format("an smtps:// URL always uses TLS, not \"{}\"", *tls)
                                           : std::string("\"tls\" = \"tls\" needs an smtps:// URL"));
      else if (*tls == "none")
        e.tls = SmtpTls::none;
    }
  }

  // AUTH: a user name, and where its password is read (never the password itself).
  void read_login(TomlTable& r, EmailConfig& e) {
    if (r.raw().get("password"))
      r.error(*r.raw().get("password"),
              "a password is not written in the config: name a file (\"password_file\") or an environment "
              "variable (\"password_env\")");
    r.known("password");
    e.username = r.string("username").value_or("");
    e.password_file = resolve(r.string("password_file").value_or(""), base_dir_);
    e.password_env = r.string("password_env").value_or("");
    if (!e.password_file.empty() && !e.password_env.empty())
      r.error(*r.raw().get("password_env"), "name either \"password_file\" or \"password_env\", not both");
    if (!e.username.empty() && e.password_file.empty() && e.password_env.empty())
      r.error(*r.raw().get("username"), "\"username\" needs \"password_file\" or \"password_env\"");
    if ((!e.password_file.empty() || !e.password_env.empty()) && e.username.empty())
      r.error(*r.raw().get(e.password_file.empty() ? "password_env" : "password_file"),
              "a password needs \"username\"");
    if (!e.username.empty() && e.tls == SmtpTls::none)
      r.error(*r.raw().get("username"), "a password is sent only over TLS: \"tls\" = \"none\" cannot log in");
  }

  // The `digest` inline table of a receiver or route.
  std::optional<DigestConfig> read_digest(TomlTable& parent, const std::string& time_zone) {
    const auto* t = parent.table("digest");
    if (!t) return std::nullopt;
    TomlTable r(*t, parent.where() + ".digest", source_, diags_);
    DigestConfig d;
    d.time_zone = time_zone;
    if (auto every = r.string("every", true)) {
      if (*every == "weekly")
        d.every = DigestConfig::Every::weekly;
      else if (*every != "daily")
        r.error(*r.raw().get("every"), fmt::format("\"every\" must be daily or weekly, not \"{}\"", *every));
    }
    if (auto day = r.string("weekday")) {
      if (int n = weekday_of(*day); n < 0)
        r.error(*r.raw().get("weekday"), fmt::format("\"weekday\" must be a day such as monday, not \"{}\"", *day));
      else
        d.weekday = n;
      if (d.every != DigestConfig::Every::weekly)
        r.error(*r.raw().get("weekday"), "\"weekday\" is for every = \"weekly\"");
    }
    if (auto at = r.string("at")) {
      if (int minute = minute_of(*at); minute >= 0)
        d.minute_of_day = minute;
      else
        r.error(*r.raw().get("at"), fmt::format("\"at\" is a local time such as \"09:00\", not \"{}\"", *at));
    }
    read_time_zone(r, d.time_zone);
    r.reject_unknown_keys();
    return d;
  }

  static void read_time_zone(TomlTable& r, std::string& out) {
    auto zone = r.string("time_zone");
    if (!zone) return;
    if (is_time_zone(*zone))
      out = *zone;
    else
      r.error(*r.raw().get("time_zone"), fmt::format("unknown time zone \"{}\" (e.g. \"Asia/Tokyo\")", *zone));
  }

  void read_route(TomlTable& r) {
    RouteConfig route;
    for (auto& [k, v] : string_pairs(r, "match", "matcher \"{}\" must be a string (e.g. goal = \"6\")"))
      route.match[k] = v;
    route.receivers = r.strings("receivers", true).value_or(std::vector<std::string>{});
    route.continue_matching = r.boolean("continue").value_or(false);
    route.grouping = s_.alerting.grouping;
    read_grouping(r, route.grouping);
    if (auto lang = r.string("language")) {
      Lang l = Lang::ja;
      if (parse_lang(*lang, l))
        route.language = l;
      else
        r.error(*r.raw().get("language"), fmt::format("\"language\" must be ja or en, not \"{}\"", *lang));
    }
    // A digest's time zone defaults to its first email receiver's, as a receiver's own digest does.
    const ReceiverConfig* email = nullptr;
    for (const auto& name : route.receivers)
      if (const auto* rc = s_.receiver(name); rc && rc->type == ReceiverType::email && !email) email = rc;
    route.digest = read_digest(r, email ? email->email.time_zone : std::string("Asia/Tokyo"));
    r.reject_unknown_keys();
    for (const auto& name : route.receivers)
      if (!s_.receiver(name)) r.error(*r.raw().get("receivers"), fmt::format("unknown receiver \"{}\"", name));
    for (const char* key : {"language", "digest"})
      if (r.raw().get(key) && !email && !route.receivers.empty())
        r.error(*r.raw().get(key), fmt::format("\"{}\" is for email receivers, and this route has none", key));
    s_.routes.push_back(std::move(route));
  }

  // The string entries of the inline table `key`; others are reported with `message` (naming the key).
  static std::vector<std::pair<std::string, std::string>> string_pairs(TomlTable& r, std::string_view key,
                                                                       fmt::format_string<std::string_view> message) {
    std::vector<std::pair<std::string, std::string>> out;
    const auto* table = r.table(key);
    if (!table) return out;
    for (const auto& [k, v] : *table) {
      if (auto value = v.value<std::string>(); value && v.is_string())
        out.emplace_back(std::string(k.str()), *value);
      else
        r.error(v, fmt::format(message, k.str()));
    }
    return out;
  }

  Settings& s_;
  const std::string& source_;
  const std::string& base_dir_;
  Diagnostics& diags_;
};

}  // namespace

std::string Settings::database_path() const {
  if (fs::path(database).is_absolute()) return database;
  return (fs::path(state_directory) / database).string();
}

Settings default_settings() {
  Settings s;
  const char* state = std::getenv("STATE_DIRECTORY");  // systemd may list several, colon-separated
  if (state && *state) {
    std::string first(state);
    s.state_directory = first.substr(0, first.find(':'));
  } else {
    s.state_directory = "kpiwatch-state";
  }
  return s;
}

Loaded<Settings> parse_settings(std::string_view text, const std::string& source, const std::string& base_dir) {
  Diagnostics diags;
  auto root = parse_toml(text, source, diags);
  if (!root) return diags;

  Settings s = default_settings();
  s.source = source;
  TomlTable top(*root, "", source, diags);
  SettingsReader(s, source, base_dir, diags).read(top);
  if (!s.alerting.default_receiver.empty() && !s.receiver(s.alerting.default_receiver))
    top.error(*root->get("alerting"),
              fmt::format("alerting: unknown default_receiver \"{}\"", s.alerting.default_receiver));
  top.reject_unknown_keys();

  if (!diags.empty()) return diags;
  return s;
}

const ReceiverConfig* Settings::receiver(std::string_view name) const {
  for (const auto& r : receivers)
    if (r.name == name) return &r;
  return nullptr;
}

Loaded<Settings> load_settings(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Diagnostics{{path, 0, 0, "cannot open config file"}};
  std::stringstream text;
  text << in.rdbuf();
  auto base = fs::absolute(path).parent_path().string();
  return parse_settings(text.str(), path, base);
}

}  // namespace kpiwatch
