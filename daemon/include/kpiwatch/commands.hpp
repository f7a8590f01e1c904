#pragma once
// The kpiwatch commands. Each returns the process exit code.

#include <string>
#include <vector>

namespace kpiwatch {

struct CommonOptions {
  std::string config_path;  // empty: the embedded default
  std::string state_directory;
  std::string listen;  // HOST:PORT
  std::string log_level;
};

// Runs the daemon until SIGTERM or SIGINT.
int run_serve(const CommonOptions& options);
// Imports a CSV or JSON file, all or nothing.
int run_import(const CommonOptions& options, const std::string& file, const std::string& submitted_by);
// Validates config and catalog; prints OK or every error.
int run_check(const CommonOptions& options);
// Prints a new token and the config block holding its hash.
int run_token_create(const std::string& name, const std::vector<std::string>& bodies,
                     const std::vector<std::string>& kpis, bool admin);

}  // namespace kpiwatch
