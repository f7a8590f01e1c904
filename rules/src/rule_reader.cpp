#include "rule_reader.hpp"

#include <fmt/format.h>

#include <cmath>
#include <span>

#include "kpiwatch/toml_reader.hpp"

namespace kpiwatch {
namespace {

SourcePos position_of(const toml::source_position& at) {
  return {static_cast<int>(at.line), static_cast<int>(at.column)};
}

SourcePos position_of(const toml::node& node) { return position_of(node.source().begin); }

enum class ValueType { string, integer, number };

struct ConditionKey {
  std::string_view name;
  ValueType type = ValueType::number;
  bool required = false;
};

// The keys of each condition table, in the order they are read.
const std::vector<ConditionKey>& keys_of(ConditionKind kind) {
  using enum ValueType;
  static const std::map<ConditionKind, std::vector<ConditionKey>> keys = {
      {ConditionKind::threshold,
       {{"above", number}, {"at_or_above", number}, {"below", number}, {"at_or_below", number}}},
      {ConditionKind::change,
       {{"direction", string, true},
        {"by", string, true},
        {"more_than", number},
        {"at_least", number},
        {"against", string}}},
      {ConditionKind::trend,
       {{"declines", integer},
        {"rises", integer},
        {"window", integer},
        {"slope_below", number},
        {"slope_above", number}}},
      {ConditionKind::stagnation,
       {{"window", integer, true}, {"tolerance", number}, {"tolerance_percent", number}, {"at_or_below", number}}},
      {ConditionKind::new_item, {}},
      {ConditionKind::missing, {{"due", string}}},
      {ConditionKind::expression, {{"expr", string, true}}},
  };
  return keys.at(kind);
}

std::vector<std::string_view> names_of(std::span<const ConditionKind> kinds) {
  std::vector<std::string_view> out;
  for (auto kind : kinds) out.push_back(to_string(kind));
  return out;
}

template <typename T>
std::optional<T> value_of(const ConditionSpec& spec, std::string_view key) {
  auto it = spec.values.find(key);
  if (it == spec.values.end()) return std::nullopt;
  if (const T* v = std::get_if<T>(&it->second.value)) return *v;
  return std::nullopt;
}

class RuleFileReader {
 public:
  RuleFileReader(const RuleSource& source, Diagnostics& diags) : source_(source), diags_(diags) {}

  RuleFileSpec read() {
    RuleFileSpec file{&source_, {}};
    auto root = parse_toml(source_.text, source_.name, diags_);
    if (!root) return file;
    TomlTable top(*root, "", source_.name, diags_);
    for (std::size_t i = 0; const auto* t : top.tables("rule")) file.rules.push_back(read_rule(*t, i++));
    top.known("inhibit");  // read by inhibit.cpp
    top.reject_unknown_keys();
    return file;
  }

 private:
  RuleSpec read_rule(const toml::table& t, std::size_t index) {
    RuleSpec spec;
    spec.where = fmt::format("rule[{}]", index);
    if (const auto* id = t.get_as<std::string>("id")) spec.where = fmt::format("rule \"{}\"", id->get());
    spec.at = position_of(t);
    TomlTable r(t, spec.where, source_.name, diags_);
    std::size_t errors_before = diags_.size();

    spec.id = string(r, "id", true);
    spec.title = string(r, "title", true);
    spec.kpi = string(r, "kpi", true);
    spec.dims = string_table(r, "dims");
    spec.severity = string(r, "severity", true);
    spec.labels = string_table(r, "labels");
    spec.receivers = r.strings("receivers").value_or(std::vector<std::string>{});
    if (const auto* names = t.get_as<toml::array>("receivers"); names && names->size() == spec.receivers.size())
      for (const auto& name : *names) spec.receivers_at.push_back(position_of(name));
    if (auto hold = r.integer("hold_for"))
      spec.hold_for = Located<std::int64_t>{*hold, position_of(*t.get("hold_for"))};
    spec.baseline = string(r, "baseline", false);
    spec.summary_ja = string(r, "summary_ja", true);
    spec.summary_en = string(r, "summary_en", true);
    spec.description_ja = string(r, "description_ja", false);
    spec.description_en = string(r, "description_en", false);
    spec.condition = condition(r, t);
    r.reject_unknown_keys();

    spec.well_formed = diags_.size() == errors_before;
    return spec;
  }

