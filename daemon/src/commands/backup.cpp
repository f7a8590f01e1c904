// `kpiwatch backup FILE`: a consistent copy of the live database.
#include "kpiwatch/backup.hpp"

#include <fmt/format.h>

#include "commands/setup.hpp"
#include "kpiwatch/commands.hpp"

namespace kpiwatch {

int run_backup(const CommonOptions& options, const std::string& file) {
  auto setup = load_setup_or_print(options);
  if (!setup) return 2;
  const auto& s = setup->settings;
  auto report = backup_database(s.database_path(), file, s.busy_timeout_ms);
  if (!report) {
    fmt::print(stderr, "backup of {} failed: {}\n", s.database_path(), report.error().message);
    return 1;
  }
  fmt::print("backed up {} to {} ({} pages, {} bytes)\n", s.database_path(), file, report->pages, report->bytes);
  return 0;
}

}  // namespace kpiwatch
