// The daemon's configuration file and its embedded default.

#include "kpiwatch/settings.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

#include "kpiwatch/dataset.hpp"
#include "kpiwatch/digest.hpp"
#include "temp_dir.hpp"

namespace kpiwatch {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kHash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";  // sha256("abc")

// Sets or unsets an environment variable for one test, restoring it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

Settings parsed(std::string_view text, const std::string& base_dir = "/etc/kpiwatch") {
  auto loaded = parse_settings(text, "kpiwatch.toml", base_dir);
  if (auto* diags = std::get_if<Diagnostics>(&loaded)) {
    std::string all;
    for (const auto& d : *diags) all += d.str() + "\n";
    ADD_FAILURE() << all;
    return {};
  }
  return std::get<Settings>(loaded);
}

Diagnostics diagnostics_of(std::string_view text) {
  auto loaded = parse_settings(text, "kpiwatch.toml", "/etc/kpiwatch");
  if (auto* diags = std::get_if<Diagnostics>(&loaded)) return *diags;
  ADD_FAILURE() << "the configuration was accepted:\n" << text;
  return {};
}

// Expects one diagnostic, at line:column, whose message contains `message`.
void expect_single(std::string_view text, int line, int column, const std::string& message) {
  auto diags = diagnostics_of(text);
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].file, "kpiwatch.toml");
  EXPECT_EQ(diags[0].line, line) << diags[0].str();
  EXPECT_EQ(diags[0].column, column) << diags[0].str();
  EXPECT_THAT(diags[0].message, HasSubstr(message));
}

TEST(DefaultSettings, ListenOnLoopback8080WithFullDurabilityAndNoTokens) {
  ScopedEnv env("STATE_DIRECTORY", nullptr);
  Settings s = default_settings();
  EXPECT_EQ(s.listen_host, "127.0.0.1");
  EXPECT_EQ(s.listen_port, 8080);
  EXPECT_EQ(s.synchronous, "full");
  EXPECT_EQ(s.database, "kpiwatch.db");
  EXPECT_EQ(s.state_directory, "kpiwatch-state");
  EXPECT_EQ(s.database_path(), "kpiwatch-state/kpiwatch.db");
  EXPECT_TRUE(s.catalog_path.empty());
  EXPECT_TRUE(s.load_bundled_dataset);
  EXPECT_TRUE(s.tokens.empty());
  EXPECT_GT(s.busy_timeout_ms, 0);
  EXPECT_GT(s.limits.max_batch, 0u);
}

TEST(DefaultSettings, HonoursStateDirectoryFromSystemd) {
  ScopedEnv env("STATE_DIRECTORY", "/var/lib/kpiwatch");
  Settings s = default_settings();
  EXPECT_EQ(s.state_directory, "/var/lib/kpiwatch");
  EXPECT_EQ(s.database_path(), "/var/lib/kpiwatch/kpiwatch.db");
}

TEST(DefaultSettings, TakesTheFirstOfSeveralStateDirectories) {
  ScopedEnv env("STATE_DIRECTORY", "/var/lib/kpiwatch:/var/lib/other");
  EXPECT_EQ(default_settings().state_directory, "/var/lib/kpiwatch");
}

TEST(DefaultSettings, IgnoresAnEmptyStateDirectory) {
  ScopedEnv env("STATE_DIRECTORY", "");
  EXPECT_EQ(default_settings().state_directory, "kpiwatch-state");
}

