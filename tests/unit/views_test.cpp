// The read side over a real SQLite file and the embedded catalog.

#include "kpiwatch/views.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
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
  EXPECT_EQ(v.series_dims, (Dims{{"stage", "all"}}));
}

// A catalog with one KPI of 16 series (15 sites and their total), for the caps.
std::shared_ptr<const Catalog> sites_catalog() {
  std::string values = "\"all\"", labels_ja = "all = \"全拠点\"", labels_en = "all = \"all sites\"";
  for (int i = 0; i < 30; ++i) {
    values += fmt::format(", \"s{:02}\"", i);
    labels_ja += fmt::format(", s{:02} = \"拠点{}\"", i, i);
    labels_en += fmt::format(", s{:02} = \"site {}\"", i, i);
  }
  auto loaded = Catalog::parse(fmt::format(R"(schema = 1
[[bodies]]
id = "amed"
name_ja = "日本医療研究開発機構"
name_en = "AMED"
[[goals]]
number = 1
name_ja = "目標"
name_en = "Goal"
bodies = ["amed"]
[[kpis]]
id = "g01.courses"
goal = 1
name_ja = "研修コース数"
name_en = "Training courses"
unit = "count"
period = "year"
bodies = ["amed"]
unit_ja = "コース"
unit_en = "courses"
[kpis.dims.site]
values = [{}]
labels_ja = {{ {} }}
labels_en = {{ {} }}
default = "all"
)",
                                           values, labels_ja, labels_en),
                               "sites.toml");
  if (auto* diags = std::get_if<Diagnostics>(&loaded)) {
    ADD_FAILURE() << diags->front().str();
    return nullptr;
  }
  return std::get<0>(loaded);
}

Submission course(const std::string& site, int year, double value) {
  Submission s;
  s.kpi = "g01.courses";
  s.period = Period{PeriodKind::year, year, 0};
  s.dims = {{"site", site}};
  s.value = value;
  s.body = "amed";
  return s;
}

AlertRecord course_alert(const std::string& fp, AlertState state, Severity severity, const std::string& criterion,
                         double value, int n) {
  AlertRecord a;
  a.fingerprint = fp;
  a.group = fp;
  a.rule_id = "r";
  a.kpi = "g01.courses";
  a.labels = {{"goal", "1"}, {"criterion", criterion}};
  a.severity = severity;
  a.state = state;
  a.period = "2024";
  a.value = value;
  a.active_since = a.updated_at = parse_rfc3339(fmt::format("2025-07-{:02}T00:00:00Z", n + 1));
  return a;
}

TEST_F(Views, TheOverviewCapsLatestAndAlertsAndLeadsWithTheOverallSeries) {
  auto catalog = sites_catalog();
  ASSERT_NE(catalog, nullptr);
  std::vector<Submission> batch;
  for (int year = 2011; year <= 2024; ++year) batch.push_back(course("all", year, year - 2000));
  for (int i = 0; i < 15; ++i) batch.push_back(course(fmt::format("s{:02}", i), 2024, i));
  submit(batch);
  for (int n = 0; n < 12; ++n)
    save(course_alert(fmt::format("fp{:02}", n), n < 9 ? AlertState::firing : AlertState::pending,
                      n % 2 ? Severity::critical : Severity::warning, n < 2 ? "missing_data" : "level", 3, n),
         AlertState::inactive);

  auto all = overview(*store_, *catalog);
  ASSERT_TRUE(all.ok()) << all.error().message;
  const KpiOverview& k = all->goals.at(0).kpis.at(0);
  EXPECT_EQ(k.series_count, 16);
  ASSERT_EQ(k.latest.size(), 10u);  // the first ten, in dims order
  EXPECT_EQ(k.latest[0].dims.at("site"), "all");
  EXPECT_EQ(k.latest[9].dims.at("site"), "s08");
  ASSERT_TRUE(k.trend.has_value());
  EXPECT_EQ(k.trend->dims.at("site"), "all");
  ASSERT_EQ(k.trend->points.size(), 10u);  // the last ten of fourteen years
  EXPECT_EQ(k.trend->points.front().submission.period.str(), "2015");
  EXPECT_EQ(k.trend->points.back().submission.period.str(), "2024");
  ASSERT_EQ(k.alerts.size(), 10u);  // newest first
  EXPECT_EQ(k.alerts.front().fingerprint, "fp11");
  EXPECT_EQ(k.active, 12);
  EXPECT_EQ(k.firing, (SeverityCounts{0, 5, 4}));
  EXPECT_EQ(k.overdue, 6);  // two firing missing-data alerts of 3 series each
  EXPECT_EQ(all->goals[0].overdue, 6);
  EXPECT_EQ(all->firing, (SeverityCounts{0, 5, 4}));
}

