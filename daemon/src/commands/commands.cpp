#include "kpiwatch/commands.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "commands/setup.hpp"
#include "kpiwatch/auth.hpp"
#include "kpiwatch/dataset.hpp"
#include "kpiwatch/digest.hpp"
#include "kpiwatch/importer.hpp"
#include "kpiwatch/json.hpp"
#include "kpiwatch/log.hpp"
#include "kpiwatch/rule_tests.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/store.hpp"

namespace kpiwatch {
namespace {

constexpr const char* kBundledKey = "bundled_dataset";

void print(const Diagnostics& diags) {
  for (const auto& d : diags) fmt::print(stderr, "{}\n", d.str());
}

}  // namespace

void init_logging(const std::string& level) {
  std::shared_ptr<spdlog::logger> logger;
  if (stderr_is_journal()) {
    // Under systemd: one journal entry per event with its PRIORITY= (the journal adds
    // the time); log_event() adds structured fields (RULE=, KPI=, ...).
    logger = spdlog::systemd_logger_mt("kpiwatch", "kpiwatch");
  } else {
    logger = spdlog::stderr_color_mt("kpiwatch");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

Loaded<Setup> load_setup(const CommonOptions& options, const std::vector<std::string>& rule_paths) {
  Setup setup;
  if (options.config_path.empty()) {
    setup.settings = default_settings();
  } else {
    auto loaded = load_settings(options.config_path);
    if (auto* diags = std::get_if<Diagnostics>(&loaded)) return *diags;
    setup.settings = std::get<Settings>(std::move(loaded));
  }
  auto& s = setup.settings;
  if (!options.state_directory.empty()) s.state_directory = options.state_directory;
  if (!options.database.empty()) s.database = options.database;
  if (!options.log_level.empty()) {  // checked as the config file's [log] level is
    auto parsed = parse_settings(fmt::format("[log]\nlevel = \"{}\"\n", options.log_level), "--log-level", "");
    if (auto* diags = std::get_if<Diagnostics>(&parsed)) return *diags;
    s.log_level = options.log_level;
  }
  if (!options.listen.empty()) {
    auto text = fmt::format("[server]\nlisten = \"{}\"\n", options.listen);
    auto parsed = parse_settings(text, "--listen", "");
    if (auto* diags = std::get_if<Diagnostics>(&parsed)) return *diags;
    s.listen_host = std::get<Settings>(parsed).listen_host;
    s.listen_port = std::get<Settings>(parsed).listen_port;
  }

  if (s.catalog_path.empty()) {
    setup.catalog = Catalog::embedded();
  } else {
    auto loaded = Catalog::load_file(s.catalog_path);
    if (auto* diags = std::get_if<Diagnostics>(&loaded)) return *diags;
    setup.catalog = std::get<0>(loaded);
  }
  if (auto diags = check_token_scopes(s, *setup.catalog); !diags.empty()) return diags;

  const auto& paths = rule_paths.empty() ? s.rule_paths : rule_paths;
  std::vector<RuleSource> sources;
  if (paths.empty()) {
    sources = RuleSet::embedded_sources();
  } else {
    auto read = RuleSet::read_sources(paths);
    if (!read) return Diagnostics{{"", 0, 0, read.error().message}};
    sources = std::move(read.value());
  }
  auto rules = RuleSet::load(sources, setup.catalog);
  if (auto* diags = std::get_if<Diagnostics>(&rules)) return *diags;
  setup.rules = std::get<0>(rules);
  Diagnostics unknown;
  for (const auto& [rule, receiver] : setup.rules->receiver_references())
    if (!s.receiver(receiver))
      unknown.push_back({s.source, 0, 0, fmt::format("rule \"{}\" names unknown receiver \"{}\"", rule, receiver)});
  if (!unknown.empty()) return unknown;
  return setup;
}

std::optional<Setup> load_setup_or_print(const CommonOptions& options, const std::vector<std::string>& rule_paths) {
  auto loaded = load_setup(options, rule_paths);
  if (auto* diags = std::get_if<Diagnostics>(&loaded)) {
    print(*diags);
    return std::nullopt;
  }
  return std::get<Setup>(std::move(loaded));
}

Result<std::size_t> load_bundled_dataset(Store& store, const Catalog& catalog, const Clock& clock) {
  auto loaded = store.meta().get(kBundledKey);
  if (!loaded) return loaded.error();
  if (loaded.value()) return std::size_t{0};

  auto batch = parse_submissions(catalog, bundled_dataset_json(), ValidationLimits{.max_batch = 100000});
  if (!batch) {
    Error e = batch.error();
    e.message = "the bundled dataset does not fit the catalog: " + e.message +
                (e.index ? fmt::format(" (entry {})", *e.index) : "");
    return e;
  }
  Transaction tx(store.connection());
  if (!tx.began()) return tx.began().error();
  auto stored = store.revisions().insert(batch.value(), "bundled-dataset", format_rfc3339(clock.now()));
  if (stored) {
    if (auto s = store.meta().set(kBundledKey, bundled_dataset_version()); !s) stored = s.error();
  }
  if (!stored) return stored.error();  // rolled back
  if (auto s = tx.commit(); !s) return s.error();
  return stored->size();
}

int run_import(const CommonOptions& options, const std::string& file, const std::string& submitted_by) {
  auto setup = load_setup_or_print(options);
  if (!setup) return 2;
  init_logging(setup->settings.log_level);

  std::ifstream in(file, std::ios::binary);
  if (!in) {
    fmt::print(stderr, "{}: cannot open file\n", file);
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string content = text.str();

  auto batch = read_import(*setup->catalog, content, guess_format(file, content), file, setup->settings.limits);
  if (!batch) {
    fmt::print(stderr, "{}\nnothing was imported\n", batch.error().message);
    return 1;
  }
  auto store =
      Store::open({setup->settings.database_path(), setup->settings.synchronous, setup->settings.busy_timeout_ms});
  if (!store) {
    fmt::print(stderr, "{}\n", store.error().message);
    return 2;
  }
  SystemClock clock;
  auto stored = store.value()->revisions().append(batch.value(), submitted_by.empty() ? "import:" + file : submitted_by,
                                                  format_rfc3339(clock.now()));
  if (!stored) {
    fmt::print(stderr, "{}\nnothing was imported\n", stored.error().message);
    return 1;
  }
  fmt::print("imported {} submission(s) from {} into {}\n", stored->size(), file, setup->settings.database_path());
  fmt::print(
      "a kpiwatch serve on this database evaluates the rules on them within {} ms; otherwise at its next start\n",
      setup->settings.external_check_interval.count());
  return 0;
}

int run_check(const CommonOptions& options, const std::vector<std::string>& rule_paths) {
  auto setup = load_setup_or_print(options, rule_paths);
  if (!setup) return 1;
  auto dataset = parse_submissions(*setup->catalog, bundled_dataset_json(), ValidationLimits{.max_batch = 100000});
  if (!dataset) {
    fmt::print(stderr, "bundled dataset: {}\n", dataset.error().message);
    return 1;
  }
  fmt::print("OK: config {}, catalog with {} goals and {} KPIs, {} rules, {} token(s)\n", setup->settings.source,
             setup->catalog->goals().size(), setup->catalog->kpis().size(), setup->rules->size(),
             setup->settings.tokens.size());
  return 0;
}

int run_rule_tests(const std::vector<std::string>& files) {
  auto report = kpiwatch::run_rule_tests(files, Catalog::embedded());
  fmt::print("{}", report.output);
  fmt::print("\n{} passed, {} failed\n", report.passed, report.failed);
  return report.failed == 0 ? 0 : 1;
}

namespace {

void print_alerts(const std::vector<Evaluation>& evaluations) {
  for (const auto& e : evaluations)
    for (const auto& a : e.active) {
      std::string dims;
      for (const auto& [k, v] : a.labels)
        if (k != "rule" && k != "kpi" && k != "goal" && k != "severity" && k != "area")
          dims += fmt::format("{}{}={}", dims.empty() ? "" : ",", k, v);
      fmt::print("  {:<8} {:<8} {:<40} {:<24} {}\n", to_string(a.state), to_string(a.severity), a.rule_id,
                 dims.empty() ? "-" : dims, a.summary_en);
    }
}

boost::json::array alerts_json(const std::vector<Evaluation>& evaluations) {
  boost::json::array out;
  for (const auto& e : evaluations)
    for (const auto& a : e.active) {
      boost::json::object labels;
      for (const auto& [k, v] : a.labels) labels[k] = v;
      boost::json::value value;
      if (a.value) value = *a.value;
      out.push_back(boost::json::object{{"fingerprint", a.fingerprint},
                                        {"rule", a.rule_id},
                                        {"kpi", a.kpi},
                                        {"state", to_string(a.state)},
                                        {"severity", to_string(a.severity)},
                                        {"period", a.period.str()},
                                        {"value", std::move(value)},
                                        {"labels", std::move(labels)},
                                        {"summary_ja", a.summary_ja},
                                        {"summary_en", a.summary_en}});
    }
  return out;
}

std::size_t count_active(const std::vector<Evaluation>& evaluations) {
  std::size_t n = 0;
  for (const auto& e : evaluations) n += e.active.size();
  return n;
}

}  // namespace

int run_eval(const CommonOptions& options, const std::vector<std::string>& rule_paths, const std::string& input,
             const std::string& at, const std::string& format) {
  if (format != "text" && format != "json") {
    fmt::print(stderr, "--format must be text or json, not \"{}\"\n", format);
    return 2;
  }
  auto setup = load_setup_or_print(options, rule_paths);
  if (!setup) return 2;
  auto now = at.empty() ? std::optional<TimePoint>(std::chrono::system_clock::now()) : parse_day(at);
  if (!now) {
    fmt::print(stderr, "--at must be a date, YYYY-MM-DD, not \"{}\"\n", at);
    return 2;
  }
  SeriesIndex index;
  if (!input.empty()) {
    std::ifstream in(input, std::ios::binary);
    if (!in) {
      fmt::print(stderr, "{}: cannot open file\n", input);
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string content = text.str();
    auto batch = read_import(*setup->catalog, content, guess_format(input, content), input, setup->settings.limits);
    if (!batch) {
      fmt::print(stderr, "{}\n", batch.error().message);
      return 1;
    }
    for (const auto& s : batch.value()) index.upsert(s.kpi, s.dims, Point{s.period, s.value, s.items});
  } else {
    std::error_code ec;
    if (!std::filesystem::exists(setup->settings.database_path(), ec)) {
      fmt::print(stderr, "no database at {}; give --config, --state-dir or --input FILE\n",
                 setup->settings.database_path());
      return 2;
    }
    auto store =
        Store::open({setup->settings.database_path(), setup->settings.synchronous, setup->settings.busy_timeout_ms});
    if (!store) {
      fmt::print(stderr, "{}\n", store.error().message);
      return 2;
    }
    auto read = store.value()->revisions().for_each_current(
        [&](const std::string& kpi, const Dims& dims, Point p) { index.upsert(kpi, dims, std::move(p)); });
    if (!read) {
      fmt::print(stderr, "{}\n", read.error().message);
      return 2;
    }
  }

  // Every period that holds a figure, in time order (fiscal years after calendar years of the same number).
  std::set<std::tuple<int, int, int>> periods;
  std::map<std::tuple<int, int, int>, Period> by_key;
  for (const Series* s : index.all())
    for (const auto& p : s->points) {
      auto key = std::make_tuple(p.period.year, p.period.sub, static_cast<int>(p.period.kind));
      periods.insert(key);
      by_key[key] = p.period;
    }
  bool json = format == "json";
  boost::json::array by_period;
  if (!json) fmt::print("{} rules over {} series\n", setup->rules->size(), index.size());
  for (const auto& key : periods) {
    const Period& p = by_key[key];
    auto evaluations = setup->rules->evaluate_at(index, p);
    if (json) {
      by_period.push_back(boost::json::object{{"period", p.str()}, {"alerts", alerts_json(evaluations)}});
      continue;
    }
    std::size_t active = count_active(evaluations);
    fmt::print("\n{} ({} alert{})\n", p.str(), active, active == 1 ? "" : "s");
    print_alerts(evaluations);
  }
  auto deadlines = setup->rules->evaluate_deadlines(index, *now);
  std::string as_of = format_rfc3339(*now).substr(0, 10);
  if (json) {
    fmt::print("{}\n",
               serialize_json(boost::json::object{
                   {"rules", setup->rules->size()},
                   {"series", index.size()},
                   {"periods", std::move(by_period)},
                   {"missing_data", boost::json::object{{"as_of", as_of}, {"alerts", alerts_json(deadlines)}}}}));
    return 0;
  }
  std::size_t missing = count_active(deadlines);
  fmt::print("\nmissing data as of {} ({} alert{})\n", as_of, missing, missing == 1 ? "" : "s");
  print_alerts(deadlines);
  return 0;
}

namespace {

std::unique_ptr<Store> open_existing_store(const Settings& settings) {
  std::error_code ec;
  if (!std::filesystem::exists(settings.database_path(), ec)) {
    fmt::print(stderr, "no database at {}; give --config or --state-dir\n", settings.database_path());
    return nullptr;
  }
  auto store = Store::open({settings.database_path(), settings.synchronous, settings.busy_timeout_ms});
  if (!store) {
    fmt::print(stderr, "{}\n", store.error().message);
    return nullptr;
  }
  return std::move(store.value());
}

}  // namespace

int run_outbox_list(const CommonOptions& options, const std::string& state) {
  std::optional<OutboxStatus> status;
  if (OutboxStatus parsed{}; parse_outbox_status(state, parsed)) {
    status = parsed;
  } else if (!state.empty()) {
    fmt::print(stderr, "--state must be pending, delivered, dead or suppressed\n");
    return 2;
  }
  auto setup = load_setup_or_print(options);
  if (!setup) return 2;
  auto store = open_existing_store(setup->settings);
  if (!store) return 2;
  auto entries = store->outbox().list(status, 1000);
  if (!entries) {
    fmt::print(stderr, "{}\n", entries.error().message);
    return 1;
  }
  fmt::print("{:>6}  {:<10} {:<9} {:<16} {:<16} {:>8}  {:<24} {}\n", "ID", "STATE", "EVENT", "RECEIVER", "FINGERPRINT",
             "ATTEMPTS", "CREATED", "LAST ERROR");
  for (const auto& e : entries.value())
    fmt::print("{:>6}  {:<10} {:<9} {:<16} {:<16} {:>8}  {:<24} {}\n", e.id, to_string(e.status), to_string(e.event),
               e.receiver, e.fingerprint, e.attempts, e.created_at, e.last_error);
  return 0;
}

int run_outbox_requeue(const CommonOptions& options, const std::vector<long long>& ids, bool all) {
  if (ids.empty() == !all) {
    fmt::print(stderr, "give notification ids or --all-dead\n");
    return 2;
  }
  auto setup = load_setup_or_print(options);
  if (!setup) return 2;
  auto store = open_existing_store(setup->settings);
  if (!store) return 2;
  std::string now = format_rfc3339(std::chrono::system_clock::now());
  int total = 0;
  for (long long id : all ? std::vector<long long>{0} : ids) {
    auto n = id ? store->outbox().requeue(id, now) : store->outbox().requeue_all(now);
    if (!n) {
      fmt::print(stderr, "{}\n", n.error().message);
      return 1;
    }
    if (n.value() == 0 && id) fmt::print(stderr, "notification {} is not a dead letter\n", id);
    total += n.value();
  }
  fmt::print("requeued {} notification(s); the running daemon sends them within seconds\n", total);
  return total > 0 || all ? 0 : 1;
}

int run_token_create(const std::string& name, const std::vector<std::string>& bodies,
                     const std::vector<std::string>& kpis, bool admin) {
  if (!admin && bodies.empty() && kpis.empty()) {
    fmt::print(stderr, "a token needs a scope: --body, --kpi or --admin\n");
    return 2;
  }
  std::string token = generate_token();
  auto quoted = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "\"" : ", \"") + s + "\"";
    return out;
  };
  fmt::print(stderr, "Give this token to its holder; it is not stored anywhere and cannot be shown again:\n");
  fmt::print("{}\n", token);
  fmt::print(stderr, "\nAdd the [[tokens]] block below to the configuration file, then restart kpiwatch.\n");
  fmt::print("\n[[tokens]]\nname = \"{}\"\nsha256 = \"{}\"\nbodies = [{}]\nkpis = [{}]\nadmin = {}\n", name,
             sha256_hex(token), quoted(bodies), quoted(kpis), admin);
  return 0;
}

}  // namespace kpiwatch
