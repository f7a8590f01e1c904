#pragma once
// The rule engine: rules that policy staff write in TOML, evaluated per series.
// Knows neither SQL nor HTTP: it reads a SeriesIndex and returns evaluations.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/alert.hpp"
#include "kpiwatch/catalog.hpp"
#include "kpiwatch/clock.hpp"
#include "kpiwatch/inhibit.hpp"
#include "kpiwatch/result.hpp"
#include "kpiwatch/series.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {

// A rule file's text and the name it is reported under.
struct RuleSource {
  std::string name;
  std::string text;
};

struct Rule;  // defined in rules/src/rule.hpp

// An alert as one evaluation sees it.
struct AlertSample {
  std::string fingerprint;
  std::string rule_id;
  std::string kpi;
  Labels labels;  // rule, kpi, goal, severity, the dims, item, and the rule's labels
  Severity severity = Severity::warning;
  AlertState state = AlertState::inactive;  // pending or firing
  Period period;
  std::optional<double> value;
  std::string summary_ja, summary_en, description_ja, description_en;
  std::vector<std::string> receivers;
};

// The result of evaluating one rule on one series: the alerts active in it.
// Alerts of this group that are not listed are no longer active.
struct Evaluation {
  std::string group;  // rule id + series
  std::string rule_id;
  Period period;
  std::vector<AlertSample> active;
  // The condition could not be evaluated (a figure it needs is missing): the
  // group's alerts neither fire nor resolve on it.
  bool unknown = false;
};

// A rule's condition as a policy officer reads it (「前年比で5ポイントを超えて低下」 /
// "falls by more than 5 points from the previous year"), and the bound on the
// value it sets, if any: a fixed one (threshold, at-or-below level), or one
// relative to the figure a change is compared against.
struct RuleCriterion {
  std::string ja, en;
  enum class Bound { none, fixed, change } bound = Bound::none;
  double fixed = 0;      // Bound::fixed
  double amount = 0;     // Bound::change: by how much the figure may change
  bool percent = false;  // the amount is a percentage of the reference
  bool falling = true;   // a fall is the concern: the bound lies below the reference
  // Bound::change: what the figure is compared against.
  enum class Against { previous_period, last_reported, baseline } against = Against::previous_period;
  std::optional<Period> baseline;

  // The value the figure had to stay beyond; `reference` is the compared figure (for a change).
  std::optional<double> bound_value(std::optional<double> reference = std::nullopt) const;
  // 「基準値 28.1%（前年の33.1%から5ポイント低下）」 / "bound 28.1% (5 points below 33.1% in the previous year)".
  std::string bound_label(double bound, const Kpi& kpi, Lang lang) const;
};

// "33.1%", "4,086人" / "4,086 trainees": a figure of `kpi` as the report prints it.
std::string figure_with_unit(double value, const Kpi& kpi, Lang lang);

// The condition of `rule` in words for an alert on `kpi` (units and period words are the KPI's).
RuleCriterion describe_rule(const Rule& rule, const Kpi& kpi);

class RuleSet {
 public:
  ~RuleSet();
  // Loads and compiles rule files against the catalog; every error is reported.
  static Loaded<std::shared_ptr<const RuleSet>> load(const std::vector<RuleSource>& sources,
                                                     std::shared_ptr<const Catalog> catalog);
  // The shipped rules compiled into the binary (config/rules/*.toml).
  static std::vector<RuleSource> embedded_sources();
  // Reads files, and *.toml files of directories (sorted by name).
  static Result<std::vector<RuleSource>> read_sources(const std::vector<std::string>& paths);

  std::size_t size() const;
  std::vector<std::string> rule_ids() const;
  // The catalog the rules were compiled against.
  const Catalog& catalog() const { return *catalog_; }
  // SHA-256 (hex) of the rule files and the catalog: alert states evaluated by
  // rule sets of one digest are the same for the same figures.
  const std::string& digest() const { return digest_; }
  // Rule groups evaluated by the rule `id` (to find alerts of removed rules).
  bool has_rule(std::string_view id) const;
  // Whether the rule `id` still watches the series of an alert on `kpi` with these labels.
  bool covers(std::string_view id, std::string_view kpi, const Labels& labels) const;
  // A receiver a rule names, and where its name is written.
  struct ReceiverReference {
    std::string rule;
    std::string receiver;
    std::string file;
    int line = 0;
    int column = 0;
  };
  std::vector<ReceiverReference> receiver_references() const;
  // describe_rule of the rule `id` for an alert on `kpi`; none if there is no such rule.
  std::optional<RuleCriterion> criterion(std::string_view id, const Kpi& kpi) const;
  // The [[inhibit]] tables of every file, compiled.
  const std::vector<InhibitRule>& inhibit_rules() const { return inhibits_; }

  // Rules whose condition reads `kpi`, on the series it changed: each at the
  // latest period of its watched series. Missing-data rules are not included.
  std::vector<Evaluation> evaluate_changed(const SeriesIndex& index, std::string_view kpi, const Dims& dims) const;
  // Every data rule on every series, at the latest period of each.
  std::vector<Evaluation> evaluate_all(const SeriesIndex& index) const;
  // Every data rule on every series as of `at` (data up to it), for backtests.
  // Series whose KPI has another period kind are skipped.
  std::vector<Evaluation> evaluate_at(const SeriesIndex& index, const Period& at) const;
  // Missing-data rules against the clock.
  // Missing-data rules against the clock; with `only_kpi`, just that KPI's series
  // (after a submission, so that the figure resolves its alert at once).
  std::vector<Evaluation> evaluate_deadlines(const SeriesIndex& index, TimePoint now,
                                             std::string_view only_kpi = {}) const;

 private:
  RuleSet() = default;
  std::shared_ptr<const Catalog> catalog_;
  std::string digest_;
  std::vector<std::unique_ptr<Rule>> rules_;
  std::vector<InhibitRule> inhibits_;
  std::map<std::string, std::vector<const Rule*>, std::less<>> readers_;  // KPI → rules reading it
};

// A stable id for an alert: rule id and labels.
std::string alert_fingerprint(std::string_view rule_id, const Labels& series_labels);

}  // namespace kpiwatch
