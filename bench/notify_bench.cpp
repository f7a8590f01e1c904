// kpiwatch_bench_notify: the notification-latency benchmark of docs/BENCHMARKS.md.
//
// The real kpiwatch binary runs as a child process with one threshold rule and
// one webhook receiver: a small HTTP server inside this process, on 127.0.0.1
// port 0, that timestamps every request as soon as it has read it. Each
// iteration submits a figure for a fresh period that crosses the threshold and
// measures from the 201 of that submission to the arrival of its "firing"
// notification; then a figure below the threshold resolves the alert (its
// notification is awaited and not timed). The limit, measured in the same run
// and interleaved with the iterations: a bare loopback HTTP round trip to the
// same receiver (connect + POST of a notification-sized body + response), which
// is what one delivery costs at the least. Aim: median latency < 5x the median
// bare round trip.

#include <fmt/format.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_daemon.hpp"
#include "bench_machine.hpp"
#include "kpiwatch/digest.hpp"
#include "kpiwatch/settings.hpp"

#ifndef KPIWATCH_BINARY
#error "KPIWATCH_BINARY (the path of the kpiwatch binary) must be defined by the build"
#endif

namespace kpiwatch::bench {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kKpi = "g01.trainees";
constexpr const char* kRule = "bench-trainees-above-100";

struct Options {
  std::string kpiwatch = KPIWATCH_BINARY;
  std::string tmp_dir = "/tmp";
  int runs = 1;
  int iterations = 50;
  int timeout_ms = 10000;  // per awaited notification
  bool keep = false;
};

// ---------------------------------------------------------------------------
// The receiver: one thread, one io_context; answers 200 to every request and
// records (arrival time, body). Keep-alive is honoured although kpiwatch closes
// its connection after each notification.
// ---------------------------------------------------------------------------

struct Arrival {
  SteadyClock::time_point at;
  std::string target;
  std::string body;
};

class Receiver {
 public:
  Receiver() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Receiver() {
    io_.stop();
    thread_.join();
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  // The next request that arrived, waiting at most `timeout`.
  std::optional<Arrival> next(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, timeout, [&] { return !arrivals_.empty(); })) return std::nullopt;
    Arrival a = std::move(arrivals_.front());
    arrivals_.pop_front();
    return a;
  }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(tcp::socket socket, Receiver& owner) : stream(std::move(socket)), owner(owner) {}
    beast::tcp_stream stream;
    Receiver& owner;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::response<http::empty_body> response;

    void read() {
      request = {};
      stream.expires_after(std::chrono::seconds(30));
      http::async_read(stream, buffer, request, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return;
        auto now = SteadyClock::now();
        self->owner.record(Arrival{now, std::string(self->request.target()), std::move(self->request.body())});
        self->respond();
      });
    }
    void respond() {
      response = {http::status::ok, request.version()};
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      http::async_write(stream, response, [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return;
        if (!self->response.keep_alive()) {
          beast::error_code ignored;
          self->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
          return;
        }
        self->read();
      });
    }
  };

  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      socket.set_option(tcp::no_delay(true));
      std::make_shared<Session>(std::move(socket), *this)->read();
      accept();
    });
  }
  void record(Arrival a) {
    {
      std::lock_guard lock(mutex_);
      arrivals_.push_back(std::move(a));
    }
    cv_.notify_all();
  }

  asio::io_context io_{1};
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Arrival> arrivals_;
};

// ---------------------------------------------------------------------------
// Clients: a keep-alive connection to the daemon, and the bare round trip.
// ---------------------------------------------------------------------------

class DaemonClient {
 public:
  DaemonClient(unsigned short port, std::string token) : stream_(io_), token_(std::move(token)) {
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    stream_.socket().set_option(tcp::no_delay(true));
  }
  // POSTs a submission; returns the time its 201 was read (throws on another status).
  SteadyClock::time_point submit(const std::string& body) {
    http::request<http::string_body> req{http::verb::post, "/api/v1/submissions", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::authorization, "Bearer " + token_);
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    stream_.expires_after(std::chrono::seconds(30));
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    auto at = SteadyClock::now();
    if (res.result_int() != 201)
      throw std::runtime_error(fmt::format("submission answered {}: {}", res.result_int(), res.body()));
    return at;
  }

 private:
  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string token_;
};

// connect + POST + 200 read + close, on a fresh connection; the seconds it took.
double bare_round_trip(unsigned short port, const std::string& body) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  http::request<http::string_body> req{http::verb::post, "/hook", 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  req.keep_alive(false);
  req.body() = body;
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  auto t0 = SteadyClock::now();
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  stream.socket().set_option(tcp::no_delay(true));
  http::write(stream, req);
  http::read(stream, buffer, res);
  double s = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (res.result_int() != 200) throw std::runtime_error("bare round trip answered " + std::to_string(res.result_int()));
  return s;
}

