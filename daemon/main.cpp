// kpiwatch: follow up the KPIs of a policy plan.
#include <CLI/CLI.hpp>

#include "kpiwatch/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"kpiwatch: stores KPI submissions, evaluates follow-up rules, raises alerts"};
  app.require_subcommand(1);
  kpiwatch::CommonOptions common;
  // A flag that falls back to a KPIWATCH_* variable (for the unit's drop-ins). CLI11 reads the
  // environment for every subcommand, parsed or not, so only the parsed one may store the value.
  auto env_option = [](CLI::App* cmd, const char* name, std::string& target, const char* env, const char* help) {
    return cmd
        ->add_option_function<std::string>(
            name,
            [cmd, &target](const std::string& value) {
              if (cmd->parsed()) target = value;
            },
            help)
        ->envname(env);
  };
  auto add_common = [&](CLI::App* cmd) {
    env_option(cmd, "--config", common.config_path, "KPIWATCH_CONFIG",
               "configuration file (default: the embedded default)");
    env_option(cmd, "--state-dir", common.state_directory, "KPIWATCH_STATE_DIRECTORY",
               "state directory (overrides the config)");
    env_option(cmd, "--database", common.database, "KPIWATCH_DATABASE",
               "database file, absolute or relative to the state directory (overrides the config)");
    env_option(cmd, "--log-level", common.log_level, "KPIWATCH_LOG_LEVEL",
               "trace, debug, info, warn, error, critical, off");
  };

  auto* serve = app.add_subcommand("serve", "run the daemon");
  add_common(serve);
  env_option(serve, "--listen", common.listen, "KPIWATCH_LISTEN", "HOST:PORT to listen on (overrides the config)");

  auto* import = app.add_subcommand("import", "import a CSV or JSON file of submissions, all or nothing");
  add_common(import);
  std::string import_file, submitted_by;
  import->add_option("FILE", import_file, "CSV or JSON file (UTF-8, BOM allowed)")->required();
  import->add_option("--as", submitted_by, "who the revisions are recorded as submitted by (default: import:FILE)");

  auto* check = app.add_subcommand("check", "validate the configuration, the KPI catalog and the rules");
  add_common(check);
  std::vector<std::string> check_rules;
  check->add_option("RULE_FILES_OR_DIRS", check_rules, "rule files or directories (default: those of the config)");

  auto* test = app.add_subcommand("test", "run rule unit tests written in TOML (docs/RULES.md)");
  std::vector<std::string> test_files;
  test->add_option("FILES", test_files, "rule test files")->required();

  auto* eval = app.add_subcommand("eval", "print, period by period, the alerts the rules raise on the history");
  eval->alias("backtest");
  add_common(eval);
  std::string eval_input, eval_at, eval_format = "text";
  std::vector<std::string> eval_rules;
  eval->add_option("--input", eval_input, "a CSV or JSON file of submissions instead of the database");
  eval->add_option("--at", eval_at, "the date for missing-data rules, YYYY-MM-DD (default: today)");
  eval->add_option("--rules", eval_rules, "rule files or directories (default: those of the config)");
  eval->add_option("--format", eval_format, "text (a table per period) or json")
      ->check(CLI::IsMember({"text", "json"}));

  auto* backup = app.add_subcommand("backup", "copy the live database consistently (SQLite online backup) to FILE");
  add_common(backup);
  std::string backup_file;
  backup->add_option("FILE", backup_file, "where to write the copy (FILE.tmp first, then renamed)")->required();

  auto* outbox = app.add_subcommand("outbox", "list notifications and requeue dead letters");
  outbox->require_subcommand(1);
  auto* outbox_list = outbox->add_subcommand("list", "list notifications, newest first");
  add_common(outbox_list);
  std::string outbox_state;
  outbox_list->add_option("--state", outbox_state, "pending, delivered, dead or suppressed");
  auto* outbox_requeue = outbox->add_subcommand("requeue", "send dead letters again");
  add_common(outbox_requeue);
  std::vector<long long> requeue_ids;
  bool requeue_all = false;
  outbox_requeue->add_option("ID", requeue_ids, "notification ids (see outbox list)");
  outbox_requeue->add_flag("--all-dead", requeue_all, "every dead letter");

  auto* token = app.add_subcommand("token", "manage bearer tokens");
  token->require_subcommand(1);
  auto* create = token->add_subcommand("create", "print a new token and the config block with its hash");
  std::string token_name;
  std::vector<std::string> bodies, kpis;
  bool admin = false;
  create->add_option("--name", token_name, "a name for the token, e.g. amed-uploader")->required();
  create->add_option("--body", bodies, "reporting body whose KPIs it may submit (repeatable)");
  create->add_option("--kpi", kpis, "single KPI it may submit (repeatable)");
  create->add_flag("--admin", admin, "may submit every KPI and administer");

  app.add_subcommand("version", "print the version")->callback([] { std::puts("kpiwatch " KPIWATCH_VERSION); });

  CLI11_PARSE(app, argc, argv);
  if (serve->parsed()) return kpiwatch::run_serve(common);
  if (import->parsed()) return kpiwatch::run_import(common, import_file, submitted_by);
  if (check->parsed()) return kpiwatch::run_check(common, check_rules);
  if (test->parsed()) return kpiwatch::run_rule_tests(test_files);
  if (eval->parsed()) return kpiwatch::run_eval(common, eval_rules, eval_input, eval_at, eval_format);
  if (backup->parsed()) return kpiwatch::run_backup(common, backup_file);
  if (outbox_list->parsed()) return kpiwatch::run_outbox_list(common, outbox_state);
  if (outbox_requeue->parsed()) return kpiwatch::run_outbox_requeue(common, requeue_ids, requeue_all);
  if (create->parsed()) return kpiwatch::run_token_create(token_name, bodies, kpis, admin);
  return 0;
}
