// Alert states across evaluations: inactive → pending → firing → resolved,
// one transition per change of state, never one per evaluation.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "kpiwatch/alert_book.hpp"
#include "kpiwatch/catalog.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/series.hpp"

namespace kpiwatch {
namespace {

using ::testing::IsEmpty;

const std::shared_ptr<const Catalog>& catalog() {
  static const std::shared_ptr<const Catalog> c = Catalog::embedded();
  return c;
}

std::shared_ptr<const RuleSet> load(const std::string& text) {
  auto loaded = RuleSet::load({{"book.toml", text}}, catalog());
  if (auto* diags = std::get_if<Diagnostics>(&loaded)) {
    std::string all;
    for (const auto& d : *diags) all += d.str() + "\n";
    ADD_FAILURE() << all;
    return nullptr;
  }
  return std::get<0>(loaded);
}

const std::string kBelow50 =
    "[[rule]]\nid = \"few-trainees\"\ntitle = \"Few trainees\"\nkpi = \"g01.trainees\"\nseverity = \"warning\"\n"
    "hold_for = 2\nsummary_ja = \"{value}\"\nsummary_en = \"{value} trainees in {period}\"\n"
    "[rule.threshold]\nbelow = 50\n";

const std::string kOther =
    "[[rule]]\nid = \"other\"\ntitle = \"Other\"\nkpi = \"g01.training_courses\"\nseverity = \"info\"\n"
    "summary_ja = \"x\"\nsummary_en = \"x\"\n[rule.threshold]\nbelow = 1\n";

TimePoint day(int d) { return std::chrono::sys_days(std::chrono::year(2025) / 1 / d) + std::chrono::hours(9); }

// Feeds one figure and plans + commits what the rules say.
struct Harness {
  std::shared_ptr<const RuleSet> rules;
  SeriesIndex index;
  AlertBook book;

  AlertChanges submit(const std::string& kpi, const std::string& year, double value, TimePoint now) {
    Period p = parse_period(year, PeriodKind::year).value();
    index.upsert(kpi, {}, Point{p, value, {}});
    auto changes = book.plan(rules->evaluate_changed(index, kpi, {}), now);
    book.commit(changes);
    return changes;
  }
};

std::string fingerprint() { return alert_fingerprint("few-trainees", Labels{{"kpi", "g01.trainees"}}); }

TEST(AlertBook, InactivePendingFiringResolved) {
  Harness h{load(kBelow50), {}, {}};
  ASSERT_TRUE(h.rules);

  auto c = h.submit("g01.trainees", "2022", 60, day(1));
  EXPECT_TRUE(c.empty()) << "nothing holds: nothing to store";
  EXPECT_EQ(h.book.find(fingerprint()), nullptr);

  c = h.submit("g01.trainees", "2023", 40, day(2));
  ASSERT_EQ(c.transitions.size(), 1u);
  EXPECT_EQ(c.transitions[0].from, AlertState::inactive);
  EXPECT_EQ(c.transitions[0].to, AlertState::pending);
  EXPECT_EQ(format_rfc3339(c.transitions[0].at), format_rfc3339(day(2)));
  EXPECT_EQ(c.transitions[0].alert.fingerprint, fingerprint());
  ASSERT_EQ(c.updated.size(), 1u);
  EXPECT_EQ(c.updated[0].state, AlertState::pending);
  EXPECT_EQ(format_rfc3339(c.updated[0].active_since), format_rfc3339(day(2)));
  EXPECT_FALSE(c.updated[0].firing_since.has_value());
  EXPECT_EQ(h.book.active_count(), 1u);

  c = h.submit("g01.trainees", "2024", 45, day(3));
  ASSERT_EQ(c.transitions.size(), 1u);
  EXPECT_EQ(c.transitions[0].from, AlertState::pending);
  EXPECT_EQ(c.transitions[0].to, AlertState::firing);
  const AlertRecord* r = h.book.find(fingerprint());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state, AlertState::firing);
  EXPECT_EQ(format_rfc3339(r->active_since), format_rfc3339(day(2)));
  EXPECT_EQ(format_rfc3339(r->firing_since), format_rfc3339(day(3)));
  EXPECT_EQ(r->period, "2024");
  EXPECT_EQ(r->value, 45.0);
  EXPECT_EQ(r->summary_en, "45 trainees in 2024");

