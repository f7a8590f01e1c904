// kpiwatch_bench_rules: the rule-engine benchmarks of docs/BENCHMARKS.md,
// each a ratio of two measurements taken in the same run, on the libraries
// directly (no HTTP):
//
// (a) incremental evaluation per submission against storing it: the shipped
//     rules over the bundled dataset; for each submission, Store::append in its
//     own transaction (synchronous=FULL, as a request that is alone in its group
//     commit) vs SeriesIndex::upsert + RuleSet::evaluate_changed +
//     AlertBook::plan for that series. Aim: evaluation / store < 0.10.
// (b) a full evaluation pass against reading the series once: 10^5 series
//     (10 monthly KPIs x 10,000 institutions, a few months each) and 100
//     generated rules; Store::for_each_current into a fresh SeriesIndex vs
//     RuleSet::evaluate_all + AlertBook::plan. Aim: evaluation / read <= 1.0.

#include <fmt/format.h>
#include <malloc.h>
#include <sqlite3.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_daemon.hpp"
#include "bench_machine.hpp"
#include "bench_workload.hpp"
#include "kpiwatch/alert_book.hpp"
#include "kpiwatch/catalog.hpp"
#include "kpiwatch/clock.hpp"
#include "kpiwatch/dataset.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/series.hpp"
#include "kpiwatch/store.hpp"
#include "kpiwatch/submission.hpp"

namespace kpiwatch::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string tmp_dir = "/tmp";
  std::string synchronous = "full";
  int runs = 1;
  std::string only;  // "", "a" or "b"
  // (a)
  std::size_t submissions = 600;
  // (b)
  std::size_t kpis = 10;
  std::size_t institutions = 10000;
  std::size_t months = 6;
  std::size_t rules_per_kpi = 10;
  int passes = 3;
  bool keep = false;
};

double seconds_since(SteadyClock::time_point t) {
  return std::chrono::duration<double>(SteadyClock::now() - t).count();
}

template <class T>
T unwrap(Loaded<T> loaded, const char* what) {
  if (auto* diags = std::get_if<Diagnostics>(&loaded)) {
    std::string text;
    for (const auto& d : *diags) text += d.str() + "\n";
    throw std::runtime_error(fmt::format("{} does not load:\n{}", what, text));
  }
  return std::move(std::get<0>(loaded));
}

std::unique_ptr<Store> open_store(const std::string& path, const std::string& synchronous) {
  StoreOptions so;
  so.path = path;
  so.synchronous = synchronous;
  auto store = Store::open(so);
  if (!store) throw std::runtime_error("cannot open " + path + ": " + store.error().message);
  return std::move(store.value());
}

void check(const Status& s, const char* what) {
  if (!s) throw std::runtime_error(std::string(what) + ": " + s.error().message);
}

std::string verdict(bool met) { return met ? "met" : "MISSED"; }

// Bytes the allocator has handed out and not had back: the heap a structure
// built between two readings holds.
std::size_t heap_in_use() { return mallinfo2().uordblks; }

// ---------------------------------------------------------------------------
// (a) incremental evaluation per submission vs storing it
// ---------------------------------------------------------------------------

struct ResultA {
  std::size_t submissions = 0;
  double store_mean_us = 0, store_median_us = 0, eval_mean_us = 0, eval_median_us = 0, eval_p99_us = 0;
  std::size_t evaluations = 0;  // rule evaluations, over all submissions
  std::string worst_kpi;        // the KPI whose submissions cost the most to evaluate
  double worst_kpi_eval_us = 0;
  double ratio() const { return store_mean_us > 0 ? eval_mean_us / store_mean_us : 0; }
  double median_ratio() const { return store_median_us > 0 ? eval_median_us / store_median_us : 0; }
};