TEST(Settings, TheShippedExampleParsesToExactlyTheDefaults) {
  ScopedEnv env("STATE_DIRECTORY", nullptr);
  Settings example = parsed(example_config_toml());
  Settings defaults = default_settings();
  EXPECT_EQ(example.source, "kpiwatch.toml");
  EXPECT_EQ(example.listen_host, defaults.listen_host);
  EXPECT_EQ(example.listen_port, defaults.listen_port);
  EXPECT_EQ(example.max_connections, defaults.max_connections);
  EXPECT_EQ(example.max_body_bytes, defaults.max_body_bytes);
  EXPECT_EQ(example.read_timeout, defaults.read_timeout);
  EXPECT_EQ(example.idle_timeout, defaults.idle_timeout);
  EXPECT_EQ(example.shutdown_timeout, defaults.shutdown_timeout);
  EXPECT_EQ(example.state_directory, defaults.state_directory);
  EXPECT_EQ(example.database, defaults.database);
  EXPECT_EQ(example.synchronous, defaults.synchronous);
  EXPECT_EQ(example.busy_timeout_ms, defaults.busy_timeout_ms);
  EXPECT_EQ(example.catalog_path, defaults.catalog_path);
  EXPECT_EQ(example.load_bundled_dataset, defaults.load_bundled_dataset);
  EXPECT_EQ(example.limits.max_batch, defaults.limits.max_batch);
  EXPECT_EQ(example.limits.max_items, defaults.limits.max_items);
  EXPECT_EQ(example.limits.max_text, defaults.limits.max_text);
  EXPECT_EQ(example.log_level, defaults.log_level);
  EXPECT_EQ(example.read_token, defaults.read_token);
  EXPECT_TRUE(example.tokens.empty());
}

