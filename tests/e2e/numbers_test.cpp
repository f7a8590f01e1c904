// Numbers as people write them (33.1, never 3.31E1), asserted on the raw text
// of what the real binary writes: API responses, errors and `eval --format json`.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "daemon_suite.hpp"
#include "http_client.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {

const std::string kSourceDir = KPIWATCH_SOURCE_DIR;

// A number in exponent form (3.31E1) in a JSON text; strings (fingerprints such as "92e990f0") do not count.
bool has_exponent_number(const std::string& text) {
  static const std::regex string_literal(R"("(?:[^"\\]|\\.)*")");
  static const std::regex exponent(R"([0-9][eE][-+]?[0-9])");
  return std::regex_search(std::regex_replace(text, string_literal, "\"\""), exponent);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class NumbersTest : public DaemonSuite<NumbersTest> {};

TEST_F(NumbersTest, TheStageUpSeriesReadsAsTheReportPrintsIt) {
  ASSERT_TRUE(has_exponent_number(R"({"value":3.31E1})"));
  ASSERT_FALSE(has_exponent_number(R"({"fingerprint":"92e990f0","value":33.1})"));
  auto reply = http_get(port(), "/api/v1/kpis/g06.stage_up_rate/series?dims.stage=all");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_TRUE(contains(reply.body, R"("value":33.1,)")) << reply.body;
  EXPECT_TRUE(contains(reply.body, R"("value":26.8,)")) << reply.body;
  EXPECT_FALSE(has_exponent_number(reply.body)) << reply.body;
}

TEST_F(NumbersTest, WholeNumbersHaveNoExponentNorFraction) {
  // Course counts 49, 58 and 69 are stored as doubles; Boost.JSON alone writes 4.9E1.
  auto reply = http_get(port(), "/api/v1/kpis/g01.training_courses/series");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_TRUE(contains(reply.body, R"("value":49,)")) << reply.body;
  EXPECT_TRUE(contains(reply.body, R"("value":69,)")) << reply.body;
  EXPECT_FALSE(has_exponent_number(reply.body)) << reply.body;

  auto kpi = http_get(port(), "/api/v1/kpis/g06.stage_up_rate");
  ASSERT_EQ(kpi.status, 200) << kpi.body;
  EXPECT_TRUE(contains(kpi.body, R"("max":100)")) << kpi.body;
  EXPECT_FALSE(has_exponent_number(kpi.body)) << kpi.body;
}

TEST_F(NumbersTest, AlertsAndTheirHistoryCarryTheBreachingFigure) {
  auto list = http_get(port(), "/api/v1/alerts?state=firing&rule=g06-stage-up-rate-falling");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_TRUE(contains(list.body, R"("value":26.8)")) << list.body;
  EXPECT_FALSE(has_exponent_number(list.body)) << list.body;

  std::string fingerprint;
  auto alerts = list.json();
  for (const auto& a : alerts.at("alerts").as_array())
    if (a.at("labels").as_object().contains("stage") && a.at("labels").at("stage") == "all")
      fingerprint = std::string(a.at("fingerprint").as_string());
  ASSERT_FALSE(fingerprint.empty()) << list.body;
  auto detail = http_get(port(), "/api/v1/alerts/" + fingerprint);
  ASSERT_EQ(detail.status, 200) << detail.body;
  EXPECT_TRUE(contains(detail.body, R"("value":26.8)")) << detail.body;
  EXPECT_FALSE(has_exponent_number(detail.body)) << detail.body;
}

TEST_F(NumbersTest, TheStoredRevisionsOfASubmissionEchoItsFigure) {
  auto reply = http_post(port(), "/api/v1/submissions",
                         R"({"kpi": "g06.stage_up_rate", "period": "2025", "dims": {"stage": "basic"}, "value": 24.9})",
                         kAmedToken);
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_TRUE(contains(reply.body, R"("value":24.9)")) << reply.body;
  reply = http_post(port(), "/api/v1/submissions", R"({"kpi": "g01.training_courses", "period": "2025", "value": 70})",
                    kAdminToken);
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_TRUE(contains(reply.body, R"("value":70)")) << reply.body;
  EXPECT_FALSE(has_exponent_number(reply.body)) << reply.body;
}

TEST_F(NumbersTest, AnErrorNamesTheFigureAsSubmitted) {
  auto reply = http_post(port(), "/api/v1/submissions",
                         R"({"kpi": "g06.stage_up_rate", "period": "2025", "value": 100.5})", kAmedToken);
  ASSERT_EQ(reply.status, 422) << reply.body;
  EXPECT_TRUE(contains(reply.body, "100.5")) << reply.body;
  EXPECT_FALSE(has_exponent_number(reply.body)) << reply.body;
}

TEST(EvalJson, PrintsEachPeriodsAlertsWithTheirFigures) {
  auto result = run_kpiwatch(
      {"eval", "--format", "json", "--input", kSourceDir + "/config/dataset/bundled.json", "--at", "2026-01-01"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(contains(result.out, R"("value":26.8,)")) << result.out;
  EXPECT_FALSE(has_exponent_number(result.out)) << result.out;

  auto out = boost::json::parse(result.out).as_object();
  EXPECT_GT(out.at("rules").to_number<int>(), 0);
  const boost::json::object* y2024 = nullptr;
  for (const auto& p : out.at("periods").as_array())
    if (p.at("period") == "2024") y2024 = &p.as_object();
  ASSERT_NE(y2024, nullptr) << result.out;
  int stage_up = 0;
  for (const auto& a : y2024->at("alerts").as_array())
    if (a.at("rule") == "g06-stage-up-rate-falling") {
      ++stage_up;
      EXPECT_EQ(a.at("state"), "firing") << a;
      if (a.at("labels").at("stage") == "all") {
        EXPECT_EQ(a.at("value"), 26.8) << a;
      }
    }
  EXPECT_EQ(stage_up, 4) << "all, applied, nonclinical and clinical fell; basic rose";
  EXPECT_EQ(out.at("missing_data").at("as_of"), "2026-01-01");
}

TEST(EvalJson, RefusesAnUnknownFormat) {
  auto result = run_kpiwatch({"eval", "--format", "yaml", "--input", kSourceDir + "/config/dataset/bundled.json"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(contains(result.err + result.out, "--format")) << result.err;
}

}  // namespace
}  // namespace kpiwatch::test
