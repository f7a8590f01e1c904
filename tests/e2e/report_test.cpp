// The follow-up report from the bundled figures: `kpiwatch report` (HTML and, with
// Debian's chromium, PDF checked with poppler's pdfinfo and pdftoppm) and GET /report.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include "daemon_suite.hpp"
#include "http_client.hpp"
#include "kpiwatch/catalog.hpp"

namespace kpiwatch::test {
namespace {

class ReportTest : public DaemonSuite<ReportTest> {
 protected:
  static CommandResult report(std::vector<std::string> args, const Environment& env = {}) {
    std::vector<std::string> all = {"report", "--config", daemon_->config_path()};
    all.insert(all.end(), args.begin(), args.end());
    return run_kpiwatch(all, std::chrono::seconds(120), env);
  }
};

// A command's standard output, bounded in time by timeout(1).
std::string output_of(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(("timeout 60 " + command + " 2>&1").c_str(), "r");
  if (!pipe) return out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

bool on_path(const std::string& name) { return output_of("sh -c 'command -v " + name + "'").find('/') == 0; }

// The goal's section: from its id to the end of its <section>.
std::string section(const std::string& html, int goal) {
  auto at = html.find("id=\"goal-" + std::to_string(goal) + "\"");
  if (at == std::string::npos) return "";
  return html.substr(at, html.find("</section>", at) - at);
}

TEST_F(ReportTest, TheHtmlHasEveryGoalWithItsFiguresInBothLanguages) {
  auto catalog = Catalog::embedded();
  for (std::string lang : {"ja", "en"}) {
    auto r = report({"--year", "2024", "--lang", lang});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string& html = r.out;
    EXPECT_NE(html.find("<html lang=\"" + lang + "\">"), std::string::npos);
    for (const Goal& goal : catalog->goals())
      EXPECT_FALSE(section(html, goal.number).empty()) << lang << " goal " << goal.number;
    // Goal 6: the stage-up rate of all themes, 33.1 % in 2023 and 26.8 % in 2024.
    std::string g6 = section(html, 6);
    auto rate = g6.find("id=\"g06.stage_up_rate\"");
    ASSERT_NE(rate, std::string::npos) << lang;
    std::string overall = lang == "ja" ? "<th>全体</th>" : "<th>all themes</th>";
    std::regex row(overall + "(<td[^>]*>[^<]*</td>)*<td class=\"num\">33.1</td><td class=\"num\">26.8</td>");
    EXPECT_TRUE(std::regex_search(g6.substr(rate), row)) << lang;
    // Goal 1: 49, 58 and 69 courses.
    EXPECT_NE(section(html, 1).find("<td class=\"num\">49</td><td class=\"num\">58</td><td class=\"num\">69</td>"),
              std::string::npos)
        << lang;
    EXPECT_EQ(html.find("<script"), std::string::npos);
    EXPECT_FALSE(std::regex_search(html, std::regex("https?://"))) << lang;
  }
}

TEST_F(ReportTest, TheHtmlGoesToTheFileNamedByOut) {
  TempDir dir;
  auto r = report({"--out", dir.file("r.html")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  std::string html = read_file(dir.file("r.html"));
  EXPECT_NE(html.find("id=\"goal-11\""), std::string::npos);
}

TEST_F(ReportTest, AWrongFlagIsNamed) {
  auto year = report({"--year", "20x4"});
  EXPECT_EQ(year.exit_code, 2);
  EXPECT_NE(year.err.find("--year"), std::string::npos) << year.err;
  auto lang = report({"--lang", "fr"});
  EXPECT_EQ(lang.exit_code, 2);
  EXPECT_NE(lang.err.find("--lang must be ja or en, not \"fr\""), std::string::npos) << lang.err;
  auto format = report({"--format", "docx"});
  EXPECT_EQ(format.exit_code, 2);
  EXPECT_NE(format.err.find("--format must be html or pdf, not \"docx\""), std::string::npos) << format.err;
}

TEST_F(ReportTest, AYearWithoutFiguresIsRefusedNamingTheYearsThereAre) {
  TempDir dir;
  auto r = report({"--year", "1999", "--out", dir.file("r.html")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no figures for 1999: the figures cover 2015–2024"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("r.html")));
  auto reply = HttpClient(port()).get("/report?year=2031");
  EXPECT_EQ(reply.status, 404);
  EXPECT_NE(reply.body.find("\"field\":\"year\""), std::string::npos) << reply.body;
  EXPECT_NE(reply.body.find("no figures for 2031"), std::string::npos) << reply.body;
}

TEST_F(ReportTest, WithoutChromiumThePdfErrorSaysHowToGetIt) {
  TempDir dir;
  auto r = report({"--format", "pdf", "--out", dir.file("r.pdf")}, {{"KPIWATCH_CHROMIUM", dir.file("no-browser")}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("apt-get install chromium"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("r.pdf")));
}

TEST_F(ReportTest, ThePdfHasTheTitleTheSummaryAndAPageForEveryGoalOnA4Landscape) {
  if (!on_path("chromium") || !on_path("pdfinfo") || !on_path("pdftoppm"))
    GTEST_SKIP() << "needs chromium and poppler-utils (bash scripts/install-deps.sh)";
  TempDir dir;
  std::string pdf = dir.file("report.pdf");
  auto r = report({"--year", "2024", "--format", "pdf", "--out", pdf});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string info = output_of("pdfinfo " + pdf);
  std::smatch pages;
  ASSERT_TRUE(std::regex_search(info, pages, std::regex(R"(Pages:\s+(\d+))"))) << info;
  int count = std::stoi(pages[1]);
  EXPECT_GE(count, 2 + 11) << info;  // each goal starts a page of its own
  EXPECT_LE(count, 60) << info;
  EXPECT_NE(info.find("841.92 x 594.96 pts (A4)"), std::string::npos) << info;  // landscape
  output_of("pdftoppm -r 40 -png -f 1 -l " + std::to_string(count) + " " + pdf + " " + dir.file("page"));
  int pngs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    if (entry.path().extension() == ".png") ++pngs;
  EXPECT_EQ(pngs, count);
  // A page is wider than tall: the PNG's IHDR width and height.
  std::ifstream png(dir.file(count >= 10 ? "page-01.png" : "page-1.png"), std::ios::binary);
  unsigned char header[24] = {};
  png.read(reinterpret_cast<char*>(header), sizeof header);
  ASSERT_EQ(header[1], 'P');
  auto be32 = [&](int at) { return header[at] << 24 | header[at + 1] << 16 | header[at + 2] << 8 | header[at + 3]; };
  EXPECT_GT(be32(16), be32(20));
}

TEST_F(ReportTest, GetReportServesTheReportWithAPolicyThatAllowsOnlyItsOwnStyle) {
  HttpClient client(port());
  auto reply = client.get("/report?year=2024&lang=en");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_NE(reply.body.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_FALSE(section(reply.body, 6).empty());
  const std::string& csp = reply.headers["content-security-policy"];
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_TRUE(std::regex_search(csp, std::regex("style-src 'sha256-[A-Za-z0-9+/]{43}='"))) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("script-src"), std::string::npos) << csp;  // default-src 'none' forbids scripts
  // The hash is that of the page's one style element (as a browser computes it).
  auto open = reply.body.find("<style>") + 7;
  TempDir dir;
  write_file(dir.file("style.css"), reply.body.substr(open, reply.body.find("</style>") - open));
  std::string hash = output_of("sh -c 'openssl dgst -sha256 -binary " + dir.file("style.css") + " | base64'");
  ASSERT_FALSE(hash.empty());
  EXPECT_NE(csp.find("'sha256-" + hash.substr(0, hash.find('\n')) + "'"), std::string::npos) << csp << " " << hash;
  EXPECT_EQ(client.get("/report").status, 200);
  auto bad_lang = client.get("/report?lang=fr");
  EXPECT_EQ(bad_lang.status, 400);
  EXPECT_NE(bad_lang.body.find("\"lang\""), std::string::npos) << bad_lang.body;
  auto bad_year = client.get("/report?year=24x");
  EXPECT_EQ(bad_year.status, 400);
  EXPECT_NE(bad_year.body.find("\"year\""), std::string::npos) << bad_year.body;
}

TEST_F(ReportTest, ReportsAskedAtOnceAreDrawnOffTheEventLoopAndAllAnswered) {
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<HttpClient>(port()));
    clients.back()->send_raw("GET /report?year=2024 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  }
  // The event loop answers while they are drawn.
  EXPECT_EQ(HttpClient(port()).get("/healthz").status, 200);
  std::string first;
  for (auto& c : clients) {
    auto reply = c->read_reply();
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_FALSE(section(reply.body, 6).empty());
    if (first.empty()) first = section(reply.body, 6);
    EXPECT_EQ(section(reply.body, 6), first);
  }
}

// [report] templates: checked with the config, used by GET /report and by the
// command, and swapped in by a reload (a broken file leaves the running ones).
TEST(ReportTemplatesSetting, TheConfiguredHeadlinesAreUsedAndReloaded) {
  TempDir files;
  std::string templates = files.file("headlines.toml");
  auto headline = [&](const std::string& ja) {
    write_file(templates, "[[headline]]\nkpi = \"g01.training_courses\"\nja = \"" + ja +
                              "：{figures}\"\nen = \"Own words: {figures}\"\n");
  };
  headline("局の見出し");
  Daemon daemon("", "[report]\ntemplates = \"" + templates + "\"\n");
  daemon.start();
  ASSERT_TRUE(daemon.wait_for_log("rules evaluated over")) << daemon.log();
  HttpClient client(daemon.port());
  auto first = client.get("/report?year=2024");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_NE(section(first.body, 1).find("局の見出し：2022年に49コース、2023年に58コース、2024年に69コース"),
            std::string::npos);
  // Only the configured file speaks: the shipped goal 6 sentence is gone.
  EXPECT_EQ(first.body.find("ステージアップの割合が33.1%から26.8%に減少している"), std::string::npos);
  auto command = run_kpiwatch({"report", "--config", daemon.config_path()}, std::chrono::seconds(60));
  ASSERT_EQ(command.exit_code, 0) << command.err;
  EXPECT_NE(command.out.find("局の見出し："), std::string::npos);

  headline("課の見出し");
  daemon.signal(SIGHUP);
  ASSERT_TRUE(daemon.wait_for_log("reloaded:")) << daemon.log();
  EXPECT_NE(client.get("/report").body.find("課の見出し：2022年に49コース"), std::string::npos);

  write_file(templates, "[[headline]]\nkpi = \"g01.no_such_kpi\"\nja = \"x\"\nen = \"x\"\n");
  auto check = run_kpiwatch({"check", "--config", daemon.config_path()}, std::chrono::seconds(30));
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.err.find(templates + ":2"), std::string::npos) << check.err;
  EXPECT_NE(check.err.find("unknown KPI \"g01.no_such_kpi\""), std::string::npos) << check.err;
  daemon.signal(SIGHUP);
  ASSERT_TRUE(daemon.wait_for_log("reload failed")) << daemon.log();
  EXPECT_NE(client.get("/report").body.find("課の見出し："), std::string::npos);
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace kpiwatch::test
