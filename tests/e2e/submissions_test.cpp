// Submissions over real HTTP to the real binary: validation, scopes, revisions.
#include <gtest/gtest.h>

#include "daemon_suite.hpp"
#include "http_client.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {

class SubmissionsTest : public DaemonSuite<SubmissionsTest> {
 protected:
  static long long stored() { return count_revisions(daemon_->database()); }
};

struct BadInput {
  std::string name;
  std::string body;
  int status;
  std::string code;
  std::string field;
  int index = -1;  // -1: null
};

TEST_F(SubmissionsTest, EveryBadInputGetsAnExplainedErrorAndWritesNothing) {
  const std::string huge_batch = [] {
    std::string b = R"({"submissions":[)";
    for (int i = 0; i < 10001; ++i)
      b += std::string(i ? "," : "") + R"({"kpi":"g01.trainees","period":")" + std::to_string(1900 + i % 1000) +
           R"(","value":1})";
    return b + "]}";
  }();
  const std::vector<BadInput> cases = {
      {"malformed JSON", R"({"kpi": "g01.trainees",)", 400, "invalid_json", ""},
      {"not an object", R"([1, 2])", 422, "invalid_type", ""},
      {"kpi of wrong type", R"({"kpi": 5, "period": "2024", "value": 1})", 422, "invalid_type", "kpi"},
      {"value of wrong type", R"({"kpi": "g01.trainees", "period": "2024", "value": "12"})", 422, "invalid_type",
       "value"},
      {"missing kpi", R"({"period": "2024", "value": 1})", 422, "missing_field", "kpi"},
      {"missing period", R"({"kpi": "g01.trainees", "value": 1})", 422, "missing_field", "period"},
      {"missing value", R"({"kpi": "g01.trainees", "period": "2024"})", 422, "missing_field", "value"},
      {"unknown field", R"({"kpi": "g01.trainees", "period": "2024", "value": 1, "valu": 2})", 422, "unknown_field",
       "valu"},
      {"unknown KPI", R"({"kpi": "g01.nonexistent", "period": "2024", "value": 1})", 422, "unknown_kpi", "kpi"},
      {"unknown dimension", R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"phase": "basic"}, "value": 1})",
       422, "unknown_dimension", "dims.phase"},
      {"unknown dimension value",
       R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"stage": "final"}, "value": 1})", 422,
       "invalid_dimension_value", "dims.stage"},
      {"fiscal year for a year KPI", R"({"kpi": "g01.trainees", "period": "FY2024", "value": 1})", 422,
       "invalid_period", "period"},
      {"calendar year for a fiscal-year KPI", R"({"kpi": "g08.device_lag", "period": "2024", "value": 1})", 422,
       "invalid_period", "period"},
      {"negative count", R"({"kpi": "g01.trainees", "period": "2024", "value": -3})", 422, "out_of_range", "value"},
      {"non-integer count", R"({"kpi": "g01.trainees", "period": "2024", "value": 2.5})", 422, "not_integer", "value"},
      {"percent over 100",
       R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"stage": "all"}, "value": 100.5})", 422,
       "out_of_range", "value"},
      {"NaN", R"({"kpi": "g01.trainees", "period": "2024", "value": NaN})", 400, "invalid_json", ""},
      {"Infinity", R"({"kpi": "g01.trainees", "period": "2024", "value": Infinity})", 400, "invalid_json", ""},
      {"overflowing number", R"({"kpi": "g01.trainees", "period": "2024", "value": 1e999})", 0, "", "value"},
      {"invalid UTF-8", "{\"kpi\": \"g01.trainees\", \"period\": \"2024\", \"value\": 1, \"note\": \"\xff\xfe\"}", 400,
       "invalid_json", ""},
      {"items for a number KPI", R"({"kpi": "g01.trainees", "period": "2024", "items": ["a"]})", 422,
       "unexpected_field", "items"},
      {"value for an item list", R"({"kpi": "g10.new_reference_countries", "period": "2024", "value": 3})", 422,
       "unexpected_field", "value"},
      {"empty batch", R"({"submissions": []})", 422, "empty_batch", "submissions"},
      {"oversized batch", huge_batch, 413, "batch_too_large", "submissions"},
      {"bad entry in a batch",
       R"({"submissions": [{"kpi": "g01.trainees", "period": "2030", "value": 1},
                           {"kpi": "g01.trainees", "period": "2031", "value": -1}]})",
       422, "out_of_range", "value", 1},
      {"duplicate entries in a batch",
       R"({"submissions": [{"kpi": "g01.trainees", "period": "2030", "value": 1},
                           {"kpi": "g01.training_courses", "period": "2030", "value": 1},
                           {"kpi": "g01.trainees", "period": "2030", "value": 2}]})",
       422, "duplicate_entry", "", 2},
  };

  const long long before = stored();
  ASSERT_GT(before, 0);
  HttpClient client(port());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto reply = client.post("/api/v1/submissions", c.body, kAdminToken);
    if (c.status == 0) {  // whatever the code, a 4xx naming the field
      EXPECT_GE(reply.status, 400);
      EXPECT_LT(reply.status, 500);
    } else {
      EXPECT_EQ(reply.status, c.status) << reply.body;
      EXPECT_EQ(reply.error_code(), c.code) << reply.body;
    }
    auto error = reply.json().at("error").as_object();
    EXPECT_FALSE(error.at("message").as_string().empty());
    EXPECT_EQ(error.at("field").as_string(), c.field) << reply.body;
    if (c.index >= 0)
      EXPECT_EQ(error.at("index").to_number<int>(), c.index) << reply.body;
    else
      EXPECT_TRUE(error.at("index").is_null()) << reply.body;
  }
  EXPECT_EQ(stored(), before);
}

