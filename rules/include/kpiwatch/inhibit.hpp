#pragma once
// Inhibition, as Alertmanager has it: an [[inhibit]] table in a rule file says
// that while an alert matching `source` fires, alerts matching `target` with
// the same values of the `equal` labels (and of the same period) are not
// notified. docs/RULES.md describes the table.

#include <string>
#include <vector>

#include "kpiwatch/alert.hpp"
#include "kpiwatch/labels.hpp"

namespace kpiwatch {

struct InhibitRule {
  Matchers source;
  Matchers target;
  std::vector<std::string> equal;  // label names whose values must be the same
  std::string file;
  int line = 0;
};

// An alert that inhibits another, and the rule that says so.
struct Inhibitor {
  const AlertRecord* alert = nullptr;
  const InhibitRule* rule = nullptr;
};

// The firing alerts of `active` that inhibit `target` under `rules`, each once.
// An alert never inhibits itself; an alert matching both source and target is
// not inhibited by others that match both (so two of them do not silence each other).
std::vector<Inhibitor> inhibitors(const std::vector<InhibitRule>& rules, const AlertRecord& target,
                                  const std::vector<const AlertRecord*>& active);

// "inhibited by g06-stage-up-rate-falling (stage=all, 2024)": the inhibiting
// alert's rule, its labels the source matchers name (but the rule), its period.
std::string inhibition_reason(const Inhibitor& inhibitor);

}  // namespace kpiwatch
