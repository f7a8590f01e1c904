#include "kpiwatch/alert.hpp"

#include <array>
#include <utility>

namespace kpiwatch {
namespace {

template <class E, std::size_t N>
using NameTable = std::array<std::pair<E, std::string_view>, N>;

constexpr NameTable<Severity, 3> kSeverities = {
    {{Severity::info, "info"}, {Severity::warning, "warning"}, {Severity::critical, "critical"}}};
constexpr NameTable<AlertState, 4> kStates = {{{AlertState::inactive, "inactive"},
                                               {AlertState::pending, "pending"},
                                               {AlertState::firing, "firing"},
                                               {AlertState::resolved, "resolved"}}};

template <class E, std::size_t N>
std::string_view name_of(const NameTable<E, N>& table, E value) {
  for (const auto& [e, name] : table)
    if (e == value) return name;
  return table[0].second;
}

template <class E, std::size_t N>
bool parse_name(const NameTable<E, N>& table, std::string_view text, E& out) {
  for (const auto& [e, name] : table)
    if (name == text) {
      out = e;
      return true;
    }
  return false;
}

}  // namespace

std::string_view to_string(Severity severity) { return name_of(kSeverities, severity); }
bool parse_severity(std::string_view text, Severity& out) { return parse_name(kSeverities, text, out); }
std::string_view to_string(AlertState state) { return name_of(kStates, state); }
bool parse_alert_state(std::string_view text, AlertState& out) { return parse_name(kStates, text, out); }

int list_rank(AlertState state) {
  switch (state) {
    case AlertState::firing:
      return 0;
    case AlertState::pending:
      return 1;
    case AlertState::resolved:
      return 2;
    case AlertState::inactive:
      break;
  }
  return 3;
}

}  // namespace kpiwatch
