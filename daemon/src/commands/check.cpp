// `kpiwatch check`: config, catalog, rules, report templates and the bundled dataset, through the
// same loader as serve and reload.
#include <fmt/format.h>

#include "commands/setup.hpp"
#include "kpiwatch/dataset.hpp"

namespace kpiwatch {

int run_check(const CommonOptions& options, const std::vector<std::string>& rule_paths) {
  auto setup = load_setup_or_print(options, rule_paths);
  if (!setup) return 1;
  auto dataset = parse_submissions(*setup->catalog, bundled_dataset_json(), ValidationLimits{.max_batch = 100000});
  if (!dataset) {
    fmt::print(stderr, "bundled dataset: {}\n", dataset.error().message);
    return 1;
  }
  fmt::print("OK: config {}, catalog with {} goals and {} KPIs, {} rules, {} token(s), {} report headlines\n",
             setup->settings.source, setup->catalog->goals().size(), setup->catalog->kpis().size(),
             setup->rules->size(), setup->settings.tokens.size(), setup->report_templates->headlines().size());
  return 0;
}

}  // namespace kpiwatch
