// `kpiwatch test [--require-texts] FILES...`: rule unit tests.
#include <fmt/format.h>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/commands.hpp"
#include "kpiwatch/rule_tests.hpp"

namespace kpiwatch {

int run_rule_tests(const std::vector<std::string>& files, bool require_texts) {
  auto report = kpiwatch::run_rule_tests(files, Catalog::embedded(), RuleTestOptions{require_texts});
  fmt::print("{}", report.output);
  fmt::print("\n{} passed, {} failed\n", report.passed, report.failed);
  if (report.rules_without_texts > 0)
    fmt::print("{} rule(s) fire without an expected alert asserting their texts (--require-texts)\n",
               report.rules_without_texts);
  return report.failed == 0 && report.rules_without_texts == 0 ? 0 : 1;
}

}  // namespace kpiwatch