TEST_F(Views, AnAlertWithoutDimsShowsTheFirstTwentySeriesAndSaysHowManyThereAre) {
  auto catalog = sites_catalog();
  ASSERT_NE(catalog, nullptr);
  std::vector<Submission> batch;
  for (int i = 0; i < 25; ++i) batch.push_back(course(fmt::format("s{:02}", i), 2024, i));
  submit(batch);
  save(course_alert("overdue", AlertState::firing, Severity::warning, "missing_data", 25, 0), AlertState::inactive);
  auto view = alert_view(*store_, *catalog, "overdue", "2025-07-15T00:00:00Z");
  ASSERT_TRUE(view.ok()) << view.error().message;
  ASSERT_TRUE(view->has_value() && (*view)->figures.has_value());
  const SeriesView& figures = *(*view)->figures;
  EXPECT_EQ(figures.series.size(), 20u);
  EXPECT_EQ(figures.series_count, 25);
  EXPECT_EQ(figures.series.front().dims.at("site"), "s00");
}

TEST_F(Views, WithoutAnOverallSeriesTheFirstLeads) {
  auto catalog = sites_catalog();
  ASSERT_NE(catalog, nullptr);
  submit({course("s03", 2023, 1), course("s03", 2024, 2), course("s07", 2024, 5)});
  auto all = overview(*store_, *catalog);
  ASSERT_TRUE(all.ok());
  const KpiOverview& k = all->goals.at(0).kpis.at(0);
  ASSERT_TRUE(k.trend.has_value());
  EXPECT_EQ(k.trend->dims.at("site"), "s03");
  EXPECT_EQ(k.trend->points.size(), 2u);
}

TEST_F(Views, SeriesComeInPagesInDimsOrder) {
  auto catalog = sites_catalog();
  ASSERT_NE(catalog, nullptr);
  std::vector<Submission> batch;
  for (int i = 0; i < 15; ++i) {
    batch.push_back(course(fmt::format("s{:02}", i), 2023, i));
    batch.push_back(course(fmt::format("s{:02}", i), 2024, i + 1));
  }
  submit(batch);
  const Kpi& kpi = catalog->kpis()[0];
  SeriesQuery q;
  q.kpi = kpi.id;
  SeriesPage p{4, 8, std::nullopt};
  auto page = series_view(*store_, kpi, q, p);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->series_count, 15);
  ASSERT_EQ(page->series.size(), 4u);
  EXPECT_EQ(page->series[0].dims.at("site"), "s08");
  EXPECT_EQ(page->series[0].points.size(), 2u);
  EXPECT_EQ(page->next_offset, 12);
  p.offset = 12;
  page = series_view(*store_, kpi, q, p);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->series.size(), 3u);
  EXPECT_FALSE(page->next_offset.has_value());
  q.dims = {{"site", "s05"}};
  p.offset = 0;
  page = series_view(*store_, kpi, q, p);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->series_count, 1);
  ASSERT_EQ(page->series.size(), 1u);
  EXPECT_EQ(page->series[0].dims.at("site"), "s05");
}

TEST_F(Views, SeriesLabelsAndTheOverallSeries) {
  const Kpi& rate = *catalog_->find(kRate);
  EXPECT_EQ(series_label(rate, {{"stage", "all"}}, Lang::ja), "全体");
  EXPECT_EQ(series_label(rate, {{"stage", "basic"}}, Lang::en), "basic research");
  EXPECT_EQ(overall_dims(rate), (Dims{{"stage", "all"}}));
  const Kpi& trainees = *catalog_->find("g01.trainees");
  EXPECT_EQ(series_label(trainees, {}, Lang::ja), "全体");
  EXPECT_EQ(series_label(trainees, {}, Lang::en), "overall");
  EXPECT_EQ(overall_dims(trainees), Dims{});
}

