// kpiwatch_bench_ingest: the ingest benchmarks of docs/BENCHMARKS.md.
//
// (a) batch ingest: batches of 1,000 submissions POSTed over one keep-alive
//     connection to the real daemon, against the same rows inserted straight
//     into SQLite, one transaction per 1,000 rows.
// (b) concurrent single submissions: 64 keep-alive connections each POSTing
//     single submissions one after another, against the same rows inserted
//     straight into SQLite with one transaction per row.
//
// Both sides use the schema of kpiwatch::Store, WAL, and the same `synchronous`
// setting (FULL by default). Each figure is reported as a ratio of two
// measurements taken in the same run, because absolute rates depend on the
// machine and on whatever else runs on it.

#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/statfs.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
#include "kpiwatch/settings.hpp"
#include "kpiwatch/submission.hpp"

#ifndef KPIWATCH_BINARY
#error "KPIWATCH_BINARY (the path of the kpiwatch binary) must be defined by the build"
#endif

namespace kpiwatch::bench {
namespace {

constexpr const char* kTokenName = "bench";

struct Options {
  std::string kpiwatch = KPIWATCH_BINARY;
  std::string tmp_dir = "/tmp";
  std::string synchronous = "full";
  int runs = 1;
  std::string only;  // "", "a" or "b"
  std::size_t institutions = 2000;
  // (a)
  std::size_t batches = 100;
  std::size_t batch_size = 1000;
  // (b)
  std::size_t connections = 64;
  std::size_t requests_per_connection = 100;
  bool keep = false;
};

// The workload (bench_workload.hpp): one monthly KPI over `institutions` values;
// no rules (an empty directory): rule evaluation has its own benchmark
// (kpiwatch_bench_rules), these measure HTTP, validation and storage.

// ---------------------------------------------------------------------------
// One side of a ratio: the daemon.
// ---------------------------------------------------------------------------

struct DaemonRun {
  LoadResult load;
  std::optional<LoadResult> healthz;  // the same shape of load on GET /healthz, if asked for
  std::int64_t stored = 0;            // revisions in the database after the daemon stopped
  std::int64_t commits = 0;           // at least this many group commits (distinct received_at)
  int exit_status = 0;
};

struct Workdir {
  TempDir dir;
  std::string token = random_token();
  std::string config;
  std::string state;

  Workdir(const Options& o, const std::string& prefix) : dir(o.tmp_dir, prefix) {
    write_file(dir.file("catalog.toml"), workload_catalog_toml(o.institutions, "kpiwatch_bench_ingest"));
    config = dir.file("kpiwatch.toml");
    state = dir.file("state");
    std::filesystem::create_directory(dir.file("rules"));
    write_file(config,
               workload_config_toml("kpiwatch_bench_ingest", dir.file("catalog.toml"), dir.file("rules"), o.synchronous,
                                    kTokenName, sha256_hex(token), std::max<std::size_t>(512, o.connections + 16)));
    if (o.keep) dir.keep();
  }
};

DaemonRun run_daemon(const Options& o, Workdir& w, std::vector<std::vector<std::string>> bodies, bool healthz) {
  DaemonRun run;
  {
    DaemonProcess daemon(o.kpiwatch, w.config, w.state);
    std::vector<std::vector<std::string>> empty;
    empty.reserve(bodies.size());
    for (const auto& c : bodies) empty.emplace_back(c.size());
    LoadPlan plan;
    plan.port = daemon.port();
    plan.token = w.token;
    plan.bodies = std::move(bodies);
    run.load = run_load(std::move(plan));
    if (healthz && run.load.first_error.empty()) {
      // What the HTTP layer alone allows on this machine: no JSON, no SQLite.
      LoadPlan ceiling;
      ceiling.port = daemon.port();
      ceiling.method = "GET";
      ceiling.target = "/healthz";
      ceiling.expected_status = 200;
      ceiling.bodies = std::move(empty);
      run.healthz = run_load(std::move(ceiling));
      if (!run.healthz->first_error.empty())
        throw std::runtime_error("GET /healthz load failed: " + run.healthz->first_error);
    }
    run.exit_status = daemon.stop();
    if (!run.load.first_error.empty())
      throw std::runtime_error("load failed: " + run.load.first_error + "\ndaemon log:\n" + daemon.log());
    if (run.exit_status != 0)
      throw std::runtime_error(
          fmt::format("kpiwatch exited with {} on SIGTERM; its log:\n{}", run.exit_status, daemon.log()));
  }
  run.stored = count_revisions(w.state + "/kpiwatch.db");
  run.commits = count_received_at(w.state + "/kpiwatch.db");
  return run;
}

void check_stored(const char* what, std::int64_t stored, std::size_t expected) {
  if (stored != static_cast<std::int64_t>(expected))
    throw std::runtime_error(fmt::format("{}: {} revisions stored, {} expected", what, stored, expected));
}

std::string verdict(double ratio, double aim) { return ratio >= aim ? "met" : "MISSED"; }

// ---------------------------------------------------------------------------
// (a) and (b)
// ---------------------------------------------------------------------------

struct Ratio {
  double daemon_rate = 0;
  double raw_rate = 0;  // mean of the raw runs before and after the daemon's
  double ratio() const { return raw_rate > 0 ? daemon_rate / raw_rate : 0; }
};

// One comparison, A-B-A so that a drift of the machine's load (other jobs on
// the shared cores and disk) shows and partly cancels: raw SQLite, then the
// daemon, then raw SQLite again, each on a fresh database.
struct Comparison {
  DaemonRun daemon;
  RawResult raw_before, raw_after;
  std::size_t rows = 0;

