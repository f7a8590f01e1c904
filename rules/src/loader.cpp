// Rule files → compiled rules, in two stages: the reader (TOML → rule specs
// with positions) and the compiler (specs + catalog → rules).
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "embedded_rules.hpp"
#include "inhibit.hpp"
#include "kpiwatch/digest.hpp"
#include "rule.hpp"
#include "rule_compiler.hpp"
#include "rule_reader.hpp"

namespace kpiwatch {
namespace fs = std::filesystem;

namespace {

// A rule id names one rule across every file; the second use is the error.
void report_duplicate_ids(const std::vector<std::unique_ptr<Rule>>& rules, Diagnostics& diags) {
  std::map<std::string, const Rule*> ids;
  for (const auto& rule : rules) {
    auto [it, inserted] = ids.emplace(rule->id, rule.get());
    if (!inserted)
      diags.push_back({rule->file, rule->line, 1,
                       fmt::format("duplicate rule id \"{}\" (first defined at {}:{})", rule->id, it->second->file,
                                   it->second->line)});
  }
}

// Bumped when the evaluator's meaning changes, so that stored alert states are
// evaluated again by a daemon that evaluates otherwise.
constexpr std::string_view kEvaluatorVersion = "kpiwatch evaluator 1";

// Every catalog field that an evaluation or an alert's text reads, in a fixed
// order: two catalogs that write the same text here evaluate alike.
std::string catalog_text(const Catalog& c) {
  std::string t;
  auto field = [&](std::string_view name, std::string_view value) {
    fmt::format_to(std::back_inserter(t), "{}={}\x1f", name, value);
  };
  auto labels = [&](std::string_view name, const LabelMap& m) {
    for (const auto& [k, v] : m) field(fmt::format("{}.{}", name, k), v);
  };
  for (const auto& g : c.goals()) {
    field("goal", std::to_string(g.number));
    field("name_ja", g.name_ja);
    field("name_en", g.name_en);
    for (const auto& b : g.bodies) field("body", b);
  }
  for (const auto& b : c.bodies()) {
    field("body", b.id);
    field("name_ja", b.name_ja);
    field("name_en", b.name_en);
    field("short_en", b.short_en);
  }
  for (const auto& k : c.kpis()) {
    field("kpi", k.id);
    field("goal", std::to_string(k.goal));
    field("name_ja", k.name_ja);
    field("name_en", k.name_en);
    field("description_ja", k.description_ja);
    field("description_en", k.description_en);
    field("unit", to_string(k.unit));
    field("period", to_string(k.period));
    for (const auto& b : k.bodies) field("body", b);
    field("min", k.min ? fmt::format("{}", *k.min) : "");
    field("max", k.max ? fmt::format("{}", *k.max) : "");
    field("unit_ja", k.unit_ja);
    field("unit_en", k.unit_en);
    field("decimals", k.decimals ? std::to_string(*k.decimals) : "");
    labels("item_ja", k.item_labels_ja);
    labels("item_en", k.item_labels_en);
    field("due", k.due ? fmt::format("{}m{}d", k.due->months, k.due->days) : "");
    field("every", std::to_string(k.every));
    for (const auto& d : k.dims) {
      field("dim", d.name);
      field("name_ja", d.name_ja);
      field("name_en", d.name_en);
      for (const auto& v : d.values) field("value", v);
      field("default", d.default_value.value_or(""));
      labels("ja", d.labels_ja);
      labels("en", d.labels_en);
    }
  }
  return t;
}

std::string rules_digest(const std::vector<RuleSource>& sources, const Catalog& catalog) {
  std::string text(kEvaluatorVersion);
  text += '\n';
  for (const auto& s : sources) fmt::format_to(std::back_inserter(text), "{}\n{}\n{}\n", s.name, s.text.size(), s.text);
  text += catalog_text(catalog);
  return sha256_hex(text);
}

}  // namespace

RuleSet::~RuleSet() = default;

Loaded<std::shared_ptr<const RuleSet>> RuleSet::load(const std::vector<RuleSource>& sources,
                                                     std::shared_ptr<const Catalog> catalog) {
  Diagnostics diags;
  std::shared_ptr<RuleSet> set(new RuleSet());
  set->catalog_ = std::move(catalog);
  set->digest_ = rules_digest(sources, *set->catalog_);
  std::vector<InhibitSpec> inhibits;
  for (const auto& source : sources) {
    Diagnostics file_diags;
    compile_rules(read_rule_file(source, file_diags), *set->catalog_, file_diags, set->rules_);
    auto more = read_inhibits(source, file_diags);
    inhibits.insert(inhibits.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
    // The reader and the compiler each find their own errors; a person reads them top to bottom.
    std::stable_sort(file_diags.begin(), file_diags.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
    diags.insert(diags.end(), file_diags.begin(), file_diags.end());
  }
  report_duplicate_ids(set->rules_, diags);
  set->inhibits_ = compile_inhibits(inhibits, set->rules_, diags);  // rule ids of any file
  if (!diags.empty()) return diags;
  for (const auto& rule : set->rules_) {
    prepare_names(*rule, *set->catalog_);
    for (const auto& kpi : rule->reads) set->readers_[kpi].push_back(rule.get());
  }
  return std::shared_ptr<const RuleSet>(std::move(set));
}

Result<std::vector<RuleSource>> RuleSet::read_sources(const std::vector<std::string>& paths) {
  std::vector<RuleSource> out;
  auto read = [&](const fs::path& file) -> Status {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Error{ErrorCode::rules_error, fmt::format("{}: cannot open rule file", file.string()), "", {}};
    std::stringstream text;
    text << in.rdbuf();
    out.push_back({file.string(), text.str()});
    return ok_status();
  };
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(path, ec))
        if (entry.is_regular_file() && entry.path().extension() == ".toml") files.push_back(entry.path());
      if (ec) return Error{ErrorCode::rules_error, fmt::format("{}: {}", path, ec.message()), "", {}};
      std::sort(files.begin(), files.end());
      for (const auto& f : files)
        if (auto s = read(f); !s) return s.error();
    } else if (auto s = read(path); !s) {
      return s.error();
    }
  }
  return out;
}