TEST_F(SubmissionsTest, OversizedBodyIsRefusedWith413) {
  Daemon small("max_body_bytes = 1000");
  small.start();
  std::string body =
      R"({"kpi": "g01.trainees", "period": "2024", "value": 1, "note": ")" + std::string(2000, 'x') + R"("})";
  auto reply = http_post(small.port(), "/api/v1/submissions", body, kAdminToken);
  EXPECT_EQ(reply.status, 413);
  EXPECT_EQ(reply.error_code(), "body_too_large");
  EXPECT_EQ(small.stop(), 0);
}

TEST_F(SubmissionsTest, WritesNeedAValidTokenWithinItsScope) {
  const std::string amed_figure = R"({"kpi": "g01.trainees", "period": "2031", "value": 10})";
  const std::string jfmda_figure = R"({"kpi": "g02.venture_companies", "period": "2031", "value": 4})";
  const long long before = stored();

  auto missing = http_post(port(), "/api/v1/submissions", amed_figure);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.error_code(), "unauthorized");
  EXPECT_NE(missing.headers["www-authenticate"].find("Bearer"), std::string::npos);

  auto wrong = http_post(port(), "/api/v1/submissions", amed_figure, "kpw_not_a_token");
  EXPECT_EQ(wrong.status, 401);

  auto out_of_scope = http_post(port(), "/api/v1/submissions", jfmda_figure, kAmedToken);
  EXPECT_EQ(out_of_scope.status, 403);
  EXPECT_EQ(out_of_scope.error_code(), "forbidden");

  // One figure out of scope refuses the whole batch.
  auto mixed = http_post(port(), "/api/v1/submissions",
                         R"({"submissions": [)" + amed_figure + "," + jfmda_figure + "]}", kAmedToken);
  EXPECT_EQ(mixed.status, 403);
  EXPECT_EQ(mixed.json().at("error").at("index").to_number<int>(), 1);

  auto claims_other_body =
      http_post(port(), "/api/v1/submissions",
                R"({"kpi": "g01.trainees", "period": "2031", "value": 10, "body": "jfmda"})", kAmedToken);
  EXPECT_GE(claims_other_body.status, 400);
  EXPECT_EQ(stored(), before);

  auto ok = http_post(port(), "/api/v1/submissions", amed_figure, kAmedToken);
  ASSERT_EQ(ok.status, 201) << ok.body;
  auto revision = ok.json().at("revisions").at(0);
  EXPECT_EQ(revision.at("submitted_by").as_string(), "test-amed");
  EXPECT_EQ(revision.at("body").as_string(), "amed");
  EXPECT_EQ(stored(), before + 1);
}

