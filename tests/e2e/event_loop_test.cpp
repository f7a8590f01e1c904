// The event loop never waits on SQLite (issue 13): reads run on reader threads
// with connections of their own, so /healthz is answered while a heavy read is
// still being drawn. Ordering, not timing: the heavy answer has not arrived yet.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "http_client.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {

constexpr int kInstitutions = 4000;
constexpr int kMonths = 12;

std::string institution(int i) { return fmt::format("i{:05}", i); }

std::string catalog_toml() {
  std::string values;
  for (int i = 0; i < kInstitutions; ++i) values += fmt::format("{}\"{}\"", i ? ", " : "", institution(i));
  return fmt::format(R"(schema = 1
[[bodies]]
id = "amed"
name_ja = "AMED"
name_en = "AMED"
[[bodies]]
id = "jfmda"
name_ja = "医機連"
name_en = "JFMDA"
[[goals]]
number = 1
name_ja = "件数"
name_en = "Counts"
bodies = ["amed"]
[[kpis]]
id = "g01.count"
goal = 1
name_ja = "月次件数"
name_en = "Monthly count"
unit = "count"
period = "month"
bodies = ["amed"]
min = 0
max = 1000000000
[kpis.dims.institution]
values = [{}]
)",
                     values);
}

// One month of every institution, as one batch.
std::string month_batch(int month) {
  std::string body = R"({"submissions":[)";
  for (int i = 0; i < kInstitutions; ++i)
    body += fmt::format(R"({}{{"kpi":"g01.count","period":"2024-{:02}","value":{},"dims":{{"institution":"{}"}}}})",
                        i ? "," : "", month % 12 + 1, i + month, institution(i));
  return body + "]}";
}

TEST(EventLoop, HealthIsAnsweredWhileAHeavyReadIsDrawn) {
  Daemon daemon;
  write_file(daemon.dir() + "/catalog.toml", catalog_toml());
  const std::string rules = daemon.dir() + "/rules";
  std::filesystem::create_directories(rules);  // no rules: this measures reads
  daemon.write_config(test_config(daemon.state_dir(), "",
                                  fmt::format("[catalog]\npath = \"{}/catalog.toml\"\n[rules]\npaths = [\"{}\"]\n"
                                              "[dataset]\nload_bundled = false\n[limits]\nmax_batch = 10000\n",
                                              daemon.dir(), rules)));
  daemon.start();
  HttpClient writer(daemon.port(), std::chrono::seconds(120));
  for (int month = 0; month < kMonths; ++month) {
    auto reply = writer.post("/api/v1/submissions", month_batch(month), kAdminToken);
    ASSERT_EQ(reply.status, 201) << reply.body.substr(0, 500);
  }

  // Every figure of the KPI as CSV: tens of thousands of rows read and written.
  HttpClient heavy(daemon.port(), std::chrono::seconds(120));
  heavy.send_raw("GET /api/v1/kpis/g01.count/series?format=csv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the daemon take it up first
  EXPECT_EQ(HttpClient(daemon.port()).get("/healthz").status, 200);
  EXPECT_FALSE(heavy.reply_arrived()) << "the health check waited for the heavy read";
  auto csv = heavy.read_reply();
  ASSERT_EQ(csv.status, 200) << csv.body.substr(0, 300);
  EXPECT_GT(std::count(csv.body.begin(), csv.body.end(), '\n'), kMonths * kInstitutions);
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace kpiwatch::test