  static std::optional<Located<std::string>> string(TomlTable& r, std::string_view key, bool required) {
    auto text = r.string(key, required);
    if (!text) return std::nullopt;
    return Located<std::string>{std::move(*text), position_of(*r.raw().get(key))};
  }

  static std::optional<StringTableSpec> string_table(TomlTable& r, std::string_view key) {
    const auto* t = r.table(key);
    if (!t) return std::nullopt;
    StringTableSpec out{position_of(*t), {}};
    for (const auto& [k, v] : *t) {
      if (auto s = v.value<std::string>(); s && v.is_string()) {
        const auto& key_at = k.source().begin ? k.source().begin : v.source().begin;
        out.entries.push_back({std::string(k.str()), *s, position_of(key_at), position_of(v)});
      } else {
        r.error(v, fmt::format("\"{}.{}\" must be a string", key, k.str()));
      }
    }
    return out;
  }

  std::optional<ConditionSpec> condition(TomlTable& r, const toml::table& t) {
    std::vector<ConditionKind> present;
    for (auto kind : kConditionKinds)
      if (t.contains(to_string(kind))) present.push_back(kind);
    if (present.size() != 1) {
      r.error(present.empty()
                  ? fmt::format("a rule needs one condition table: [rule.{}]",
                                fmt::join(names_of(kConditionKinds), "], [rule."))
                  : fmt::format("a rule has one condition, but this one has {}", fmt::join(names_of(present), ", ")));
      for (auto kind : kConditionKinds) r.table(to_string(kind));  // known keys, reported above
      return std::nullopt;
    }
    ConditionKind kind = present[0];
    const toml::table* ct = r.table(to_string(kind));
    if (!ct) return std::nullopt;

    ConditionSpec spec;
    spec.kind = kind;
    spec.where = fmt::format("{} [rule.{}]", r.where(), to_string(kind));
    spec.at = position_of(*ct);
    TomlTable c(*ct, spec.where, source_.name, diags_);
    for (const auto& key : keys_of(kind)) read_value(c, key, spec);
    c.reject_unknown_keys();
    return spec;
  }

  static void read_value(TomlTable& c, const ConditionKey& key, ConditionSpec& spec) {
    if (c.raw().contains(key.name)) spec.written.emplace(key.name);
    std::optional<ConditionValue> value;
    switch (key.type) {
      case ValueType::string:
        if (auto v = c.string(key.name, key.required)) value = std::move(*v);
        break;
      case ValueType::integer:
        if (auto v = c.integer(key.name, key.required)) value = *v;
        break;
      case ValueType::number:
        if (auto v = c.number(key.name, key.required)) value = *v;  // finite: TomlTable refuses nan and inf
        break;
    }
    if (value)
      spec.values.emplace(key.name, Located<ConditionValue>{std::move(*value), position_of(*c.raw().get(key.name))});
  }

  const RuleSource& source_;
  Diagnostics& diags_;
};

}  // namespace

std::string_view to_string(ConditionKind kind) {
  switch (kind) {
    case ConditionKind::threshold:
      return "threshold";
    case ConditionKind::change:
      return "change";
    case ConditionKind::trend:
      return "trend";
    case ConditionKind::stagnation:
      return "stagnation";
    case ConditionKind::new_item:
      return "new_item";
    case ConditionKind::missing:
      return "missing";
    case ConditionKind::expression:
      return "expression";
  }
  return "condition";
}

std::optional<std::string> ConditionSpec::string(std::string_view key) const {
  return value_of<std::string>(*this, key);
}

std::optional<std::int64_t> ConditionSpec::integer(std::string_view key) const {
  return value_of<std::int64_t>(*this, key);
}

std::optional<double> ConditionSpec::number(std::string_view key) const { return value_of<double>(*this, key); }

SourcePos ConditionSpec::position(std::string_view key) const {
  auto it = values.find(key);
  return it == values.end() ? at : it->second.at;
}

RuleFileSpec read_rule_file(const RuleSource& source, Diagnostics& diags) {
  return RuleFileReader(source, diags).read();
}

}  // namespace kpiwatch
