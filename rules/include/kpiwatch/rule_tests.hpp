#pragma once
// Rule unit tests written in TOML, as `promtool test rules` does for Prometheus:
// input series by period, and the alerts expected at given periods.

#include <memory>
#include <string>
#include <vector>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {

struct RuleTestOptions {
  // Every rule that fires in an expectation must have an expected alert that
  // asserts all four texts (summary_ja, summary_en, description_ja, description_en).
  bool require_texts = false;
  // The language of the report's words and diagnostics (each with its code).
  Lang lang = Lang::en;
};

struct RuleTestReport {
  int passed = 0;  // test files whose every expectation matched
  int failed = 0;
  int rules_without_texts = 0;  // with require_texts: firing rules none of whose expected alerts asserts the texts
  std::string output;           // what a person reads: per file, SUCCESS or the differences
};

RuleTestReport run_rule_tests(const std::vector<std::string>& files, const std::shared_ptr<const Catalog>& catalog,
                              const RuleTestOptions& options = {});

}  // namespace kpiwatch
