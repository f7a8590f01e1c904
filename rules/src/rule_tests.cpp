#include "kpiwatch/rule_tests.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kpiwatch/rules.hpp"
#include "kpiwatch/toml_reader.hpp"

namespace kpiwatch {
namespace fs = std::filesystem;
namespace {

struct Expected {
  std::string rule;
  AlertState state = AlertState::firing;
  Labels labels;
  int line = 0;
};

struct Expectation {
  std::optional<Period> at;      // data rules at this period
  std::optional<TimePoint> now;  // missing-data rules at this time
  std::string at_text;
  std::vector<Expected> alerts;
  int line = 0;
};

std::string describe(const std::string& rule, AlertState state, const Labels& labels) {
  std::string out = fmt::format("{} {}", rule, to_string(state));
  std::vector<std::string> pairs;
  for (const auto& [k, v] : labels)
    if (k != "rule" && k != "severity" && k != "goal") pairs.push_back(fmt::format("{}=\"{}\"", k, v));
  if (!pairs.empty()) out += fmt::format(" {{{}}}", fmt::join(pairs, ", "));
  return out;
}

bool labels_match(const Labels& wanted, const Labels& actual) {
  for (const auto& [k, v] : wanted) {
    auto it = actual.find(k);
    if (it == actual.end() || it->second != v) return false;
  }
  return true;
}

// Runs one test file; returns true if it passed. Appends to `out`.
bool run_file(const std::string& file, const std::shared_ptr<const Catalog>& catalog, std::string& out) {
  out += fmt::format("Unit testing: {}\n", file);
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    out += "  FAILED: cannot open the file\n";
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();

  Diagnostics diags;
  auto root = parse_toml(text.str(), file, diags);
  std::vector<std::string> rule_files;
  std::optional<TimePoint> default_now;
  SeriesIndex index;
  std::vector<Expectation> expectations;
  if (root) {
    TomlTable top(*root, "", file, diags);
    auto base = fs::path(file).parent_path();
    for (const auto& f : top.strings("rule_files", true).value_or(std::vector<std::string>{}))
      rule_files.push_back(fs::path(f).is_absolute() ? f : (base / f).lexically_normal().string());
    if (auto now = top.string("now")) {
      default_now = parse_day(*now);
      if (!default_now) top.error(*root->get("now"), "\"now\" must be a date, YYYY-MM-DD");
    }
    for (std::size_t i = 0; const auto* t : top.tables("input")) {
      TomlTable r(*t, fmt::format("input[{}]", i++), file, diags);
      auto kpi_id = r.string("kpi", true).value_or("");
      const Kpi* kpi = catalog->find(kpi_id);
      if (!kpi_id.empty() && !kpi) r.error(*t->get("kpi"), fmt::format("unknown KPI \"{}\"", kpi_id));
      Dims dims;
      if (const auto* d = r.table("dims"))
        for (const auto& [k, v] : *d) dims[std::string(k.str())] = v.value_or(std::string());
      if (kpi)
        for (const auto& dim : kpi->dims)
          if (!dims.contains(dim.name) && dim.default_value) dims[dim.name] = *dim.default_value;
      const toml::table* values = r.table("values");
      const toml::table* items = r.table("items");
      r.reject_unknown_keys();
      if (!kpi) continue;
      if ((values != nullptr) == (items != nullptr)) {
        r.error("give \"values\" (numbers) or \"items\" (item lists), one of them");
        continue;
      }
      for (const auto& [period_text, node] : values ? *values : *items) {
        auto period = parse_period(period_text.str(), kpi->period);
        if (!period) {
          r.error(node, period.error().message);
          continue;
        }
        Point p;
        p.period = period.value();
        if (values) {
          if (!node.is_number()) {
            r.error(node, "a value must be a number");
            continue;
          }
          p.value = node.value<double>();
        } else if (const auto* array = node.as_array()) {
          for (const auto& item : *array) p.items.push_back(item.value_or(std::string()));
        } else {
          r.error(node, "items must be an array of strings");
          continue;
        }
        index.upsert(kpi->id, dims, std::move(p));
      }
    }
    for (std::size_t i = 0; const auto* t : top.tables("expect", true)) {
      TomlTable r(*t, fmt::format("expect[{}]", i++), file, diags);
      Expectation e;
      e.line = static_cast<int>(t->source().begin.line);
      if (auto at = r.string("at")) e.at_text = *at;
      if (auto now = r.string("now")) {
        e.now = parse_day(*now);
        if (!e.now) r.error(*t->get("now"), "\"now\" must be a date, YYYY-MM-DD");
      } else {
        e.now = default_now;
      }
      if (e.at_text.empty() && !e.now) r.error("an expectation needs \"at\" (a period) or \"now\" (a date)");
      if (const auto* alerts = t->get_as<toml::array>("alerts")) {
        for (const auto& node : *alerts) {
          const auto* a = node.as_table();
          if (!a) {
            r.error(node, "each alert is a table: { rule = \"...\", state = \"firing\", labels = { ... } }");
            continue;
          }
          TomlTable ar(*a, "alert", file, diags);
          Expected x;
          x.line = static_cast<int>(a->source().begin.line);
          x.rule = ar.string("rule", true).value_or("");
          if (auto state = ar.string("state"); state && !parse_alert_state(*state, x.state))
            ar.error(*a->get("state"), "state must be pending or firing");
          if (const auto* l = ar.table("labels"))
            for (const auto& [k, v] : *l) x.labels[std::string(k.str())] = v.value_or(std::string());
          ar.reject_unknown_keys();
          e.alerts.push_back(std::move(x));
        }
      }
      r.known("alerts");
      if (t->contains("alerts") && !t->get_as<toml::array>("alerts")) r.error("\"alerts\" must be an array");
      r.reject_unknown_keys();
      expectations.push_back(std::move(e));
    }
    top.reject_unknown_keys();
  }

  auto sources = RuleSet::read_sources(rule_files);
  if (!sources) diags.push_back({file, 0, 0, sources.error().message});
  std::shared_ptr<const RuleSet> rules;
  if (sources) {
    auto loaded = RuleSet::load(sources.value(), catalog);
    if (auto* d = std::get_if<Diagnostics>(&loaded))
      diags.insert(diags.end(), d->begin(), d->end());
    else
      rules = std::get<0>(loaded);
  }
  if (!diags.empty()) {
    for (const auto& d : diags) out += fmt::format("  FAILED: {}\n", d.str());
    return false;
  }

  bool passed = true;
  for (const auto& e : expectations) {
    std::vector<Evaluation> evaluations;
    if (!e.at_text.empty()) {
      // The period kind comes from the KPIs the expectation names, else from the inputs.
      bool known_period = false;
      for (const Series* s : index.all()) {
        const Kpi* kpi = catalog->find(s->kpi);
        auto period = parse_period(e.at_text, kpi->period);
        if (!period) continue;
        known_period = true;
        bool seen = false;
        for (const auto& done : evaluations) seen = seen || done.period == period.value();
        if (seen) continue;
        auto more = rules->evaluate_at(index, period.value());
        evaluations.insert(evaluations.end(), more.begin(), more.end());
      }
      if (!known_period) {  // a typo must not pass as "no alerts"
        passed = false;
        out += fmt::format("  FAILED: at {}\n    {}:{}: \"at\" = \"{}\" is not a period of any input series\n",
                           e.at_text, file, e.line, e.at_text);
        continue;
      }
    }
    if (e.now) {
      auto more = rules->evaluate_deadlines(index, *e.now);
      evaluations.insert(evaluations.end(), more.begin(), more.end());
    }
    std::vector<const AlertSample*> actual;
    for (const auto& ev : evaluations)
      for (const auto& a : ev.active)
        if (std::none_of(actual.begin(), actual.end(), [&](auto* x) { return x->fingerprint == a.fingerprint; }))
          actual.push_back(&a);

    std::vector<bool> used(actual.size(), false);
    std::vector<std::string> problems;
    for (const auto& x : e.alerts) {
      bool found = false;
      for (std::size_t i = 0; i < actual.size() && !found; ++i) {
        if (used[i] || actual[i]->rule_id != x.rule || actual[i]->state != x.state ||
            !labels_match(x.labels, actual[i]->labels))
          continue;
        used[i] = found = true;
      }
      if (!found)
        problems.push_back(
            fmt::format("{}:{}: expected alert not raised: {}", file, x.line, describe(x.rule, x.state, x.labels)));
    }
    for (std::size_t i = 0; i < actual.size(); ++i)
      if (!used[i])
        problems.push_back(fmt::format("{}:{}: unexpected alert: {} — {}", file, e.line,
                                       describe(actual[i]->rule_id, actual[i]->state, actual[i]->labels),
                                       actual[i]->summary_en));
    std::string when = e.at_text.empty() ? "" : "at " + e.at_text;
    if (e.now) when += (when.empty() ? "" : ", ") + std::string("now ") + format_rfc3339(*e.now).substr(0, 10);
    if (problems.empty()) {
      out += fmt::format("  ok: {} ({} alert(s))\n", when, e.alerts.size());
    } else {
      passed = false;
      out += fmt::format("  FAILED: {}\n", when);
      for (const auto& p : problems) out += "    " + p + "\n";
    }
  }
  out += passed ? "  SUCCESS\n" : "  FAILED\n";
  return passed;
}

}  // namespace

RuleTestReport run_rule_tests(const std::vector<std::string>& files, const std::shared_ptr<const Catalog>& catalog) {
  RuleTestReport report;
  for (const auto& file : files) {
    if (run_file(file, catalog, report.output))
      ++report.passed;
    else
      ++report.failed;
  }
  return report;
}

}  // namespace kpiwatch
