// kpiwatch_bench_scale: the scale table of issue 13, at 10^4, 10^5 and 10^6
// series in one run (docs/BENCHMARKS.md).
//
// For each size N: one monthly KPI over N institutions, 3 periods each, a
// threshold rule that about a tenth of the figures cross. The real daemon
// (a child process on 127.0.0.1 port 0) ingests every figure in batches of
// 1,000 over a few keep-alive connections, synchronous=FULL, against the same
// rows inserted straight into SQLite at the same setting. Then, on that data:
// its RSS; GET one series; GET one page of alerts; GET /metrics; /healthz
// while the heaviest reads run; a restart (SIGTERM, exec on the same database)
// to /readyz, to the log line of the rules' start-up pass, and the first POST
// after /readyz. Each measure is also printed as a ratio to the 10^4 row (the
// smallest size run, if 10^4 is not), and ingest as a ratio to raw SQLite.

#include <fmt/format.h>
#include <sqlite3.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_daemon.hpp"
#include "bench_http.hpp"
#include "bench_machine.hpp"
#include "bench_raw.hpp"
#include "bench_workload.hpp"
#include "kpiwatch/catalog.hpp"
#include "kpiwatch/clock.hpp"
#include "kpiwatch/digest.hpp"

#ifndef KPIWATCH_BINARY
#error "KPIWATCH_BINARY (the path of the kpiwatch binary) must be defined by the build"
#endif

namespace kpiwatch::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kWriter = "kpiwatch_bench_scale";
constexpr const char* kTokenName = "bench";
constexpr std::size_t kPeriods = 3;
constexpr std::size_t kBatch = 1000;
constexpr std::size_t kBatchesPerChunk = 100;  // bodies built per load run: 10^5 figures, ~15 MB
// Every log line the start-up pass may end with: a full pass, or one that was not needed.
const std::vector<std::string> kPassLines = {"rules evaluated", "no full pass", "full pass skipped",
                                             "without a full pass"};

struct Options {
  std::string kpiwatch = KPIWATCH_BINARY;
  std::string dir = "/tmp";
  std::vector<std::size_t> sizes = {10000, 100000, 1000000};
  bool quick = false;
  std::size_t connections = 4;
  int series_reads = 50;
  int repeats = 10;
  int window_ms = 3000;  // the heavy-read window, at least one round of each heavy read
  int healthz_every_ms = 5;
  int timeout_s = 120;  // one request, one start-up
  int idle_s = 5;
  bool keep = false;
};