  Ratio ratio() const {
    double before = static_cast<double>(raw_before.rows) / raw_before.seconds;
    double after = static_cast<double>(raw_after.rows) / raw_after.seconds;
    return {static_cast<double>(rows) / daemon.load.seconds, (before + after) / 2};
  }
};

Comparison compare(const Options& o, const Catalog& catalog, const char* prefix,
                   std::vector<std::vector<std::string>> bodies, std::size_t rows_per_tx, bool healthz) {
  Workdir w(o, prefix);
  auto rows = raw_rows_of(catalog, bodies);
  Comparison c;
  c.rows = rows.size();
  auto raw = [&](const std::string& name) {
    auto path = w.dir.file(name);
    auto r = raw_insert(path, o.synchronous, rows, rows_per_tx, kTokenName,
                        format_rfc3339(std::chrono::system_clock::now()));
    check_stored("raw SQLite", count_revisions(path), c.rows);
    return r;
  };
  c.raw_before = raw("raw-before.db");
  c.daemon = run_daemon(o, w, std::move(bodies), healthz);
  check_stored("kpiwatch", c.daemon.stored, c.rows);
  c.raw_after = raw("raw-after.db");
  return c;
}

void print_raw(const char* label, const RawResult& r) {
  fmt::print("    {:<50} {:>8} {:>9.3f} {:>12.0f}   {:.0f} us per transaction\n", label, r.rows, r.seconds,
             static_cast<double>(r.rows) / r.seconds, r.seconds * 1e6 / static_cast<double>(r.transactions));
}

void print_daemon(const char* label, const Comparison& c) {
  const auto& l = c.daemon.load;
  fmt::print("    {:<50} {:>8} {:>9.3f} {:>12.0f}   latency p50 {:.2f} ms, p99 {:.2f} ms\n", label, c.rows, l.seconds,
             static_cast<double>(c.rows) / l.seconds, l.percentile_ms(50), l.percentile_ms(99));
}

void print_header() { fmt::print("    {:<50} {:>8} {:>9} {:>12}\n", "", "rows", "seconds", "rows/s"); }

Ratio bench_batch(const Options& o, const Catalog& catalog) {
  std::vector<std::string> batches;
  for (std::size_t b = 0; b < o.batches; ++b) {
    batches.push_back(workload_batch_json(b * o.batch_size, o.batch_size, o.institutions));
  }
  auto c = compare(o, catalog, "kpiwatch-bench-a-", {std::move(batches)}, o.batch_size, false);
  auto r = c.ratio();
  auto raw_label = fmt::format("raw SQLite, 1 transaction per {} rows", o.batch_size);
  fmt::print("(a) batch ingest: {} batches x {} submissions, sequential on 1 keep-alive connection\n", o.batches,
             o.batch_size);
  print_header();
  print_raw((raw_label + " (before)").c_str(), c.raw_before);
  print_daemon("kpiwatch, POST /api/v1/submissions", c);
  print_raw((raw_label + " (after)").c_str(), c.raw_after);
  fmt::print("    ratio (a) = kpiwatch rows/s / mean raw rows/s = {:.0f} / {:.0f} = {:.3f}   (aim >= 0.5: {})\n\n",
             r.daemon_rate, r.raw_rate, r.ratio(), verdict(r.ratio(), 0.5));
  return r;
}

Ratio bench_single(const Options& o, const Catalog& catalog) {
  std::vector<std::vector<std::string>> bodies(o.connections);
  for (std::size_t j = 0; j < o.requests_per_connection; ++j)
    for (std::size_t c = 0; c < o.connections; ++c)
      bodies[c].push_back(workload_submission_json(j * o.connections + c, o.institutions));
  auto c = compare(o, catalog, "kpiwatch-bench-b-", std::move(bodies), 1, true);
  auto r = c.ratio();
  fmt::print("(b) single submissions: {} keep-alive connections, each {} sequential POSTs of 1 submission\n",
             o.connections, o.requests_per_connection);
  print_header();
  print_raw("raw SQLite, 1 transaction per row (before)", c.raw_before);
  print_daemon("kpiwatch, POST /api/v1/submissions", c);
  print_raw("raw SQLite, 1 transaction per row (after)", c.raw_after);
  if (const auto& h = c.daemon.healthz) {
    fmt::print("    {:<50} {:>8} {:>9.3f} {:>12.0f}   latency p50 {:.2f} ms, p99 {:.2f} ms\n",
               "  for scale: GET /healthz, same connections", h->requests, h->seconds,
               static_cast<double>(h->requests) / h->seconds, h->percentile_ms(50), h->percentile_ms(99));
  }
  fmt::print("    kpiwatch group commit: at least {} commits (distinct received_at), ~{:.1f} requests per commit\n",
             c.daemon.commits,
             c.daemon.commits > 0 ? static_cast<double>(c.rows) / static_cast<double>(c.daemon.commits) : 0.0);
  fmt::print("    ratio (b) = kpiwatch requests/s / mean raw rows/s = {:.0f} / {:.0f} = {:.2f}   (aim >= 10: {})\n\n",
             r.daemon_rate, r.raw_rate, r.ratio(), verdict(r.ratio(), 10));
  return r;
}

int run(const Options& o) {
  std::string sync_upper = o.synchronous;
  for (auto& ch : sync_upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  fmt::print("kpiwatch ingest benchmarks\n");
  fmt::print("  kpiwatch      {}\n", o.kpiwatch);
  fmt::print("  machine       {} CPUs ({}), load average {}\n", std::thread::hardware_concurrency(),
             machine_cpu_model(), machine_load_average());
  fmt::print("  temp dirs     {} ({})\n", o.tmp_dir, machine_filesystem(o.tmp_dir));
  fmt::print("  SQLite        {}, journal_mode=WAL, synchronous={} on both sides\n", sqlite3_libversion(), sync_upper);
  fmt::print("  workload      KPI {} (monthly count), {} institutions; every row a new (series, period)\n\n",
             kWorkloadKpi, o.institutions);
  std::fflush(stdout);

  auto parsed = Catalog::parse(workload_catalog_toml(o.institutions, "kpiwatch_bench_ingest"), "bench-catalog.toml");
  if (auto* diags = std::get_if<Diagnostics>(&parsed)) {
    for (const auto& d : *diags) fmt::print(stderr, "{}\n", d.str());
    return 2;
  }
  const Catalog& catalog = *std::get<0>(parsed);

  std::vector<Ratio> a, b;
  for (int i = 1; i <= o.runs; ++i) {
    fmt::print("== run {} of {} (load average {})\n", i, o.runs, machine_load_average());
    if (o.only.empty() || o.only == "a") a.push_back(bench_batch(o, catalog));
    std::fflush(stdout);
    if (o.only.empty() || o.only == "b") b.push_back(bench_single(o, catalog));
    std::fflush(stdout);
  }

  fmt::print("== summary (synchronous={}, load average now {})\n", sync_upper, machine_load_average());
  fmt::print("  {:<5} {:>16} {:>16} {:>9}   {:>16} {:>16} {:>9}\n", "run", "(a) HTTP rows/s", "(a) raw rows/s",
             "ratio a", "(b) HTTP req/s", "(b) 1-tx rows/s", "ratio b");
  for (int i = 0; i < o.runs; ++i) {
    auto cell = [&](const std::vector<Ratio>& v, auto f) -> std::string {
      return static_cast<std::size_t>(i) < v.size() ? f(v[static_cast<std::size_t>(i)]) : "-";
    };
    fmt::print("  {:<5} {:>16} {:>16} {:>9}   {:>16} {:>16} {:>9}\n", i + 1,
               cell(a, [](const Ratio& r) { return fmt::format("{:.0f}", r.daemon_rate); }),
               cell(a, [](const Ratio& r) { return fmt::format("{:.0f}", r.raw_rate); }),
               cell(a, [](const Ratio& r) { return fmt::format("{:.3f}", r.ratio()); }),
               cell(b, [](const Ratio& r) { return fmt::format("{:.0f}", r.daemon_rate); }),
               cell(b, [](const Ratio& r) { return fmt::format("{:.0f}", r.raw_rate); }),
               cell(b, [](const Ratio& r) { return fmt::format("{:.2f}", r.ratio()); }));
  }
  fmt::print("  aims: ratio a >= 0.5, ratio b >= 10\n");
  return 0;
}

}  // namespace
}  // namespace kpiwatch::bench

int main(int argc, char** argv) {
  kpiwatch::bench::Options o;
  CLI::App app{
      "kpiwatch ingest benchmarks: (a) batch ingest over HTTP vs raw SQLite, "
      "(b) 64 concurrent single submissions vs one transaction per row"};
  app.add_option("--kpiwatch", o.kpiwatch, "the kpiwatch binary to run")->check(CLI::ExistingFile);
  app.add_option("--tmp-dir", o.tmp_dir, "parent of the temporary state directories")->check(CLI::ExistingDirectory);
  app.add_option("--synchronous", o.synchronous, "SQLite synchronous setting on both sides")
      ->check(CLI::IsMember({"normal", "full", "extra"}));
  app.add_option("--runs", o.runs, "repeat the whole benchmark this many times")->check(CLI::Range(1, 20));
  app.add_option("--only", o.only, "run only benchmark a or b")->check(CLI::IsMember({"a", "b"}));
  app.add_option("--institutions", o.institutions, "values of the institution dimension")->check(CLI::Range(1, 100000));
  app.add_option("--batches", o.batches, "(a) number of batches")->check(CLI::Range(1, 10000));
  app.add_option("--batch-size", o.batch_size, "(a) submissions per batch")->check(CLI::Range(1, 10000));
  app.add_option("--connections", o.connections, "(b) concurrent connections")->check(CLI::Range(1, 1000));
  app.add_option("--requests", o.requests_per_connection, "(b) sequential requests per connection")
      ->check(CLI::Range(1, 100000));
  app.add_flag("--keep", o.keep, "keep the temporary directories");
  CLI11_PARSE(app, argc, argv);
  try {
    return kpiwatch::bench::run(o);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "kpiwatch_bench_ingest: {}\n", e.what());
    return 1;
  }
}
