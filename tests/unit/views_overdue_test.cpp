// The overdue digest: firing missing-data alerts per reporting body and
// period, over a real SQLite file and the embedded catalog.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "kpiwatch/views.hpp"
#include "temp_dir.hpp"

namespace kpiwatch::views {
namespace {

using namespace std::chrono;

AlertRecord overdue_alert(const std::string& kpi, const std::string& period, int missing, const std::string& body,
                          const std::string& due, AlertState state = AlertState::firing) {
  AlertRecord a;
  a.fingerprint = "fp-" + kpi;
  a.group = "data-overdue|" + kpi + "|";
  a.rule_id = "data-overdue";
  a.kpi = kpi;
  a.labels = {{"rule", a.rule_id}, {"kpi", kpi}, {"criterion", "missing_data"}, {"body", body}, {"due", due}};
  a.state = state;
  a.period = period;
  a.value = missing;
  a.active_since = a.updated_at = parse_rfc3339("2026-07-01T00:00:00Z");
  if (state == AlertState::firing) a.firing_since = a.active_since;
  return a;
}

class OverdueDigests : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Store::open({dir_.file("kpiwatch.db")});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened.value());
  }

  void save(const std::vector<AlertRecord>& alerts) {
    AlertChanges changes;
    for (const auto& a : alerts) {
      changes.transitions.push_back({a, AlertState::inactive, a.state, *a.updated_at});
      changes.updated.push_back(a);
    }
    Transaction tx(store_->connection());
    ASSERT_TRUE(tx.began().ok());
    ASSERT_TRUE(store_->alerts().save(changes).ok());
    ASSERT_TRUE(tx.commit().ok());
  }

  test::TempDir dir_;
  std::shared_ptr<const Catalog> catalog_ = Catalog::embedded();
  std::unique_ptr<Store> store_;
};

TEST_F(OverdueDigests, OnePerBodyAndPeriodWithTheMissingSeriesSummed) {
  AlertRecord other = overdue_alert("g06.stage_up_rate", "2025", 5, "amed", "2026-06-30");
  other.labels["criterion"] = "change";  // not a missing-data alert
  other.fingerprint = "fp-other";
  save({overdue_alert("g06.stage_up_rate", "2025", 5, "amed", "2026-06-30"),
        overdue_alert("g01.trainees", "2025", 1, "amed", "2026-06-30"),
        overdue_alert("g01.hubs_offering_course", "2025", 2, "amed", "2026-05-31"),
        overdue_alert("g06.themes_evaluated", "2024", 3, "amed", "2025-06-30"),
        overdue_alert("g08.device_lag", "FY2025", 1, "pmda", "2026-06-30"),
        overdue_alert("g02.venture_companies", "2025", 1, "jfmda", "2026-06-30", AlertState::resolved), other});

  auto digests = overdue(*store_, *catalog_);
  ASSERT_TRUE(digests.ok()) << digests.error().message;
  ASSERT_EQ(digests->size(), 3u);

  // Bodies in catalog order (AMED before PMDA), then periods.
  const auto& old = digests->at(0);
  EXPECT_EQ(old.body->id, "amed");
  EXPECT_EQ(old.period.str(), "2024");
  EXPECT_EQ(old.overdue, 3);

  const auto& amed = digests->at(1);
  EXPECT_EQ(amed.period.str(), "2025");
  EXPECT_EQ(amed.overdue, 8);
  EXPECT_EQ(amed.due, 2026y / May / 31);  // the earliest deadline
  std::vector<std::string> kpis;
  for (const auto& k : amed.kpis) kpis.push_back(k.kpi->id);
  EXPECT_THAT(kpis, ::testing::ElementsAre("g01.trainees", "g01.hubs_offering_course", "g06.stage_up_rate"));
  EXPECT_EQ(amed.kpis[1].missing, 2);
  EXPECT_EQ(amed.kpis[1].fingerprint, "fp-g01.hubs_offering_course");
  EXPECT_EQ(amed.sentence_ja, "日本医療研究開発機構: 2025年の数値8件が期限（2026年5月31日）を過ぎても未提出です");
  EXPECT_EQ(amed.sentence_en, "AMED: 8 figures for 2025 not submitted by 31 May 2026");

  const auto& pmda = digests->at(2);
  EXPECT_EQ(pmda.body->id, "pmda");
  EXPECT_EQ(pmda.sentence_ja, "医薬品医療機器総合機構: 2025年度の数値1件が期限（2026年6月30日）を過ぎても未提出です");
  EXPECT_EQ(pmda.sentence_en, "PMDA: 1 figure for FY2025 not submitted by 30 June 2026");
}

TEST_F(OverdueDigests, NothingOverdueIsAnEmptyDigest) {
  save({overdue_alert("g01.trainees", "2025", 1, "amed", "2026-06-30", AlertState::resolved)});
  auto digests = overdue(*store_, *catalog_);
  ASSERT_TRUE(digests.ok());
  EXPECT_TRUE(digests->empty());
}

TEST(OverdueDigestsInMemory, AlertsOfKpisOrBodiesNoLongerInTheCatalogAreLeftOut) {
  auto catalog = Catalog::embedded();
  std::vector<AlertRecord> alerts = {overdue_alert("g99.gone", "2025", 4, "amed", "2026-06-30"),
                                     overdue_alert("g01.trainees", "2025", 1, "nobody", "2026-06-30"),
                                     overdue_alert("g01.trainees", "2025", 1, "amed", "not a date"),
                                     overdue_alert("g01.training_courses", "2025", 1, "amed", "2026-06-30")};
  auto digests = overdue_digests(alerts, *catalog);
  ASSERT_EQ(digests.size(), 1u);
  EXPECT_EQ(digests[0].overdue, 1);
  EXPECT_EQ(digests[0].kpis.at(0).kpi->id, "g01.training_courses");
}

}  // namespace
}  // namespace kpiwatch::views