double ms_between(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double median(const std::vector<double>& v) { return percentile(v, 50); }

std::string series_label(std::size_t n) {
  std::size_t power = 1;
  for (int e = 0; e <= 9; ++e, power *= 10)
    if (n == power) return fmt::format("10^{}", e);
  return fmt::format("{}", n);
}

// ---------------------------------------------------------------------------
// One size
// ---------------------------------------------------------------------------

struct HeavyRead {
  std::string name, target;
  std::optional<double> ms;  // its time alone, if it answered 200 in time
  std::size_t bytes = 0;
  std::string skipped;  // why not, if it did not
  std::vector<double> window_ms;
  std::vector<double> healthz_ms;  // the /healthz samples sent while it ran in the window
};

struct Row {
  std::size_t series = 0;
  double ingest_rate = 0, raw_rate = 0;
  double ingest_p99_ms = 0;
  double rss_before_mib = 0;  // ready, before the first figure
  double rss_mib = 0, hwm_mib = 0;
  double rss_after_reads_mib = 0;    // a settle after the heavy reads, which free what they drew
  double rss_after_restart_mib = 0;  // ready again on the same database, before the first POST
  double growth_per_million() const { return (rss_mib - rss_before_mib) * 1e6 / static_cast<double>(series); }
  double series_median = 0, series_p99 = 0;
  double alerts_median = 0;
  std::size_t alerts_bytes = 0;
  std::int64_t alerts_total = -1;
  double metrics_median = 0;
  double healthz_p50 = 0, healthz_p99 = 0, healthz_max = 0;
  std::size_t healthz_samples = 0;
  std::vector<HeavyRead> heavy;
  double restart_listen_ms = 0, restart_ready_ms = 0;
  std::optional<double> restart_rules_ms;
  std::string restart_rules_line;
  double first_post_ms = 0;
  double db_mib = 0;
};

struct Workdir {
  TempDir dir;
  std::string token = random_token();
  std::string config, state;

  Workdir(const Options& o, std::size_t n) : dir(o.dir, "kpiwatch-bench-scale-") {
    if (o.keep) dir.keep();
    write_file(dir.file("catalog.toml"), workload_catalog_toml(n, kWriter));
    std::filesystem::create_directory(dir.file("rules"));
    // Values are (k * 7919) mod 10^6: about a tenth of the figures are above 900,000.
    write_file(dir.file("rules/scale.toml"), fmt::format(R"(# Benchmark rule (written by {}).
[[rule]]
id = "bench-scale-above"
title = "Monthly count above 900,000"
kpi = "{}"
severity = "warning"
summary_ja = "{{kpi_name_ja}}が{{value}}（{{period}}）"
summary_en = "{{kpi_name_en}} was {{value}} in {{period}}"

[rule.threshold]
above = 900000
)",
                                                         kWriter, kWorkloadKpi));
    config = dir.file("kpiwatch.toml");
    state = dir.file("state");
    write_file(config, workload_config_toml(kWriter, dir.file("catalog.toml"), dir.file("rules"), "full", kTokenName,
                                            sha256_hex(token), 512));
  }
};

[[noreturn]] void fail(const std::string& what, const DaemonProcess* daemon) {
  std::string log = daemon ? daemon->log() : "";
  if (log.size() > 4000) log = "...\n" + log.substr(log.size() - 4000);
  throw std::runtime_error(daemon ? what + "\ndaemon log (its end):\n" + log : what);
}

// Polls /readyz every 2 ms until 200; the time it answered 200.
SteadyClock::time_point wait_ready(const DaemonProcess& daemon, const Options& o) {
  HttpClient client(daemon.port());
  auto deadline = SteadyClock::now() + seconds(o.timeout_s);
  while (SteadyClock::now() < deadline) {
    auto r = client.get("/readyz", seconds(o.timeout_s));
    if (r.status == 200) return SteadyClock::now();
    std::this_thread::sleep_for(milliseconds(2));
  }
  fail(fmt::format("/readyz did not answer 200 within {} s", o.timeout_s), &daemon);
}

// The bodies of batches [first, first + count), spread over `connections`.
std::vector<std::vector<std::string>> chunk_bodies(std::size_t first, std::size_t count, std::size_t connections,
                                                   std::size_t n) {
  std::vector<std::vector<std::string>> bodies(std::min(connections, count));
  for (std::size_t b = 0; b < count; ++b)
    bodies[b % bodies.size()].push_back(workload_batch_json((first + b) * kBatch, kBatch, n));
  return bodies;
}

double raw_rate(const Options& o, const Catalog& catalog, Workdir& w, std::size_t n) {
  auto path = w.dir.file("raw.db");
  double rate = 0;
  {
    RawInserter raw(path, "full", kBatch, kTokenName, format_rfc3339(std::chrono::system_clock::now()));
    std::size_t batches = n * kPeriods / kBatch;
    for (std::size_t b = 0; b < batches; b += kBatchesPerChunk)
      raw.insert(raw_rows_of(catalog, chunk_bodies(b, std::min(kBatchesPerChunk, batches - b), o.connections, n)));
    rate = static_cast<double>(raw.result().rows) / raw.result().seconds;
  }
  if (auto stored = count_revisions(path); stored != static_cast<std::int64_t>(n * kPeriods))
    throw std::runtime_error(fmt::format("raw SQLite stored {} revisions, {} expected", stored, n * kPeriods));
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return rate;
}

