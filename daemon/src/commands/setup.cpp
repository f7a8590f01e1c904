// Start-up steps shared by the commands (setup.hpp).
#include "commands/setup.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kpiwatch/auth.hpp"
#include "kpiwatch/dataset.hpp"
#include "kpiwatch/log.hpp"
#include "kpiwatch/messages.hpp"

namespace kpiwatch {
namespace {

constexpr const char* kBundledKey = "bundled_dataset";

// As the config has it, or with codes (and in Japanese) for the commands that take --lang.
void print(const Diagnostics& diags, std::optional<Lang> lang) {
  for (const auto& d : diags) fmt::print(stderr, "{}\n", lang ? render(d, *lang) : d.str());
}

// The command line's --log-level and --listen, checked as the config file's are.
std::optional<Diagnostics> apply_overrides(const CommonOptions& options, Settings& s) {
  if (!options.state_directory.empty()) s.state_directory = options.state_directory;
  if (!options.database.empty()) s.database = options.database;
  if (!options.log_level.empty()) {
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
  return std::nullopt;
}

// The rules of `paths` (the embedded ones if empty), whose receivers must be configured.
Loaded<std::shared_ptr<const RuleSet>> load_rules(const Settings& s, const std::vector<std::string>& paths,
                                                  const std::shared_ptr<const Catalog>& catalog) {
  std::vector<RuleSource> sources;
  if (paths.empty()) {
    sources = RuleSet::embedded_sources();
  } else {
    auto read = RuleSet::read_sources(paths);
    if (!read) return Diagnostics{{"", 0, 0, read.error().message}};
    sources = std::move(read.value());
  }
  auto rules = RuleSet::load(sources, catalog);
  if (auto* diags = std::get_if<Diagnostics>(&rules)) return *diags;
  std::shared_ptr<const RuleSet> loaded = std::get<0>(rules);
  Diagnostics unknown;
  // At the name in the rule file: the rule is what to fix, or the config's [[receivers]] (it names them).
  for (const auto& ref : loaded->receiver_references())
    if (!s.receiver(ref.receiver))
      unknown.push_back({ref.file, ref.line, ref.column,
                         fmt::format("rule \"{}\" names unknown receiver \"{}\" (the receivers are configured in {})",
                                     ref.rule, ref.receiver, s.source.empty() ? "the config file" : s.source)});
  if (!unknown.empty()) return unknown;
  return loaded;
}

// The shipped templates name the bundled catalog's KPIs: with another catalog
// they are read against it, and left out if they do not fit.
Loaded<std::shared_ptr<const views::ReportTemplates>> load_report_templates(const Settings& s, const Catalog& catalog) {
  using Templates = std::shared_ptr<const views::ReportTemplates>;
  if (!s.report_templates_path.empty()) {
    auto loaded = views::ReportTemplates::load_file(s.report_templates_path, catalog);
    if (auto* diags = std::get_if<Diagnostics>(&loaded)) return *diags;
    return Templates(std::make_shared<views::ReportTemplates>(std::get<0>(std::move(loaded))));
  }
  if (&catalog == Catalog::embedded().get())
    return Templates(std::shared_ptr<void>(), &views::ReportTemplates::embedded());
  auto shipped =
      views::ReportTemplates::parse(views::ReportTemplates::shipped_toml(), "config/report/headlines.toml", catalog);
  if (auto* ok = std::get_if<views::ReportTemplates>(&shipped))
    return Templates(std::make_shared<views::ReportTemplates>(std::move(*ok)));
  spdlog::info("the shipped report headlines name KPIs that {} does not have; set [report] templates to write them",
               s.catalog_path);
  return Templates(std::make_shared<views::ReportTemplates>());
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
  if (auto diags = apply_overrides(options, s)) return *diags;

  if (s.catalog_path.empty()) {
    setup.catalog = Catalog::embedded();
  } else {
    auto loaded = Catalog::load_file(s.catalog_path);
    if (auto* diags = std::get_if<Diagnostics>(&loaded)) return *diags;
    setup.catalog = std::get<0>(loaded);
  }
  if (auto diags = check_token_scopes(s, *setup.catalog); !diags.empty()) return diags;

  auto rules = load_rules(s, rule_paths.empty() ? s.rule_paths : rule_paths, setup.catalog);
  if (auto* diags = std::get_if<Diagnostics>(&rules)) return *diags;
  setup.rules = std::get<0>(std::move(rules));

  auto templates = load_report_templates(s, *setup.catalog);
  if (auto* diags = std::get_if<Diagnostics>(&templates)) return *diags;
  setup.report_templates = std::get<0>(std::move(templates));
  return setup;
}

std::optional<Setup> load_setup_or_print(const CommonOptions& options, const std::vector<std::string>& rule_paths,
                                         std::optional<Lang> lang) {
  auto loaded = load_setup(options, rule_paths);
  if (auto* diags = std::get_if<Diagnostics>(&loaded)) {
    print(*diags, lang);
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

std::optional<std::string> read_input_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fmt::print(stderr, "{}: cannot open file\n", path);
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::unique_ptr<Store> open_existing_store(const Settings& settings, std::string_view hint) {
  std::error_code ec;
  if (!std::filesystem::exists(settings.database_path(), ec)) {
    fmt::print(stderr, "no database at {}; give {}\n", settings.database_path(), hint);
    return nullptr;
  }
  auto store = Store::open({settings.database_path(), settings.synchronous, settings.busy_timeout_ms});
  if (!store) {
    fmt::print(stderr, "{}\n", store.error().message);
    return nullptr;
  }
  return std::move(store.value());
}

}  // namespace kpiwatch
