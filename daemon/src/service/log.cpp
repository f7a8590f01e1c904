#include "kpiwatch/log.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace kpiwatch {
namespace {

spdlog::level::level_enum spdlog_level(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return spdlog::level::trace;
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      return spdlog::level::err;
    case LogLevel::critical:
      return spdlog::level::critical;
  }
  return spdlog::level::info;
}

int syslog_priority(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
    case LogLevel::debug:
      return LOG_DEBUG;
    case LogLevel::info:
      return LOG_INFO;
    case LogLevel::warn:
      return LOG_WARNING;
    case LogLevel::error:
      return LOG_ERR;
    case LogLevel::critical:
      return LOG_CRIT;
  }
  return LOG_INFO;
}

// A valid journal field name: [A-Z0-9_], at most 64 characters, not starting with _ or a digit.
std::string field_name(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    bool valid = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!valid) c = '_';
    if (out.empty() && c == '_') continue;
    out += c;
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out.insert(0, "F_");
  if (out.size() > 64) out.resize(64);
  return out;
}

bool logs_to_journal(const spdlog::logger& logger) {
  for (const auto& sink : logger.sinks())
    if (std::dynamic_pointer_cast<spdlog::sinks::systemd_sink_mt>(sink)) return true;
  return false;
}

// ` rule=g06.x kpi="a b"`: lower-case names, values quoted when they hold spaces.
std::string readable_fields(std::span<const LogField> fields) {
  std::string out;
  for (const auto& f : fields) {
    std::string name = field_name(f.name);
    for (auto& c : name)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool quote = f.value.empty() || f.value.find_first_of(" \t\n\"=") != std::string_view::npos;
    out += fmt::format(" {}={}", name, quote ? fmt::format("{:?}", std::string(f.value)) : std::string(f.value));
  }
  return out;
}

bool send_to_journal(LogLevel level, std::string_view message, std::span<const LogField> fields) {
  std::vector<std::string> entries;
  entries.reserve(fields.size() + 3);
  entries.push_back(fmt::format("MESSAGE={}", message));
  entries.push_back(fmt::format("PRIORITY={}", syslog_priority(level)));
  entries.emplace_back("SYSLOG_IDENTIFIER=kpiwatch");
  for (const auto& f : fields) entries.push_back(fmt::format("{}={}", field_name(f.name), f.value));
  std::vector<iovec> iov;
  iov.reserve(entries.size());
  for (auto& e : entries) iov.push_back({e.data(), e.size()});
  return sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0;
}

}  // namespace

void log_event(LogLevel level, std::string_view message, std::span<const LogField> fields) {
  auto logger = spdlog::default_logger();
  if (!logger || !logger->should_log(spdlog_level(level))) return;
  if (!logs_to_journal(*logger)) {
    logger->log(spdlog_level(level), "{}{}", message, readable_fields(fields));
  } else if (!send_to_journal(level, message, fields)) {
    // stderr is the journal's stream too: the entry keeps its priority, loses its fields.
    fmt::print(stderr, "<{}>{}{}\n", syslog_priority(level), message, readable_fields(fields));
  }
}

void log_event(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  log_event(level, message, std::span<const LogField>(fields.begin(), fields.size()));
}

bool stderr_is_journal() {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (!env) return false;
  std::string_view text(env);
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  unsigned long long dev = 0, ino = 0;
  auto d = std::from_chars(text.data(), text.data() + colon, dev);
  auto i = std::from_chars(text.data() + colon + 1, text.data() + text.size(), ino);
  if (d.ec != std::errc{} || d.ptr != text.data() + colon || i.ec != std::errc{} || i.ptr != text.data() + text.size())
    return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev && static_cast<unsigned long long>(st.st_ino) == ino;
}

}  // namespace kpiwatch