void ingest(const Options& o, const DaemonProcess& daemon, const Workdir& w, std::size_t n, Row& row) {
  std::size_t batches = n * kPeriods / kBatch;
  double seconds_total = 0;
  std::vector<double> latencies;
  for (std::size_t b = 0; b < batches; b += kBatchesPerChunk) {
    LoadPlan plan;
    plan.port = daemon.port();
    plan.token = w.token;
    plan.bodies = chunk_bodies(b, std::min(kBatchesPerChunk, batches - b), o.connections, n);
    plan.request_timeout = seconds(o.timeout_s);
    auto r = run_load(std::move(plan));
    if (!r.first_error.empty() || r.failed) fail("ingest failed: " + r.first_error, &daemon);
    seconds_total += r.seconds;
    latencies.insert(latencies.end(), r.latencies_ms.begin(), r.latencies_ms.end());
  }
  row.ingest_rate = static_cast<double>(n * kPeriods) / seconds_total;
  row.ingest_p99_ms = percentile(latencies, 99);
}

// `repeats` GETs of `target` that must answer 200; their times.
std::vector<double> timed_gets(HttpClient& client, const std::string& target, int repeats, const Options& o,
                               const DaemonProcess& daemon, std::string* last_body = nullptr) {
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    auto r = client.get(target, seconds(o.timeout_s));
    if (r.status != 200) fail(fmt::format("GET {} answered {}: {}", target, r.status, r.body.substr(0, 300)), &daemon);
    ms.push_back(r.ms);
    if (last_body) *last_body = std::move(r.body);
  }
  return ms;
}

std::int64_t alerts_total(const std::string& body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return -1;
  if (auto* t = v.get_object().if_contains("total"); t && t->is_int64()) return t->get_int64();
  if (auto* a = v.get_object().if_contains("alerts"); a && a->is_array())
    return static_cast<std::int64_t>(a->get_array().size());
  return -1;
}

void reads(const Options& o, const DaemonProcess& daemon, const Workdir& w, std::size_t n, Row& row) {
  HttpClient client(daemon.port(), w.token);
  std::mt19937_64 rng(20261202 + n);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  std::vector<double> series;
  for (int i = 0; i < o.series_reads; ++i) {
    auto target = fmt::format("/api/v1/kpis/{}/series?dims.institution={}", kWorkloadKpi, institution(pick(rng)));
    auto ms = timed_gets(client, target, 1, o, daemon);
    series.push_back(ms.front());
  }
  row.series_median = median(series);
  row.series_p99 = percentile(series, 99);

  std::string body;
  row.alerts_median = median(timed_gets(client, "/api/v1/alerts?limit=100", o.repeats, o, daemon, &body));
  row.alerts_bytes = body.size();
  row.alerts_total = alerts_total(body);
  row.metrics_median = median(timed_gets(client, "/metrics", o.repeats, o, daemon));
}