// "firing" / "resolved" of an Alertmanager v4 body, and its period annotation.
std::pair<std::string, std::string> status_and_period(const std::string& body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return {"", ""};
  const auto& o = v.get_object();
  std::string status, period;
  if (auto* s = o.if_contains("status"); s && s->is_string()) status = s->get_string();
  if (auto* a = o.if_contains("commonAnnotations"); a && a->is_object())
    if (auto* p = a->get_object().if_contains("period"); p && p->is_string()) period = p->get_string();
  return {status, period};
}

std::string submission(int year, int value) {
  return fmt::format(R"({{"kpi":"{}","period":"{}","dims":{{}},"value":{},"body":"amed","source":"kpiwatch bench"}})",
                     kKpi, year, value);
}

struct RunResult {
  std::vector<double> latency_ms;  // 201 read → firing notification read by the receiver
  std::vector<double> bare_ms;     // bare loopback round trips
  std::size_t body_bytes = 0;
  int early = 0;  // notifications that arrived before the 201 was read (negative latency)
  double median_ratio() const {
    double b = percentile(bare_ms, 50);
    return b > 0 ? percentile(latency_ms, 50) / b : 0;
  }
  double p90_ratio() const {
    double b = percentile(bare_ms, 50);
    return b > 0 ? percentile(latency_ms, 90) / b : 0;
  }
};

RunResult run_once(const Options& o) {
  Receiver receiver;
  TempDir dir(o.tmp_dir, "kpiwatch-bench-notify-");
  if (o.keep) dir.keep();
  std::string token = random_token();
  std::string rules_dir = dir.file("rules");
  if (mkdir(rules_dir.c_str(), 0700) != 0) throw std::runtime_error("mkdir " + rules_dir);
  write_file(rules_dir + "/bench.toml", fmt::format(R"(# Benchmark rule (written by kpiwatch_bench_notify).
[[rule]]
id = "{}"
title = "Trainees above 100"
kpi = "{}"
severity = "warning"
summary_ja = "{{kpi_name_ja}}が{{value}}人（{{period}}）"
summary_en = "{{kpi_name_en}} were {{value}} in {{period}}"

[rule.threshold]
above = 100
)",
                                                    kRule, kKpi));
  std::string config = dir.file("kpiwatch.toml");
  write_file(config, fmt::format(R"(# Benchmark configuration (written by kpiwatch_bench_notify).
[server]
listen = "127.0.0.1:0"

[dataset]
load_bundled = false

[rules]
paths = ["{}"]

[log]
level = "info"

[alerting]
default_receiver = "bench"

[[receivers]]
name = "bench"
url = "http://127.0.0.1:{}/hook"
secret = "bench-secret"
timeout_ms = 5000

[[tokens]]
name = "bench"
sha256 = "{}"
admin = true
)",
                                 rules_dir, receiver.port(), sha256_hex(token)));

  RunResult r;
  DaemonProcess daemon(o.kpiwatch, config, dir.file("state"));
  DaemonClient client(daemon.port(), token);
  auto timeout = std::chrono::milliseconds(o.timeout_ms);
  auto await = [&](const char* status, int year) -> Arrival {
    auto want = std::to_string(year);
    for (int skipped = 0; skipped < 10; ++skipped) {
      auto a = receiver.next(timeout);
      if (!a)
        throw std::runtime_error(fmt::format("no {} notification for {} within {} ms; daemon log:\n{}", status, year,
                                             o.timeout_ms, daemon.log()));
      auto [s, period] = status_and_period(a->body);
      if (a->target == "/hook" && s == status && period == want) return std::move(*a);
    }
    throw std::runtime_error(fmt::format("unexpected notifications while waiting for {} {}", status, year));
  };

  // A bare round trip; the receiver records its request too, which is consumed here.
  auto bare = [&](const std::string& body) {
    double s = bare_round_trip(receiver.port(), body);
    if (!receiver.next(timeout)) throw std::runtime_error("the bare round trip's request was not recorded");
    return s;
  };

  // Warm-up (not timed): one fire/resolve cycle and a few bare round trips.
  int year = 2100;  // fresh periods: every run has its own daemon and database
  client.submit(submission(year, 150));
  std::string sample_body = await("firing", year).body;
  client.submit(submission(year + 1, 50));
  await("resolved", year);
  year += 2;
  r.body_bytes = sample_body.size();
  for (int i = 0; i < 5; ++i) bare(sample_body);

  for (int i = 0; i < o.iterations; ++i, year += 2) {
    auto answered = client.submit(submission(year, 150 + i));
    Arrival fired = await("firing", year);
    double ms = std::chrono::duration<double, std::milli>(fired.at - answered).count();
    if (ms < 0) ++r.early;
    r.latency_ms.push_back(ms);
    // Reset: a figure below the threshold; its resolution is awaited, not timed.
    client.submit(submission(year + 1, 50));
    await("resolved", year);  // a resolution carries the figures it fired with
    // The limit, interleaved: a bare round trip with the body just received.
    r.bare_ms.push_back(bare(fired.body) * 1e3);
  }
  int status = daemon.stop();
  if (status != 0)
    throw std::runtime_error(fmt::format("kpiwatch exited with {} on SIGTERM; its log:\n{}", status, daemon.log()));
  return r;
}

