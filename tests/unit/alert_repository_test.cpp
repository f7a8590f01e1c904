// The alert repository, on real database files in a temporary directory.

#include "kpiwatch/alert_repository.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "kpiwatch/store.hpp"
#include "temp_dir.hpp"

namespace kpiwatch {
namespace {

namespace fs = std::filesystem;

class AlertRepositoryTest : public ::testing::Test {
 protected:
  AlertRepositoryTest() {
    auto opened = Store::open({dir_.file("k.db")});
    if (!opened) throw std::runtime_error(opened.error().message);
    store_ = std::move(opened.value());
  }
  ~AlertRepositoryTest() override { store_.reset(); }

  AlertRepository& alerts() { return store_->alerts(); }

  // Saves `changes` in a transaction of their own.
  void save(const AlertChanges& changes) {
    Transaction tx(store_->connection());
    ASSERT_TRUE(tx.began().ok());
    auto saved = alerts().save(changes);
    ASSERT_TRUE(saved.ok()) << saved.error().message;
    ASSERT_TRUE(tx.commit().ok());
  }
  // Stores `alert` as having moved from `from` to its state at `at`.
  void move(const AlertRecord& alert, AlertState from, const std::string& at) {
    save({{{alert, from, alert.state, *parse_rfc3339(at)}}, {alert}});
  }
  bool acknowledge(const std::string& fingerprint, const std::string& by, const std::string& at) {
    Transaction tx(store_->connection());
    auto done = alerts().acknowledge(fingerprint, by, "looking into it", at);
    EXPECT_TRUE(done.ok());
    EXPECT_TRUE(tx.commit().ok());
    return done.ok() && done.value();
  }
  std::vector<std::string> listed(const AlertFilter& filter = {}) {
    auto rows = alerts().list(filter);
    EXPECT_TRUE(rows.ok());
    std::vector<std::string> out;
    if (rows)
      for (const auto& a : rows.value()) out.push_back(a.fingerprint);
    return out;
  }

