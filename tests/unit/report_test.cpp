// The follow-up report over the bundled data: a real SQLite file with the
// bundled dataset, the shipped rules evaluated by the alert engine, and the
// shipped headline templates. Faithful to the seed report, by value.

#include "kpiwatch/report.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "commands/setup.hpp"
#include "ingest/alert_engine.hpp"
#include "kpiwatch/metrics.hpp"
#include "kpiwatch/rules.hpp"
#include "temp_dir.hpp"

namespace kpiwatch::views {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

class At final : public Clock {
 public:
  explicit At(const char* rfc3339) : t_(*parse_rfc3339(rfc3339)) {}
  TimePoint now() const override { return t_; }

 private:
  TimePoint t_;
};

class BundledReport : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open({dir_.file("kpiwatch.db")});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened.value());
    auto loaded = load_bundled_dataset(*store_, *catalog_, clock_);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    auto rules = RuleSet::load(RuleSet::embedded_sources(), catalog_);
    ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const RuleSet>>(rules));
    rules_ = std::get<std::shared_ptr<const RuleSet>>(rules);
    report_ = evaluated_at(clock_);
  }

  // The rules evaluated at `clock`'s time (as a daemon started then), and the report then.
  Report evaluated_at(const Clock& clock) {
    AlertEngine engine(rules_, std::make_shared<NotifyConfig>(), metrics_);
    EXPECT_TRUE(engine.start(*store_, clock.now()).ok());
    auto r = report(*store_, *catalog_, *rules_, ReportTemplates::embedded(), std::nullopt, clock.now());
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? std::move(r.value()) : Report{};
  }

  static std::set<std::string> with_verdict(const Report& r, Verdict v) {
    std::set<std::string> out;
    for (const auto& g : r.goals)
      for (const auto& k : g.kpis)
        if (k.verdict == v) out.insert(k.kpi->id);
    return out;
  }

  const ReportKpi& kpi(const std::string& id) const {
    for (const auto& g : report_.goals)
      for (const auto& k : g.kpis)
        if (k.kpi->id == id) return k;
    throw std::runtime_error("no KPI " + id);
  }

  // Every headline of the KPI in one language, joined.
  std::string headlines(const std::string& id, Lang lang) const {
    std::string out;
    for (const auto& h : kpi(id).headlines) out += (lang == Lang::ja ? h.ja : h.en) + "\n";
    return out;
  }

  test::TempDir dir_;
  std::shared_ptr<const Catalog> catalog_ = Catalog::embedded();
  At clock_{"2025-07-01T12:00:00Z"};
  Metrics metrics_;
  std::shared_ptr<const RuleSet> rules_;
  std::unique_ptr<Store> store_;
  Report report_;
};

TEST_F(BundledReport, CoversEveryGoalUpToTheNewestYear) {
  EXPECT_EQ(report_.year, 2024);
  EXPECT_EQ(report_.first_year, 2015);  // goal 8's new approvals start in FY2015
  EXPECT_EQ(report_.goals.size(), 11u);
  EXPECT_EQ(report_.generated_at, "2025-07-01T12:00:00.000Z");
  EXPECT_FALSE(report_.as_of.empty());
  for (std::size_t i = 0; i < report_.goals.size(); ++i) EXPECT_EQ(report_.goals[i].goal->number, int(i) + 1);
}

TEST_F(BundledReport, Goal1HeadlinesCarryTheSeedsFiguresAndWords) {
  EXPECT_EQ(kpi("g01.training_courses").headlines.at(0).ja,
            "研修コースの総数は、2022年に49コース、2023年に58コース、2024年に69コースと、"
            "2022年から2024年までの間に1.4倍に増加している");
  EXPECT_EQ(kpi("g01.training_courses").headlines.at(0).en,
            "Training courses: 49 courses in 2022, 58 courses in 2023 and 69 courses in 2024, 1.4 times the 2022 "
            "number by 2024");
  EXPECT_THAT(headlines("g01.trainees", Lang::ja), AllOf(HasSubstr("2022年に2,737人、2023年に2,783人、2024年に4,086人"),
                                                         HasSubstr("2022年から2024年まで1.5倍に増加している")));
  EXPECT_THAT(headlines("g01.trainees_growth_since_2022", Lang::ja),
              AllOf(HasSubstr("コーディネーター向けの受講者数は、2022年と比べて2024年に2.2倍"),
                    HasSubstr("AI開発人材向けの受講者数は、2022年と比べて2024年に1.6倍")));
  EXPECT_EQ(kpi("g01.training_courses").direction, Direction::rising);
  EXPECT_EQ(kpi("g01.training_courses").verdict, Verdict::on_track);
}

