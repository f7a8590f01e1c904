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

// A test file as read: the rules it tests, its input series and its expectations.
struct TestFile {
  std::vector<std::string> rule_files;  // resolved against the test file's folder
  SeriesIndex index;
  std::vector<Expectation> expectations;
};

// Reads a test file's TOML; problems go to `diags`.
class TestFileReader {
 public:
  TestFileReader(const std::string& file, const Catalog& catalog, Diagnostics& diags)
      : file_(file), catalog_(catalog), diags_(diags) {}

  TestFile read(const toml::table& root) {
    TestFile test;
    TomlTable top(root, "", file_, diags_);
    auto base = fs::path(file_).parent_path();
    for (const auto& f : top.strings("rule_files", true).value_or(std::vector<std::string>{}))
      test.rule_files.push_back(fs::path(f).is_absolute() ? f : (base / f).lexically_normal().string());
    std::optional<TimePoint> default_now;
    if (auto now = top.string("now")) {
      default_now = parse_day(*now);
      if (!default_now) top.error(*root.get("now"), "\"now\" must be a date, YYYY-MM-DD");
    }
    for (std::size_t i = 0; const auto* t : top.tables("input")) read_input(*t, i++, test.index);
    for (std::size_t i = 0; const auto* t : top.tables("expect", true))
      test.expectations.push_back(read_expectation(*t, i++, default_now));
    top.reject_unknown_keys();
    return test;
  }

 private:
  // [[input]]: one series, its figures by period.
  void read_input(const toml::table& t, std::size_t index, SeriesIndex& out) {
    TomlTable r(t, fmt::format("input[{}]", index), file_, diags_);
    auto kpi_id = r.string("kpi", true).value_or("");
    const Kpi* kpi = catalog_.find(kpi_id);
    if (!kpi_id.empty() && !kpi) r.error(*t.get("kpi"), fmt::format("unknown KPI \"{}\"", kpi_id));
    Dims dims;
    if (const auto* d = r.table("dims"))
      for (const auto& [k, v] : *d) dims[std::string(k.str())] = v.value_or(std::string());
    if (kpi)
      for (const auto& dim : kpi->dims)
        if (!dims.contains(dim.name) && dim.default_value) dims[dim.name] = *dim.default_value;
    const toml::table* values = r.table("values");
    const toml::table* items = r.table("items");
    r.reject_unknown_keys();
    if (!kpi) return;
    if ((values != nullptr) == (items != nullptr)) {
      r.error("give \"values\" (numbers) or \"items\" (item lists), one of them");
      return;
    }
    for (const auto& [period_text, node] : values ? *values : *items)
      if (auto p = read_point(r, *kpi, values != nullptr, period_text.str(), node))
        out.upsert(kpi->id, dims, std::move(*p));
  }

  // One figure of an input: a number, or an item list.
  static std::optional<Point> read_point(TomlTable& r, const Kpi& kpi, bool number, std::string_view period_text,
                                         const toml::node& node) {
    auto period = parse_period(period_text, kpi.period);
    if (!period) {
      r.error(node, period.error().message);
      return std::nullopt;
    }
    Point p;
    p.period = period.value();
    if (number) {
      if (!node.is_number()) {
        r.error(node, "a value must be a number");
        return std::nullopt;
      }
      p.value = node.value<double>();
    } else if (const auto* array = node.as_array()) {
      for (const auto& item : *array) p.items.push_back(item.value_or(std::string()));
    } else {
      r.error(node, "items must be an array of strings");
      return std::nullopt;
    }
    return p;
  }

  // [[expect]]: the alerts active at a period, or at a time.
  Expectation read_expectation(const toml::table& t, std::size_t index, std::optional<TimePoint> default_now) {
    TomlTable r(t, fmt::format("expect[{}]", index), file_, diags_);
    Expectation e;
    e.line = static_cast<int>(t.source().begin.line);
    if (auto at = r.string("at")) e.at_text = *at;
    if (auto now = r.string("now")) {
      e.now = parse_day(*now);
      if (!e.now) r.error(*t.get("now"), "\"now\" must be a date, YYYY-MM-DD");
    } else {
      e.now = default_now;
    }
    if (e.at_text.empty() && !e.now) r.error("an expectation needs \"at\" (a period) or \"now\" (a date)");
    if (const auto* alerts = t.get_as<toml::array>("alerts"))
      for (const auto& node : *alerts)
        if (auto x = read_alert(r, node)) e.alerts.push_back(std::move(*x));
    r.known("alerts");
    if (t.contains("alerts") && !t.get_as<toml::array>("alerts")) r.error("\"alerts\" must be an array");
    r.reject_unknown_keys();
    return e;
  }

  std::optional<Expected> read_alert(TomlTable& r, const toml::node& node) {
    const auto* a = node.as_table();
    if (!a) {
      r.error(node, "each alert is a table: { rule = \"...\", state = \"firing\", labels = { ... } }");
      return std::nullopt;
    }
    TomlTable ar(*a, "alert", file_, diags_);
    Expected x;
    x.line = static_cast<int>(a->source().begin.line);
    x.rule = ar.string("rule", true).value_or("");
    if (auto state = ar.string("state"); state && !parse_alert_state(*state, x.state))
      ar.error(*a->get("state"), "state must be pending or firing");
    if (const auto* l = ar.table("labels"))
      for (const auto& [k, v] : *l) x.labels[std::string(k.str())] = v.value_or(std::string());
    ar.reject_unknown_keys();
    return x;
  }