  test::TempDir dir_;  // first: outlives the store
  std::unique_ptr<Store> store_;
};

AlertRecord alert(const std::string& fingerprint, const std::string& kpi, AlertState state,
                  Severity severity = Severity::warning) {
  AlertRecord a;
  a.fingerprint = fingerprint;
  a.group = "stage_up_fell/" + kpi;
  a.rule_id = "stage_up_fell";
  a.kpi = kpi;
  a.labels = {{"kpi", kpi}, {"stage", "applied"}};
  a.severity = severity;
  a.state = state;
  a.period = "FY2024";
  a.value = 26.8;
  a.summary_ja = "ステージアップ率が低下";
  a.summary_en = "stage-up rate fell";
  a.description_ja = "33.1% から 26.8% へ";
  a.description_en = "from 33.1% to 26.8%";
  a.receivers = {"chat", "mail"};
  a.active_since = parse_rfc3339("2025-04-01T00:00:00Z");
  if (state == AlertState::firing) a.firing_since = a.active_since;
  a.updated_at = parse_rfc3339("2025-04-01T00:00:00Z");
  return a;
}

TEST_F(AlertRepositoryTest, ASavedAlertReadsBackWithEveryField) {
  auto a = alert("fp1", "g06.stage_up_rate", AlertState::firing, Severity::critical);
  move(a, AlertState::pending, "2025-04-01T00:00:00Z");
  auto read = alerts().one("fp1");
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(read.value().has_value());
  const auto& r = *read.value();
  EXPECT_EQ(r.group, a.group);
  EXPECT_EQ(r.rule_id, a.rule_id);
  EXPECT_EQ(r.kpi, a.kpi);
  EXPECT_EQ(r.labels, a.labels);
  EXPECT_EQ(r.severity, Severity::critical);
  EXPECT_EQ(r.state, AlertState::firing);
  EXPECT_EQ(r.period, "FY2024");
  EXPECT_EQ(r.value, 26.8);
  EXPECT_EQ(r.summary_ja, a.summary_ja);
  EXPECT_EQ(r.summary_en, a.summary_en);
  EXPECT_EQ(r.description_ja, a.description_ja);
  EXPECT_EQ(r.description_en, a.description_en);
  EXPECT_EQ(r.receivers, a.receivers);
  EXPECT_EQ(r.active_since, a.active_since);
  EXPECT_EQ(r.firing_since, a.firing_since);
  EXPECT_EQ(r.updated_at, a.updated_at);
  EXPECT_FALSE(r.acknowledged_at.has_value());
}

TEST_F(AlertRepositoryTest, AnAlertWithoutAValueKeepsNone) {
  auto a = alert("fp1", "g03.missing", AlertState::pending);
  a.value.reset();
  move(a, AlertState::inactive, "2025-04-01T00:00:00Z");
  EXPECT_FALSE(alerts().one("fp1").value()->value.has_value());
  EXPECT_FALSE(alerts().history("fp1").value().at(0).alert.value.has_value());
}

TEST_F(AlertRepositoryTest, AnUnknownFingerprintIsNoAlert) {
  auto read = alerts().one("nope");
  ASSERT_TRUE(read.ok());
  EXPECT_FALSE(read.value().has_value());
  EXPECT_TRUE(alerts().history("nope").value().empty());
}

TEST_F(AlertRepositoryTest, ATransitionRoundTripUpdatesTheAlertAndKeepsEveryStep) {
  auto a = alert("fp1", "g06.stage_up_rate", AlertState::pending);
  move(a, AlertState::inactive, "2025-04-01T00:00:00Z");
  a.state = AlertState::firing;
  a.value = 25.0;
  a.summary_en = "stage-up rate fell again";
  move(a, AlertState::pending, "2025-05-01T00:00:00Z");
  a.state = AlertState::resolved;
  a.value = 34.0;
  a.resolved_at = parse_rfc3339("2025-06-01T00:00:00Z");
  move(a, AlertState::firing, "2025-06-01T00:00:00Z");

  auto r = alerts().one("fp1").value();
  EXPECT_EQ(r->state, AlertState::resolved);
  EXPECT_EQ(r->value, 34.0);
  EXPECT_EQ(r->resolved_at, parse_rfc3339("2025-06-01T00:00:00Z"));
  EXPECT_EQ(listed().size(), 1u) << "one row per fingerprint";

  auto history = alerts().history("fp1");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history.value().size(), 3u);
  const auto& h = history.value();
  EXPECT_EQ(h[0].from, AlertState::inactive);
  EXPECT_EQ(h[0].to, AlertState::pending);
  EXPECT_EQ(h[0].at, *parse_rfc3339("2025-04-01T00:00:00Z"));
  EXPECT_EQ(h[0].alert.value, 26.8);
  EXPECT_EQ(h[1].from, AlertState::pending);
  EXPECT_EQ(h[1].to, AlertState::firing);
  EXPECT_EQ(h[1].alert.summary_en, "stage-up rate fell again");
  EXPECT_EQ(h[1].alert.state, AlertState::firing);
  EXPECT_EQ(h[2].to, AlertState::resolved);
  EXPECT_EQ(h[2].alert.value, 34.0);
  EXPECT_EQ(h[2].alert.period, "FY2024");
  EXPECT_EQ(h[2].alert.fingerprint, "fp1");
}

TEST_F(AlertRepositoryTest, ChangesNotCommittedLeaveNothing) {
  auto a = alert("fp1", "g06.stage_up_rate", AlertState::firing);
  {
    Transaction tx(store_->connection());
    ASSERT_TRUE(tx.began().ok());
    ASSERT_TRUE(alerts().save({{{a, AlertState::pending, a.state, *parse_rfc3339("2025-04-01T00:00:00Z")}}, {a}}).ok());
    EXPECT_EQ(listed().size(), 1u) << "visible inside the transaction";
  }
  EXPECT_TRUE(listed().empty());
  EXPECT_TRUE(alerts().history("fp1").value().empty());
}

TEST_F(AlertRepositoryTest, ListPutsFiringFirstThenPendingResolvedInactiveAndCriticalFirstWithin) {
  save({{},
        {alert("inactive", "g01.a", AlertState::inactive), alert("resolved", "g01.a", AlertState::resolved),
         alert("pending", "g01.a", AlertState::pending),
         alert("firing-info", "g01.a", AlertState::firing, Severity::info),
         alert("firing-critical", "g01.b", AlertState::firing, Severity::critical),
         alert("firing-warning", "g01.a", AlertState::firing)}});
  EXPECT_EQ(listed(), (std::vector<std::string>{"firing-critical", "firing-warning", "firing-info", "pending",
                                                "resolved", "inactive"}));
}

TEST_F(AlertRepositoryTest, ListFiltersByStateGoalSeverityRuleAndKpi) {
  auto other_rule = alert("g02-rule", "g02.count", AlertState::firing);
  other_rule.rule_id = "count_low";
  save({{},
        {alert("g06-firing", "g06.stage_up_rate", AlertState::firing, Severity::critical),
         alert("g06-pending", "g06.stage_up_rate", AlertState::pending),
         alert("g11-firing", "g11.x", AlertState::firing), other_rule}});
  AlertFilter firing;
  firing.state = AlertState::firing;
  EXPECT_EQ(listed(firing), (std::vector<std::string>{"g06-firing", "g02-rule", "g11-firing"}));
  AlertFilter goal;
  goal.goal = 6;
  EXPECT_EQ(listed(goal), (std::vector<std::string>{"g06-firing", "g06-pending"}));
  AlertFilter goal11;
  goal11.goal = 11;
  EXPECT_EQ(listed(goal11), (std::vector<std::string>{"g11-firing"}));
  AlertFilter critical;
  critical.severity = Severity::critical;
  EXPECT_EQ(listed(critical), (std::vector<std::string>{"g06-firing"}));
  AlertFilter rule;
  rule.rule_id = "count_low";
  EXPECT_EQ(listed(rule), (std::vector<std::string>{"g02-rule"}));
  AlertFilter kpi_and_state;
  kpi_and_state.kpi = "g06.stage_up_rate";
  kpi_and_state.state = AlertState::pending;
  EXPECT_EQ(listed(kpi_and_state), (std::vector<std::string>{"g06-pending"}));
  AlertFilter none;
  none.kpi = "g06.stage_up_rate";
  none.severity = Severity::info;
  EXPECT_TRUE(listed(none).empty());
}

TEST_F(AlertRepositoryTest, OnlyAPendingOrFiringAlertCanBeAcknowledged) {
  save({{},
        {alert("firing", "g01.a", AlertState::firing), alert("pending", "g01.a", AlertState::pending),
         alert("resolved", "g01.a", AlertState::resolved)}});
  EXPECT_TRUE(acknowledge("firing", "officer", "2025-04-02T09:00:00Z"));
  EXPECT_TRUE(acknowledge("pending", "officer", "2025-04-02T09:00:00Z"));
  EXPECT_FALSE(acknowledge("resolved", "officer", "2025-04-02T09:00:00Z"));
  EXPECT_FALSE(acknowledge("unknown", "officer", "2025-04-02T09:00:00Z"));
  auto r = alerts().one("firing").value();
  EXPECT_EQ(r->acknowledged_at, parse_rfc3339("2025-04-02T09:00:00Z"));
  EXPECT_EQ(r->acknowledged_by, "officer");
  EXPECT_EQ(r->ack_comment, "looking into it");
  EXPECT_FALSE(alerts().one("resolved").value()->acknowledged_at.has_value());
}

TEST_F(AlertRepositoryTest, AnAcknowledgementLastsUntilTheAlertResolves) {
  auto a = alert("fp1", "g01.a", AlertState::firing);
  move(a, AlertState::pending, "2025-04-01T00:00:00Z");
  ASSERT_TRUE(acknowledge("fp1", "officer", "2025-04-02T09:00:00Z"));
  a.value = 20.0;  // still firing, a new figure
  save({{}, {a}});
  EXPECT_EQ(alerts().one("fp1").value()->acknowledged_by, "officer");
  a.state = AlertState::resolved;
  move(a, AlertState::firing, "2025-06-01T00:00:00Z");
  auto r = alerts().one("fp1").value();
  EXPECT_FALSE(r->acknowledged_at.has_value());
  EXPECT_EQ(r->acknowledged_by, "");
  EXPECT_EQ(r->ack_comment, "");
}

}  // namespace
}  // namespace kpiwatch