TEST_F(BundledReport, Goal3HeadlinesCarryTheSeedsFiguresAndWords) {
  EXPECT_EQ(headlines("g03.joint_research", Lang::ja),
            "企業との共同研究の総数は、2022年に112件、2023年に226件、2024年に148件と増加傾向である\n");
  EXPECT_THAT(headlines("g03.joint_research_phase_share", Lang::ja),
              AllOf(HasSubstr("基礎研究フェーズの共同研究の割合は、2022年の33.0%から2024年の17.6%に減少している"),
                    HasSubstr("2022年の16.1%から2024年の22.3%に増加している")));
  EXPECT_THAT(headlines("g03.intl_joint_trial_efforts", Lang::ja), HasSubstr("十分に進んでいない"));
  // The rule's info finding (226 → 148) does not outweigh the report's reading: a rising trend.
  EXPECT_EQ(kpi("g03.joint_research").verdict, Verdict::on_track);
}

TEST_F(BundledReport, Goal5HeadlinesCarryTheSeedsFiguresAndWords) {
  EXPECT_EQ(
      headlines("g05.cooperating_providers", Lang::ja),
      "協力医療情報取扱事業者の数は、2022年に108事業者、2023年に147事業者、2024年に160事業者と年々増加している\n");
}

TEST_F(BundledReport, Goal6HeadlinesCarryTheSeedsFiguresAndWords) {
  EXPECT_EQ(headlines("g06.stage_up_rate", Lang::ja),
            "2023年と比較して、2024年は全体ステージアップの割合が33.1%から26.8%に減少している\n");
  EXPECT_EQ(headlines("g06.market_launch_rate", Lang::ja), "全体上市の割合は3.8%から0.6%に減少している\n");
  EXPECT_EQ(headlines("g06.stage_up_rate", Lang::en),
            "The overall stage-up rate decreased from 33.1% in 2023 to 26.8% in 2024\n");
}

TEST_F(BundledReport, Goal8HeadlinesCarryTheSeedsFiguresAndWords) {
  EXPECT_THAT(headlines("g08.device_lag", Lang::ja), AllOf(HasSubstr("4.1年、2.0年、0.4年"), HasSubstr("減少傾向")));
  EXPECT_THAT(headlines("g08.new_device_approvals", Lang::ja), HasSubstr("承認総数は56件から21件に減少している"));
  EXPECT_THAT(headlines("g08.idaten_completions", Lang::ja), AllOf(HasSubstr("2件、3件、2件"), HasSubstr("横ばい")));
  EXPECT_THAT(headlines("g08.samd_consultations_3yr_avg", Lang::ja), HasSubstr("約231件程度で推移している"));
  // FY2021–FY2023, as the seed: a fiscal year ends in March of the next, so the 2024 report asks for FY2023.
  EXPECT_EQ(kpi("g08.device_lag").verdict, Verdict::on_track);
  EXPECT_EQ(kpi("g08.new_device_approvals").verdict, Verdict::on_track);
}

TEST_F(BundledReport, AYearOnYearFallIsReadAgainstThePreviousFigure) {
  // 53 → 82 → 67: rising since 2022, but the report's concern is the fall in 2024 (compare = "previous").
  EXPECT_EQ(headlines("g07.intl_activity_companies", Lang::ja),
            "国際展開に関する活動を行う企業は、2023年の82社から2024年の67社に減少した\n");
  // The summary table shows the direction the report compared, not 53 → 67's rise.
  EXPECT_EQ(kpi("g07.intl_activity_companies").direction, Direction::falling);
  EXPECT_EQ(kpi("g01.training_courses").direction, Direction::rising);
  EXPECT_EQ(headlines("g03.joint_research", Lang::en),
            "Joint research with companies: 112 projects in 2022, 226 projects in 2023 and 148 projects in 2024, "
            "an increasing trend\n");
}

TEST_F(BundledReport, TheConcernsAreTheReportsOwn) {
  EXPECT_EQ(with_verdict(report_, Verdict::concern), (std::set<std::string>{
                                                         "g02.cross_industry_without_product_3yr_avg",
                                                         "g02.ventures_without_product_3yr_avg",
                                                         "g03.intl_joint_trial_efforts",
                                                         "g06.market_launch_rate",
                                                         "g06.stage_up_rate",
                                                         "g07.intl_activity_companies",
                                                         "g07.overseas_base_companies",
                                                     }));
}

TEST_F(BundledReport, FindingsAreTheYearsAlertsWithoutMissingData) {
  const auto& g6 = report_.goals[5];
  // The overall stage-up and market-launch falls; the per-stage stage-up alerts are inhibited by the overall one.
  ASSERT_EQ(g6.findings.size(), 2u);
  for (const auto& a : g6.findings) {
    EXPECT_EQ(a.period, "2024");
    EXPECT_NE(a.labels.count("criterion") ? a.labels.at("criterion") : "", "missing_data");
  }
  EXPECT_TRUE(std::any_of(g6.findings.begin(), g6.findings.end(),
                          [](const AlertRecord& a) { return a.rule_id == "g06-stage-up-rate-falling"; }));
}

