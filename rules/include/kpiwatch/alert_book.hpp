#pragma once
// Alert states across evaluations: inactive → pending → firing → resolved.
// Planning is separate from committing, so that a caller can store the
// transitions first and apply them in memory only once they are durable.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kpiwatch/alert.hpp"
#include "kpiwatch/rules.hpp"

namespace kpiwatch {

class AlertBook {
 public:
  void load(std::vector<AlertRecord> records);
  // What `evaluations` change, without changing the book.
  AlertChanges plan(const std::vector<Evaluation>& evaluations, TimePoint now) const;
  // Active alerts of rules that `rules` no longer has, or whose rule no longer
  // watches their series (another KPI or dims filter), are resolved.
  AlertChanges plan_retired(const RuleSet& rules, TimePoint now) const;
  void commit(const AlertChanges& changes);
  // Marks the current episode of an active alert acknowledged; false if none.
  bool acknowledge(const std::string& fingerprint, TimePoint at, const std::string& by, const std::string& comment);
  std::vector<const AlertRecord*> active() const;

  const AlertRecord* find(const std::string& fingerprint) const;
  std::size_t active_count() const;

 private:
  std::map<std::string, AlertRecord> records_;
  std::map<std::string, std::set<std::string>> active_by_group_;
};

// A sample's rule, labels, figures, texts and receivers, copied into `r` (its
// fingerprint, state and times stay).
void take_figures(AlertRecord& r, const AlertSample& s);

}  // namespace kpiwatch
