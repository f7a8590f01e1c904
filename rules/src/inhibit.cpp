#include "inhibit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "kpiwatch/toml_reader.hpp"

namespace kpiwatch {
namespace {

SourcePos position_of(const toml::node& node) {
  const auto& at = node.source().begin;
  return {static_cast<int>(at.line), static_cast<int>(at.column)};
}

// source = { rule = "...", stage = "all" }: a table of strings, not empty.
Matchers read_matchers(TomlTable& t, std::string_view key, InhibitSpec& spec) {
  Matchers out;
  const toml::table* m = t.table(key, true);
  if (!m) return out;
  if (m->empty()) t.error(*m, fmt::format("\"{}\" needs at least one label, e.g. {{ rule = \"...\" }}", key));
  for (const auto& [k, v] : *m) {
    const auto* text = v.as_string();
    if (!text) {
      t.error(v, fmt::format("\"{}.{}\" must be a string", key, k.str()));
      continue;
    }
    out[std::string(k.str())] = text->get();
    if (k.str() == "rule") spec.rule_ids.push_back({text->get(), position_of(v)});
  }
  return out;
}

InhibitSpec read_inhibit(const toml::table& table, std::size_t index, const std::string& file, Diagnostics& diags) {
  InhibitSpec spec;
  spec.rule.file = file;
  spec.rule.line = position_of(table).line;
  std::size_t errors_before = diags.size();
  spec.where = fmt::format("inhibit[{}]", index);
  TomlTable t(table, spec.where, file, diags);
  spec.rule.source = read_matchers(t, "source", spec);
  spec.rule.target = read_matchers(t, "target", spec);
  spec.rule.equal = t.strings("equal").value_or(std::vector<std::string>{});
  t.reject_unknown_keys();
  spec.well_formed = diags.size() == errors_before;
  return spec;
}

bool same_labels(const InhibitRule& rule, const AlertRecord& a, const AlertRecord& b) {
  auto value = [](const AlertRecord& r, const std::string& name) {
    auto it = r.labels.find(name);
    return it == r.labels.end() ? std::string() : it->second;
  };
  return std::all_of(rule.equal.begin(), rule.equal.end(),
                     [&](const std::string& name) { return value(a, name) == value(b, name); });
}

bool inhibits(const InhibitRule& rule, const AlertRecord& source, const AlertRecord& target) {
  if (source.fingerprint == target.fingerprint || source.state != AlertState::firing) return false;
  if (source.period != target.period || !labels_match(rule.source, source.labels)) return false;
  // Both sides of the rule: only a source that is not itself a target may inhibit.
  if (labels_match(rule.source, target.labels) && labels_match(rule.target, source.labels)) return false;
  return same_labels(rule, source, target);
}

}  // namespace

std::vector<InhibitSpec> read_inhibits(const RuleSource& source, Diagnostics& diags) {
  std::vector<InhibitSpec> out;
  Diagnostics syntax;  // the rule reader reports these
  auto root = parse_toml(source.text, source.name, syntax);
  if (!root) return out;
  TomlTable top(*root, "", source.name, diags);
  for (std::size_t i = 0; const auto* t : top.tables("inhibit"))
    out.push_back(read_inhibit(*t, i++, source.name, diags));
  return out;
}

std::vector<InhibitRule> compile_inhibits(const std::vector<InhibitSpec>& specs,
                                          const std::vector<std::unique_ptr<Rule>>& rules, Diagnostics& diags) {
  std::set<std::string, std::less<>> ids;
  for (const auto& r : rules) ids.insert(r->id);
  std::vector<InhibitRule> out;
  for (const auto& spec : specs) {
    bool known = true;
    for (const auto& id : spec.rule_ids)
      if (!ids.contains(id.value)) {
        diags.push_back(
            {spec.rule.file, id.at.line, id.at.column, fmt::format("{}: unknown rule \"{}\"", spec.where, id.value)});
        known = false;
      }
    if (spec.well_formed && known) out.push_back(spec.rule);
  }
  return out;
}

std::vector<Inhibitor> inhibitors(const std::vector<InhibitRule>& rules, const AlertRecord& target,
                                  const std::vector<const AlertRecord*>& active) {
  std::vector<Inhibitor> out;
  for (const auto& rule : rules) {
    if (!labels_match(rule.target, target.labels)) continue;
    for (const AlertRecord* source : active) {
      if (!inhibits(rule, *source, target)) continue;
      bool seen = std::any_of(out.begin(), out.end(), [&](const Inhibitor& i) { return i.alert == source; });
      if (!seen) out.push_back({source, &rule});
    }
  }
  return out;
}

std::string inhibition_reason(const Inhibitor& inhibitor) {
  std::string labels;
  for (const auto& [name, value] : inhibitor.rule->source)
    if (name != "rule") labels += fmt::format("{}={}, ", name, value);
  return fmt::format("inhibited by {} ({}{})", inhibitor.alert->rule_id, labels, inhibitor.alert->period);
}

}  // namespace kpiwatch
