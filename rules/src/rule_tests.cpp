#include "kpiwatch/rule_tests.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

#include "kpiwatch/messages.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/submission.hpp"
#include "kpiwatch/toml_reader.hpp"

namespace kpiwatch {
namespace fs = std::filesystem;
namespace {

// The rendered texts an expected alert may assert, by key and by member of the alert.
constexpr std::array<std::string_view, 4> kTextKeys = {"summary_ja", "summary_en", "description_ja", "description_en"};
constexpr std::array<std::string AlertSample::*, 4> kTextMembers = {
    &AlertSample::summary_ja, &AlertSample::summary_en, &AlertSample::description_ja, &AlertSample::description_en};

struct Expected {
  std::string rule;
  AlertState state = AlertState::firing;
  Labels labels;
  std::array<std::optional<std::string>, 4> texts;  // as kTextKeys; unset: not compared
  int line = 0;

  bool asserts_all_texts() const {
    return std::all_of(texts.begin(), texts.end(), [](const auto& t) { return t.has_value(); });
  }
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

bool same_alert(const Expected& x, const AlertSample& a) {
  return a.rule_id == x.rule && a.state == x.state && labels_match(x.labels, a.labels);
}

bool same_texts(const Expected& x, const AlertSample& a) {
  for (std::size_t i = 0; i < kTextKeys.size(); ++i)
    if (x.texts[i] && *x.texts[i] != a.*kTextMembers[i]) return false;
  return true;
}

// A TOML value as a client would send it in JSON, for the submission validation.
boost::json::value to_json(const toml::node& node) {
  boost::json::value out;
  node.visit([&out](const auto& v) {
    using T = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<T, toml::table>) {
      boost::json::object o;
      for (const auto& [k, child] : v) o[k.str()] = to_json(child);
      out = std::move(o);
    } else if constexpr (std::is_same_v<T, toml::array>) {
      boost::json::array a;
      for (const auto& child : v) a.push_back(to_json(child));
      out = std::move(a);
    } else if constexpr (std::is_same_v<T, toml::value<std::string>> || std::is_same_v<T, toml::value<double>> ||
                         std::is_same_v<T, toml::value<std::int64_t>> || std::is_same_v<T, toml::value<bool>>) {
      out = *v;
    } else {  // dates and times: as the text they were written as
      std::ostringstream text;
      text << v;
      out = text.str();
    }
  });
  return out;
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
  // Where in an [[input]] a refused figure was written.
  struct FigureNodes {
    const toml::table& input;
    const toml::table* dims;
    const toml::key& period;
    const toml::node& figure;
  };

  // [[input]]: one series, its figures by period, each validated as ingest validates a submission.
  void read_input(const toml::table& t, std::size_t index, SeriesIndex& out) {
    TomlTable r(t, fmt::format("input[{}]", index), file_, diags_);
    auto kpi_id = r.string("kpi", true).value_or("");
    const Kpi* kpi = catalog_.find(kpi_id);
    if (!kpi_id.empty() && !kpi) r.error(*t.get("kpi"), fmt::format("unknown KPI \"{}\"", kpi_id));
    const toml::table* dims = r.table("dims");
    const toml::table* values = r.table("values");
    const toml::table* items = r.table("items");
    r.reject_unknown_keys();
    if (!kpi) return;
    if ((values != nullptr) == (items != nullptr)) {
      r.error("give \"values\" (numbers) or \"items\" (item lists), one of them");
      return;
    }
    for (const auto& [period, node] : values ? *values : *items) {
      boost::json::object submission{{"kpi", kpi_id}, {"period", period.str()}};
      if (dims) submission["dims"] = to_json(*dims);
      submission[values ? "value" : "items"] = to_json(node);
      auto s = parse_submission(catalog_, submission);
      if (s)
        out.upsert(s.value().kpi, s.value().dims, Point{s.value().period, s.value().value, s.value().items});
      else
        refuse(r, s.error(), FigureNodes{t, dims, period, node});
    }
  }

