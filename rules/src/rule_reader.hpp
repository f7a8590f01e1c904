#pragma once
// The first stage of loading rules: a rule file's TOML → rule specs. Checks
// the shape only (known keys, value types, one condition table) and keeps the
// position of every value; what the values mean is the compiler's business,
// so this stage knows no catalog.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kpiwatch/result.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/source_position.hpp"

namespace kpiwatch {

// An entry of an inline table of strings, such as dims = { stage = "all" }.
struct StringEntry {
  std::string key;
  std::string value;
  SourcePos key_at;
  SourcePos value_at;
};

struct StringTableSpec {
  SourcePos at;
  std::vector<StringEntry> entries;  // the string values, in key order; others were reported
};

// In the order messages list them.
enum class ConditionKind { threshold, change, trend, stagnation, new_item, missing, expression };

inline constexpr ConditionKind kConditionKinds[] = {
    ConditionKind::threshold, ConditionKind::change,  ConditionKind::trend,     ConditionKind::stagnation,
    ConditionKind::new_item,  ConditionKind::missing, ConditionKind::expression};

// The table name: "threshold", "new_item", ...
std::string_view to_string(ConditionKind kind);

using ConditionValue = std::variant<std::string, std::int64_t, double>;

// A rule's condition table, e.g. [rule.change].
struct ConditionSpec {
  ConditionKind kind = ConditionKind::threshold;
  std::string where;  // names it in messages: rule "x" [rule.change]
  SourcePos at;
  std::map<std::string, Located<ConditionValue>, std::less<>> values;  // those of the right type
  std::set<std::string, std::less<>> written;                          // every key present, of any type

  std::optional<std::string> string(std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view key) const;
  std::optional<double> number(std::string_view key) const;
  bool has(std::string_view key) const { return written.contains(key); }
  // Where the value of `key` is; the table if it has none.
  SourcePos position(std::string_view key) const;
};

// One [[rule]] as written. Absent values were missing or of the wrong type
// (and reported).
struct RuleSpec {
  std::string where;  // names it in messages: rule "x", or rule[3] without an id
  SourcePos at;       // the [[rule]] header
  std::optional<Located<std::string>> id, title, kpi, severity;
  std::optional<StringTableSpec> dims, labels;
  std::vector<std::string> receivers;
  std::vector<SourcePos> receivers_at;  // beside receivers, where each name is written
  std::optional<Located<std::int64_t>> hold_for;
  std::optional<Located<std::string>> baseline;  // a period, in the watched KPI's kind
  std::optional<Located<std::string>> summary_ja, summary_en, description_ja, description_en;
  std::optional<ConditionSpec> condition;  // absent unless exactly one condition table
  bool well_formed = true;                 // the reader reported nothing in it
};

struct RuleFileSpec {
  const RuleSource* source = nullptr;
  std::vector<RuleSpec> rules;
};

// Reads one rule file; every problem of shape goes to `diags`.
RuleFileSpec read_rule_file(const RuleSource& source, Diagnostics& diags);

}  // namespace kpiwatch