// One client loops the heavy reads that work while another samples /healthz.
void healthz_under_load(const Options& o, const DaemonProcess& daemon, const Workdir& w, Row& row) {
  row.heavy = {{"alert list page", "/api/v1/alerts?limit=100", {}, 0, {}, {}, {}},
               {"export.csv of the KPI", fmt::format("/api/v1/export.csv?kpi={}", kWorkloadKpi), {}, 0, {}, {}, {}},
               {"/report", "/report", {}, 0, {}, {}, {}}};
  for (auto& h : row.heavy) {
    HttpClient client(daemon.port(), w.token);  // a fresh one: a timed-out request closes its connection
    try {
      auto r = client.get(h.target, seconds(o.timeout_s));
      if (r.status == 200) {
        h.ms = r.ms;
        h.bytes = r.body.size();
      } else {
        h.skipped = fmt::format("HTTP {}: {}", r.status, r.body.substr(0, 200));
      }
    } catch (const std::exception& e) {
      h.skipped = e.what();
    }
  }

  std::atomic<bool> stop{false};
  std::atomic<int> running{-1};                 // the heavy read in progress
  std::vector<std::pair<int, double>> samples;  // (running when it was sent, ms)
  std::string sampler_error;
  std::thread sampler([&] {
    try {
      HttpClient client(daemon.port());
      while (!stop) {
        int during = running;
        auto r = client.get("/healthz", seconds(o.timeout_s));
        if (r.status != 200) throw std::runtime_error(fmt::format("/healthz answered {}", r.status));
        samples.emplace_back(during, r.ms);
        std::this_thread::sleep_for(milliseconds(o.healthz_every_ms));
      }
    } catch (const std::exception& e) {
      sampler_error = e.what();
    }
  });
  try {
    HttpClient client(daemon.port(), w.token);
    auto until = SteadyClock::now() + milliseconds(o.window_ms);
    bool any = std::any_of(row.heavy.begin(), row.heavy.end(), [](const HeavyRead& h) { return h.ms.has_value(); });
    do {
      for (std::size_t i = 0; i < row.heavy.size(); ++i) {
        auto& h = row.heavy[i];
        if (!h.ms) continue;
        running = static_cast<int>(i);
        auto r = client.get(h.target, seconds(o.timeout_s));
        running = -1;
        if (r.status != 200) throw std::runtime_error(fmt::format("GET {} answered {}", h.target, r.status));
        h.window_ms.push_back(r.ms);
      }
    } while (any && SteadyClock::now() < until);
  } catch (const std::exception& e) {
    stop = true;
    sampler.join();
    fail(std::string("heavy reads: ") + e.what(), &daemon);
  }
  stop = true;
  sampler.join();
  if (!sampler_error.empty()) fail("/healthz sampler: " + sampler_error, &daemon);
  std::vector<double> all;
  for (const auto& [during, ms] : samples) {
    all.push_back(ms);
    if (during >= 0) row.heavy[static_cast<std::size_t>(during)].healthz_ms.push_back(ms);
  }
  row.healthz_samples = all.size();
  row.healthz_p50 = percentile(all, 50);
  row.healthz_p99 = percentile(all, 99);
  row.healthz_max = percentile(all, 100);
}

// Longer than the daemon's interval for giving freed memory back (5 s).
constexpr auto kSettle = seconds(6);

void restart(const Options& o, const Workdir& w, std::size_t n, Row& row) {
  DaemonProcess daemon(o.kpiwatch, w.config, w.state, seconds(o.timeout_s));
  auto started = daemon.started_at();
  if (auto at = daemon.logged_at("listening on")) row.restart_listen_ms = ms_between(started, *at);
  row.restart_ready_ms = ms_between(started, wait_ready(daemon, o));
  row.rss_after_restart_mib = static_cast<double>(process_status_kib(daemon.pid(), "VmRSS")) / 1024;
  // At once a figure of a fourth month, for a series that has three.
  HttpClient client(daemon.port(), w.token);
  auto r = client.post("/api/v1/submissions", workload_submission_json(kPeriods * n, n), seconds(o.timeout_s));
  if (r.status != 201) fail(fmt::format("the first POST answered {}: {}", r.status, r.body.substr(0, 300)), &daemon);
  row.first_post_ms = r.ms;
  auto deadline = SteadyClock::now() + seconds(o.timeout_s);
  while (!row.restart_rules_ms && SteadyClock::now() < deadline) {
    for (const auto& line : kPassLines)
      if (auto at = daemon.logged_at(line)) {
        row.restart_rules_ms = ms_between(started, *at);
        row.restart_rules_line = line;
        break;
      }
    if (!row.restart_rules_ms) std::this_thread::sleep_for(milliseconds(2));
  }
  if (int status = daemon.stop(seconds(o.timeout_s)); status != 0)
    fail(fmt::format("kpiwatch exited with {} on SIGTERM after the restart", status), &daemon);
}

