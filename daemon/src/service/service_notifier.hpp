#pragma once
// The systemd notify protocol (sd_notify): READY, STATUS, RELOADING, STOPPING
// and watchdog pings. Does nothing when NOTIFY_SOCKET is not set.

#include <chrono>
#include <optional>
#include <string_view>

namespace kpiwatch {

class ServiceNotifier {
 public:
  ServiceNotifier();

  void ready(std::string_view status);
  void status(std::string_view status);
  // RELOADING=1 with MONOTONIC_USEC, as systemd expects before a reload.
  void reloading(std::string_view status);
  void stopping(std::string_view status);
  void watchdog();

  // Half of WATCHDOG_USEC, if systemd asked for watchdog pings.
  std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_interval_; }

 private:
  std::optional<std::chrono::microseconds> watchdog_interval_;
};

}  // namespace kpiwatch
