#pragma once
// Start-up steps and helpers shared by the commands (setup.cpp); each command
// is a file of its own beside this one.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/clock.hpp"
#include "kpiwatch/commands.hpp"
#include "kpiwatch/report.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/settings.hpp"
#include "kpiwatch/store.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {

struct Setup {
  Settings settings;
  std::shared_ptr<const Catalog> catalog;
  std::shared_ptr<const RuleSet> rules;
  // [report] templates against this catalog, else the shipped ones (none fit a catalog without their KPIs).
  std::shared_ptr<const views::ReportTemplates> report_templates;
};

// Reads the config (or the embedded default), applies command-line overrides,
// loads the catalog and checks token scopes. Check and reload share this path.
// `rule_paths`, if not empty, replaces the config's rule paths.
Loaded<Setup> load_setup(const CommonOptions& options, const std::vector<std::string>& rule_paths = {});
// load_setup(), printing every error to stderr: as `file:line:col: message`, or, given `lang`
// (check, test, eval), with its code and in that language (kpiwatch/messages.hpp).
std::optional<Setup> load_setup_or_print(const CommonOptions& options, const std::vector<std::string>& rule_paths = {},
                                         std::optional<Lang> lang = std::nullopt);

// spdlog to stderr at `level`.
void init_logging(const std::string& level);

// Loads the bundled dataset unless it was loaded before, in one transaction.
// Returns the number of revisions written (0 if already loaded).
Result<std::size_t> load_bundled_dataset(Store& store, const Catalog& catalog, const Clock& clock);

// The whole of a file the user named, or null after printing why not.
std::optional<std::string> read_input_file(const std::string& path);
// The settings' database if it exists, or null after printing why not and
// which options would name one (`hint`, e.g. "--config or --state-dir").
std::unique_ptr<Store> open_existing_store(const Settings& settings, std::string_view hint);

}  // namespace kpiwatch