Row run_size(const Options& o, std::size_t n) {
  // Two databases of 3N figures at most (the raw one is removed before the daemon's is made), with room.
  auto need = static_cast<std::int64_t>(n * kPeriods) * 1024 + (std::int64_t{1} << 30);
  if (auto free = filesystem_free_bytes(o.dir); free >= 0 && free < need)
    throw std::runtime_error(
        fmt::format("{} has {} MiB free; {} series need about {} MiB", o.dir, free >> 20, n, need >> 20));
  fmt::print("== {} series ({} figures; load average {})\n", series_label(n), n * kPeriods, machine_load_average());
  std::fflush(stdout);
  auto parsed = Catalog::parse(workload_catalog_toml(n, kWriter), "bench-catalog.toml");
  if (auto* diags = std::get_if<Diagnostics>(&parsed))
    throw std::runtime_error("the benchmark catalog does not load: " + diags->front().str());
  const Catalog& catalog = *std::get<0>(parsed);

  Row row;
  row.series = n;
  Workdir w(o, n);
  row.raw_rate = raw_rate(o, catalog, w, n);
  fmt::print("   raw SQLite: {:.0f} figures/s\n", row.raw_rate);
  std::fflush(stdout);
  {
    DaemonProcess daemon(o.kpiwatch, w.config, w.state, seconds(o.timeout_s));
    wait_ready(daemon, o);
    row.rss_before_mib = static_cast<double>(process_status_kib(daemon.pid(), "VmRSS")) / 1024;
    ingest(o, daemon, w, n, row);
    row.rss_mib = static_cast<double>(process_status_kib(daemon.pid(), "VmRSS")) / 1024;
    row.hwm_mib = static_cast<double>(process_status_kib(daemon.pid(), "VmHWM")) / 1024;
    fmt::print("   ingest: {:.0f} figures/s ({:.3f} of raw), RSS {:.1f} MiB ({:.1f} MiB before)\n", row.ingest_rate,
               row.ingest_rate / row.raw_rate, row.rss_mib, row.rss_before_mib);
    std::fflush(stdout);
    reads(o, daemon, w, n, row);
    healthz_under_load(o, daemon, w, row);
    std::this_thread::sleep_for(kSettle);
    row.rss_after_reads_mib = static_cast<double>(process_status_kib(daemon.pid(), "VmRSS")) / 1024;
    if (int status = daemon.stop(seconds(o.timeout_s)); status != 0)
      fail(fmt::format("kpiwatch exited with {} on SIGTERM", status), &daemon);
  }
  std::error_code ec;
  auto db = std::filesystem::file_size(w.state + "/kpiwatch.db", ec);
  row.db_mib = ec ? 0 : static_cast<double>(db) / (1 << 20);
  restart(o, w, n, row);
  fmt::print("   reads, heavy reads and restart done\n");
  std::fflush(stdout);
  return row;
}

// The daemon on its embedded default (the plan's catalog, rules and data): RSS after `idle_s`.
double idle_default_rss_mib(const Options& o) {
  TempDir dir(o.dir, "kpiwatch-bench-scale-idle-");
  if (o.keep) dir.keep();
  DaemonProcess daemon(o.kpiwatch, "", dir.file("state"), seconds(o.timeout_s));
  wait_ready(daemon, o);
  std::this_thread::sleep_for(seconds(o.idle_s));
  auto kib = process_status_kib(daemon.pid(), "VmRSS");
  if (int status = daemon.stop(seconds(o.timeout_s)); status != 0)
    fail(fmt::format("kpiwatch (embedded default) exited with {} on SIGTERM", status), &daemon);
  return static_cast<double>(kib) / 1024;
}

// ---------------------------------------------------------------------------
// The tables
// ---------------------------------------------------------------------------

std::string ms(double v) { return v >= 100 ? fmt::format("{:.0f} ms", v) : fmt::format("{:.1f} ms", v); }
std::string ratio(double v, double base) { return base > 0 ? fmt::format("{:.2f}", v / base) : "-"; }