  c = h.submit("g01.trainees", "2024", 60, day(4));  // a revision that removes the condition
  ASSERT_EQ(c.transitions.size(), 1u);
  EXPECT_EQ(c.transitions[0].from, AlertState::firing);
  EXPECT_EQ(c.transitions[0].to, AlertState::resolved);
  EXPECT_EQ(format_rfc3339(c.transitions[0].alert.resolved_at), format_rfc3339(day(4)));
  // Kept by its state only: its texts are in storage.
  EXPECT_EQ(h.book.find(fingerprint()), nullptr);
  EXPECT_EQ(h.book.state_of(fingerprint()), AlertState::resolved);
  EXPECT_EQ(h.book.count(AlertState::resolved), 1u);
  EXPECT_EQ(h.book.count(AlertState::firing), 0u);
  EXPECT_EQ(h.book.active_count(), 0u);
}

TEST(AlertBook, FiringStaysFiringAndNothingChangesWithoutNewFigures) {
  Harness h{load(kBelow50), {}, {}};
  ASSERT_TRUE(h.rules);
  h.submit("g01.trainees", "2023", 40, day(1));
  h.submit("g01.trainees", "2024", 45, day(2));
  ASSERT_EQ(h.book.find(fingerprint())->state, AlertState::firing);

  // Still below 50: no transition, but the new figure is stored.
  auto c = h.submit("g01.trainees", "2024", 44, day(3));
  EXPECT_THAT(c.transitions, IsEmpty());
  ASSERT_EQ(c.updated.size(), 1u);
  EXPECT_EQ(c.updated[0].state, AlertState::firing);
  EXPECT_EQ(c.updated[0].value, 44.0);
  EXPECT_EQ(format_rfc3339(c.updated[0].firing_since), format_rfc3339(day(2)));

  // The same figures evaluated again change nothing at all.
  auto again = h.book.plan(h.rules->evaluate_all(h.index), day(4));
  EXPECT_TRUE(again.empty());
  EXPECT_THAT(again.transitions, IsEmpty());

  // A figure of a KPI the rule does not read evaluates nothing.
  c = h.submit("g01.training_courses", "2024", 50, day(5));
  EXPECT_TRUE(c.empty());
}

TEST(AlertBook, PlanningDoesNotChangeTheBookUntilCommitted) {
  Harness h{load(kBelow50), {}, {}};
  ASSERT_TRUE(h.rules);
  h.submit("g01.trainees", "2023", 40, day(1));
  h.index.upsert("g01.trainees", {}, Point{parse_period("2024", PeriodKind::year).value(), 40.0, {}});
  auto planned = h.book.plan(h.rules->evaluate_all(h.index), day(2));
  ASSERT_EQ(planned.transitions.size(), 1u);
  EXPECT_EQ(h.book.find(fingerprint())->state, AlertState::pending);
  // Planned again (e.g. after a failed store): the same transition again.
  auto replanned = h.book.plan(h.rules->evaluate_all(h.index), day(3));
  ASSERT_EQ(replanned.transitions.size(), 1u);
  EXPECT_EQ(replanned.transitions[0].to, AlertState::firing);
  h.book.commit(replanned);
  EXPECT_EQ(h.book.find(fingerprint())->state, AlertState::firing);
}

TEST(AlertBook, APendingAlertThatStopsHoldingGoesBackToInactive) {
  Harness h{load(kBelow50), {}, {}};
  ASSERT_TRUE(h.rules);
  h.submit("g01.trainees", "2023", 40, day(1));
  auto c = h.submit("g01.trainees", "2023", 70, day(2));
  ASSERT_EQ(c.transitions.size(), 1u);
  EXPECT_EQ(c.transitions[0].from, AlertState::pending);
  EXPECT_EQ(c.transitions[0].to, AlertState::inactive);
  EXPECT_FALSE(c.transitions[0].alert.resolved_at.has_value()) << "it never fired";
  EXPECT_EQ(h.book.state_of(fingerprint()), AlertState::inactive);
  EXPECT_EQ(h.book.count(AlertState::inactive), 1u);
}

TEST(AlertBook, AResolvedAlertCanStartANewEpisode) {
  Harness h{load(kBelow50), {}, {}};
  ASSERT_TRUE(h.rules);
  h.submit("g01.trainees", "2022", 40, day(1));
  h.submit("g01.trainees", "2023", 40, day(2));
  h.submit("g01.trainees", "2024", 60, day(3));
  ASSERT_EQ(h.book.state_of(fingerprint()), AlertState::resolved);
  auto c = h.submit("g01.trainees", "2024", 30, day(4));  // revised back down: 2023 and 2024 hold
  ASSERT_EQ(c.transitions.size(), 1u);
  EXPECT_EQ(c.transitions[0].from, AlertState::resolved);
  EXPECT_EQ(c.transitions[0].to, AlertState::firing);
  const AlertRecord* r = h.book.find(fingerprint());
  EXPECT_EQ(format_rfc3339(r->active_since), format_rfc3339(day(4)));
  EXPECT_EQ(format_rfc3339(r->firing_since), format_rfc3339(day(4)));
  EXPECT_FALSE(r->resolved_at.has_value());
}

TEST(AlertBook, AFigureTheConditionNeedsIsMissingNeitherFiresNorResolves) {
  // Trainees per course: the two figures of a year arrive in separate submissions.
  Harness h{load("[[rule]]\nid = \"per-course\"\ntitle = \"t\"\nkpi = \"g01.trainees\"\nseverity = \"warning\"\n"
                 "summary_ja = \"{value}\"\nsummary_en = \"{value} per course in {period}\"\n"
                 "[rule.expression]\nexpr = \"g01.trainees / g01.training_courses < 50\"\n"),
            {},
            {}};
  ASSERT_TRUE(h.rules);
  const std::string fp = alert_fingerprint("per-course", Labels{{"kpi", "g01.trainees"}});
  h.submit("g01.training_courses", "2024", 50, day(1));
  auto c = h.submit("g01.trainees", "2024", 2399, day(1));
  ASSERT_EQ(c.transitions.size(), 1u);
  EXPECT_EQ(c.transitions[0].to, AlertState::firing);

  // 2025: trainees first. Trainees per course cannot be computed yet: still firing, on 2024.
  c = h.submit("g01.trainees", "2025", 2000, day(2));
  EXPECT_TRUE(c.empty()) << c.transitions.size() << " transition(s)";
  EXPECT_EQ(h.book.find(fp)->state, AlertState::firing);
  EXPECT_EQ(h.book.find(fp)->period, "2024");
  // Division by zero is no figure either.
  c = h.submit("g01.training_courses", "2025", 0, day(3));
  EXPECT_TRUE(c.empty());
  // The courses arrive: 40 per course, still below 50: firing on 2025, no new transition.
  c = h.submit("g01.training_courses", "2025", 50, day(4));
  EXPECT_THAT(c.transitions, IsEmpty());
  ASSERT_EQ(c.updated.size(), 1u);
  EXPECT_EQ(c.updated[0].period, "2025");
  EXPECT_EQ(c.updated[0].summary_en, "40 per course in 2025");
  // Corrected to 20 courses: 100 per course, resolved.
  c = h.submit("g01.training_courses", "2025", 20, day(5));
  ASSERT_EQ(c.transitions.size(), 1u);
  EXPECT_EQ(c.transitions[0].to, AlertState::resolved);
}

TEST(AlertBook, AGapInAChangeRuleKeepsTheState) {
  Harness h{load("[[rule]]\nid = \"falling\"\ntitle = \"t\"\nkpi = \"g01.trainees\"\nseverity = \"warning\"\n"
                 "summary_ja = \"x\"\nsummary_en = \"x\"\n[rule.change]\ndirection = \"falling\"\nby = \"points\"\n"),
            {},
            {}};
  ASSERT_TRUE(h.rules);
  h.submit("g01.trainees", "2023", 100, day(1));
  auto c = h.submit("g01.trainees", "2024", 90, day(1));
  ASSERT_EQ(c.transitions.size(), 1u);
  c = h.submit("g01.trainees", "2026", 95, day(2));  // no 2025: no change to compare
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(h.book.find(alert_fingerprint("falling", Labels{{"kpi", "g01.trainees"}}))->state, AlertState::firing);
  c = h.submit("g01.trainees", "2025", 90, day(3));  // 2025 → 2026 rose: resolved
  ASSERT_EQ(c.transitions.size(), 1u);
  EXPECT_EQ(c.transitions[0].to, AlertState::resolved);
}

TEST(AlertBook, RetiredRulesResolveAndRemainingOnesKeepTheirState) {
  auto both = load(kBelow50 + kOther);
  ASSERT_TRUE(both);
  Harness h{both, {}, {}};
  h.submit("g01.trainees", "2023", 40, day(1));
  h.submit("g01.trainees", "2024", 40, day(2));
  h.submit("g01.training_courses", "2024", 0, day(2));
  const std::string other = alert_fingerprint("other", Labels{{"kpi", "g01.training_courses"}});
  ASSERT_EQ(h.book.find(other)->state, AlertState::firing);
  ASSERT_EQ(h.book.find(fingerprint())->state, AlertState::firing);

  EXPECT_TRUE(h.book.plan_retired(*both, day(3)).empty());

  auto only_other = load(kOther);
  auto c = h.book.plan_retired(*only_other, day(3));
  ASSERT_EQ(c.transitions.size(), 1u);
  EXPECT_EQ(c.transitions[0].alert.fingerprint, fingerprint());
  EXPECT_EQ(c.transitions[0].from, AlertState::firing);
  EXPECT_EQ(c.transitions[0].to, AlertState::resolved);
  h.book.commit(c);
  // The remaining rule's alert, evaluated by the new set, is unchanged.
  EXPECT_TRUE(h.book.plan(only_other->evaluate_all(h.index), day(4)).empty());
  EXPECT_EQ(h.book.find(other)->state, AlertState::firing);
  EXPECT_EQ(format_rfc3339(h.book.find(other)->firing_since), format_rfc3339(day(2)));
}

TEST(AlertBook, ARuleThatNoLongerWatchesASeriesResolvesItsAlerts) {
  auto rule = [](const std::string& kpi, const std::string& dims) {
    return "[[rule]]\nid = \"falling\"\ntitle = \"t\"\nkpi = \"" + kpi + "\"\n" + dims +
           "severity = \"warning\"\nsummary_ja = \"x\"\nsummary_en = \"x\"\n"
           "[rule.change]\ndirection = \"falling\"\nby = \"points\"\nmore_than = 5\n";
  };
  auto every_stage = load(rule("g06.stage_up_rate", ""));
  ASSERT_TRUE(every_stage);
  SeriesIndex index;
  AlertBook book;
  for (const std::string stage : {"all", "clinical"}) {
    index.upsert("g06.stage_up_rate", {{"stage", stage}},
                 Point{parse_period("2023", PeriodKind::year).value(), 30.0, {}});
    index.upsert("g06.stage_up_rate", {{"stage", stage}},
                 Point{parse_period("2024", PeriodKind::year).value(), 20.0, {}});
  }
  book.commit(book.plan(every_stage->evaluate_all(index), day(1)));
  ASSERT_EQ(book.active_count(), 2u);
  const std::string all = alert_fingerprint("falling", Labels{{"kpi", "g06.stage_up_rate"}, {"stage", "all"}});
  const std::string clinical =
      alert_fingerprint("falling", Labels{{"kpi", "g06.stage_up_rate"}, {"stage", "clinical"}});

  // The rule is narrowed to stage = "all": nothing would ever evaluate the clinical alert again.
  auto only_all = load(rule("g06.stage_up_rate", "dims = { stage = \"all\" }\n"));
  ASSERT_TRUE(only_all);
  auto c = book.plan_retired(*only_all, day(2));
  ASSERT_EQ(c.transitions.size(), 1u);
  EXPECT_EQ(c.transitions[0].alert.fingerprint, clinical);
  EXPECT_EQ(c.transitions[0].to, AlertState::resolved);
  book.commit(c);
  EXPECT_TRUE(book.plan(only_all->evaluate_all(index), day(2)).empty());
  EXPECT_EQ(book.find(all)->state, AlertState::firing);

  // Moved to another KPI: the remaining alert resolves too.
  auto other_kpi = load(rule("g06.market_launch_rate", ""));
  ASSERT_TRUE(other_kpi);
  c = book.plan_retired(*other_kpi, day(3));
  ASSERT_EQ(c.transitions.size(), 1u);
  EXPECT_EQ(c.transitions[0].alert.fingerprint, all);
}

TEST(AlertBook, ReloadedFromStorageItRaisesNoTransitionAgain) {
  Harness h{load(kBelow50 + kOther), {}, {}};
  ASSERT_TRUE(h.rules);
  h.submit("g01.trainees", "2023", 40, day(1));
  h.submit("g01.trainees", "2024", 40, day(2));
  h.submit("g01.training_courses", "2024", 1, day(2));
  std::vector<AlertRecord> stored;
  for (const auto& fp : {fingerprint(), alert_fingerprint("other", Labels{{"kpi", "g01.training_courses"}})})
    if (const AlertRecord* r = h.book.find(fp)) stored.push_back(*r);
  ASSERT_EQ(stored.size(), 1u);

  AlertBook restarted;
  restarted.load(stored);
  EXPECT_EQ(restarted.active_count(), 1u);
  EXPECT_TRUE(restarted.plan(h.rules->evaluate_all(h.index), day(5)).empty());
}

TEST(AlertBook, AlertsThatAreNotActiveAreKeptByTheirStateAndCounted) {
  Harness h{load(kBelow50), {}, {}};
  ASSERT_TRUE(h.rules);
  h.book.add_state(fingerprint(), AlertState::resolved);
  h.book.add_state("0123456789abcdef", AlertState::inactive);
  EXPECT_EQ(h.book.count(AlertState::resolved), 1u);
  EXPECT_EQ(h.book.count(AlertState::inactive), 1u);
  auto c = h.submit("g01.trainees", "2023", 40, day(1));
  ASSERT_EQ(c.transitions.size(), 1u);
  EXPECT_EQ(c.transitions[0].from, AlertState::resolved) << "a stored resolved alert starts a new episode";
  EXPECT_EQ(c.transitions[0].to, AlertState::pending);
  h.submit("g01.trainees", "2024", 40, day(2));
  EXPECT_EQ(h.book.count(AlertState::resolved), 0u);
  EXPECT_EQ(h.book.count(AlertState::firing), 1u);
  EXPECT_EQ(h.book.count(AlertState::inactive), 1u);
}

TEST(AlertBook, EachNewItemIsItsOwnAlertInOneGroup) {
  auto rules = load(
      "[[rule]]\nid = \"new\"\ntitle = \"New\"\nkpi = \"g10.new_reference_countries\"\nseverity = \"info\"\n"
      "summary_ja = \"{items}\"\nsummary_en = \"{items}\"\n[rule.new_item]\n");
  ASSERT_TRUE(rules);
  SeriesIndex index;
  AlertBook book;
  const std::string kpi = "g10.new_reference_countries";
  auto p2024 = parse_period("2024", PeriodKind::year).value();
  index.upsert(kpi, {}, Point{parse_period("2023", PeriodKind::year).value(), std::nullopt, {"Peru"}});
  index.upsert(kpi, {}, Point{p2024, std::nullopt, {"Brazil", "Egypt"}});
  auto c = book.plan(rules->evaluate_at(index, p2024), day(1));
  book.commit(c);
  ASSERT_EQ(c.transitions.size(), 2u);
  for (const auto& t : c.transitions) EXPECT_EQ(t.to, AlertState::firing);

  // A revision drops Egypt: its alert resolves, Brazil's stays.
  index.upsert(kpi, {}, Point{p2024, std::nullopt, {"Brazil"}});
  c = book.plan(rules->evaluate_at(index, p2024), day(2));
  book.commit(c);
  ASSERT_EQ(c.transitions.size(), 1u);
  EXPECT_EQ(c.transitions[0].alert.labels.at("item"), "Egypt");
  EXPECT_EQ(c.transitions[0].to, AlertState::resolved);
  EXPECT_EQ(book.find(alert_fingerprint("new", Labels{{"item", "Brazil"}, {"kpi", kpi}}))->state, AlertState::firing);
  EXPECT_EQ(book.active_count(), 1u);
}

}  // namespace
}  // namespace kpiwatch
