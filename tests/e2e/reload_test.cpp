// Reloading config and catalog on SIGHUP and POST /api/v1/reload.
#include <gtest/gtest.h>
#include <signal.h>

#include "http_client.hpp"
#include "kpiwatch/digest.hpp"
#include "kpiwatch/settings.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {

const std::string kFigure = R"({"kpi": "g01.trainees", "period": "2035", "value": 1})";

std::string extra_token(const std::string& token) {
  return "[[tokens]]\nname = \"added\"\nsha256 = \"" + sha256_hex(token) + "\"\nbodies = [\"amed\"]\n";
}

TEST(Reload, SighupSwapsInAValidConfigAndKeepsTheOldOneOnErrors) {
  Daemon daemon;
  daemon.start();
  EXPECT_EQ(http_post(daemon.port(), "/api/v1/submissions", kFigure, "kpw_added").status, 401);

  daemon.write_config(test_config(daemon.state_dir(), "", extra_token("kpw_added")));
  daemon.signal(SIGHUP);
  ASSERT_TRUE(daemon.wait_for_log("reloaded:"));
  EXPECT_EQ(http_post(daemon.port(), "/api/v1/submissions", kFigure, "kpw_added").status, 201);

  daemon.write_config(test_config(daemon.state_dir(), "max_conections = 3"));
  daemon.signal(SIGHUP);
  ASSERT_TRUE(daemon.wait_for_log("reload failed"));
  EXPECT_NE(daemon.log().find(daemon.config_path() + ":4:1: server: unknown key \"max_conections\""), std::string::npos)
      << daemon.log();
  // The previous configuration, with the added token, keeps running.
  EXPECT_EQ(http_post(daemon.port(), "/api/v1/submissions", kFigure, "kpw_added").status, 201);
  EXPECT_EQ(http_get(daemon.port(), "/readyz").status, 200);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Reload, TheReloadEndpointNeedsAnAdminAndReturnsTheErrors) {
  Daemon daemon;
  daemon.start();
  EXPECT_EQ(http_post(daemon.port(), "/api/v1/reload", "", "").status, 401);
  EXPECT_EQ(http_post(daemon.port(), "/api/v1/reload", "", kAmedToken).status, 403);
  auto ok = http_post(daemon.port(), "/api/v1/reload", "", kAdminToken);
  EXPECT_EQ(ok.status, 200) << ok.body;

  daemon.write_config(test_config(daemon.state_dir()) + "\n[catalog]\npath = \"/nonexistent/catalog.toml\"\n");
  auto failed = http_post(daemon.port(), "/api/v1/reload", "", kAdminToken);
  EXPECT_EQ(failed.status, 422);
  EXPECT_EQ(failed.error_code(), "reload_failed");
  auto diagnostics = failed.json().at("error").at("diagnostics").as_array();
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_NE(std::string(diagnostics[0].as_string()).find("/nonexistent/catalog.toml"), std::string::npos);
  EXPECT_EQ(http_get(daemon.port(), "/api/v1/kpis").status, 200);
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace kpiwatch::test
