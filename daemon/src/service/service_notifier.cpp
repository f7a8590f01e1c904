#include "service/service_notifier.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <string>

namespace kpiwatch {
namespace {

void notify(const std::string& state) {
  int rc = sd_notify(0, state.c_str());
  if (rc < 0) spdlog::warn("sd_notify failed: {}", std::strerror(-rc));
}

std::string monotonic_usec() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return fmt::format("{}", static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL +
                               static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL);
}

}  // namespace

ServiceNotifier::ServiceNotifier() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_interval_ = std::chrono::microseconds(usec / 2);
}

void ServiceNotifier::ready(std::string_view status) { notify(fmt::format("READY=1\nSTATUS={}", status)); }

void ServiceNotifier::status(std::string_view status) { notify(fmt::format("STATUS={}", status)); }

void ServiceNotifier::reloading(std::string_view status) {
  notify(fmt::format("RELOADING=1\nMONOTONIC_USEC={}\nSTATUS={}", monotonic_usec(), status));
}

void ServiceNotifier::stopping(std::string_view status) { notify(fmt::format("STOPPING=1\nSTATUS={}", status)); }

void ServiceNotifier::watchdog() { notify("WATCHDOG=1"); }

}  // namespace kpiwatch
