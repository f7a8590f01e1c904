#pragma once
// The kpiwatch commands. Each returns the process exit code.

#include <string>
#include <vector>

namespace kpiwatch {

struct CommonOptions {
  std::string config_path;  // empty: the embedded default
  std::string state_directory;
  std::string database;  // absolute, or relative to the state directory
  std::string listen;    // HOST:PORT
  std::string log_level;
};

// Runs the daemon until SIGTERM or SIGINT.
int run_serve(const CommonOptions& options);
// Imports a CSV or JSON file, all or nothing; `encoding` as --encoding names it ("" or "auto": detected).
int run_import(const CommonOptions& options, const std::string& file, const std::string& submitted_by,
               const std::string& encoding = "");
// Validates config, catalog and rules; prints OK or every error with its code, in `lang`
// ("ja", "en", or "": from LC_ALL, LC_MESSAGES, LANG).
int run_check(const CommonOptions& options, const std::vector<std::string>& rule_paths, const std::string& lang = "");
// Runs rule unit tests; prints each file's result and "N passed, N failed". With
// `require_texts`, also fails if a rule fires in an expectation but none of its
// expected alerts asserts all four texts.
// `lang` as run_check's.
int run_rule_tests(const std::vector<std::string>& files, bool require_texts = false, const std::string& lang = "");
// Prints the alerts the rules raise in each period of the stored history (or
// of `input`), and the missing-data alerts as of `at` (YYYY-MM-DD, default today);
// `format` is "text" (a table, each alert's summary and description in `lang`,
// "ja" or "en"; "": from the environment, as run_check's) or "json" (one object, numbers as people
// write them, texts in both languages).
int run_eval(const CommonOptions& options, const std::vector<std::string>& rule_paths, const std::string& input,
             const std::string& at, const std::string& format, const std::string& lang = "");
// Writes the follow-up report of `year` (YYYY; empty: the newest year with figures) in `lang`
// ("ja" or "en") as `format` "html" (to `out`, or stdout) or "pdf" (to `out`, or report-YEAR-LANG.pdf).
int run_report(const CommonOptions& options, const std::string& year, const std::string& lang,
               const std::string& format, const std::string& out);
// Copies the live database to `file` (SQLite online backup; safe while the daemon runs).
int run_backup(const CommonOptions& options, const std::string& file);
// Lists notifications of the outbox (all, or of one state).
int run_outbox_list(const CommonOptions& options, const std::string& state);
// Requeues dead letters by id, or all of them.
int run_outbox_requeue(const CommonOptions& options, const std::vector<long long>& ids, bool all);
// Prints a new token and the config block holding its hash.
int run_token_create(const std::string& name, const std::vector<std::string>& bodies,
                     const std::vector<std::string>& kpis, bool admin, bool read = false);

}  // namespace kpiwatch