void print_tables(const std::vector<Row>& rows, double idle_mib) {
  fmt::print("\n== the scale table (synchronous=FULL, batches of {} over HTTP)\n\n", kBatch);
  fmt::print(
      "| series | ingest figures/s | raw SQLite figures/s | ingest / raw | RSS after ingest | RSS growth per 10^6 "
      "series | "
      "GET one series median / p99 | GET alerts page median (bytes, alerts) | /metrics median | /healthz p50 / p99 / "
      "max "
      "under heavy reads | restart → /readyz | restart → rules evaluated | first POST after /readyz |\n");
  fmt::print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows)
    fmt::print(
        "| {} | {:.0f} | {:.0f} | {:.3f} | {:.1f} MiB | {:.0f} MiB | {} / {} | {} ({} B, {}) | {} | {} / {} / {} | {} "
        "| {} "
        "| {} |\n",
        series_label(r.series), r.ingest_rate, r.raw_rate, r.ingest_rate / r.raw_rate, r.rss_mib,
        r.growth_per_million(), ms(r.series_median), ms(r.series_p99), ms(r.alerts_median), r.alerts_bytes,
        r.alerts_total, ms(r.metrics_median), ms(r.healthz_p50), ms(r.healthz_p99), ms(r.healthz_max),
        ms(r.restart_ready_ms), r.restart_rules_ms ? ms(*r.restart_rules_ms) : "not logged", ms(r.first_post_ms));

  auto base_it = std::find_if(rows.begin(), rows.end(), [](const Row& r) { return r.series == 10000; });
  const Row& b = base_it != rows.end() ? *base_it : rows.front();
  fmt::print("\n== each measure as a ratio to the {} row\n\n", series_label(b.series));
  fmt::print(
      "| series | series ratio | ingest figures/s | RSS | GET one series median | p99 | GET alerts page | /metrics | "
      "/healthz p99 | restart → /readyz | restart → rules evaluated | first POST |\n");
  fmt::print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows)
    fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", series_label(r.series),
               ratio(static_cast<double>(r.series), static_cast<double>(b.series)), ratio(r.ingest_rate, b.ingest_rate),
               ratio(r.rss_mib, b.rss_mib), ratio(r.series_median, b.series_median), ratio(r.series_p99, b.series_p99),
               ratio(r.alerts_median, b.alerts_median), ratio(r.metrics_median, b.metrics_median),
               ratio(r.healthz_p99, b.healthz_p99), ratio(r.restart_ready_ms, b.restart_ready_ms),
               r.restart_rules_ms && b.restart_rules_ms ? ratio(*r.restart_rules_ms, *b.restart_rules_ms) : "-",
               ratio(r.first_post_ms, b.first_post_ms));

  fmt::print("\n== details\n");
  for (const auto& r : rows) {
    fmt::print(
        "  {} series: database {:.0f} MiB; ingest p99 {} per batch; RSS {:.1f} MiB before the ingest, "
        "peak (VmHWM) {:.1f} MiB, {:.1f} MiB {} s after the heavy reads, {:.1f} MiB once ready after the restart; "
        "restart → listening {}; pass line \"{}\"\n",
        series_label(r.series), r.db_mib, ms(r.ingest_p99_ms), r.rss_before_mib, r.hwm_mib, r.rss_after_reads_mib,
        std::chrono::duration_cast<seconds>(kSettle).count(), r.rss_after_restart_mib, ms(r.restart_listen_ms),
        r.restart_rules_ms ? r.restart_rules_line : "none within the timeout");
    fmt::print("    /healthz under heavy reads: {} samples, p50 {}, p99 {}, max {}\n", r.healthz_samples,
               ms(r.healthz_p50), ms(r.healthz_p99), ms(r.healthz_max));
    for (const auto& h : r.heavy) {
      if (h.ms)
        fmt::print(
            "    heavy read {:<22} alone {}, {} bytes; in the window {} times, median {}; /healthz meanwhile: {} "
            "samples, p99 {}, max {}\n",
            h.name, ms(*h.ms), h.bytes, h.window_ms.size(), ms(median(h.window_ms)), h.healthz_ms.size(),
            ms(percentile(h.healthz_ms, 99)), ms(percentile(h.healthz_ms, 100)));
      else
        fmt::print("    heavy read {:<24} skipped: {}\n", h.name, h.skipped);
    }
  }
  fmt::print("\n== the idle daemon on its embedded default (the plan's catalog, rules and data): RSS {:.1f} MiB\n",
             idle_mib);
}