// Alerts of every state, severity, goal and criterion, some silenced, some
// acknowledged: what a cursor walk must list in the order alert_list sorts them.
void save_varied_alerts(Store& store, int n) {
  const std::array states{AlertState::firing, AlertState::pending, AlertState::resolved, AlertState::inactive};
  const std::array severities{Severity::info, Severity::warning, Severity::critical};
  for (int i = 0; i < n; ++i) {
    AlertRecord a = alert(fmt::format("fp{:03}", (i * 37) % n), states[static_cast<std::size_t>(i % 4)],
                          severities[static_cast<std::size_t>(i % 3)], i % 5 == 0 ? "basic" : "all");
    a.kpi = i % 2 ? "g06.stage_up_rate" : "g10.other";
    a.labels["goal"] = i % 7 == 0 ? "x" : std::to_string(i % 11 + 1);
    if (i % 6 == 0) a.labels["criterion"] = "missing_data";
    if (i % 9 == 0) a.acknowledged_at = a.active_since;
    Transaction tx(store.connection());
    ASSERT_TRUE(tx.began().ok());
    ASSERT_TRUE(store.alerts().save({{{a, AlertState::inactive, a.state, *a.updated_at}}, {a}}).ok());
    if (a.acknowledged_at) {
      ASSERT_TRUE(store.alerts().acknowledge(a.fingerprint, "ops", "", "2025-07-02T00:00:00Z").ok());
    }
    ASSERT_TRUE(tx.commit().ok());
  }
  Silence basic{0, {{"stage", "basic"}}, "2025-07-01T00:00:00Z", "2025-08-01T00:00:00Z", "ops", "", ""};
  ASSERT_TRUE(store.silences().add(basic).ok());
}

// Every page from the cursor of the one before: the fingerprints in order.
std::vector<std::string> walk(Store& store, const AlertListQuery& query, std::size_t limit, int& pages) {
  std::vector<std::string> out;
  AlertPageRequest request{limit, 0, std::nullopt, false};
  for (pages = 1;; ++pages) {
    auto page = alert_page(store, query, "2025-07-15T00:00:00Z", request);
    EXPECT_TRUE(page.ok()) << page.error().message;
    if (!page.ok() || pages > 100) return out;
    EXPECT_LE(page->alerts.size(), limit);
    for (const auto& item : page->alerts) out.push_back(item.alert.fingerprint);
    if (!page->next_cursor) return out;
    EXPECT_EQ(page->alerts.size(), limit);  // only the last page is short
    request.after = parse_alert_cursor(*page->next_cursor);
    EXPECT_TRUE(request.after.has_value());
  }
}

std::vector<std::string> fingerprints(const Result<std::vector<AlertItem>>& items) {
  std::vector<std::string> out;
  for (const auto& item : items.value()) out.push_back(item.alert.fingerprint);
  return out;
}

TEST_F(Views, ACursorWalkListsEveryAlertOnceInListOrder) {
  save_varied_alerts(*store_, 60);
  for (bool silenced : {false, true}) {
    AlertListQuery query;
    query.silenced = silenced;
    query.acknowledged = silenced;
    auto all = alert_list(*store_, query, "2025-07-15T00:00:00Z");
    ASSERT_TRUE(all.ok()) << all.error().message;
    int pages = 0;
    EXPECT_EQ(walk(*store_, query, 7, pages), fingerprints(all));
    EXPECT_EQ(static_cast<std::size_t>(pages), (all->size() + 6) / 7);
  }
  EXPECT_EQ(fingerprints(alert_list(*store_, {{}, {}, true, true, true}, "2025-07-15T00:00:00Z")).size(), 60u);
}

TEST_F(Views, ACursorWalkKeepsTheStateAndKpiFilters) {
  save_varied_alerts(*store_, 60);
  AlertListQuery query;
  query.filter.state = AlertState::firing;
  query.filter.kpi = "g10.other";
  query.silenced = true;
  auto all = alert_list(*store_, query, "2025-07-15T00:00:00Z");
  ASSERT_TRUE(all.ok());
  ASSERT_FALSE(all->empty());
  for (const auto& item : all.value()) {
    EXPECT_EQ(item.alert.state, AlertState::firing);
    EXPECT_EQ(item.alert.kpi, "g10.other");
  }
  int pages = 0;
  EXPECT_EQ(walk(*store_, query, 2, pages), fingerprints(all));
  query.filter.kpi.clear();
  query.filter.severity = Severity::critical;
  EXPECT_EQ(walk(*store_, query, 3, pages), fingerprints(alert_list(*store_, query, "2025-07-15T00:00:00Z")));
}

