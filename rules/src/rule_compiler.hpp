#pragma once
// The second stage of loading rules: rule specs + the catalog → compiled
// rules. Gives the values their meaning (KPIs, dimensions, severities,
// templates, conditions) and reports what is wrong as file:line:col.

#include <memory>
#include <vector>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/result.hpp"
#include "rule.hpp"
#include "rule_reader.hpp"

namespace kpiwatch {

// Compiles the rules of one file: those without errors go to `out`, every
// problem to `diags`. A rule the reader found malformed is checked but not kept.
void compile_rules(const RuleFileSpec& file, const Catalog& catalog, Diagnostics& diags,
                   std::vector<std::unique_ptr<Rule>>& out);

}  // namespace kpiwatch