int run(const Options& o) {
  fmt::print("kpiwatch notification-latency benchmark\n");
  fmt::print("  kpiwatch      {}\n", o.kpiwatch);
  fmt::print("  machine       {} CPUs ({}), load average {}\n", std::thread::hardware_concurrency(),
             machine_cpu_model(), machine_load_average());
  fmt::print("  temp dirs     {} ({}); the daemon's SQLite: synchronous=FULL (the default)\n", o.tmp_dir,
             machine_filesystem(o.tmp_dir));
  fmt::print("  workload      rule \"{}\" (threshold above 100 on {}), receiver on 127.0.0.1 in this process\n\n",
             kRule, kKpi);
  std::fflush(stdout);
  std::vector<RunResult> results;
  for (int i = 1; i <= o.runs; ++i) {
    fmt::print("== run {} of {} (load average {})\n", i, o.runs, machine_load_average());
    auto r = run_once(o);
    fmt::print("    {} iterations; notification body {} bytes (Alertmanager v4 JSON)\n", r.latency_ms.size(),
               r.body_bytes);
    fmt::print(
        "    201 -> notification arrived   median {:>7.3f} ms   p90 {:>7.3f} ms   min {:.3f}   max {:.3f} ms{}\n",
        percentile(r.latency_ms, 50), percentile(r.latency_ms, 90), percentile(r.latency_ms, 0),
        percentile(r.latency_ms, 100),
        r.early ? fmt::format("   ({} arrived before the 201 was read)", r.early) : std::string());
    fmt::print("    bare loopback round trip      median {:>7.3f} ms   p90 {:>7.3f} ms   (connect + POST + 200)\n",
               percentile(r.bare_ms, 50), percentile(r.bare_ms, 90));
    fmt::print(
        "    ratio = median latency / median round trip = {:.2f}   (p90 latency / median round trip = {:.2f})"
        "   (aim < 5: {})\n\n",
        r.median_ratio(), r.p90_ratio(), r.median_ratio() < 5 ? "met" : "MISSED");
    std::fflush(stdout);
    results.push_back(std::move(r));
  }
  fmt::print("== summary (load average now {})\n", machine_load_average());
  fmt::print("  {:<5} {:>14} {:>14} {:>16} {:>12} {:>12}\n", "run", "median ms", "p90 ms", "round trip ms", "ratio p50",
             "ratio p90");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    fmt::print("  {:<5} {:>14.3f} {:>14.3f} {:>16.3f} {:>12.2f} {:>12.2f}\n", i + 1, percentile(r.latency_ms, 50),
               percentile(r.latency_ms, 90), percentile(r.bare_ms, 50), r.median_ratio(), r.p90_ratio());
  }
  fmt::print("  aim: ratio p50 < 5\n");
  return 0;
}

}  // namespace
}  // namespace kpiwatch::bench

int main(int argc, char** argv) {
  kpiwatch::bench::Options o;
  CLI::App app{
      "kpiwatch notification latency: 201 of an alerting submission to the webhook's arrival, "
      "against a bare loopback HTTP round trip"};
  app.add_option("--kpiwatch", o.kpiwatch, "the kpiwatch binary to run")->check(CLI::ExistingFile);
  app.add_option("--tmp-dir", o.tmp_dir, "parent of the temporary state directories")->check(CLI::ExistingDirectory);
  app.add_option("--runs", o.runs, "repeat the whole benchmark this many times (a fresh daemon each)")
      ->check(CLI::Range(1, 20));
  app.add_option("--iterations", o.iterations, "alerting submissions per run")->check(CLI::Range(1, 400));
  app.add_option("--timeout-ms", o.timeout_ms, "longest wait for one notification")->check(CLI::Range(100, 120000));
  app.add_flag("--keep", o.keep, "keep the temporary directories");
  CLI11_PARSE(app, argc, argv);
  try {
    return kpiwatch::bench::run(o);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "kpiwatch_bench_notify: {}\n", e.what());
    return 1;
  }
}
