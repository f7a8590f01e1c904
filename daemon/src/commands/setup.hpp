#pragma once
// Start-up steps shared by the commands.

#include <memory>
#include <optional>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/clock.hpp"
#include "kpiwatch/commands.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/settings.hpp"
#include "kpiwatch/store.hpp"

namespace kpiwatch {

struct Setup {
  Settings settings;
  std::shared_ptr<const Catalog> catalog;
  std::shared_ptr<const RuleSet> rules;
};

// Reads the config (or the embedded default), applies command-line overrides,
// loads the catalog and checks token scopes. Check and reload share this path.
// `rule_paths`, if not empty, replaces the config's rule paths.
Loaded<Setup> load_setup(const CommonOptions& options, const std::vector<std::string>& rule_paths = {});
// load_setup(), printing every error to stderr.
std::optional<Setup> load_setup_or_print(const CommonOptions& options, const std::vector<std::string>& rule_paths = {});

// spdlog to stderr at `level`.
void init_logging(const std::string& level);

// Loads the bundled dataset unless it was loaded before, in one transaction.
// Returns the number of revisions written (0 if already loaded).
Result<std::size_t> load_bundled_dataset(Store& store, const Catalog& catalog, const Clock& clock);

}  // namespace kpiwatch