ResultA bench_incremental(const Options& o) {
  TempDir dir(o.tmp_dir, "kpiwatch-bench-rules-a-");
  if (o.keep) dir.keep();
  auto catalog = Catalog::embedded();
  auto rules = unwrap(RuleSet::load(RuleSet::embedded_sources(), catalog), "the shipped rules");
  auto dataset = parse_submissions(*catalog, bundled_dataset_json(), ValidationLimits{.max_batch = 100000});
  if (!dataset) throw std::runtime_error("the bundled dataset does not validate: " + dataset.error().message);
  const auto& figures = dataset.value();

  // The state of a daemon that has loaded the bundled dataset (not timed).
  auto store = open_store(dir.file("kpiwatch.db"), o.synchronous);
  std::string at = format_rfc3339(std::chrono::system_clock::now());
  if (auto r = store->revisions().append(figures, "import:bundled", at); !r)
    throw std::runtime_error("storing the bundled dataset: " + r.error().message);
  SeriesIndex index;
  check(store->revisions().for_each_current(
            [&](const std::string& kpi, const Dims& dims, Point p) { index.upsert(kpi, dims, std::move(p)); }),
        "reading the series");
  AlertBook book;
  auto now = std::chrono::system_clock::now();
  book.commit(book.plan(rules->evaluate_all(index), now));

  // Each bundled figure submitted again (a new revision with the same value),
  // round robin: every KPI of the plan, with the shipped rules that read it.
  std::vector<double> store_us, eval_us;
  std::map<std::string, std::pair<double, int>> by_kpi;
  ResultA r;
  for (std::size_t i = 0; i < o.submissions; ++i) {
    const Submission& s = figures[i % figures.size()];
    std::vector<Submission> one{s};
    std::string received_at = format_rfc3339(std::chrono::system_clock::now());

    auto t0 = SteadyClock::now();
    auto stored = store->revisions().append(one, "bench", received_at);
    double store_s = seconds_since(t0);
    if (!stored) throw std::runtime_error("append: " + stored.error().message);

    auto t1 = SteadyClock::now();
    AlertChanges changes;
    {
      index.upsert(s.kpi, s.dims, Point{s.period, s.value, s.items});
      auto evaluations = rules->evaluate_changed(index, s.kpi, s.dims);
      changes = book.plan(evaluations, now);
      r.evaluations += evaluations.size();
    }
    double eval_s = seconds_since(t1);
    book.commit(changes);

    store_us.push_back(store_s * 1e6);
    eval_us.push_back(eval_s * 1e6);
    auto& k = by_kpi[s.kpi];
    k.first += eval_s * 1e6;
    ++k.second;
  }
  r.submissions = o.submissions;
  r.store_mean_us = mean(store_us);
  r.store_median_us = percentile(store_us, 50);
  r.eval_mean_us = mean(eval_us);
  r.eval_median_us = percentile(eval_us, 50);
  r.eval_p99_us = percentile(eval_us, 99);
  for (const auto& [kpi, sum] : by_kpi) {
    double m = sum.first / sum.second;
    if (m > r.worst_kpi_eval_us) {
      r.worst_kpi_eval_us = m;
      r.worst_kpi = kpi;
    }
  }
  fmt::print(
      "(a) incremental evaluation per submission: shipped rules ({}) over the bundled dataset ({} figures, "
      "{} series)\n",
      rules->size(), figures.size(), index.size());
  fmt::print("    {} submissions, each a new revision of a bundled figure, round robin\n", r.submissions);
  fmt::print("    {:<58} mean {:>9.1f} us   median {:>9.1f} us\n", "Store::append, own transaction", r.store_mean_us,
             r.store_median_us);
  fmt::print("    {:<58} mean {:>9.1f} us   median {:>9.1f} us   p99 {:.1f} us\n",
             "upsert + evaluate_changed + AlertBook::plan", r.eval_mean_us, r.eval_median_us, r.eval_p99_us);
  fmt::print("    {:.1f} rule evaluations per submission; costliest KPI {} at {:.1f} us mean\n",
             static_cast<double>(r.evaluations) / static_cast<double>(r.submissions), r.worst_kpi, r.worst_kpi_eval_us);
  fmt::print(
      "    ratio (a) = evaluation / store = {:.1f} / {:.1f} us = {:.4f}   (medians: {:.4f})   (aim < 0.10: {})\n\n",
      r.eval_mean_us, r.store_mean_us, r.ratio(), r.median_ratio(), verdict(r.ratio() < 0.10));
  return r;
}

// ---------------------------------------------------------------------------
// (b) full evaluation pass vs reading the series once
// ---------------------------------------------------------------------------

std::string kpi_id(std::size_t k) { return fmt::format("g01.bench_k{}", k); }
std::string month(std::size_t m) { return fmt::format("{:04}-{:02}", 2024 + m / 12, m % 12 + 1); }

