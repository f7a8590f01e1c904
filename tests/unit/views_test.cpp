// The read side over a real SQLite file and the embedded catalog.

#include "kpiwatch/views.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace kpiwatch::views {
namespace {

constexpr const char* kRate = "g06.stage_up_rate";

Submission rate(int year, double value, const std::string& stage, const std::string& note = "") {
  Submission s;
  s.kpi = kRate;
  s.period = Period{PeriodKind::year, year, 0};
  s.dims = {{"stage", stage}};
  s.value = value;
  s.body = "amed";
  s.source = "AMED follow-up survey";
  s.note = note;
  return s;
}

AlertRecord alert(const std::string& fingerprint, AlertState state, Severity severity, const std::string& stage) {
  AlertRecord a;
  a.fingerprint = fingerprint;
  a.group = "g06";
  a.rule_id = "g06.stage_up_rate_fell";
  a.kpi = kRate;
  a.labels = {{"goal", "6"}, {"stage", stage}, {"rule", a.rule_id}};
  a.severity = severity;
  a.state = state;
  a.period = "2024";
  a.value = 26.8;
  a.active_since = a.updated_at = parse_rfc3339("2025-07-01T00:00:00Z");
  if (state == AlertState::firing) a.firing_since = a.active_since;
  return a;
}

class Views : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open({dir_.file("kpiwatch.db")});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened.value());
  }

  void submit(const std::vector<Submission>& batch, const std::string& by = "amed-token") {
    auto stored = store_->revisions().append(batch, by, "2025-06-30T09:00:00Z");
    ASSERT_TRUE(stored.ok()) << stored.error().message;
  }

  void save(const AlertRecord& a, AlertState from) {
    Transaction tx(store_->connection());
    ASSERT_TRUE(tx.began().ok());
    ASSERT_TRUE(store_->alerts().save({{{a, from, a.state, *a.updated_at}}, {a}}).ok());
    ASSERT_TRUE(tx.commit().ok());
  }

  test::TempDir dir_;
  std::shared_ptr<const Catalog> catalog_ = Catalog::embedded();
  std::unique_ptr<Store> store_;
};

TEST_F(Views, ASeriesViewGroupsBySeriesAndKeepsProvenance) {
  submit({rate(2022, 29.0, "all"), rate(2023, 33.1, "all"), rate(2024, 26.0, "all"), rate(2024, 40.0, "basic")});
  submit({rate(2024, 26.8, "all", "corrected")}, "ministry-token");
  const Kpi& kpi = *catalog_->find(kRate);

  auto current = series_view(*store_, kpi, SeriesQuery{kRate, {}, false});
  ASSERT_TRUE(current.ok()) << current.error().message;
  ASSERT_EQ(current->series.size(), 2u);
  const Series& all = current->series[0];
  EXPECT_EQ(all.dims.at("stage"), "all");
  ASSERT_EQ(all.points.size(), 3u);
  const Revision& latest = all.points.back();
  EXPECT_EQ(latest.submission.period.str(), "2024");
  EXPECT_DOUBLE_EQ(*latest.submission.value, 26.8);
  EXPECT_EQ(latest.revision, 2);
  EXPECT_EQ(latest.submitted_by, "ministry-token");
  EXPECT_EQ(latest.submission.note, "corrected");
  EXPECT_EQ(latest.submission.source, "AMED follow-up survey");
  EXPECT_EQ(current->series[1].dims.at("stage"), "basic");

  auto history = series_view(*store_, kpi, SeriesQuery{kRate, {{"stage", "all"}}, true});
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->series.size(), 1u);
  EXPECT_EQ(history->series[0].points.size(), 4u);
  EXPECT_TRUE(history->revisions);
}

