// A rule file as policy staff write it (config/rules/*.toml), loaded and
// compiled against the shipped catalog as `kpiwatch check` and a reload do;
// the rules that load are evaluated on a small index of figures.
#include <chrono>

#include "fuzz_series.hpp"
#include "fuzz_support.hpp"
#include "inhibit.hpp"
#include "kpiwatch/rules.hpp"
#include "rule.hpp"
#include "rule_compiler.hpp"
#include "rule_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kpiwatch;
  static const auto catalog = Catalog::embedded();
  static const SeriesIndex index = fuzz::sample_index(*catalog);
  RuleSource source{"fuzz.toml", std::string(fuzz::as_text(data, size))};
  // The reader and the compiler first, as RuleSet::load runs them: load itself also digests
  // the whole catalog, which would take most of the time of each run.
  {
    Diagnostics diags;
    std::vector<std::unique_ptr<Rule>> compiled;
    compile_rules(read_rule_file(source, diags), *catalog, diags, compiled);
    (void)read_inhibits(source, diags);
    if (!diags.empty()) {
      // Rule files are UTF-8 (TOML), and so must their errors be.
      if (fuzz::is_utf8(source.text))
        for (const auto& d : diags) fuzz::check_text("diagnostic is not UTF-8", d.str());
      return 0;
    }
  }
  auto loaded = RuleSet::load({source}, catalog);
  if (const auto* diags = std::get_if<Diagnostics>(&loaded)) {
    if (diags->empty()) fuzz::violated("a failed load without a diagnostic", source.text);
    return 0;
  }
  const auto& rules = std::get<0>(loaded);
  (void)rules->receiver_references();
  auto evaluations = rules->evaluate_all(index);
  // 1 January 2027: every figure of 2025 is due by then.
  auto now = std::chrono::sys_days{std::chrono::year{2027} / 1 / 1};
  for (auto& e : rules->evaluate_deadlines(index, now)) evaluations.push_back(std::move(e));
  for (const auto& e : evaluations)
    for (const auto& alert : e.active) {
      for (const auto* text : {&alert.summary_ja, &alert.summary_en, &alert.description_ja, &alert.description_en})
        fuzz::check_text("alert text is not UTF-8", *text);
      const Kpi* kpi = catalog->find(alert.kpi);
      if (!kpi) fuzz::violated("an alert on an unknown KPI", alert.kpi);
      if (auto criterion = rules->criterion(alert.rule_id, *kpi))
        if (auto bound = criterion->bound_value(alert.value))
          fuzz::check_text("bound label is not UTF-8", criterion->bound_label(*bound, *kpi, Lang::en));
    }
  return 0;
}