std::string catalog_toml(const Options& o) {
  std::string values;
  for (std::size_t i = 0; i < o.institutions; ++i) values += fmt::format("{}\"{}\"", i ? ", " : "", institution(i));
  std::string text = catalog_head("kpiwatch_bench_rules");
  for (std::size_t k = 0; k < o.kpis; ++k)
    text += fmt::format(R"(
[[kpis]]
id = "{}"
goal = 1
name_ja = "月次件数 {}"
name_en = "Monthly count {} per institution"
unit = "count"
period = "month"
bodies = ["bench"]
min = 0
max = 1000000000

[kpis.dims.institution]
values = [{}]
)",
                        kpi_id(k), k, k, values);
  return text;
}

// Ten kinds of rule, one of each per KPI: every condition kind of docs/RULES.md
// that applies to numbers, thresholds set so that a few percent of the series fire.
std::string rules_toml(const Options& o) {
  std::string text = "# Benchmark rules (written by kpiwatch_bench_rules).\n";
  for (std::size_t k = 0; k < o.kpis; ++k) {
    std::string other = kpi_id((k + 1) % o.kpis);
    for (std::size_t j = 0; j < o.rules_per_kpi; ++j) {
      std::string condition;
      std::string extra;
      switch (j % 10) {
        case 0:
          condition = "[rule.threshold]\nbelow = 620\n";
          break;
        case 1:
          condition = "[rule.threshold]\nabove = 2350\n";
          break;
        case 2:
          condition = "[rule.change]\ndirection = \"falling\"\nby = \"percent\"\nmore_than = 8\n";
          extra = "hold_for = 2\n";
          break;
        case 3:
          condition = "[rule.change]\ndirection = \"rising\"\nby = \"points\"\nmore_than = 150\n";
          break;
        case 4:
          condition = "[rule.trend]\ndeclines = 4\n";
          break;
        case 5:
          condition = "[rule.trend]\nwindow = 4\nslope_below = -60\n";
          break;
        case 6:
          condition = "[rule.stagnation]\nwindow = 3\ntolerance_percent = -6\n";
          break;
        case 7:
          condition = "[rule.stagnation]\nwindow = 3\nat_or_below = 700\n";
          break;
        case 8:
          condition = "[rule.expression]\nexpr = \"value / avg(value, 3) < 0.92\"\n";
          break;
        default:
          condition = fmt::format("[rule.expression]\nexpr = \"{} / {} > 1.9\"\n", kpi_id(k), other);
          break;
      }
      text += fmt::format(R"toml(
[[rule]]
id = "bench-k{}-r{}"
title = "Benchmark rule {} on KPI {}"
kpi = "{}"
severity = "{}"
labels = {{ bench = "yes" }}
{}summary_ja = "{{kpi_name_ja}}（{{dims.institution}}）が{{value}}（{{period}}、前月 {{previous}}）"
summary_en = "{{kpi_name_en}} of {{dims.institution}} is {{value}} in {{period}} ({{previous}} the month before)"
{})toml",
                          k, j, j, k, kpi_id(k), j % 3 == 0 ? "critical" : "warning", extra, condition);
    }
  }
  return text;
}

struct ResultB {
  std::size_t series = 0, rows = 0, rules = 0, evaluations = 0, active = 0;
  std::vector<double> read_s, eval_s, plan_s;   // eval_s includes plan_s
  std::size_t index_bytes = 0, book_bytes = 0;  // heap held by the SeriesIndex and the AlertBook after pass 0
  double ratio() const {
    double r = percentile(read_s, 50);
    return r > 0 ? percentile(eval_s, 50) / r : 0;
  }
};

