// kpiwatch: follow up the KPIs of a policy plan.
#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kpiwatch/commands.hpp"

namespace {

using kpiwatch::CommonOptions;
// Each parsed subcommand, and what it runs.
using Commands = std::map<const CLI::App*, std::function<int()>>;

// A flag that falls back to a KPIWATCH_* variable (for the unit's drop-ins). CLI11 reads the
// environment for every subcommand, parsed or not, so only the parsed one may store the value.
void env_option(CLI::App* cmd, const char* name, std::string& target, const char* env, const char* help) {
  cmd->add_option_function<std::string>(
         name,
         [cmd, &target](const std::string& value) {
           if (cmd->parsed()) target = value;
         },
         help)
      ->envname(env);
}

void add_common(CLI::App* cmd, CommonOptions& common) {
  env_option(cmd, "--config", common.config_path, "KPIWATCH_CONFIG",
             "configuration file (default: the embedded default)");
  env_option(cmd, "--state-dir", common.state_directory, "KPIWATCH_STATE_DIRECTORY",
             "state directory (overrides the config)");
  env_option(cmd, "--database", common.database, "KPIWATCH_DATABASE",
             "database file, absolute or relative to the state directory (overrides the config)");
  env_option(cmd, "--log-level", common.log_level, "KPIWATCH_LOG_LEVEL",
             "trace, debug, info, warn, error, critical, off");
}

void add_serve(CLI::App& app, CommonOptions& common, Commands& commands) {
  auto* serve = app.add_subcommand("serve", "run the daemon");
  add_common(serve, common);
  env_option(serve, "--listen", common.listen, "KPIWATCH_LISTEN", "HOST:PORT to listen on (overrides the config)");
  commands.emplace(serve, [&common] { return kpiwatch::run_serve(common); });
}

void add_import(CLI::App& app, CommonOptions& common, Commands& commands) {
  auto* import = app.add_subcommand("import", "import a CSV or JSON file of submissions, all or nothing");
  add_common(import, common);
  auto file = std::make_shared<std::string>();
  auto submitted_by = std::make_shared<std::string>();
  auto encoding = std::make_shared<std::string>();
  import->add_option("FILE", *file, "CSV or JSON file (UTF-8 with or without BOM, UTF-16 with BOM, or CP932)")
      ->required();
  import->add_option("--as", *submitted_by, "who the revisions are recorded as submitted by (default: import:FILE)");
  import->add_option("--encoding", *encoding, "utf-8, utf-16, cp932 (or shift_jis); default: detected");
  commands.emplace(import, [&common, file, submitted_by, encoding] {
    return kpiwatch::run_import(common, *file, *submitted_by, *encoding);
  });
}

constexpr const char* kLangHelp =
    "ja or en: the messages and their hints; default: LC_ALL, LC_MESSAGES or LANG (ja_JP.UTF-8: ja), else en";

void add_check_and_test(CLI::App& app, CommonOptions& common, Commands& commands) {
  auto* check = app.add_subcommand("check", "validate the configuration, the KPI catalog and the rules");
  add_common(check, common);
  auto rules = std::make_shared<std::vector<std::string>>();
  auto check_lang = std::make_shared<std::string>();
  check->add_option("RULE_FILES_OR_DIRS", *rules, "rule files or directories (default: those of the config)");
  check->add_option("--lang", *check_lang, kLangHelp);
  commands.emplace(check, [&common, rules, check_lang] { return kpiwatch::run_check(common, *rules, *check_lang); });

  auto* test = app.add_subcommand("test", "run rule unit tests written in TOML (docs/RULES.md)");
  auto files = std::make_shared<std::vector<std::string>>();
  auto require_texts = std::make_shared<bool>(false);
  auto test_lang = std::make_shared<std::string>();
  test->add_option("FILES", *files, "rule test files")->required();
  test->add_option("--lang", *test_lang, kLangHelp);
  test->add_flag("--require-texts", *require_texts,
                 "fail if a rule fires but none of its expected alerts asserts its four texts (for CI)");
  commands.emplace(
      test, [files, require_texts, test_lang] { return kpiwatch::run_rule_tests(*files, *require_texts, *test_lang); });
}

void add_eval(CLI::App& app, CommonOptions& common, Commands& commands) {
  auto* eval = app.add_subcommand("eval", "print, period by period, the alerts the rules raise on the history");
  eval->alias("backtest");
  add_common(eval, common);
  struct Args {
    std::string input, at, format = "text", lang;
    std::vector<std::string> rules;
  };
  auto args = std::make_shared<Args>();
  eval->add_option("--input", args->input, "a CSV or JSON file of submissions instead of the database");
  eval->add_option("--at", args->at, "the date for missing-data rules, YYYY-MM-DD (default: today)");
  eval->add_option("--rules", args->rules, "rule files or directories (default: those of the config)");
  eval->add_option("--format", args->format, "text (a table per period) or json")
      ->check(CLI::IsMember({"text", "json"}));
  eval->add_option("--lang", args->lang,
                   "ja or en: the messages, and the alert texts of the text format; "
                   "default: LC_ALL, LC_MESSAGES or LANG (ja_JP.UTF-8: ja), else en");
  commands.emplace(eval, [&common, args] {
    return kpiwatch::run_eval(common, args->rules, args->input, args->at, args->format, args->lang);
  });
}

void add_report(CLI::App& app, CommonOptions& common, Commands& commands) {
  auto* report = app.add_subcommand("report", "write the follow-up report of a year as HTML or PDF");
  add_common(report, common);
  struct Args {
    std::string year, lang = "ja", format = "html", out;
  };
  auto args = std::make_shared<Args>();
  report->add_option("--year", args->year, "the report's year (default: the newest year with figures)");
  report->add_option("--lang", args->lang, "ja (default) or en");
  report->add_option("--format", args->format, "html (default) or pdf (printed by headless Chromium)");
  report->add_option("--out", args->out, "the file to write (default: stdout for html, report-YEAR-LANG.pdf for pdf)");
  commands.emplace(report, [&common, args] {
    return kpiwatch::run_report(common, args->year, args->lang, args->format, args->out);
  });
}

void add_backup(CLI::App& app, CommonOptions& common, Commands& commands) {
  auto* backup = app.add_subcommand("backup", "copy the live database consistently (SQLite online backup) to FILE");
  add_common(backup, common);
  auto file = std::make_shared<std::string>();
  backup->add_option("FILE", *file, "where to write the copy (FILE.tmp first, then renamed)")->required();
  commands.emplace(backup, [&common, file] { return kpiwatch::run_backup(common, *file); });
}

void add_outbox(CLI::App& app, CommonOptions& common, Commands& commands) {
  auto* outbox = app.add_subcommand("outbox", "list notifications and requeue dead letters");
  outbox->require_subcommand(1);
  auto* list = outbox->add_subcommand("list", "list notifications, newest first");
  add_common(list, common);
  auto state = std::make_shared<std::string>();
  list->add_option("--state", *state, "pending, delivered, dead or suppressed");
  commands.emplace(list, [&common, state] { return kpiwatch::run_outbox_list(common, *state); });

  auto* requeue = outbox->add_subcommand("requeue", "send dead letters again");
  add_common(requeue, common);
  auto ids = std::make_shared<std::vector<long long>>();
  auto all = std::make_shared<bool>(false);
  requeue->add_option("ID", *ids, "notification ids (see outbox list)");
  requeue->add_flag("--all-dead", *all, "every dead letter");
  commands.emplace(requeue, [&common, ids, all] { return kpiwatch::run_outbox_requeue(common, *ids, *all); });
}

void add_token(CLI::App& app, Commands& commands) {
  auto* token = app.add_subcommand("token", "manage bearer tokens");
  token->require_subcommand(1);
  auto* create = token->add_subcommand("create", "print a new token and the config block with its hash");
  struct Args {
    std::string name;
    std::vector<std::string> bodies, kpis;
    bool admin = false;
    bool read = false;
  };
  auto args = std::make_shared<Args>();
  create->add_option("--name", args->name, "a name for the token, e.g. amed-uploader")->required();
  create->add_option("--body", args->bodies, "reporting body whose KPIs it may submit (repeatable)");
  create->add_option("--kpi", args->kpis, "single KPI it may submit (repeatable)");
  create->add_flag("--admin", args->admin, "may submit every KPI and administer");
  create->add_flag("--read", args->read, "may read the API when [api] read_token = true (scopes = [\"read\"])");
  commands.emplace(create, [args] {
    return kpiwatch::run_token_create(args->name, args->bodies, args->kpis, args->admin, args->read);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kpiwatch: stores KPI submissions, evaluates follow-up rules, raises alerts"};
  app.require_subcommand(1);
  CommonOptions common;
  Commands commands;
  add_serve(app, common, commands);
  add_import(app, common, commands);
  add_check_and_test(app, common, commands);
  add_eval(app, common, commands);
  add_report(app, common, commands);
  add_backup(app, common, commands);
  add_outbox(app, common, commands);
  add_token(app, commands);
  app.add_subcommand("version", "print the version")->callback([] { std::puts("kpiwatch " KPIWATCH_VERSION); });

  CLI11_PARSE(app, argc, argv);
  for (const auto& [command, run] : commands)
    if (command->parsed()) return run();
  return 0;
}
