#pragma once
// Reads TOML that people write: every unknown key, wrong type or missing
// field becomes a `file:line:col: message` diagnostic, and reading goes on so
// that one run reports all of them.

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/result.hpp"

namespace kpiwatch {

// Parses TOML text; on a syntax error adds a diagnostic and returns nullopt.
std::optional<toml::table> parse_toml(std::string_view text, const std::string& file, Diagnostics& diags);

class TomlTable {
 public:
  // `where` names the table in messages, e.g. "kpis[3]" or "server".
  TomlTable(const toml::table& table, std::string where, const std::string& file, Diagnostics& diags);

  std::optional<std::string> string(std::string_view key, bool required = false);
  std::optional<std::int64_t> integer(std::string_view key, bool required = false);
  std::optional<double> number(std::string_view key, bool required = false);  // integer or float
  std::optional<bool> boolean(std::string_view key, bool required = false);
  std::optional<std::vector<std::string>> strings(std::string_view key, bool required = false);
  const toml::table* table(std::string_view key, bool required = false);
  // An array of tables ([[key]]).
  std::vector<const toml::table*> tables(std::string_view key, bool required = false);

  // Marks `key` as known without reading it (the caller reads it itself).
  void known(std::string_view key) { seen_.emplace(key); }
  // Reports keys present in the table that no accessor asked for.
  void reject_unknown_keys();

  void error(const toml::node& node, const std::string& message);
  void error(const std::string& message);  // at the table itself
  const std::string& where() const { return where_; }
  const toml::table& raw() const { return table_; }

 private:
  const toml::node* find(std::string_view key, bool required, std::string_view expected);
  void type_error(const toml::node& node, std::string_view key, std::string_view expected);

  const toml::table& table_;
  std::string where_;
  const std::string& file_;
  Diagnostics& diags_;
  std::set<std::string, std::less<>> seen_;
};

// Adds a diagnostic located at `node`.
void add_diagnostic(Diagnostics& diags, const std::string& file, const toml::node& node, std::string message);

// True if `text` matches ^[a-z][a-z0-9_]*$.
bool is_identifier(std::string_view text);

}  // namespace kpiwatch