ResultB bench_full_pass(const Options& o) {
  TempDir dir(o.tmp_dir, "kpiwatch-bench-rules-b-");
  if (o.keep) dir.keep();
  auto catalog = unwrap(Catalog::parse(catalog_toml(o), "bench-catalog.toml"), "the benchmark catalog");
  auto rules_text = rules_toml(o);
  if (o.keep) write_file(dir.file("bench-rules.toml"), rules_text);
  auto rules = unwrap(RuleSet::load({RuleSource{"bench-rules.toml", rules_text}}, catalog), "the benchmark rules");

  // The data (not timed): a random walk per series, in one transaction.
  ResultB r;
  r.rules = rules->size();
  auto store = open_store(dir.file("kpiwatch.db"), o.synchronous);
  Transaction tx(store->connection());
  check(tx.began(), "begin");
  std::mt19937_64 rng(20240601);
  std::normal_distribution<double> step(0.0, 0.04);
  std::uniform_real_distribution<double> start(800, 2000);
  std::string at = format_rfc3339(std::chrono::system_clock::now());
  std::vector<Submission> chunk;
  auto flush = [&] {
    if (auto s = store->revisions().insert(chunk, "bench", at); !s)
      throw std::runtime_error("insert: " + s.error().message);
    r.rows += chunk.size();
    chunk.clear();
  };
  for (std::size_t k = 0; k < o.kpis; ++k)
    for (std::size_t i = 0; i < o.institutions; ++i) {
      double v = start(rng);
      for (std::size_t m = 0; m < o.months; ++m) {
        Submission s;
        s.kpi = kpi_id(k);
        s.period = parse_period(month(m), PeriodKind::month).value();
        s.dims = {{"institution", institution(i)}};
        s.value = std::round(v);
        s.body = "bench";
        s.source = "kpiwatch_bench_rules";
        chunk.push_back(std::move(s));
        v = std::max(0.0, v * (1 + step(rng)));
      }
      if (chunk.size() >= 20000) flush();
    }
  if (!chunk.empty()) flush();
  check(tx.commit(), "commit");

  auto now = std::chrono::system_clock::now();
  AlertBook book;
  std::unique_ptr<SeriesIndex> index;
  // Pass 0 (not timed) brings the book to the state a running daemon has: the
  // alerts of the previous evaluation. Then `passes` timed read/evaluate pairs.
  for (int pass = 0; pass <= o.passes; ++pass) {
    std::size_t heap_before = heap_in_use();
    auto t0 = SteadyClock::now();
    auto fresh = std::make_unique<SeriesIndex>();
    check(store->revisions().for_each_current(
              [&](const std::string& kpi, const Dims& dims, Point p) { fresh->upsert(kpi, dims, std::move(p)); }),
          "for_each_current");
    double read_s = seconds_since(t0);
    if (pass == 0) r.index_bytes = heap_in_use() - heap_before;
    index = std::move(fresh);  // the previous index is freed outside the timing

    std::size_t heap_before_eval = heap_in_use();
    auto t1 = SteadyClock::now();
    AlertChanges changes;
    double plan_s = 0;
    {
      auto evaluations = rules->evaluate_all(*index);
      auto t2 = SteadyClock::now();
      changes = book.plan(evaluations, now);
      plan_s = seconds_since(t2);
      r.evaluations = evaluations.size();
    }
    double eval_s = seconds_since(t1);
    book.commit(changes);
    if (pass == 0) {
      changes = {};  // what the book holds, without the plan's copies
      r.book_bytes = heap_in_use() - heap_before_eval;
      continue;
    }
    r.read_s.push_back(read_s);
    r.eval_s.push_back(eval_s);
    r.plan_s.push_back(plan_s);
  }
  r.series = index->size();
  r.active = book.active_count();

  fmt::print("(b) full evaluation pass: {} series ({} KPIs x {} institutions, {} months each: {} rows), {} rules\n",
             r.series, o.kpis, o.institutions, o.months, r.rows, r.rules);
  fmt::print("    {} rule evaluations per pass; {} alerts active ({:.1f}% of evaluations)\n", r.evaluations, r.active,
             r.evaluations ? 100.0 * static_cast<double>(r.active) / static_cast<double>(r.evaluations) : 0.0);
  fmt::print("    memory: SeriesIndex {:.1f} MiB ({:.0f} bytes/series), AlertBook {:.1f} MiB ({:.0f} bytes/alert)\n",
             static_cast<double>(r.index_bytes) / 1048576.0,
             static_cast<double>(r.index_bytes) / static_cast<double>(std::max<std::size_t>(r.series, 1)),
             static_cast<double>(r.book_bytes) / 1048576.0,
             static_cast<double>(r.book_bytes) / static_cast<double>(std::max<std::size_t>(r.active, 1)));
  for (std::size_t i = 0; i < r.read_s.size(); ++i)
    fmt::print(
        "    pass {}: read (for_each_current into a SeriesIndex) {:.3f} s   evaluate_all + plan {:.3f} s "
        "(plan {:.3f} s)   ratio {:.3f}\n",
        i + 1, r.read_s[i], r.eval_s[i], r.plan_s[i], r.eval_s[i] / r.read_s[i]);
  fmt::print("    ratio (b) = median evaluation / median read = {:.3f} / {:.3f} s = {:.3f}   (aim <= 1.0: {})\n\n",
             percentile(r.eval_s, 50), percentile(r.read_s, 50), r.ratio(), verdict(r.ratio() <= 1.0));
  return r;
}