  // Reports a figure the catalog refuses, at the value the error's field names.
  void refuse(const TomlTable& r, const Error& error, const FigureNodes& at) {
    const toml::source_region* region = &at.figure.source();
    const std::string& field = error.field;
    if (field == "period") {
      region = &at.period.source();
    } else if (field.starts_with("dims.")) {
      const toml::node* dim = at.dims ? at.dims->get(field.substr(5)) : nullptr;
      region = dim ? &dim->source() : at.dims ? &at.dims->source() : &at.input.source();
    } else if (field.starts_with("items[") && at.figure.is_array()) {
      auto i = std::stoul(field.substr(6));
      if (const toml::node* item = at.figure.as_array()->get(i)) region = &item->source();
    }
    diags_.push_back({file_, static_cast<int>(region->begin.line), static_cast<int>(region->begin.column),
                      fmt::format("{}, period \"{}\": {}", r.where(), at.period.str(), error.message)});
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
      r.error(node,
              "each alert is a table: { rule = \"...\", state = \"firing\", labels = { ... }, summary_ja = \"...\" }");
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
    for (std::size_t i = 0; i < kTextKeys.size(); ++i) x.texts[i] = ar.string(kTextKeys[i]);
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

// The first raised alert not yet paired that is the expected one (and, with `texts`, says what it expects).
std::optional<std::size_t> find_alert(const Expected& x, const std::vector<const AlertSample*>& actual,
                                      const std::vector<bool>& used, bool texts) {
  for (std::size_t i = 0; i < actual.size(); ++i)
    if (!used[i] && same_alert(x, *actual[i]) && (!texts || same_texts(x, *actual[i]))) return i;
  return std::nullopt;
}

// Each asserted text that the raised alert renders otherwise, both written whole.
void text_differences(const Expected& x, const AlertSample& a, const std::string& file, Lang lang,
                      std::vector<std::string>& problems) {
  for (std::size_t i = 0; i < kTextKeys.size(); ++i) {
    const std::string& got = a.*kTextMembers[i];
    if (!x.texts[i] || *x.texts[i] == got) continue;
    problems.push_back(fmt::format(
        fmt::runtime(lang == Lang::ja ? "{}:{}: アラート {}: {} が違います\n      期待: \"{}\"\n      結果: \"{}\""
                                      : "{}:{}: alert {}: {} differs\n      expected: \"{}\"\n      got:      \"{}\""),
        file, x.line, describe(a.rule_id, a.state, a.labels), kTextKeys[i], *x.texts[i], got));
  }
}

// Expected alerts not raised, raised alerts not expected, and asserted texts rendered otherwise.
// An expected alert is paired with a raised one whose texts match too, if there is one.
std::vector<std::string> differences(const Expectation& e, const std::vector<const AlertSample*>& actual,
                                     const std::string& file, Lang lang) {
  const bool ja = lang == Lang::ja;
  std::vector<bool> used(actual.size(), false);
  std::vector<std::optional<std::size_t>> paired;
  for (const auto& x : e.alerts) {
    paired.push_back(find_alert(x, actual, used, true));
    if (paired.back()) used[*paired.back()] = true;
  }
  std::vector<std::string> problems;
  for (std::size_t k = 0; k < e.alerts.size(); ++k) {
    const Expected& x = e.alerts[k];
    if (paired[k]) continue;
    if (auto i = find_alert(x, actual, used, false)) {
      used[*i] = true;
      text_differences(x, *actual[*i], file, lang, problems);
    } else {
      problems.push_back(fmt::format("{}:{}: {}: {}", file, x.line,
                                     ja ? "期待したアラートが出ていません" : "expected alert not raised",
                                     describe(x.rule, x.state, x.labels)));
    }
  }
  for (std::size_t i = 0; i < actual.size(); ++i)
    if (!used[i])
      problems.push_back(fmt::format("{}:{}: {}: {} — {}", file, e.line,
                                     ja ? "期待していないアラートが出ています" : "unexpected alert",
                                     describe(actual[i]->rule_id, actual[i]->state, actual[i]->labels),
                                     ja ? actual[i]->summary_ja : actual[i]->summary_en));
  return problems;
}

// "at 2024", "now 2025-04-01", or both.
std::string describe_when(const Expectation& e, Lang lang) {
  std::string when = e.at_text.empty() ? "" : (lang == Lang::ja ? "期間 " : "at ") + e.at_text;
  if (e.now)
    when += (when.empty() ? "" : ", ") + std::string(lang == Lang::ja ? "日付 " : "now ") +
            format_rfc3339(*e.now).substr(0, 10);
  return when;
}

// Checks one expectation; returns true if it holds. Appends to `out`.
bool check_expectation(const Expectation& e, const TestRun& run, Lang lang, std::string& out) {
  const bool ja = lang == Lang::ja;
  std::vector<Evaluation> evaluations;
  if (!e.at_text.empty() && !evaluate_at_period(e, run, evaluations)) {  // a typo must not pass as "no alerts"
    out += fmt::format(
        fmt::runtime(ja ? "  失敗: 期間 {}\n    {}:{}: at = \"{}\" はどの入力系列の期間でもありません\n"
                        : "  FAILED: at {}\n    {}:{}: \"at\" = \"{}\" is not a period of any input series\n"),
        e.at_text, run.file, e.line, e.at_text);
    return false;
  }
  if (e.now) {
    auto more = run.rules.evaluate_deadlines(run.index, *e.now);
    evaluations.insert(evaluations.end(), more.begin(), more.end());
  }
  auto problems = differences(e, active_alerts(evaluations), run.file, lang);
  if (problems.empty()) {
    out += fmt::format(fmt::runtime(ja ? "  成功: {}（アラート {} 件）\n" : "  ok: {} ({} alert(s))\n"),
                       describe_when(e, lang), e.alerts.size());
    return true;
  }
  out += fmt::format("  {}: {}\n", ja ? "失敗" : "FAILED", describe_when(e, lang));
  for (const auto& p : problems) out += "    " + p + "\n";
  return false;
}

// For --require-texts: the rules that fire in some expectation, and those with an alert asserting all texts.
struct TextCoverage {
  std::map<std::string, std::string> fired;  // rule id → where it first fires (file:line)
  std::set<std::string> asserted;

  void add(const TestFile& test, const RuleSet& rules, const std::string& file) {
    auto ids = rules.rule_ids();
    for (const auto& e : test.expectations)
      for (const auto& x : e.alerts) {
        if (std::find(ids.begin(), ids.end(), x.rule) == ids.end()) continue;
        if (x.state == AlertState::firing) fired.emplace(x.rule, fmt::format("{}:{}", file, x.line));
        if (x.asserts_all_texts()) asserted.insert(x.rule);
      }
  }

  // One line per firing rule without asserted texts; returns how many.
  int report(std::string& out) const {
    int missing = 0;
    for (const auto& [rule, where] : fired) {
      if (asserted.contains(rule)) continue;
      ++missing;
      out += fmt::format(
          "--require-texts: rule \"{}\" fires ({}) but none of its expected alerts asserts all four texts "
          "(summary_ja, summary_en, description_ja, description_en)\n",
          rule, where);
    }
    return missing;
  }
};

// Runs one test file; returns true if it passed. Appends to `out`.
bool run_file(const std::string& file, const std::shared_ptr<const Catalog>& catalog, Lang lang, std::string& out,
              TextCoverage& coverage) {
  const bool ja = lang == Lang::ja;
  out += fmt::format("{}: {}\n", ja ? "テスト" : "Unit testing", file);
  auto text = read_text(file);
  if (!text) {
    out += ja ? "  失敗: ファイルを開けません\n" : "  FAILED: cannot open the file\n";
    return false;
  }
  Diagnostics diags;
  TestFile test;
  if (auto root = parse_toml(*text, file, diags)) test = TestFileReader(file, *catalog, diags).read(*root);
  auto rules = load_rules(test.rule_files, file, catalog, diags);
  if (!diags.empty()) {
    for (const auto& d : diags) out += fmt::format("  {}: {}\n", ja ? "失敗" : "FAILED", render(d, lang));
    return false;
  }
  coverage.add(test, *rules, file);
  TestRun run{file, *catalog, test.index, *rules};
  bool passed = true;
  for (const auto& e : test.expectations) passed = check_expectation(e, run, lang, out) && passed;
  if (ja)
    out += passed ? "  成功\n" : "  失敗\n";
  else
    out += passed ? "  SUCCESS\n" : "  FAILED\n";
  return passed;
}

}  // namespace

RuleTestReport run_rule_tests(const std::vector<std::string>& files, const std::shared_ptr<const Catalog>& catalog,
                              const RuleTestOptions& options) {
  RuleTestReport report;
  TextCoverage coverage;
  for (const auto& file : files) {
    if (run_file(file, catalog, options.lang, report.output, coverage))
      ++report.passed;
    else
      ++report.failed;
  }
  if (options.require_texts) {
    std::string lines;
    report.rules_without_texts = coverage.report(lines);
    if (!lines.empty()) report.output += "\n" + lines;
  }
  return report;
}

}  // namespace kpiwatch
