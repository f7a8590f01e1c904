// kpiwatch: follow up the KPIs of a policy plan.
#include <CLI/CLI.hpp>

#include "kpiwatch/commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"kpiwatch: stores KPI submissions, evaluates follow-up rules, raises alerts"};
  app.require_subcommand(1);
  kpiwatch::CommonOptions common;
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("--config", common.config_path, "configuration file (default: the embedded default)");
    cmd->add_option("--state-dir", common.state_directory, "state directory (overrides the config)");
    cmd->add_option("--log-level", common.log_level, "trace, debug, info, warn, error, critical, off");
  };

  auto* serve = app.add_subcommand("serve", "run the daemon");
  add_common(serve);
  serve->add_option("--listen", common.listen, "HOST:PORT to listen on (overrides the config)");

  auto* import = app.add_subcommand("import", "import a CSV or JSON file of submissions, all or nothing");
  add_common(import);
  std::string import_file, submitted_by;
  import->add_option("FILE", import_file, "CSV or JSON file (UTF-8, BOM allowed)")->required();
  import->add_option("--as", submitted_by, "who the revisions are recorded as submitted by (default: import:FILE)");

  auto* check = app.add_subcommand("check", "validate the configuration and the KPI catalog");
  add_common(check);

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
  if (check->parsed()) return kpiwatch::run_check(common);
  if (create->parsed()) return kpiwatch::run_token_create(token_name, bodies, kpis, admin);
  return 0;
}