int run(const Options& o) {
  std::string sync_upper = o.synchronous;
  for (auto& ch : sync_upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  fmt::print("kpiwatch rule-engine benchmarks\n");
  fmt::print("  machine       {} CPUs ({}), load average {}\n", std::thread::hardware_concurrency(),
             machine_cpu_model(), machine_load_average());
  fmt::print("  temp dirs     {} ({})\n", o.tmp_dir, machine_filesystem(o.tmp_dir));
  fmt::print("  SQLite        {}, journal_mode=WAL, synchronous={}\n\n", sqlite3_libversion(), sync_upper);
  std::fflush(stdout);

  std::vector<ResultA> a;
  std::vector<ResultB> b;
  for (int i = 1; i <= o.runs; ++i) {
    fmt::print("== run {} of {} (load average {})\n", i, o.runs, machine_load_average());
    if (o.only.empty() || o.only == "a") a.push_back(bench_incremental(o));
    std::fflush(stdout);
    if (o.only.empty() || o.only == "b") b.push_back(bench_full_pass(o));
    std::fflush(stdout);
  }

  fmt::print("== summary (load average now {})\n", machine_load_average());
  fmt::print("  {:<5} {:>14} {:>14} {:>9}   {:>12} {:>12} {:>9}\n", "run", "(a) store us", "(a) eval us", "ratio a",
             "(b) read s", "(b) eval s", "ratio b");
  for (std::size_t i = 0; i < static_cast<std::size_t>(o.runs); ++i) {
    std::string sa = "-", ea = "-", ra = "-", sb = "-", eb = "-", rb = "-";
    if (i < a.size()) {
      sa = fmt::format("{:.1f}", a[i].store_mean_us);
      ea = fmt::format("{:.1f}", a[i].eval_mean_us);
      ra = fmt::format("{:.4f}", a[i].ratio());
    }
    if (i < b.size()) {
      sb = fmt::format("{:.3f}", percentile(b[i].read_s, 50));
      eb = fmt::format("{:.3f}", percentile(b[i].eval_s, 50));
      rb = fmt::format("{:.3f}", b[i].ratio());
    }
    fmt::print("  {:<5} {:>14} {:>14} {:>9}   {:>12} {:>12} {:>9}\n", i + 1, sa, ea, ra, sb, eb, rb);
  }
  fmt::print("  aims: ratio a < 0.10, ratio b <= 1.0\n");
  return 0;
}

}  // namespace
}  // namespace kpiwatch::bench

int main(int argc, char** argv) {
  kpiwatch::bench::Options o;
  CLI::App app{
      "kpiwatch rule-engine benchmarks: (a) incremental evaluation vs storing a submission, "
      "(b) a full evaluation pass vs reading the series"};
  app.add_option("--tmp-dir", o.tmp_dir, "parent of the temporary databases")->check(CLI::ExistingDirectory);
  app.add_option("--synchronous", o.synchronous, "SQLite synchronous setting")
      ->check(CLI::IsMember({"normal", "full", "extra"}));
  app.add_option("--runs", o.runs, "repeat the whole benchmark this many times")->check(CLI::Range(1, 20));
  app.add_option("--only", o.only, "run only benchmark a or b")->check(CLI::IsMember({"a", "b"}));
  app.add_option("--submissions", o.submissions, "(a) timed submissions")->check(CLI::Range(1, 100000));
  app.add_option("--kpis", o.kpis, "(b) monthly KPIs")->check(CLI::Range(2, 100));
  app.add_option("--institutions", o.institutions, "(b) values of the institution dimension")
      ->check(CLI::Range(1, 100000));
  app.add_option("--months", o.months, "(b) months per series")->check(CLI::Range(4, 120));
  app.add_option("--rules-per-kpi", o.rules_per_kpi, "(b) rules per KPI")->check(CLI::Range(1, 100));
  app.add_option("--passes", o.passes, "(b) timed read/evaluate pairs")->check(CLI::Range(1, 20));
  app.add_flag("--keep", o.keep, "keep the temporary directories");
  CLI11_PARSE(app, argc, argv);
  try {
    return kpiwatch::bench::run(o);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "kpiwatch_bench_rules: {}\n", e.what());
    return 1;
  }
}
