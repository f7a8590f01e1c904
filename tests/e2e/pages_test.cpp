// The status page's routes against the real binary: the HTML shell of each page
// in its language, the 404 and 400 pages, and the embedded assets with their
// Content-Type, ETag and 304.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "daemon_suite.hpp"
#include "http_client.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class PagesTest : public DaemonSuite<PagesTest> {
 protected:
  static HttpReply get(const std::string& target) { return http_get(daemon_->port(), target); }
};

TEST_F(PagesTest, EveryPageIsTheShellInJapaneseByDefault) {
  for (const std::string target : {"/", "/goals/6", "/alerts", "/alerts?state=firing&severity=critical"}) {
    auto reply = get(target);
    ASSERT_EQ(reply.status, 200) << target << "\n" << reply.body;
    EXPECT_EQ(reply.headers["content-type"], "text/html; charset=utf-8") << target;
    EXPECT_TRUE(contains(reply.body, "<html lang=\"ja\">")) << target;
    EXPECT_TRUE(contains(reply.body, "<script type=\"module\" src=\"/assets/app.js\"></script>")) << target;
    EXPECT_TRUE(contains(reply.body, "<main id=\"main\"")) << target;
    EXPECT_TRUE(contains(reply.body, "data-lang-switch")) << target;
    EXPECT_FALSE(contains(reply.body, "{{")) << target;
    // No inline script or style: the CSP allows only 'self'.
    EXPECT_FALSE(contains(reply.body, "<script>")) << target;
    EXPECT_FALSE(contains(reply.body, "style=")) << target;
  }
  EXPECT_TRUE(contains(get("/goals/6").body, "data-page=\"goal\" data-goal=\"6\""));
}

TEST_F(PagesTest, TheLanguageComesFromTheUrlAndTheSwitchKeepsTheRest) {
  auto en = get("/alerts?state=firing&lang=en");
  ASSERT_EQ(en.status, 200) << en.body;
  EXPECT_TRUE(contains(en.body, "<html lang=\"en\">"));
  EXPECT_TRUE(contains(en.body, "Skip to content"));
  EXPECT_TRUE(contains(en.body, "href=\"/alerts?state=firing&amp;lang=ja\""));
  EXPECT_TRUE(contains(en.body, "href=\"/alerts?lang=en\" data-nav=\"alerts\""));

  auto ja = get("/?lang=ja");
  ASSERT_EQ(ja.status, 200);
  EXPECT_TRUE(contains(ja.body, "<html lang=\"ja\">"));
  EXPECT_TRUE(contains(ja.body, "本文へ移動"));
  EXPECT_TRUE(contains(ja.body, "href=\"/?lang=en\""));
}

TEST_F(PagesTest, AnUnknownLanguageIs400) {
  auto reply = get("/?lang=fr");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_TRUE(contains(reply.body, "lang には ja"));
  EXPECT_TRUE(contains(reply.body, "lang must be ja"));
  EXPECT_EQ(get("/goals/6?lang=").status, 400);
}

TEST_F(PagesTest, UnknownGoalsAlertsAndPathsGetThe404PageInTheirLanguage) {
  for (const std::string target :
       {"/goals/12", "/goals/0", "/goals/six", "/alerts/not-a-fingerprint", "/goals/6/x", "/nowhere"}) {
    auto reply = get(target);
    EXPECT_EQ(reply.status, 404) << target;
    EXPECT_EQ(reply.headers["content-type"], "text/html; charset=utf-8") << target;
    EXPECT_TRUE(contains(reply.body, "<h1>ページが見つかりません</h1>")) << target;
  }
  auto en = get("/goals/99?lang=en");
  EXPECT_EQ(en.status, 404);
  EXPECT_TRUE(contains(en.body, "<html lang=\"en\">"));
  EXPECT_TRUE(contains(en.body, "<h1>Page not found</h1>"));
  // The API keeps its JSON errors.
  auto api = get("/api/v1/nowhere");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.error_code(), "not_found");
}

TEST_F(PagesTest, AnAlertThatExistsHasItsPage) {
  auto alerts = get("/api/v1/alerts").json();
  ASSERT_FALSE(alerts.at("alerts").as_array().empty());
  std::string fp(alerts.at("alerts").as_array().at(0).at("fingerprint").as_string());
  auto reply = get("/alerts/" + fp + "?lang=en");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_TRUE(contains(reply.body, "data-fingerprint=\"" + fp + "\""));
}

TEST_F(PagesTest, AssetsCarryTheirTypeAndAnETagThatAnswers304) {
  struct Case {
    std::string path, type, part;
  };
  const Case cases[] = {
      {"/assets/app.js", "text/javascript; charset=utf-8", "import"},
      {"/assets/app.css", "text/css; charset=utf-8", ":root"},
      {"/assets/chart.umd.js", "text/javascript; charset=utf-8", "Chart.js v3.9.1"},
      {"/assets/favicon.svg", "image/svg+xml; charset=utf-8", "<svg"},
  };
  for (const auto& c : cases) {
    auto reply = get(c.path);
    ASSERT_EQ(reply.status, 200) << c.path;
    EXPECT_EQ(reply.headers["content-type"], c.type) << c.path;
    EXPECT_EQ(reply.headers["cache-control"], "no-cache") << c.path;
    EXPECT_TRUE(contains(reply.body, c.part)) << c.path;
    std::string etag = reply.headers["etag"];
    ASSERT_EQ(etag.size(), 22u) << c.path << " " << etag;

    HttpClient client(daemon_->port());
    auto again = client.request("GET", c.path, "", {{"If-None-Match", etag}});
    EXPECT_EQ(again.status, 304) << c.path;
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(again.headers["etag"], etag);
    auto other = client.request("GET", c.path, "", {{"If-None-Match", "\"something-else\", W/" + etag}});
    EXPECT_EQ(other.status, 304) << c.path;
    auto stale = client.request("GET", c.path, "", {{"If-None-Match", "\"something-else\""}});
    EXPECT_EQ(stale.status, 200) << c.path;
  }
  EXPECT_NE(get("/assets/app.js").headers["etag"], get("/assets/app.css").headers["etag"]);
  EXPECT_EQ(get("/assets/nothing.js").status, 404);
  EXPECT_EQ(get("/assets/shell.html").status, 404);
}

// Follows every static and dynamic import from app.js: each module is embedded and served.
TEST_F(PagesTest, EveryModuleTheAppImportsIsServed) {
  static const std::regex import_re(R"((?:from|import\()\s*'\./([a-z_]+\.js)')");
  std::set<std::string> seen{"app.js"};
  std::vector<std::string> queue{"app.js"};
  while (!queue.empty()) {
    std::string name = queue.back();
    queue.pop_back();
    auto reply = get("/assets/" + name);
    ASSERT_EQ(reply.status, 200) << name;
    EXPECT_EQ(reply.headers["content-type"], "text/javascript; charset=utf-8") << name;
    for (std::sregex_iterator it(reply.body.begin(), reply.body.end(), import_re), end; it != end; ++it)
      if (seen.insert((*it)[1]).second) queue.push_back((*it)[1]);
  }
  // The four pages and what they share.
  EXPECT_GE(seen.size(), 8u);
  for (const std::string page : {"overview.js", "goal.js", "alerts.js", "alert.js"})
    EXPECT_TRUE(seen.contains(page)) << page;
}

}  // namespace
}  // namespace kpiwatch::test
