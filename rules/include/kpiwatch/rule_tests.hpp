#pragma once
// Rule unit tests written in TOML, as `promtool test rules` does for Prometheus:
// input series by period, and the alerts expected at given periods.

#include <memory>
#include <string>
#include <vector>

#include "kpiwatch/catalog.hpp"

namespace kpiwatch {

struct RuleTestReport {
  int passed = 0;  // test files whose every expectation matched
  int failed = 0;
  std::string output;  // what a person reads: per file, SUCCESS or the differences
};

RuleTestReport run_rule_tests(const std::vector<std::string>& files, const std::shared_ptr<const Catalog>& catalog);

}  // namespace kpiwatch
