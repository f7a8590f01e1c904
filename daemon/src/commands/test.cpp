// `kpiwatch test FILES...`: rule unit tests.
#include <fmt/format.h>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/commands.hpp"
#include "kpiwatch/rule_tests.hpp"

namespace kpiwatch {

int run_rule_tests(const std::vector<std::string>& files) {
  auto report = kpiwatch::run_rule_tests(files, Catalog::embedded());
  fmt::print("{}", report.output);
  fmt::print("\n{} passed, {} failed\n", report.passed, report.failed);
  return report.failed == 0 ? 0 : 1;
}

}  // namespace kpiwatch