TEST(Settings, ParsesEveryKey) {
  Settings s = parsed(R"(
[server]
listen = "0.0.0.0:9090"
max_connections = 7
max_body_bytes = 1024
read_timeout_ms = 1500
idle_timeout_ms = 2500
shutdown_timeout_ms = 3500

[storage]
state_directory = "/srv/kpiwatch"
database = "figures.db"
synchronous = "normal"
busy_timeout_ms = 250

[catalog]
path = "/etc/kpiwatch/catalog.toml"

[dataset]
load_bundled = false

[limits]
max_batch = 10
max_items = 20
max_text_bytes = 30

[log]
level = "debug"

[[tokens]]
name = "amed-uploader"
sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
bodies = ["amed"]

[[tokens]]
name = "ops"
sha256 = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
admin = true

[[tokens]]
name = "one-kpi"
sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
kpis = ["g06.stage_up_rate"]
)");
  EXPECT_EQ(s.listen_host, "0.0.0.0");
  EXPECT_EQ(s.listen_port, 9090);
  EXPECT_EQ(s.max_connections, 7u);
  EXPECT_EQ(s.max_body_bytes, 1024u);
  EXPECT_EQ(s.read_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(s.idle_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(s.shutdown_timeout, std::chrono::milliseconds(3500));
  EXPECT_EQ(s.state_directory, "/srv/kpiwatch");
  EXPECT_EQ(s.database_path(), "/srv/kpiwatch/figures.db");
  EXPECT_EQ(s.synchronous, "normal");
  EXPECT_EQ(s.busy_timeout_ms, 250);
  EXPECT_EQ(s.catalog_path, "/etc/kpiwatch/catalog.toml");
  EXPECT_FALSE(s.load_bundled_dataset);
  EXPECT_EQ(s.limits.max_batch, 10u);
  EXPECT_EQ(s.limits.max_items, 20u);
  EXPECT_EQ(s.limits.max_text, 30u);
  EXPECT_EQ(s.log_level, "debug");
  ASSERT_EQ(s.tokens.size(), 3u);
  EXPECT_EQ(s.tokens[0].name, "amed-uploader");
  EXPECT_EQ(s.tokens[0].bodies, std::vector<std::string>{"amed"});
  EXPECT_FALSE(s.tokens[0].admin);
  EXPECT_EQ(s.tokens[0].sha256[0], 0xba);
  EXPECT_EQ(s.tokens[0].sha256[31], 0xad);
  EXPECT_EQ(s.tokens[1].sha256, s.tokens[0].sha256);  // hex digits in either case
  EXPECT_TRUE(s.tokens[1].admin);
  EXPECT_EQ(s.tokens[2].kpis, std::vector<std::string>{"g06.stage_up_rate"});
}

TEST(Settings, ParsesABracketedIpv6ListenAddress) {
  Settings s = parsed("[server]\nlisten = \"[::1]:0\"\n");
  EXPECT_EQ(s.listen_host, "::1");
  EXPECT_EQ(s.listen_port, 0);
}

TEST(Settings, RejectsAnUnknownKeyWithLineAndColumn) {
  expect_single("[server]\nlisten = \"127.0.0.1:8080\"\n  port = 8080\n", 3, 3, "unknown key \"port\"");
}

TEST(Settings, RejectsAnUnknownTable) {
  expect_single("[sever]\nlisten = \"127.0.0.1:8080\"\n", 1, 2, "unknown key \"sever\"");
}

TEST(Settings, RejectsAWrongTypeWithLineAndColumn) {
  expect_single("[server]\nmax_connections = \"many\"\n", 2, 19, "\"max_connections\" must be an integer");
}

TEST(Settings, RejectsANonPositiveTimeout) { expect_single("[server]\nread_timeout_ms = 0\n", 2, 19, "positive"); }

class BadListen : public ::testing::TestWithParam<const char*> {};

TEST_P(BadListen, IsReportedAtTheValue) {
  std::string text = std::string("[server]\nlisten = \"") + GetParam() + "\"\n";
  expect_single(text, 2, 10, "\"listen\" must be HOST:PORT");
}

INSTANTIATE_TEST_SUITE_P(Forms, BadListen,
                         ::testing::Values("localhost", "127.0.0.1:", ":8080", "127.0.0.1:65536", "127.0.0.1:80a",
                                           "127.0.0.1:-1", "127.0.0.1:123456"));

TEST(Settings, RejectsAnUnknownSynchronousMode) {
  expect_single("[storage]\nsynchronous = \"off\"\n", 2, 15,
                "\"synchronous\" must be \"normal\", \"full\" or \"extra\"");
}

TEST(Settings, AcceptsEverySynchronousMode) {
  for (std::string mode : {"normal", "full", "extra"})
    EXPECT_EQ(parsed("[storage]\nsynchronous = \"" + mode + "\"\n").synchronous, mode);
}

TEST(Settings, RejectsAnUnknownLogLevel) {
  expect_single("[log]\nlevel = \"verbose\"\n", 2, 9, "unknown log level \"verbose\"");
}

class BadTokenHash : public ::testing::TestWithParam<std::string> {};

TEST_P(BadTokenHash, IsReportedAtTheValue) {
  std::string text = "[[tokens]]\nname = \"t\"\nsha256 = \"" + GetParam() + "\"\nadmin = true\n";
  expect_single(text, 3, 10, "\"sha256\" must be 64 hex digits");
}

INSTANTIATE_TEST_SUITE_P(Forms, BadTokenHash,
                         ::testing::Values(std::string("abc"), kHash.substr(1), kHash + "0", "g" + kHash.substr(1),
                                           "kpw_notahashbutatoken"));

TEST(Settings, RejectsATokenWithoutScopeAtItsTable) {
  expect_single("[[tokens]]\nname = \"t\"\nsha256 = \"" + kHash + "\"\n", 1, 1, "a token needs a scope");
}

TEST(Settings, ReadsNeedATokenOnlyWhenApiReadTokenIsSet) {
  EXPECT_FALSE(default_settings().read_token);
  Settings s = parsed("[api]\nread_token = true\n\n[[tokens]]\nname = \"page\"\nsha256 = \"" + kHash +
                      "\"\nscopes = [\"read\"]\n");
  EXPECT_TRUE(s.read_token);
  ASSERT_EQ(s.tokens.size(), 1u);
  EXPECT_EQ(s.tokens[0].scopes, std::vector<std::string>{"read"});
  EXPECT_TRUE(s.tokens[0].read_only());
}

TEST(Settings, RejectsANonBooleanReadTokenAtItsValue) {
  expect_single("[api]\nread_token = \"yes\"\n", 2, 14, "\"read_token\" must be true or false");
}

TEST(Settings, RejectsAnUnknownApiKey) { expect_single("[api]\nread_tokens = true\n", 2, 1, "unknown key"); }

TEST(Settings, RejectsAnUnknownTokenScopeAtItsValue) {
  expect_single("[[tokens]]\nname = \"t\"\nsha256 = \"" + kHash + "\"\nscopes = [\"write\"]\n", 4, 10,
                "unknown scope \"write\" in \"scopes\" (known: \"read\")");
}

TEST(Settings, RejectsATokenWithoutAHash) {
  expect_single("[[tokens]]\nname = \"t\"\nadmin = true\n", 1, 1, "missing required key \"sha256\"");
}

TEST(Settings, RejectsDuplicateTokenNames) {
  std::string one = "[[tokens]]\nname = \"t\"\nsha256 = \"" + kHash + "\"\nadmin = true\n";
  expect_single(one + one, 5, 1, "duplicate token name \"t\"");
}

TEST(Settings, ReportsEveryProblemInOneFile) {
  auto diags = diagnostics_of("[server]\nlisten = \"x\"\nport = 1\n[storage]\nsynchronous = \"off\"\n");
  ASSERT_EQ(diags.size(), 3u);
  for (const auto& d : diags) EXPECT_GT(d.line, 0) << d.str();
}

TEST(Settings, RejectsMalformedTomlWithItsPosition) {
  auto diags = diagnostics_of("[server]\nlisten = \"127.0.0.1:8080\n");
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 2);
  EXPECT_GT(diags[0].column, 1);
}

TEST(Settings, ResolvesRelativePathsAgainstTheConfigDirectory) {
  Settings s =
      parsed("[storage]\nstate_directory = \"state\"\n[catalog]\npath = \"../shared/catalog.toml\"\n", "/etc/kpiwatch");
  EXPECT_EQ(s.state_directory, "/etc/kpiwatch/state");
  EXPECT_EQ(s.catalog_path, "/etc/shared/catalog.toml");
  EXPECT_EQ(s.database_path(), "/etc/kpiwatch/state/kpiwatch.db");
}

TEST(Settings, ReadsTheReportTemplatesPathBesideTheConfig) {
  EXPECT_TRUE(parsed("").report_templates_path.empty());
  Settings s = parsed("[report]\ntemplates = \"report/headlines.toml\"\n", "/etc/kpiwatch");
  EXPECT_EQ(s.report_templates_path, "/etc/kpiwatch/report/headlines.toml");
}

TEST(Settings, KeepsAbsolutePathsAsTheyAre) {
  Settings s = parsed(
      "[storage]\nstate_directory = \"/var/lib/k\"\ndatabase = \"/data/k.db\"\n[catalog]\n"
      "path = \"/opt/catalog.toml\"\n");
  EXPECT_EQ(s.state_directory, "/var/lib/k");
  EXPECT_EQ(s.catalog_path, "/opt/catalog.toml");
  EXPECT_EQ(s.database_path(), "/data/k.db");
}

TEST(Settings, FallsBackToStateDirectoryFromTheEnvironmentWhenTheFileGivesNone) {
  ScopedEnv env("STATE_DIRECTORY", "/run/state");
  EXPECT_EQ(parsed("[server]\nlisten = \"127.0.0.1:1\"\n").state_directory, "/run/state");
}

using test::TempDir;

TEST(Settings, LoadSettingsResolvesAgainstTheFilesDirectory) {
  TempDir temp;
  const fs::path& dir = temp.path();
  {
    std::ofstream out(dir / "kpiwatch.toml");
    out << "[storage]\nstate_directory = \"state\"\n";
  }
  auto loaded = load_settings((dir / "kpiwatch.toml").string());
  ASSERT_EQ(loaded.index(), 0u);
  const auto& s = std::get<Settings>(loaded);
  EXPECT_EQ(fs::path(s.state_directory), fs::absolute(dir / "state").lexically_normal());
  EXPECT_EQ(s.source, (dir / "kpiwatch.toml").string());
}

TEST(Settings, LoadSettingsNamesAMissingFile) {
  auto loaded = load_settings("/nonexistent/kpiwatch.toml");
  ASSERT_EQ(loaded.index(), 1u);
  EXPECT_EQ(std::get<Diagnostics>(loaded).at(0).file, "/nonexistent/kpiwatch.toml");
}

TEST(Sha256Hex, MatchesTheFipsTestVector) {
  EXPECT_EQ(sha256_hex("abc"), kHash);
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace kpiwatch