std::vector<RuleSource> RuleSet::embedded_sources() {
  std::vector<RuleSource> out;
  for (const auto& [name, text] : embedded::rule_files())
    out.push_back({"config/rules/" + name + " (embedded)", std::string(text)});
  return out;
}

std::size_t RuleSet::size() const { return rules_.size(); }

std::vector<std::string> RuleSet::rule_ids() const {
  std::vector<std::string> out;
  for (const auto& r : rules_) out.push_back(r->id);
  return out;
}

std::vector<RuleSet::ReceiverReference> RuleSet::receiver_references() const {
  std::vector<ReceiverReference> out;
  for (const auto& r : rules_)
    for (std::size_t i = 0; i < r->receivers.size(); ++i) {
      SourcePos at = i < r->receivers_at.size() ? r->receivers_at[i] : SourcePos{r->line, 1};
      out.push_back({r->id, r->receivers[i], r->file, at.line, at.column});
    }
  return out;
}

bool RuleSet::has_rule(std::string_view id) const {
  return std::any_of(rules_.begin(), rules_.end(), [&](const auto& r) { return r->id == id; });
}

bool RuleSet::covers(std::string_view id, std::string_view kpi, const Labels& labels) const {
  for (const auto& r : rules_) {
    if (r->id != id) continue;
    for (const Kpi* k : r->kpis) {
      if (k->id != kpi) continue;
      if (r->is_missing()) return true;  // one alert per KPI, whatever its dims filter
      Dims dims;                         // the series' dims, among the alert's labels
      for (const auto& d : k->dims)
        if (auto it = labels.find(d.name); it != labels.end()) dims[d.name] = it->second;
      return r->matches(dims);
    }
    return false;
  }
  return false;
}

}  // namespace kpiwatch
