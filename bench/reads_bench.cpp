// kpiwatch_bench_reads: what the status page reads (issue 11), at 10^5 series,
// on the libraries directly (no HTTP), over a real SQLite file:
//
// - GET /api/v1/goals: views::overview + overview_json, and, for comparison in the
//   same run, what the overview read before (every series' two newest figures);
// - GET /api/v1/alerts (first page of 100): views::alert_page + alert_item_json;
// - GET /api/v1/kpis/{id}/series (first page of 50): views::series_view;
// - GET /report (issue 12): views::report + render_report_html, which reads and
//   draws every figure of the year, off the event loop (--report to run it).
// Each with the size of its JSON. Data: `kpis` monthly KPIs x `institutions`
// values of one dimension, `months` figures each, and one pending or firing
// alert on every `alert_every`-th series.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_daemon.hpp"
#include "bench_machine.hpp"
#include "bench_workload.hpp"
#include "http/views_json.hpp"
#include "kpiwatch/catalog.hpp"
#include "kpiwatch/json.hpp"
#include "kpiwatch/report.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/store.hpp"
#include "kpiwatch/views.hpp"
#include "report/report_html.hpp"

namespace kpiwatch::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string tmp_dir = "/tmp";
  std::size_t kpis = 10;
  std::size_t institutions = 10000;
  std::size_t months = 4;
  std::size_t alert_every = 10;
  int repeats = 5;
  bool keep = false;
  bool report = false;
};

std::string kpi_id(std::size_t k) { return fmt::format("g01.bench_k{}", k); }

std::string catalog_toml(const Options& o) {
  std::string values, labels_ja, labels_en;
  for (std::size_t i = 0; i < o.institutions; ++i) {
    values += fmt::format("{}\"{}\"", i ? ", " : "", institution(i));
    labels_ja += fmt::format("{}{} = \"機関{}\"", i ? ", " : "", institution(i), i);
    labels_en += fmt::format("{}{} = \"institution {}\"", i ? ", " : "", institution(i), i);
  }
  std::string text = catalog_head("kpiwatch_bench_reads");
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

[kpis.dims.institution]
values = [{}]
labels_ja = {{ {} }}
labels_en = {{ {} }}
)",
                        kpi_id(k), k, k, values, labels_ja, labels_en);
  return text;
}

void check(const Status& s, const char* what) {
  if (!s) throw std::runtime_error(std::string(what) + ": " + s.error().message);
}

void insert(Store& store, std::vector<Submission>& chunk, const std::string& at) {
  if (auto r = store.revisions().insert(chunk, "bench", at); !r)
    throw std::runtime_error("insert: " + r.error().message);
  chunk.clear();
}

// The figures and alerts (not timed), each in one transaction.
void fill(Store& store, const Options& o) {
  std::mt19937_64 rng(20240601);
  std::uniform_real_distribution<double> value(800, 2000);
  std::string at = format_rfc3339(std::chrono::system_clock::now());
  {
    Transaction tx(store.connection());
    check(tx.began(), "begin");
    std::vector<Submission> chunk;
    for (std::size_t k = 0; k < o.kpis; ++k)
      for (std::size_t i = 0; i < o.institutions; ++i)
        for (std::size_t m = 0; m < o.months; ++m) {
          Submission s;
          s.kpi = kpi_id(k);
          s.dims = {{"institution", institution(i)}};
          s.period = Period{PeriodKind::month, 2024 + static_cast<int>(m / 12), static_cast<int>(m % 12) + 1};
          s.value = std::round(value(rng));
          s.body = "bench";
          s.source = "benchmark";
          chunk.push_back(std::move(s));
          if (chunk.size() == 10000) {
            insert(store, chunk, at);
          }
        }
    insert(store, chunk, at);
    check(tx.commit(), "commit");
  }
  Transaction tx(store.connection());
  check(tx.began(), "begin");
  AlertChanges changes;
  auto now = std::chrono::system_clock::now();
  std::size_t n = 0;
  for (std::size_t k = 0; k < o.kpis; ++k)
    for (std::size_t i = 0; i < o.institutions; i += o.alert_every, ++n) {
      AlertRecord a;
      a.fingerprint = fmt::format("{:016x}", n);
      a.rule_id = fmt::format("bench-r{}", n % 7);
      a.kpi = kpi_id(k);
      a.group = a.rule_id + "|" + institution(i);
      a.labels = {{"goal", "1"}, {"kpi", a.kpi}, {"rule", a.rule_id}, {"institution", institution(i)}};
      a.severity = n % 3 == 0 ? Severity::critical : Severity::warning;
      a.state = n % 4 == 0 ? AlertState::pending : AlertState::firing;
      a.period = fmt::format("2024-{:02}", o.months);
      a.value = 700;
      a.summary_ja = fmt::format("{}（{}）が700", a.kpi, institution(i));
      a.summary_en = fmt::format("{} of {} is 700", a.kpi, institution(i));
      a.active_since = a.updated_at = now - std::chrono::seconds(n);
      if (a.state == AlertState::firing) a.firing_since = a.active_since;
      changes.updated.push_back(std::move(a));
    }
  check(store.alerts().save(changes), "save alerts");
  check(tx.commit(), "commit");
  fmt::print("    {} series ({} KPIs x {} institutions), {} figures, {} pending or firing alerts\n",
             o.kpis * o.institutions, o.kpis, o.institutions, o.kpis * o.institutions * o.months,
             changes.updated.size());
}

