#include "kpiwatch/toml_reader.hpp"

#include <fmt/format.h>

#include <cmath>

namespace kpiwatch {

std::optional<toml::table> parse_toml(std::string_view text, const std::string& file, Diagnostics& diags) {
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    diags.push_back({file, static_cast<int>(begin.line), static_cast<int>(begin.column), std::string(e.description())});
    return std::nullopt;
  }
}

void add_diagnostic(Diagnostics& diags, const std::string& file, const toml::node& node, std::string message) {
  const auto& begin = node.source().begin;
  diags.push_back({file, static_cast<int>(begin.line), static_cast<int>(begin.column), std::move(message)});
}

bool is_identifier(std::string_view text) {
  if (text.empty() || text.front() < 'a' || text.front() > 'z') return false;
  for (char c : text)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

TomlTable::TomlTable(const toml::table& table, std::string where, const std::string& file, Diagnostics& diags)
    : table_(table), where_(std::move(where)), file_(file), diags_(diags) {}

void TomlTable::error(const toml::node& node, const std::string& message) {
  add_diagnostic(diags_, file_, node, where_.empty() ? message : where_ + ": " + message);
}

void TomlTable::error(const std::string& message) { error(table_, message); }

void TomlTable::type_error(const toml::node& node, std::string_view key, std::string_view expected) {
  error(node, fmt::format("\"{}\" must be {}, not {}", key, expected,
                          toml::impl::node_type_friendly_names[static_cast<int>(node.type())]));
}

const toml::node* TomlTable::find(std::string_view key, bool required, std::string_view expected) {
  seen_.emplace(key);
  const toml::node* node = table_.get(key);
  if (!node && required) error(fmt::format("missing required key \"{}\" ({})", key, expected));
  return node;
}

std::optional<std::string> TomlTable::string(std::string_view key, bool required) {
  const auto* node = find(key, required, "a string");
  if (!node) return std::nullopt;
  if (auto v = node->value<std::string>(); v && node->is_string()) return v;
  type_error(*node, key, "a string");
  return std::nullopt;
}

std::optional<std::int64_t> TomlTable::integer(std::string_view key, bool required) {
  const auto* node = find(key, required, "an integer");
  if (!node) return std::nullopt;
  if (node->is_integer()) return node->value<std::int64_t>();
  type_error(*node, key, "an integer");
  return std::nullopt;
}

std::optional<double> TomlTable::number(std::string_view key, bool required) {
  const auto* node = find(key, required, "a number");
  if (!node) return std::nullopt;
  if (node->is_number()) {
    // TOML writes nan and inf; a bound, a limit or a target of either never compares as its author meant.
    double v = node->value<double>().value_or(0);
    if (std::isfinite(v)) return v;
    error(*node, fmt::format("\"{}\" must be a finite number, not {}", key, v));
    return std::nullopt;
  }
  type_error(*node, key, "a number");
  return std::nullopt;
}

std::optional<bool> TomlTable::boolean(std::string_view key, bool required) {
  const auto* node = find(key, required, "true or false");
  if (!node) return std::nullopt;
  if (node->is_boolean()) return node->value<bool>();
  type_error(*node, key, "true or false");
  return std::nullopt;
}

std::optional<std::vector<std::string>> TomlTable::strings(std::string_view key, bool required) {
  const auto* node = find(key, required, "an array of strings");
  if (!node) return std::nullopt;
  const auto* array = node->as_array();
  if (!array) {
    type_error(*node, key, "an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const auto& element : *array) {
    if (auto s = element.value<std::string>(); s && element.is_string()) {
      out.push_back(*s);
    } else {
      error(element, fmt::format("\"{}\" must hold only strings", key));
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

const toml::table* TomlTable::table(std::string_view key, bool required) {
  const auto* node = find(key, required, "a table");
  if (!node) return nullptr;
  if (const auto* t = node->as_table()) return t;
  type_error(*node, key, "a table");
  return nullptr;
}

std::vector<const toml::table*> TomlTable::tables(std::string_view key, bool required) {
  std::vector<const toml::table*> out;
  const auto* node = find(key, required, "an array of tables");
  if (!node) return out;
  const auto* array = node->as_array();
  if (!array) {
    type_error(*node, key, fmt::format("an array of tables ([[{}]])", key));
    return out;
  }
  for (const auto& element : *array) {
    if (const auto* t = element.as_table())
      out.push_back(t);
    else
      error(element, fmt::format("\"{}\" must hold only tables ([[{}]])", key, key));
  }
  return out;
}

void TomlTable::reject_unknown_keys() {
  for (const auto& [key, node] : table_) {
    if (seen_.contains(key.str())) continue;
    const auto& at = key.source().begin ? key.source().begin : node.source().begin;
    diags_.push_back({file_, static_cast<int>(at.line), static_cast<int>(at.column),
                      (where_.empty() ? "" : where_ + ": ") + fmt::format("unknown key \"{}\"", key.str())});
  }
}

}  // namespace kpiwatch