TEST_F(BundledReport, SourcesAreFootnotesOfEveryFigure) {
  const auto& g1 = report_.goals[0];
  ASSERT_FALSE(g1.sources.empty());
  EXPECT_THAT(g1.sources[0].source, HasSubstr("ゴール1"));
  EXPECT_EQ(g1.sources[0].submitted_by, "bundled-dataset");
  const auto& courses = g1.kpis[0];
  ASSERT_FALSE(courses.sources.empty());
  EXPECT_LT(courses.sources[0], g1.sources.size());
}

TEST_F(BundledReport, ProgressStatesGoodNews) {
  std::string all;
  for (const auto& g : report_.goals)
    for (const auto& p : g.progress) all += p.ja + "\n";
  EXPECT_THAT(all,
              AllOf(HasSubstr("研修受講者数は2022年の2,737人から2024年の4,086人へ1.5倍に増えた"),
                    HasSubstr("デバイスラグは2021年度の4.1年から2023年度の0.4年に短縮した"), HasSubstr("ブラジル")));
}

TEST_F(BundledReport, ALaterYearsMissingFiguresAreListedButDoNotMakeTheYearOverdue) {
  // In December 2026 the figures for 2025 (due 30 June 2026) are overdue; the 2024 report's verdicts stay.
  Report later = evaluated_at(At("2026-12-01T12:00:00Z"));
  EXPECT_EQ(later.year, 2024);
  EXPECT_EQ(with_verdict(later, Verdict::concern), with_verdict(report_, Verdict::concern));
  EXPECT_EQ(with_verdict(later, Verdict::overdue), std::set<std::string>{});
  EXPECT_EQ(with_verdict(report_, Verdict::overdue), std::set<std::string>{});
  const auto& g1 = later.goals[0];
  ASSERT_FALSE(g1.overdue.empty());
  EXPECT_TRUE(std::any_of(g1.overdue.begin(), g1.overdue.end(), [](const ReportOverdue& o) {
    return o.period.year == 2025 && o.figures.kpi->id == "g01.training_courses";
  }));
  EXPECT_EQ(g1.kpis[0].verdict, Verdict::on_track);
}

TEST_F(BundledReport, AFiscalYearPastTheOneAskedForIsListedAsOverdue) {
  // In July 2025 FY2024 (due 30 June 2025) is missing: not the 2024 report's verdict, but in its notes.
  const auto& g8 = report_.goals[7];
  EXPECT_TRUE(std::any_of(g8.overdue.begin(), g8.overdue.end(), [](const ReportOverdue& o) {
    return o.period.kind == PeriodKind::fiscal_year && o.period.year == 2024 && o.figures.kpi->id == "g08.device_lag";
  }));
  EXPECT_EQ(kpi("g08.device_lag").verdict, Verdict::on_track);
}

TEST_F(BundledReport, AnEarlierYearKeepsItsFindingsAfterLaterFiguresResolvedThem) {
  auto r = report(*store_, *catalog_, *rules_, ReportTemplates::embedded(), 2023, clock_.now());
  ASSERT_TRUE(r.ok());
  std::string all;
  for (const auto& g : r->goals)
    for (const auto& a : g.findings) {
      EXPECT_EQ(a.period, "2023") << a.rule_id;
      all += a.summary_ja + "\n";
    }
  EXPECT_THAT(all, AllOf(HasSubstr("2023年、ペルーが新たに日本を参照国制度の対象としました"),
                         HasSubstr("8拠点から6拠点に減少しました（2023年）")));
  // The live alerts have moved on to 2024: none of them speaks of 2023.
  auto live = store_->alerts().list();
  ASSERT_TRUE(live.ok());
  for (const auto& a : live.value()) {
    if (a.state == AlertState::firing) {
      EXPECT_NE(a.period, "2023") << a.rule_id;
    }
  }
}

TEST_F(BundledReport, AYearWithoutFiguresIsAnErrorNamingTheYear) {
  for (int year : {1999, 2025}) {
    auto r = report(*store_, *catalog_, *rules_, ReportTemplates::embedded(), year, clock_.now());
    ASSERT_FALSE(r.ok()) << year;
    EXPECT_EQ(r.error().field, "year");
    EXPECT_EQ(r.error().message, "no figures for " + std::to_string(year) + ": the figures cover 2015–2024");
  }
}

TEST_F(BundledReport, AnEarlierYearLeavesLaterFiguresOut) {
  auto r = report(*store_, *catalog_, *rules_, ReportTemplates::embedded(), 2023, clock_.now());
  ASSERT_TRUE(r.ok());
  for (const auto& g : r->goals)
    for (const auto& k : g.kpis)
      for (const auto& s : k.figures.series)
        for (const auto& p : s.points) EXPECT_LE(p.submission.period.year, 2023) << k.kpi->id;
  EXPECT_EQ(r->goals[0].kpis[0].headlines.at(0).ja,
            "研修コースの総数は、2022年に49コース、2023年に58コースと、2022年から2023年までの間に1.2倍に増加している");
}

}  // namespace
}  // namespace kpiwatch::views