TEST_F(Views, AnAlertCursorIsCheckedAndAnOffsetPageHasACursorToo) {
  save_varied_alerts(*store_, 10);
  EXPECT_FALSE(parse_alert_cursor("").has_value());
  EXPECT_FALSE(parse_alert_cursor("zz").has_value());
  EXPECT_FALSE(parse_alert_cursor("a5b").has_value());
  EXPECT_FALSE(parse_alert_cursor("a" + std::string("5b5d")).has_value());  // []
  EXPECT_FALSE(parse_series_cursor("a00").has_value());
  AlertListKey key{1, 0, 2, 6, "g06.stage_up_rate", "fp\"1"};
  EXPECT_EQ(parse_alert_cursor(alert_cursor(key)), key);
  EXPECT_EQ(parse_series_cursor(series_cursor({{"site", "s03"}})), "site=s03");

  auto first = alert_page(*store_, {{}, {}, true, true, true}, "2025-07-15T00:00:00Z", 4, 0);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->total, 10u);
  ASSERT_TRUE(first->next_cursor.has_value());
  auto by_cursor = alert_page(*store_, {{}, {}, true, true, true}, "2025-07-15T00:00:00Z",
                              AlertPageRequest{4, 0, parse_alert_cursor(*first->next_cursor), false});
  auto by_offset = alert_page(*store_, {{}, {}, true, true, true}, "2025-07-15T00:00:00Z", 4, 4);
  ASSERT_TRUE(by_cursor.ok() && by_offset.ok());
  ASSERT_EQ(by_cursor->alerts.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_EQ(by_cursor->alerts[i].alert.fingerprint, by_offset->alerts[i].alert.fingerprint);
  EXPECT_FALSE(by_cursor->next_offset.has_value());  // a cursor page knows no offset
  EXPECT_EQ(by_offset->next_offset, 8u);
}

TEST_F(Views, SeriesPagesFollowTheCursorAndPartialDimsFilters) {
  auto catalog = sites_catalog();
  ASSERT_NE(catalog, nullptr);
  std::vector<Submission> batch;
  for (int i = 0; i < 15; ++i) batch.push_back(course(fmt::format("s{:02}", i), 2024, i));
  submit(batch);
  const Kpi& kpi = catalog->kpis()[0];
  SeriesQuery q;
  q.kpi = kpi.id;
  SeriesPage p{4, 0, std::nullopt};
  std::vector<std::string> sites;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = series_view(*store_, kpi, q, p);
    ASSERT_TRUE(page.ok()) << page.error().message;
    EXPECT_EQ(page->series_count, 15);
    for (const auto& s : page->series) sites.push_back(s.dims.at("site"));
    if (!page->next_cursor) break;
    EXPECT_EQ(page->series.size(), 4u);
    p.after = parse_series_cursor(*page->next_cursor);
  }
  ASSERT_EQ(sites.size(), 15u);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(sites[static_cast<std::size_t>(i)], fmt::format("s{:02}", i));
}

TEST_F(Views, AnAlertPageHoldsLimitFromOffsetAndSaysTheTotal) {
  for (int n = 0; n < 5; ++n)
    save(alert(fmt::format("fp{}", n), AlertState::firing, Severity::warning, "all"), AlertState::pending);
  auto first = alert_page(*store_, {}, "2025-07-15T00:00:00Z", 2, 0);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->total, 5u);
  ASSERT_EQ(first->alerts.size(), 2u);
  EXPECT_EQ(first->alerts[0].alert.fingerprint, "fp0");
  EXPECT_EQ(first->next_offset, 2u);
  auto last = alert_page(*store_, {}, "2025-07-15T00:00:00Z", 2, 4);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->alerts.size(), 1u);
  EXPECT_EQ(last->alerts[0].alert.fingerprint, "fp4");
  EXPECT_FALSE(last->next_offset.has_value());
  auto beyond = alert_page(*store_, {}, "2025-07-15T00:00:00Z", 2, 9);
  ASSERT_TRUE(beyond.ok());
  EXPECT_TRUE(beyond->alerts.empty());
  EXPECT_EQ(beyond->total, 5u);
}

}  // namespace
}  // namespace kpiwatch::views