TEST_F(SubmissionsTest, ResubmissionAddsARevisionAndKeepsHistory) {
  const std::string target = "/api/v1/kpis/g06.stage_up_rate/series?dims.stage=basic";
  auto first = http_post(port(), "/api/v1/submissions",
                         R"({"kpi": "g06.stage_up_rate", "period": "2026", "dims": {"stage": "basic"}, "value": 30.5,
                             "source": "survey 2026", "note": "preliminary"})",
                         kAmedToken);
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.json().at("revisions").at(0).at("revision").to_number<int>(), 1);

  auto second = http_post(port(), "/api/v1/submissions",
                          R"({"kpi": "g06.stage_up_rate", "period": "2026", "dims": {"stage": "basic"}, "value": 28.0,
                              "note": "final"})",
                          kAmedToken);
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(second.json().at("revisions").at(0).at("revision").to_number<int>(), 2);

  auto current = http_get(port(), target);
  ASSERT_EQ(current.status, 200) << current.body;
  auto series = current.json().at("series").as_array();
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].at("dims").at("stage").as_string(), "basic");
  const auto& points = series[0].at("points").as_array();
  const boost::json::value* p2026 = nullptr;
  for (const auto& p : points)
    if (p.at("period").as_string() == "2026") p2026 = &p;
  ASSERT_NE(p2026, nullptr);
  EXPECT_DOUBLE_EQ(p2026->at("value").to_number<double>(), 28.0);
  EXPECT_EQ(p2026->at("revision").to_number<int>(), 2);
  // Bundled 2023 and 2024 figures are still there, in period order.
  EXPECT_EQ(points.front().at("period").as_string(), "2023");

  auto history = http_get(port(), target + "&revisions=true");
  ASSERT_EQ(history.status, 200);
  std::vector<double> values;
  auto history_json = history.json();
  for (const auto& p : history_json.at("series").at(0).at("points").as_array())
    if (p.at("period").as_string() == "2026") values.push_back(p.at("value").to_number<double>());
  EXPECT_EQ(values, (std::vector<double>{30.5, 28.0}));
}

TEST_F(SubmissionsTest, ItemListsAndDimensionDefaultsAreStored) {
  auto items = http_post(port(), "/api/v1/submissions",
                         R"({"kpi": "g10.new_reference_countries", "period": "2025", "items": ["Kenya", "Chile"]})",
                         kAdminToken);
  ASSERT_EQ(items.status, 201) << items.body;
  auto series = http_get(port(), "/api/v1/kpis/g10.new_reference_countries/series").json();
  bool found = false;
  for (const auto& p : series.at("series").at(0).at("points").as_array())
    if (p.at("period").as_string() == "2025") {
      found = true;
      EXPECT_EQ(p.at("items"), boost::json::parse(R"(["Kenya", "Chile"])"));
    }
  EXPECT_TRUE(found);

  auto defaulted = http_post(port(), "/api/v1/submissions",
                             R"({"kpi": "g06.stage_up_rate", "period": "2027", "value": 20})", kAmedToken);
  ASSERT_EQ(defaulted.status, 201) << defaulted.body;
  EXPECT_EQ(defaulted.json().at("revisions").at(0).at("dims").at("stage").as_string(), "all");
}

TEST_F(SubmissionsTest, CatalogAndHealthEndpointsAnswer) {
  auto kpis = http_get(port(), "/api/v1/kpis");
  ASSERT_EQ(kpis.status, 200);
  EXPECT_EQ(kpis.json().at("goals").as_array().size(), 11u);
  EXPECT_GT(kpis.json().at("kpis").as_array().size(), 20u);
  EXPECT_EQ(http_get(port(), "/healthz").status, 200);
  EXPECT_EQ(http_get(port(), "/readyz").status, 200);
  EXPECT_EQ(http_get(port(), "/api/v1/kpis/g99.none/series").status, 404);
  EXPECT_EQ(http_get(port(), "/api/v1/nothing").status, 404);
  auto wrong_method = http_get(port(), "/api/v1/submissions");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.headers["allow"], "POST");
  EXPECT_EQ(http_get(port(), "/api/v1/kpis/g06.stage_up_rate/series?dims.stage=final").status, 400);
}

}  // namespace
}  // namespace kpiwatch::test
