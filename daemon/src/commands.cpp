#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "kpiwatch/auth.hpp"
#include "kpiwatch/commands.hpp"
#include "kpiwatch/dataset.hpp"
#include "kpiwatch/importer.hpp"
#include "setup.hpp"

namespace kpiwatch {
namespace {

constexpr const char* kBundledKey = "bundled_dataset";

void print(const Diagnostics& diags) {
  for (const auto& d : diags) fmt::print(stderr, "{}\n", d.str());
}

}  // namespace

void init_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("kpiwatch");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

Loaded<Setup> load_setup(const CommonOptions& options) {
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
  if (!options.log_level.empty()) s.log_level = options.log_level;
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
  return setup;
}

std::optional<Setup> load_setup_or_print(const CommonOptions& options) {
  auto loaded = load_setup(options);
  if (auto* diags = std::get_if<Diagnostics>(&loaded)) {
    print(*diags);
    return std::nullopt;
  }
  return std::get<Setup>(std::move(loaded));
}

Result<std::size_t> load_bundled_dataset(Store& store, const Catalog& catalog, const Clock& clock) {
  auto loaded = store.meta(kBundledKey);
  if (!loaded) return loaded.error();
  if (loaded.value()) return std::size_t{0};

  auto batch = parse_submissions(catalog, bundled_dataset_json(), ValidationLimits{.max_batch = 100000});
  if (!batch) {
    Error e = batch.error();
    e.message = "the bundled dataset does not fit the catalog: " + e.message +
                (e.index ? fmt::format(" (entry {})", *e.index) : "");
    return e;
  }
  if (auto s = store.begin(); !s) return s.error();
  auto stored = store.insert(batch.value(), "bundled-dataset", format_rfc3339(clock.now()));
  if (stored) {
    if (auto s = store.set_meta(kBundledKey, bundled_dataset_version()); !s) stored = s.error();
  }
  if (!stored) {
    store.rollback();
    return stored.error();
  }
  if (auto s = store.commit(); !s) return s.error();
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
  auto store = Store::open({setup->settings.database_path(), setup->settings.synchronous,
                            setup->settings.busy_timeout_ms});
  if (!store) {
    fmt::print(stderr, "{}\n", store.error().message);
    return 2;
  }
  SystemClock clock;
  auto stored = store.value()->append(batch.value(), submitted_by.empty() ? "import:" + file : submitted_by,
                                      format_rfc3339(clock.now()));
  if (!stored) {
    fmt::print(stderr, "{}\nnothing was imported\n", stored.error().message);
    return 1;
  }
  fmt::print("imported {} submission(s) from {} into {}\n", stored->size(), file, setup->settings.database_path());
  return 0;
}

int run_check(const CommonOptions& options) {
  auto setup = load_setup_or_print(options);
  if (!setup) return 1;
  auto dataset = parse_submissions(*setup->catalog, bundled_dataset_json(), ValidationLimits{.max_batch = 100000});
  if (!dataset) {
    fmt::print(stderr, "bundled dataset: {}\n", dataset.error().message);
    return 1;
  }
  fmt::print("OK: config {}, catalog with {} goals and {} KPIs, {} token(s)\n", setup->settings.source,
             setup->catalog->goals().size(), setup->catalog->kpis().size(), setup->settings.tokens.size());
  return 0;
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
