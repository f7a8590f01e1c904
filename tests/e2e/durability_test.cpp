// Nothing acknowledged is lost: SIGKILL, restarts, in-flight requests at SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <future>

#include "http_client.hpp"
#include "kpiwatch/dataset.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {
using namespace std::chrono_literals;

long long bundled_size() {
  return static_cast<long long>(boost::json::parse(bundled_dataset_json()).at("submissions").as_array().size());
}

TEST(Durability, BundledDatasetIsLoadedOnceAndNotDuplicatedByARestart) {
  Daemon daemon;
  daemon.start();
  EXPECT_EQ(count_revisions(daemon.database()), bundled_size());
  auto series = http_get(daemon.port(), "/api/v1/kpis/g06.stage_up_rate/series?dims.stage=all").json();
  const auto& points = series.at("series").at(0).at("points").as_array();
  ASSERT_EQ(points.size(), 2u);
  EXPECT_DOUBLE_EQ(points[0].at("value").to_number<double>(), 33.1);
  EXPECT_DOUBLE_EQ(points[1].at("value").to_number<double>(), 26.8);
  ASSERT_EQ(daemon.stop(), 0);

  daemon.start();
  EXPECT_EQ(count_revisions(daemon.database()), bundled_size());
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Durability, AnAcknowledgedSubmissionSurvivesSigkill) {
  Daemon daemon;
  daemon.start();
  std::vector<std::string> acknowledged;
  HttpClient client(daemon.port());
  for (int year = 2040; year < 2060; ++year) {
    auto reply = client.post("/api/v1/submissions",
                             R"({"kpi": "g01.trainees", "period": ")" + std::to_string(year) + R"(", "value": )" +
                                 std::to_string(year - 2000) + "}",
                             kAmedToken);
    ASSERT_EQ(reply.status, 201) << reply.body;
    acknowledged.push_back(std::to_string(year));
  }
  daemon.kill_hard();

  daemon.start();
  auto series = http_get(daemon.port(), "/api/v1/kpis/g01.trainees/series").json();
  std::set<std::string> periods;
  for (const auto& p : series.at("series").at(0).at("points").as_array())
    periods.insert(std::string(p.at("period").as_string()));
  for (const auto& year : acknowledged) EXPECT_TRUE(periods.contains(year)) << year;
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(Durability, AnInFlightSubmissionFinishesWhenSigtermArrives) {
  Daemon daemon;
  daemon.start();
  const long long before = count_revisions(daemon.database());

  // Hold SQLite's write lock so that the submission is in flight, waiting.
  sqlite3* lock = nullptr;
  ASSERT_EQ(sqlite3_open(daemon.database().c_str(), &lock), SQLITE_OK);
  sqlite3_busy_timeout(lock, 20000);  // the daemon's start-up evaluation may still be writing
  ASSERT_EQ(sqlite3_exec(lock, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  auto reply = std::async(std::launch::async, [&] {
    return http_post(daemon.port(), "/api/v1/submissions", R"({"kpi": "g01.trainees", "period": "2070", "value": 7})",
                     kAmedToken);
  });
  ASSERT_TRUE(daemon.wait_for_log("request POST /api/v1/submissions"));
  daemon.signal(SIGTERM);
  ASSERT_TRUE(daemon.wait_for_log("SIGTERM received"));
  ASSERT_EQ(sqlite3_exec(lock, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(lock);

  auto result = reply.get();
  EXPECT_EQ(result.status, 201) << result.body;
  EXPECT_EQ(daemon.wait_exit(20s), 0);
  EXPECT_EQ(count_revisions(daemon.database()), before + 1);
}

TEST(Durability, ConcurrentSubmissionsAreAllStored) {
  Daemon daemon;
  daemon.start();
  const long long before = count_revisions(daemon.database());
  std::vector<std::future<int>> replies;
  replies.reserve(16);
  for (int t = 0; t < 16; ++t) {
    replies.push_back(std::async(std::launch::async, [&, t] {
      HttpClient client(daemon.port());
      int created = 0;
      for (int i = 0; i < 10; ++i) {
        auto period = std::to_string(2100 + t * 10 + i);
        auto reply = client.post("/api/v1/submissions",
                                 R"({"kpi": "g05.cooperating_providers", "period": ")" + period + R"(", "value": 1})",
                                 kAdminToken);
        created += reply.status == 201;
      }
      return created;
    }));
  }
  int created = 0;
  for (auto& r : replies) created += r.get();
  EXPECT_EQ(created, 160);
  EXPECT_EQ(count_revisions(daemon.database()), before + 160);
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace kpiwatch::test
