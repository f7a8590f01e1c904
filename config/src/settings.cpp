#include "kpiwatch/settings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kpiwatch/toml_reader.hpp"

namespace kpiwatch {
namespace fs = std::filesystem;
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

  if (const auto* t = top.table("server")) {
    TomlTable r(*t, "server", source, diags);
    if (auto listen = r.string("listen"); listen && !parse_listen(*listen, s.listen_host, s.listen_port))
      r.error(*t->get("listen"),
              fmt::format("\"listen\" must be HOST:PORT, e.g. \"127.0.0.1:8080\", not \"{}\"", *listen));
    s.max_connections = positive_size(r, "max_connections", s.max_connections);
    s.max_body_bytes = positive_size(r, "max_body_bytes", s.max_body_bytes);
    s.read_timeout = positive_ms(r, "read_timeout_ms", s.read_timeout);
    s.idle_timeout = positive_ms(r, "idle_timeout_ms", s.idle_timeout);
    s.shutdown_timeout = positive_ms(r, "shutdown_timeout_ms", s.shutdown_timeout);
    r.reject_unknown_keys();
  }
  if (const auto* t = top.table("storage")) {
    TomlTable r(*t, "storage", source, diags);
    if (auto dir = r.string("state_directory")) s.state_directory = resolve(*dir, base_dir);
    if (auto db = r.string("database")) s.database = *db;
    if (auto sync = r.string("synchronous")) {
      if (*sync == "normal" || *sync == "full" || *sync == "extra")
        s.synchronous = *sync;
      else
        r.error(*t->get("synchronous"),
                fmt::format("\"synchronous\" must be \"normal\", \"full\" or \"extra\", not \"{}\"", *sync));
    }
    if (auto busy = r.integer("busy_timeout_ms")) {
      if (*busy < 0 || *busy > 600'000)
        r.error(*t->get("busy_timeout_ms"), "\"busy_timeout_ms\" must be 0–600000");
      else
        s.busy_timeout_ms = static_cast<int>(*busy);
    }
    s.external_check_interval = positive_ms(r, "external_check_ms", s.external_check_interval);
    r.reject_unknown_keys();
  }
  if (const auto* t = top.table("catalog")) {
    TomlTable r(*t, "catalog", source, diags);
    if (auto path = r.string("path")) s.catalog_path = resolve(*path, base_dir);
    r.reject_unknown_keys();
  }
  if (const auto* t = top.table("dataset")) {
    TomlTable r(*t, "dataset", source, diags);
    if (auto load = r.boolean("load_bundled")) s.load_bundled_dataset = *load;
    r.reject_unknown_keys();
  }
  if (const auto* t = top.table("rules")) {
    TomlTable r(*t, "rules", source, diags);
    for (const auto& path : r.strings("paths").value_or(std::vector<std::string>{}))
      s.rule_paths.push_back(resolve(path, base_dir));
    s.evaluation_interval = positive_ms(r, "evaluation_interval_ms", s.evaluation_interval);
    r.reject_unknown_keys();
  }
  if (const auto* t = top.table("limits")) {
    TomlTable r(*t, "limits", source, diags);
    s.limits.max_batch = positive_size(r, "max_batch", s.limits.max_batch);
    s.limits.max_items = positive_size(r, "max_items", s.limits.max_items);
    s.limits.max_text = positive_size(r, "max_text_bytes", s.limits.max_text);
    r.reject_unknown_keys();
  }
  if (const auto* t = top.table("log")) {
    TomlTable r(*t, "log", source, diags);
    if (auto level = r.string("level")) {
      static const std::vector<std::string> levels = {"trace", "debug", "info", "warn", "error", "critical", "off"};
      if (std::find(levels.begin(), levels.end(), *level) == levels.end())
        r.error(*t->get("level"),
                fmt::format("unknown log level \"{}\" (trace, debug, info, warn, error, critical, off)", *level));
      else
        s.log_level = *level;
    }
    r.reject_unknown_keys();
  }
  for (std::size_t i = 0; const auto* t : top.tables("tokens")) {
    TomlTable r(*t, fmt::format("tokens[{}]", i++), source, diags);
    TokenConfig token;
    token.name = r.string("name", true).value_or("");
    if (auto hash = r.string("sha256", true); hash && !parse_hex32(*hash, token.sha256))
      r.error(*t->get("sha256"), "\"sha256\" must be 64 hex digits (see `kpiwatch token create`)");
    token.bodies = r.strings("bodies").value_or(std::vector<std::string>{});
    token.kpis = r.strings("kpis").value_or(std::vector<std::string>{});
    token.admin = r.boolean("admin").value_or(false);
    r.reject_unknown_keys();
    if (!token.admin && token.bodies.empty() && token.kpis.empty())
      r.error("a token needs a scope: \"bodies\", \"kpis\" or admin = true");
    for (const auto& other : s.tokens)
      if (other.name == token.name) r.error(fmt::format("duplicate token name \"{}\"", token.name));
    s.tokens.push_back(std::move(token));
  }
  if (const auto* t = top.table("alerting")) {
    TomlTable r(*t, "alerting", source, diags);
    auto& a = s.alerting;
    if (auto url = r.string("external_url")) a.external_url = *url;
    if (auto d = r.string("default_receiver")) a.default_receiver = *d;
    a.retry_initial = positive_ms(r, "retry_initial_ms", a.retry_initial);
    a.retry_max = positive_ms(r, "retry_max_ms", a.retry_max);
    a.max_age = positive_ms(r, "max_age_ms", a.max_age);
    r.reject_unknown_keys();
  }
  for (std::size_t i = 0; const auto* t : top.tables("receivers")) {
    TomlTable r(*t, fmt::format("receivers[{}]", i++), source, diags);
    ReceiverConfig rc;
    rc.name = r.string("name", true).value_or("");
    rc.url = r.string("url", true).value_or("");
    if (!rc.url.empty() && !rc.url.starts_with("http://") && !rc.url.starts_with("https://"))
      r.error(*t->get("url"), fmt::format("\"url\" must start with http:// or https://, not \"{}\"", rc.url));
    if (auto format = r.string("format")) {
      if (*format != "alertmanager" && *format != "slack" && *format != "teams" && *format != "alertmanager_api")
        r.error(*t->get("format"),
                fmt::format("\"format\" must be alertmanager, slack, teams or alertmanager_api, not \"{}\"", *format));
      rc.format = *format;
    }
    rc.secret = r.string("secret").value_or("");
    rc.timeout = positive_ms(r, "timeout_ms", rc.timeout);
    if (const auto* headers = r.table("headers"))
      for (const auto& [k, v] : *headers) {
        if (auto value = v.value<std::string>(); value && v.is_string())
          rc.headers.emplace_back(std::string(k.str()), *value);
        else
          r.error(v, fmt::format("header \"{}\" must be a string", k.str()));
      }
    rc.ca_file = resolve(r.string("ca_file").value_or(""), base_dir);
    if (auto repeat = r.integer("repeat_interval_ms")) {
      if (*repeat < 0)
        r.error(*t->get("repeat_interval_ms"), "\"repeat_interval_ms\" must be 0 (never) or positive");
      else
        rc.repeat_interval = std::chrono::milliseconds(*repeat);
    }
    rc.resend_interval = positive_ms(r, "resend_interval_ms", rc.resend_interval);
    r.reject_unknown_keys();
    if (s.receiver(rc.name)) r.error(fmt::format("duplicate receiver name \"{}\"", rc.name));
    s.receivers.push_back(std::move(rc));
  }
  for (std::size_t i = 0; const auto* t : top.tables("routes")) {
    TomlTable r(*t, fmt::format("routes[{}]", i++), source, diags);
    RouteConfig route;
    if (const auto* match = r.table("match"))
      for (const auto& [k, v] : *match) {
        if (auto value = v.value<std::string>(); value && v.is_string())
          route.match[std::string(k.str())] = *value;
        else
          r.error(v, fmt::format("matcher \"{}\" must be a string (e.g. goal = \"6\")", k.str()));
      }
    route.receivers = r.strings("receivers", true).value_or(std::vector<std::string>{});
    route.continue_matching = r.boolean("continue").value_or(false);
    r.reject_unknown_keys();
    for (const auto& name : route.receivers)
      if (!s.receiver(name)) r.error(*t->get("receivers"), fmt::format("unknown receiver \"{}\"", name));
    s.routes.push_back(std::move(route));
  }
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