// Runs `read` `repeats` times; prints its median and the size of the JSON it made.
void measure(const char* what, int repeats, const std::function<std::string()>& read) {
  std::vector<double> ms;
  std::size_t bytes = 0;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = SteadyClock::now();
    bytes = read().size();
    ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count());
  }
  fmt::print("    {:<62} median {:>9.2f} ms   max {:>9.2f} ms   JSON {:>9} bytes\n", what, percentile(ms, 50),
             percentile(ms, 100), bytes);
}

template <class T>
T value_of(Result<T> r, const char* what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().message);
  return std::move(r.value());
}

int run(const Options& o) {
  fmt::print("kpiwatch_bench_reads: the status page's reads at {} series\n", o.kpis * o.institutions);
  fmt::print("    machine: {}; load average {}; {} on {}\n", machine_cpu_model(), machine_load_average(), o.tmp_dir,
             machine_filesystem(o.tmp_dir));
  TempDir dir(o.tmp_dir, "kpiwatch-bench-reads-");
  if (o.keep) dir.keep();
  auto loaded = Catalog::parse(catalog_toml(o), "bench-catalog.toml");
  if (auto* diags = std::get_if<Diagnostics>(&loaded))
    throw std::runtime_error("the benchmark catalog does not load: " + diags->front().str());
  auto catalog = std::get<0>(loaded);
  auto store = value_of(Store::open({dir.file("kpiwatch.db")}), "open");
  fill(*store, o);
  std::string now = format_rfc3339(std::chrono::system_clock::now());

  measure("GET /api/v1/goals: overview + overview_json", o.repeats,
          [&] { return serialize_json(overview_json(value_of(views::overview(*store, *catalog), "overview"))); });
  measure("  before issue 11: every series' two newest figures, per KPI", o.repeats, [&] {
    std::size_t rows = 0;
    for (const auto& k : catalog->kpis()) rows += value_of(store->revisions().latest(k.id, 2), "latest").size();
    return std::string(rows, ' ');  // no JSON: the count of figures read
  });
  measure("GET /api/v1/alerts?limit=100&offset=0: alert_page + alert_item_json, with the total", o.repeats, [&] {
    auto page = value_of(views::alert_page(*store, {}, now, 100, 0), "alert page");
    boost::json::array out;
    for (const auto& a : page.alerts) out.push_back(alert_item_json(a, *catalog));
    return serialize_json(boost::json::object{{"alerts", std::move(out)}, {"total", page.total}});
  });
  measure("GET /api/v1/kpis/{id}/series?limit=50: series_view + JSON", o.repeats, [&] {
    SeriesQuery q;
    q.kpi = kpi_id(0);
    return serialize_json(series_view_json(
        value_of(views::series_view(*store, catalog->kpis()[0], q, SeriesPage{50, 0, std::nullopt}), "series")));
  });
  measure("GET /api/v1/kpis/{id}/series?dims.institution=X: one series (the middle one)", o.repeats, [&] {
    SeriesQuery q;
    q.kpi = kpi_id(0);
    q.dims = {{"institution", institution(o.institutions / 2)}};
    return serialize_json(series_view_json(
        value_of(views::series_view(*store, catalog->kpis()[0], q, SeriesPage{50, 0, std::nullopt}), "series")));
  });
  measure("GET /api/v1/alerts?limit=100&cursor=: the second page, by cursor", o.repeats, [&] {
    auto first = value_of(views::alert_page(*store, {}, now, {100, 0, std::nullopt, false}), "alert page");
    auto after = first.next_cursor ? views::parse_alert_cursor(*first.next_cursor) : std::nullopt;
    auto page = value_of(views::alert_page(*store, {}, now, {100, 0, after, false}), "alert page");
    boost::json::array out;
    for (const auto& a : page.alerts) out.push_back(alert_item_json(a, *catalog));
    return serialize_json(boost::json::object{{"alerts", std::move(out)}});
  });
  if (o.report) {
    auto rules = RuleSet::load({}, catalog);
    if (auto* diags = std::get_if<Diagnostics>(&rules)) throw std::runtime_error(diags->front().str());
    views::ReportTemplates templates;
    measure("GET /report: views::report + render_report_html (HTML bytes)", o.repeats, [&] {
      auto r = value_of(views::report(*store, *catalog, *std::get<0>(rules), templates, std::nullopt,
                                      std::chrono::system_clock::now()),
                        "report");
      return render_report_html(r, Lang::ja);
    });
  }
  return 0;
}

}  // namespace
}  // namespace kpiwatch::bench

int main(int argc, char** argv) {
  kpiwatch::bench::Options o;
  CLI::App app{"kpiwatch status-page reads at 10^5 series: the goals overview, the alert list, a page of series"};
  app.add_option("--tmp-dir", o.tmp_dir, "parent of the temporary database")->check(CLI::ExistingDirectory);
  app.add_option("--kpis", o.kpis, "monthly KPIs")->check(CLI::Range(1, 100));
  app.add_option("--institutions", o.institutions, "values of the institution dimension")->check(CLI::Range(1, 100000));
  app.add_option("--months", o.months, "figures per series")->check(CLI::Range(2, 12));
  app.add_option("--alert-every", o.alert_every, "one alert per this many series")->check(CLI::Range(1, 100000));
  app.add_option("--repeats", o.repeats, "timed reads of each")->check(CLI::Range(1, 100));
  app.add_flag("--keep", o.keep, "keep the temporary directory");
  app.add_flag("--report", o.report, "also draw the follow-up report of every figure");
  CLI11_PARSE(app, argc, argv);
  try {
    return kpiwatch::bench::run(o);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "kpiwatch_bench_reads: {}\n", e.what());
    return 1;
  }
}
