#pragma once
// Reading and checking [[inhibit]] tables of rule files (kpiwatch/inhibit.hpp).

#include <memory>
#include <vector>

#include "kpiwatch/inhibit.hpp"
#include "kpiwatch/result.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/source_position.hpp"
#include "rule.hpp"

namespace kpiwatch {

// One [[inhibit]] as written, with where its rule ids stand.
struct InhibitSpec {
  InhibitRule rule;
  std::string where;                           // inhibit[i], in messages
  std::vector<Located<std::string>> rule_ids;  // the `rule` matchers of source and target
  bool well_formed = true;
};

// The [[inhibit]] tables of one rule file; problems of shape go to `diags`.
// Syntax errors are not reported here (the rule reader reports them).
std::vector<InhibitSpec> read_inhibits(const RuleSource& source, Diagnostics& diags);

// The well-formed specs whose rule ids name rules of `rules`; an unknown id is an error.
std::vector<InhibitRule> compile_inhibits(const std::vector<InhibitSpec>& specs,
                                          const std::vector<std::unique_ptr<Rule>>& rules, Diagnostics& diags);

}  // namespace kpiwatch
