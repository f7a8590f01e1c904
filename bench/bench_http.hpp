#pragma once
// The load driver: keep-alive HTTP/1.1 connections to 127.0.0.1 on Boost.Asio/
// Beast, each sending its own list of POST bodies one after another.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace kpiwatch::bench {

struct LoadPlan {
  unsigned short port = 0;
  std::string method = "POST";  // or "GET": then the bodies are ignored (only their count matters)
  std::string target = "/api/v1/submissions";
  std::string token;
  // bodies[c] are sent in order on connection c; every connection runs concurrently.
  std::vector<std::vector<std::string>> bodies;
  unsigned expected_status = 201;
  std::chrono::milliseconds request_timeout = std::chrono::seconds(60);
  std::chrono::milliseconds total_timeout = std::chrono::seconds(600);
};

struct LoadResult {
  std::size_t requests = 0;          // answered with the expected status
  std::size_t failed = 0;            // other status, or I/O error
  double seconds = 0;                // first request sent to last response read (connect excluded)
  std::vector<double> latencies_ms;  // one per answered request, sorted
  std::string first_error;

  double percentile_ms(double p) const;
};

// Connects every connection first (not timed), then runs the plan on one
// thread. Bounded: a request that takes longer than request_timeout fails its
// connection, and the whole run stops at total_timeout.
LoadResult run_load(LoadPlan plan);

struct Reply {
  unsigned status = 0;
  std::string body;
  double ms = 0;  // request written to response read (connect excluded)
};

// One keep-alive connection for requests one at a time, each bounded by its
// timeout. Reconnects when the server closed the connection (once per request).
class HttpClient {
 public:
  explicit HttpClient(unsigned short port, std::string token = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Throws std::runtime_error on an I/O error or a timeout; any status is returned.
  Reply get(const std::string& target, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  Reply post(const std::string& target, const std::string& body,
             std::chrono::milliseconds timeout = std::chrono::seconds(60));

 private:
  struct Impl;
  Reply request(bool post, const std::string& target, const std::string& body, std::chrono::milliseconds timeout);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kpiwatch::bench
