// `kpiwatch outbox list` and `kpiwatch outbox requeue`, on the database directly.
#include <fmt/format.h>

#include <chrono>

#include "commands/setup.hpp"

namespace kpiwatch {

int run_outbox_list(const CommonOptions& options, const std::string& state) {
  std::optional<OutboxStatus> status;
  if (OutboxStatus parsed{}; parse_outbox_status(state, parsed)) {
    status = parsed;
  } else if (!state.empty()) {
    fmt::print(stderr, "--state must be pending, delivered, dead or suppressed\n");
    return 2;
  }
  auto setup = load_setup_or_print(options);
  if (!setup) return 2;
  auto store = open_existing_store(setup->settings, "--config or --state-dir");
  if (!store) return 2;
  auto entries = store->outbox().list(status, 1000);
  if (!entries) {
    fmt::print(stderr, "{}\n", entries.error().message);
    return 1;
  }
  fmt::print("{:>6}  {:<10} {:<9} {:<16} {:<16} {:>8}  {:<24} {}\n", "ID", "STATE", "EVENT", "RECEIVER", "FINGERPRINT",
             "ATTEMPTS", "CREATED", "LAST ERROR");
  for (const auto& e : entries.value())
    fmt::print("{:>6}  {:<10} {:<9} {:<16} {:<16} {:>8}  {:<24} {}\n", e.id, to_string(e.status), to_string(e.event),
               e.receiver, e.fingerprint, e.attempts, e.created_at, e.last_error);
  return 0;
}

int run_outbox_requeue(const CommonOptions& options, const std::vector<long long>& ids, bool all) {
  if (ids.empty() == !all) {
    fmt::print(stderr, "give notification ids or --all-dead\n");
    return 2;
  }
  auto setup = load_setup_or_print(options);
  if (!setup) return 2;
  auto store = open_existing_store(setup->settings, "--config or --state-dir");
  if (!store) return 2;
  std::string now = format_rfc3339(std::chrono::system_clock::now());
  int total = 0;
  for (long long id : all ? std::vector<long long>{0} : ids) {
    auto n = id ? store->outbox().requeue(id, now) : store->outbox().requeue_all(now);
    if (!n) {
      fmt::print(stderr, "{}\n", n.error().message);
      return 1;
    }
    if (n.value() == 0 && id) fmt::print(stderr, "notification {} is not a dead letter\n", id);
    total += n.value();
  }
  fmt::print("requeued {} notification(s); the running daemon sends them within seconds\n", total);
  return total > 0 || all ? 0 : 1;
}

}  // namespace kpiwatch
