// `kpiwatch outbox list` and `kpiwatch outbox requeue`, on the database directly.
#include <fmt/format.h>

#include <chrono>

#include "commands/setup.hpp"

namespace kpiwatch {

int run_outbox_list(const CommonOptions& options, const std::string& state) {
  if (!state.empty() && state != "pending" && state != "delivered" && state != "dead" && state != "suppressed") {
    fmt::print(stderr, "--state must be pending, delivered, dead or suppressed\n");
    return 2;
  }
  auto setup = load_setup_or_print(options);
  if (!setup) return 2;
  auto store = open_existing_store(setup->settings, "--config or --state-dir");
  if (!store) return 2;
  auto entries = store->outbox(state, 1000);
  if (!entries) {
    fmt::print(stderr, "{}\n", entries.error().message);
    return 1;
  }
  fmt::print("{:>6}  {:<10} {:<9} {:<16} {:<16} {:>8}  {:<24} {}\n", "ID", "STATE", "EVENT", "RECEIVER", "FINGERPRINT",
             "ATTEMPTS", "CREATED", "LAST ERROR");
  for (const auto& e : entries.value())
    fmt::print("{:>6}  {:<10} {:<9} {:<16} {:<16} {:>8}  {:<24} {}\n", e.id, e.status, e.event, e.receiver,
               e.fingerprint, e.attempts, e.created_at, e.last_error);
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
    auto n = store->requeue(id, now);
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
