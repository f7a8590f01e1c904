#pragma once
// The KPI catalog: goals, reporting bodies and KPIs of a policy plan.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/period.hpp"
#include "kpiwatch/result.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {

enum class Unit { count, percent, years, ratio, items };
std::string_view to_string(Unit unit);

struct Body {
  std::string id;
  std::string name_ja;
  std::string name_en;
};

struct Goal {
  int number = 0;
  std::string name_ja;
  std::string name_en;
  std::vector<std::string> bodies;
};

// Labels of ids in each language: dimension values, items.
using LabelMap = std::map<std::string, std::string, std::less<>>;

struct Dimension {
  std::string name;
  std::string name_ja, name_en;  // "採択時ステージ" / "stage at adoption"; empty: the name
  std::vector<std::string> values;
  std::optional<std::string> default_value;  // used when a submission omits it
  LabelMap labels_ja, labels_en;

  // The value's label in `lang`; the value itself if it has none.
  std::string_view label(std::string_view value, Lang lang) const;
  std::string_view title(Lang lang) const;

  bool allows(std::string_view value) const;
  // Makes allows() a binary search; the catalog calls it once values are set.
  void index_values();

 private:
  std::vector<std::string> sorted_;  // dimensions of 10^4 institutions are looked up per evaluation
};

struct Kpi {
  std::string id;  // "g06.stage_up_rate"
  int goal = 0;
  std::string name_ja;
  std::string name_en;
  std::string description_ja;
  std::string description_en;
  Unit unit = Unit::count;
  PeriodKind period = PeriodKind::year;
  std::vector<std::string> bodies;  // reporting bodies allowed to submit it
  std::optional<double> min;
  std::optional<double> max;
  std::vector<Dimension> dims;
  std::string unit_ja, unit_en;  // as texts write it: "人" / "trainees"; empty: by unit
  std::optional<int> decimals;   // as the report prints it; empty: by unit
  LabelMap item_labels_ja, item_labels_en;

  bool is_items() const { return unit == Unit::items; }
  std::string_view unit_name(Lang lang) const;
  // Decimals of the figure as the report prints it: counts 0, percents, years and ratios 1.
  int precision() const;
  std::string_view item_label(std::string_view item, Lang lang) const;
  const Dimension* dimension(std::string_view name) const;
  bool submittable_by(std::string_view body) const;
};

class Catalog {
 public:
  // Parses catalog TOML; `source` names the file in diagnostics.
  static Loaded<std::shared_ptr<const Catalog>> parse(std::string_view toml, const std::string& source);
  static Loaded<std::shared_ptr<const Catalog>> load_file(const std::string& path);
  // The catalog compiled into the binary (config/catalog.toml).
  static std::shared_ptr<const Catalog> embedded();

  const std::vector<Goal>& goals() const { return goals_; }
  const std::vector<Body>& bodies() const { return bodies_; }
  const std::vector<Kpi>& kpis() const { return kpis_; }
  const Kpi* find(std::string_view id) const;
  const Goal* goal(int number) const;
  const Body* body(std::string_view id) const;

 private:
  std::vector<Goal> goals_;
  std::vector<Body> bodies_;
  std::vector<Kpi> kpis_;
  std::map<std::string, std::size_t, std::less<>> kpi_index_;
};

}  // namespace kpiwatch
