// `kpiwatch check`: config, catalog, rules, report templates and the bundled dataset, through the
// same loader as serve and reload.
#include <fmt/format.h>

#include "commands/setup.hpp"
#include "kpiwatch/dataset.hpp"
#include "kpiwatch/messages.hpp"

namespace kpiwatch {

int run_check(const CommonOptions& options, const std::vector<std::string>& rule_paths, const std::string& lang_name) {
  Lang lang = Lang::en;
  if (!choose_lang(lang_name, lang)) {
    fmt::print(stderr, "--lang must be ja or en, not \"{}\"\n", lang_name);
    return 2;
  }
  auto setup = load_setup_or_print(options, rule_paths, lang);
  if (!setup) return 1;
  auto dataset = parse_submissions(*setup->catalog, bundled_dataset_json(), ValidationLimits{.max_batch = 100000});
  if (!dataset) {
    fmt::print(stderr, "bundled dataset: {}\n", dataset.error().message);
    return 1;
  }
  if (lang == Lang::ja) {
    fmt::print(
        "OK: 設定 {}、カタログ（ゴール {} 件、KPI {} 件）、ルール {} 件、トークン {} 件、レポートの見出し {} 件\n",
        setup->settings.source, setup->catalog->goals().size(), setup->catalog->kpis().size(), setup->rules->size(),
        setup->settings.tokens.size(), setup->report_templates->headlines().size());
    return 0;
  }
  fmt::print("OK: config {}, catalog with {} goals and {} KPIs, {} rules, {} token(s), {} report headlines\n",
             setup->settings.source, setup->catalog->goals().size(), setup->catalog->kpis().size(),
             setup->rules->size(), setup->settings.tokens.size(), setup->report_templates->headlines().size());
  return 0;
}

}  // namespace kpiwatch