  const std::string& file_;
  const Catalog& catalog_;
  Diagnostics& diags_;
};

std::optional<std::string> read_text(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The rules a test file names; null with `diags` if they do not load.
std::shared_ptr<const RuleSet> load_rules(const std::vector<std::string>& rule_files, const std::string& file,
                                          const std::shared_ptr<const Catalog>& catalog, Diagnostics& diags) {
  auto sources = RuleSet::read_sources(rule_files);
  if (!sources) {
    diags.push_back({file, 0, 0, sources.error().message});
    return nullptr;
  }
  auto loaded = RuleSet::load(sources.value(), catalog);
  if (auto* d = std::get_if<Diagnostics>(&loaded)) {
    diags.insert(diags.end(), d->begin(), d->end());
    return nullptr;
  }
  return std::get<0>(loaded);
}

// What one expectation is checked against.
struct TestRun {
  const std::string& file;
  const Catalog& catalog;
  const SeriesIndex& index;
  const RuleSet& rules;
};

// Data rules at the expectation's period, once per period kind that reads it;
// false if it is a period of no input series.
bool evaluate_at_period(const Expectation& e, const TestRun& run, std::vector<Evaluation>& evaluations) {
  // The period kind comes from the KPIs the expectation names, else from the inputs.
  bool known_period = false;
  for (const Series* s : run.index.all()) {
    const Kpi* kpi = run.catalog.find(s->kpi);
    auto period = parse_period(e.at_text, kpi->period);
    if (!period) continue;
    known_period = true;
    bool seen = std::any_of(evaluations.begin(), evaluations.end(),
                            [&](const Evaluation& done) { return done.period == period.value(); });
    if (seen) continue;
    auto more = run.rules.evaluate_at(run.index, period.value());
    evaluations.insert(evaluations.end(), more.begin(), more.end());
  }
  return known_period;
}

// The active alerts of the evaluations, each once.
std::vector<const AlertSample*> active_alerts(const std::vector<Evaluation>& evaluations) {
  std::vector<const AlertSample*> actual;
  for (const auto& ev : evaluations)
    for (const auto& a : ev.active)
      if (std::none_of(actual.begin(), actual.end(), [&](auto* x) { return x->fingerprint == a.fingerprint; }))
        actual.push_back(&a);
  return actual;
}

// Expected alerts not raised, and raised alerts not expected.
std::vector<std::string> differences(const Expectation& e, const std::vector<const AlertSample*>& actual,
                                     const std::string& file) {
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
  return problems;
}

// "at 2024", "now 2025-04-01", or both.
std::string describe_when(const Expectation& e) {
  std::string when = e.at_text.empty() ? "" : "at " + e.at_text;
  if (e.now) when += (when.empty() ? "" : ", ") + std::string("now ") + format_rfc3339(*e.now).substr(0, 10);
  return when;
}

// Checks one expectation; returns true if it holds. Appends to `out`.
bool check_expectation(const Expectation& e, const TestRun& run, std::string& out) {
  std::vector<Evaluation> evaluations;
  if (!e.at_text.empty() && !evaluate_at_period(e, run, evaluations)) {  // a typo must not pass as "no alerts"
    out += fmt::format("  FAILED: at {}\n    {}:{}: \"at\" = \"{}\" is not a period of any input series\n", e.at_text,
                       run.file, e.line, e.at_text);
    return false;
  }
  if (e.now) {
    auto more = run.rules.evaluate_deadlines(run.index, *e.now);
    evaluations.insert(evaluations.end(), more.begin(), more.end());
  }
  auto problems = differences(e, active_alerts(evaluations), run.file);
  if (problems.empty()) {
    out += fmt::format("  ok: {} ({} alert(s))\n", describe_when(e), e.alerts.size());
    return true;
  }
  out += fmt::format("  FAILED: {}\n", describe_when(e));
  for (const auto& p : problems) out += "    " + p + "\n";
  return false;
}

// Runs one test file; returns true if it passed. Appends to `out`.
bool run_file(const std::string& file, const std::shared_ptr<const Catalog>& catalog, std::string& out) {
  out += fmt::format("Unit testing: {}\n", file);
  auto text = read_text(file);
  if (!text) {
    out += "  FAILED: cannot open the file\n";
    return false;
  }
  Diagnostics diags;
  TestFile test;
  if (auto root = parse_toml(*text, file, diags)) test = TestFileReader(file, *catalog, diags).read(*root);
  auto rules = load_rules(test.rule_files, file, catalog, diags);
  if (!diags.empty()) {
    for (const auto& d : diags) out += fmt::format("  FAILED: {}\n", d.str());
    return false;
  }
  TestRun run{file, *catalog, test.index, *rules};
  bool passed = true;
  for (const auto& e : test.expectations) passed = check_expectation(e, run, out) && passed;
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