TEST_F(Views, TheOverviewWalksGoalsKpisLatestFiguresAndTheirAlerts) {
  submit({rate(2022, 29.0, "all"), rate(2023, 33.1, "all"), rate(2024, 25.0, "all"), rate(2024, 40.0, "basic")});
  submit({rate(2024, 26.8, "all", "corrected")});
  save(alert("fp-firing", AlertState::firing, Severity::critical, "all"), AlertState::pending);
  save(alert("fp-pending", AlertState::pending, Severity::warning, "basic"), AlertState::inactive);
  save(alert("fp-resolved", AlertState::resolved, Severity::warning, "clinical"), AlertState::firing);

  auto newest = store_->revisions().latest(kRate, 2);  // what the overview reads
  ASSERT_TRUE(newest.ok());
  std::vector<std::string> read;
  for (const auto& r : newest.value()) read.push_back(r.submission.dims.at("stage") + " " + r.submission.period.str());
  EXPECT_EQ(read, (std::vector<std::string>{"all 2023", "all 2024", "basic 2024"}));

  auto all = overview(*store_, *catalog_);
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(all->goals.size(), catalog_->goals().size());
  EXPECT_EQ(all->firing, (SeverityCounts{0, 0, 1}));

  auto one = overview(*store_, *catalog_, 6);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->goals.size(), 1u);
  const GoalOverview& goal = one->goals[0];
  EXPECT_EQ(goal.goal->number, 6);
  EXPECT_EQ(goal.firing, (SeverityCounts{0, 0, 1}));
  const KpiOverview* rates = nullptr;
  for (const auto& k : goal.kpis) {
    EXPECT_EQ(k.kpi->goal, 6);
    if (k.kpi->id == kRate) rates = &k;
  }
  ASSERT_NE(rates, nullptr);
  ASSERT_EQ(rates->bodies.size(), 1u);
  EXPECT_EQ(rates->bodies[0]->id, "amed");
  ASSERT_EQ(rates->latest.size(), 2u);
  const LatestFigure& headline = rates->latest[0];
  EXPECT_EQ(headline.latest.submission.period.str(), "2024");
  EXPECT_EQ(headline.latest.revision, 2);  // the current value, not the first one
  ASSERT_TRUE(headline.previous.has_value());
  EXPECT_EQ(headline.previous->submission.period.str(), "2023");
  ASSERT_TRUE(headline.change().has_value());
  EXPECT_EQ(*headline.change(), -6.3);                  // the double a person means, not -6.300000000000001
  EXPECT_FALSE(rates->latest[1].change().has_value());  // one figure only
  std::vector<std::string> fingerprints;
  for (const auto& a : rates->alerts) fingerprints.push_back(a.fingerprint);
  EXPECT_EQ(fingerprints, (std::vector<std::string>{"fp-firing", "fp-pending"}));
}

TEST_F(Views, AnAlertViewCarriesItsSeriesHistoryAndSilences) {
  submit({rate(2023, 33.1, "all"), rate(2024, 26.8, "all"), rate(2024, 40.0, "basic")});
  AlertRecord pending = alert("fp", AlertState::pending, Severity::critical, "all");
  save(pending, AlertState::inactive);
  AlertRecord firing = alert("fp", AlertState::firing, Severity::critical, "all");
  firing.updated_at = parse_rfc3339("2025-07-02T00:00:00Z");
  save(firing, AlertState::pending);
  Silence active{0, {{"stage", "all"}}, "2025-07-01T00:00:00Z", "2025-08-01T00:00:00Z", "ops", "known", ""};
  Silence over{0, {{"stage", "all"}}, "2025-06-01T00:00:00Z", "2025-06-30T00:00:00Z", "ops", "old", ""};
  Silence other{0, {{"stage", "basic"}}, "2025-07-01T00:00:00Z", "2025-08-01T00:00:00Z", "ops", "", ""};
  auto id = store_->silences().add(active);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(store_->silences().add(over).ok());
  ASSERT_TRUE(store_->silences().add(other).ok());

  auto missing = alert_view(*store_, *catalog_, "nope", "2025-07-15T00:00:00Z");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  auto view = alert_view(*store_, *catalog_, "fp", "2025-07-15T00:00:00Z");
  ASSERT_TRUE(view.ok()) << view.error().message;
  ASSERT_TRUE(view->has_value());
  const AlertView& v = **view;
  EXPECT_EQ(v.alert.state, AlertState::firing);
  ASSERT_EQ(v.history.size(), 2u);
  EXPECT_EQ(v.history[0].to, AlertState::pending);
  EXPECT_EQ(v.history[1].to, AlertState::firing);
  EXPECT_EQ(v.silenced_by, (std::vector<std::int64_t>{id.value()}));
  ASSERT_TRUE(v.figures.has_value());
  ASSERT_EQ(v.figures->series.size(), 1u);  // only the alert's own stage
  EXPECT_EQ(v.figures->series[0].dims.at("stage"), "all");
  EXPECT_EQ(v.figures->series[0].points.size(), 2u);
}

}  // namespace
}  // namespace kpiwatch::views