int run(Options o) {
  if (o.quick) o.sizes = {1000, 10000};
  std::sort(o.sizes.begin(), o.sizes.end());
  for (auto n : o.sizes)
    if (n < kBatch || n % kBatch)
      throw std::runtime_error(fmt::format("--sizes: {} is not a multiple of {}", n, kBatch));
  fmt::print("kpiwatch scale benchmark (issue 13)\n");
  fmt::print("  kpiwatch      {}\n", o.kpiwatch);
  fmt::print("  machine       {} CPUs ({}), load average {}\n", std::thread::hardware_concurrency(),
             machine_cpu_model(), machine_load_average());
  fmt::print("  temp dirs     {} ({}, {} MiB free)\n", o.dir, machine_filesystem(o.dir),
             filesystem_free_bytes(o.dir) >> 20);
  fmt::print("  SQLite        {}, journal_mode=WAL, synchronous=FULL on both sides\n", sqlite3_libversion());
  fmt::print(
      "  workload      KPI {} (monthly) over N institutions, {} periods each, batches of {} on {} connections;\n"
      "                one threshold rule (above 900,000: about a tenth of the figures)\n\n",
      kWorkloadKpi, kPeriods, kBatch, o.connections);
  std::fflush(stdout);

  double idle = idle_default_rss_mib(o);
  fmt::print("== idle daemon on the embedded default: RSS {:.1f} MiB after {} s\n", idle, o.idle_s);
  std::fflush(stdout);
  std::vector<Row> rows;
  for (auto n : o.sizes) rows.push_back(run_size(o, n));
  print_tables(rows, idle);
  fmt::print("  load average at the end {}\n", machine_load_average());
  return 0;
}

}  // namespace
}  // namespace kpiwatch::bench

int main(int argc, char** argv) {
  kpiwatch::bench::Options o;
  CLI::App app{"kpiwatch scale benchmark: ingest, memory, reads, /healthz under load and restart at 10^4..10^6 series"};
  app.add_option("--kpiwatch", o.kpiwatch, "the kpiwatch binary to run")->check(CLI::ExistingFile);
  app.add_option("--dir", o.dir, "parent of the temporary directories (keep it on a disk)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--sizes", o.sizes, "series counts, multiples of 1000 (default 10000 100000 1000000)")
      ->check(CLI::Range(std::size_t{1000}, std::size_t{10000000}));
  app.add_flag("--quick", o.quick, "a smoke run at 10^3 and 10^4 series");
  app.add_option("--connections", o.connections, "keep-alive connections for the ingest")->check(CLI::Range(1, 64));
  app.add_option("--series-reads", o.series_reads, "GETs of one random series")->check(CLI::Range(1, 10000));
  app.add_option("--repeats", o.repeats, "GETs of the alert page and of /metrics")->check(CLI::Range(1, 1000));
  app.add_option("--window-ms", o.window_ms, "the heavy-read window (at least one round)")
      ->check(CLI::Range(1, 600000));
  app.add_option("--healthz-every-ms", o.healthz_every_ms, "pause between /healthz samples")
      ->check(CLI::Range(0, 1000));
  app.add_option("--timeout", o.timeout_s, "seconds allowed for one request or one start-up")
      ->check(CLI::Range(1, 3600));
  app.add_option("--idle", o.idle_s, "seconds the embedded default idles before its RSS is read")
      ->check(CLI::Range(0, 600));
  app.add_flag("--keep", o.keep, "keep the temporary directories");
  CLI11_PARSE(app, argc, argv);
  try {
    return kpiwatch::bench::run(o);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "kpiwatch_bench_scale: {}\n", e.what());
    return 1;
  }
}
