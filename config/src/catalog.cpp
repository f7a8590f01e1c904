#include "kpiwatch/catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "embedded.hpp"
#include "kpiwatch/toml_reader.hpp"

namespace kpiwatch {
namespace {

constexpr int kSchema = 1;

bool parse_unit(std::string_view text, Unit& out) {
  for (auto unit : {Unit::count, Unit::percent, Unit::years, Unit::ratio, Unit::items}) {
    if (text == to_string(unit)) {
      out = unit;
      return true;
    }
  }
  return false;
}

bool is_kpi_id(std::string_view id, int& goal) {
  static const std::regex pattern("^g([0-9]{2})\\.[a-z][a-z0-9_]*$");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(id.begin(), id.end(), m, pattern)) return false;
  goal = std::stoi(m[1].str());
  return true;
}

Body read_body(TomlTable& r) {
  Body b;
  b.id = r.string("id", true).value_or("");
  b.name_ja = r.string("name_ja", true).value_or("");
  b.name_en = r.string("name_en", true).value_or("");
  b.short_en = r.string("short_en").value_or(b.name_en);
  r.reject_unknown_keys();
  if (!b.id.empty() && !is_identifier(b.id)) r.error(fmt::format("body id \"{}\" must match [a-z][a-z0-9_]*", b.id));
  return b;
}

// Checked against the goals and bodies read before it.
Goal read_goal(TomlTable& r, const Catalog& catalog) {
  Goal g;
  g.number = static_cast<int>(r.integer("number", true).value_or(0));
  g.name_ja = r.string("name_ja", true).value_or("");
  g.name_en = r.string("name_en", true).value_or("");
  g.bodies = r.strings("bodies").value_or(std::vector<std::string>{});
  r.reject_unknown_keys();
  if (g.number < 1 || g.number > 99) r.error(fmt::format("goal number {} must be 1–99", g.number));
  if (catalog.goal(g.number)) r.error(fmt::format("duplicate goal number {}", g.number));
  for (const auto& b : g.bodies)
    if (!catalog.body(b)) r.error(fmt::format("unknown reporting body \"{}\"", b));
  return g;
}

// labels_ja = { basic = "基礎研究", ... }: every key must be one of `ids` (when given) and every value a string.
LabelMap read_labels(TomlTable& r, std::string_view key, const std::vector<std::string>* ids) {
  LabelMap out;
  const auto* t = r.table(key);
  if (!t) return out;
  for (const auto& [k, v] : *t) {
    std::string id(k.str());
    if (!v.is_string()) {
      r.error(v, fmt::format("\"{}.{}\" must be a string", key, id));
      continue;
    }
    if (ids && std::find(ids->begin(), ids->end(), id) == ids->end()) {
      r.error(v, fmt::format("\"{}\" labels \"{}\", which is not one of the values", key, id));
      continue;
    }
    out.emplace(std::move(id), *v.value<std::string>());
  }
  return out;
}

// A "due" value: "6 months" or "90 days"; an error at the value otherwise.
std::optional<Deadline> read_due(TomlTable& r, std::string_view key) {
  auto text = r.string(key);
  if (!text) return std::nullopt;
  Deadline d;
  if (Deadline::parse(*text, d)) return d;
  r.error(*r.raw().get(key), fmt::format("\"{}\" must be like \"3 months\" or \"90 days\", not \"{}\"", key, *text));
  return std::nullopt;
}

// [deadlines]: the default deadline of each period kind, e.g. fiscal_year = "3 months".
using DefaultDeadlines = std::map<PeriodKind, Deadline>;

DefaultDeadlines read_deadlines(TomlTable& top, const std::string& source, Diagnostics& diags) {
  DefaultDeadlines out;
  const toml::table* t = top.table("deadlines");
  if (!t) return out;
  TomlTable r(*t, "deadlines", source, diags);
  for (const auto& [key, node] : *t) {
    std::string name(key.str());
    PeriodKind kind{};
    if (!parse_period_kind(name, kind)) {
      r.error(node, fmt::format("unknown period kind \"{}\" (year, fiscal_year, quarter, month)", name));
      r.known(name);
      continue;
    }
    if (auto d = read_due(r, name)) out[kind] = *d;
  }
  r.reject_unknown_keys();
  return out;
}

// One [[kpis]] table: its fields, its dimensions, then the checks against the goals and bodies.
class KpiReader {
 public:
  KpiReader(TomlTable& r, const toml::table& t, const std::string& source, Diagnostics& diags)
      : r_(r), t_(t), source_(source), diags_(diags) {}

  Kpi read(const Catalog& catalog, const DefaultDeadlines& deadlines) {
    Kpi k;
    read_fields(k);
    read_reporting(k, deadlines);
    if (const auto* dims = r_.table("dims"))
      for (const auto& [name, node] : *dims)
        if (auto d = read_dimension(k, std::string(name.str()), node)) k.dims.push_back(std::move(*d));
    r_.reject_unknown_keys();
    check(k, catalog);
    return k;
  }

 private:
  void read_fields(Kpi& k) {
    k.id = r_.string("id", true).value_or("");
    k.goal = static_cast<int>(r_.integer("goal", true).value_or(0));
    k.name_ja = r_.string("name_ja", true).value_or("");
    k.name_en = r_.string("name_en", true).value_or("");
    k.description_ja = r_.string("description_ja").value_or("");
    k.description_en = r_.string("description_en").value_or("");
    if (auto unit = r_.string("unit", true); unit && !parse_unit(*unit, k.unit))
      r_.error(*t_.get("unit"), fmt::format("unknown unit \"{}\" (count, percent, years, ratio, items)", *unit));
    if (auto period = r_.string("period", true); period && !parse_period_kind(*period, k.period))
      r_.error(*t_.get("period"),
               fmt::format("unknown period kind \"{}\" (year, fiscal_year, quarter, month)", *period));
    k.bodies = r_.strings("bodies", true).value_or(std::vector<std::string>{});
    k.min = r_.number("min");
    k.max = r_.number("max");
    k.unit_ja = r_.string("unit_ja").value_or("");
    k.unit_en = r_.string("unit_en").value_or("");
    if (auto decimals = r_.integer("decimals")) {
      if (*decimals < 0 || *decimals > 6)
        r_.error(*t_.get("decimals"), "\"decimals\" must be 0–6");
      else
        k.decimals = static_cast<int>(*decimals);
    }
    k.item_labels_ja = read_labels(r_, "item_labels_ja", nullptr);
    k.item_labels_en = read_labels(r_, "item_labels_en", nullptr);
  }

  // When its figures are due, and how often.
  void read_reporting(Kpi& k, const DefaultDeadlines& deadlines) {
    k.due = read_due(r_, "due");
    if (!k.due && !t_.contains("due"))
      if (auto it = deadlines.find(k.period); it != deadlines.end()) k.due = it->second;
    if (auto every = r_.integer("every")) {
      if (*every < 1 || *every > 100)
        r_.error(*t_.get("every"), fmt::format("\"every\" must be 1–100 periods, not {}", *every));
      else
        k.every = static_cast<int>(*every);
    }
  }

  std::optional<Dimension> read_dimension(const Kpi& k, std::string name, const toml::node& node) {
    Dimension d;
    d.name = std::move(name);
    if (!is_identifier(d.name)) r_.error(node, fmt::format("dimension name \"{}\" must match [a-z][a-z0-9_]*", d.name));
    const auto* dt = node.as_table();
    if (!dt) {
      r_.error(node, fmt::format("dimension \"{}\" must be a table with \"values\"", d.name));
      return std::nullopt;
    }
    TomlTable dr(*dt, fmt::format("kpi \"{}\" dimension \"{}\"", k.id, d.name), source_, diags_);
    d.values = dr.strings("values", true).value_or(std::vector<std::string>{});
    d.default_value = dr.string("default");
    d.name_ja = dr.string("name_ja").value_or("");
    d.name_en = dr.string("name_en").value_or("");
    d.labels_ja = read_labels(dr, "labels_ja", &d.values);
    d.labels_en = read_labels(dr, "labels_en", &d.values);
    dr.reject_unknown_keys();
    std::set<std::string> seen;
    for (const auto& v : d.values) {
      if (!is_identifier(v)) dr.error(fmt::format("dimension value \"{}\" must match [a-z][a-z0-9_]*", v));
      if (!seen.insert(v).second) dr.error(fmt::format("duplicate dimension value \"{}\"", v));
    }
    if (d.values.empty()) dr.error("a dimension needs at least one value");
    d.index_values();
    if (d.default_value && !d.allows(*d.default_value))
      dr.error(fmt::format("default \"{}\" is not one of the values", *d.default_value));
    return d;
  }

  // The id against the goal, the goal and bodies against the catalog, and the valid range.
  void check(Kpi& k, const Catalog& catalog) {
    int id_goal = 0;
    if (!k.id.empty() && !is_kpi_id(k.id, id_goal))
      r_.error(fmt::format("KPI id \"{}\" must look like g06.stage_up_rate (g, two-digit goal, dot, name)", k.id));
    else if (!k.id.empty() && id_goal != k.goal)
      r_.error(fmt::format("KPI id \"{}\" names goal {} but goal = {}", k.id, id_goal, k.goal));
    if (k.goal && !catalog.goal(k.goal)) r_.error(fmt::format("unknown goal {}", k.goal));
    for (const auto& b : k.bodies)
      if (!catalog.body(b)) r_.error(fmt::format("unknown reporting body \"{}\"", b));
    if (k.bodies.empty()) r_.error("\"bodies\" must name at least one reporting body");
    if (k.is_items() && (k.min || k.max)) r_.error("an items KPI has no valid range (min/max)");
    if (!k.is_items() && (!k.item_labels_ja.empty() || !k.item_labels_en.empty()))
      r_.error("item labels are for an items KPI (unit = \"items\")");
    if (k.unit == Unit::count && !k.min) k.min = 0;
    if (k.unit == Unit::percent) {
      if (!k.min) k.min = 0;
      if (!k.max) k.max = 100;
    }
    if (k.min && k.max && *k.min > *k.max) r_.error("min is greater than max");
  }

  TomlTable& r_;
  const toml::table& t_;
  const std::string& source_;
  Diagnostics& diags_;
};

}  // namespace

std::string_view to_string(Unit unit) {
  switch (unit) {
    case Unit::count:
      return "count";
    case Unit::percent:
      return "percent";
    case Unit::years:
      return "years";
    case Unit::ratio:
      return "ratio";
    case Unit::items:
      return "items";
  }
  return "count";
}

bool Deadline::parse(std::string_view text, Deadline& out) {
  static const std::regex pattern("^\\s*([0-9]{1,4})\\s*(day|days|month|months)\\s*$");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(text.begin(), text.end(), m, pattern)) return false;
  int n = std::stoi(m[1].str());
  bool days = m[2].str().starts_with("day");
  out = days ? Deadline{0, n} : Deadline{n, 0};
  return true;
}

std::chrono::sys_days Deadline::overdue_from(const Period& period) const {
  // The first day after the period: always the 1st of a month, so adding months stays a valid day.
  auto first = parse_date_id(period.end_date()).value_or(std::chrono::year_month_day{});
  return std::chrono::sys_days(first + std::chrono::months(months)) + std::chrono::days(days);
}

std::chrono::year_month_day Deadline::due(const Period& period) const {
  return std::chrono::year_month_day(overdue_from(period) - std::chrono::days(1));
}

bool Dimension::allows(std::string_view value) const {
  if (sorted_.size() != values.size()) return std::find(values.begin(), values.end(), value) != values.end();
  return std::binary_search(sorted_.begin(), sorted_.end(), value, std::less<>());
}

void Dimension::index_values() {
  sorted_ = values;
  std::sort(sorted_.begin(), sorted_.end());
}

std::string_view Dimension::label(std::string_view value, Lang lang) const {
  const LabelMap& labels = lang == Lang::ja ? labels_ja : labels_en;
  auto it = labels.find(value);
  return it == labels.end() ? value : std::string_view(it->second);
}

std::string_view Dimension::title(Lang lang) const {
  const std::string& t = lang == Lang::ja ? name_ja : name_en;
  return t.empty() ? std::string_view(name) : std::string_view(t);
}

std::string_view Kpi::unit_name(Lang lang) const {
  const std::string& own = lang == Lang::ja ? unit_ja : unit_en;
  if (!own.empty()) return own;
  bool ja = lang == Lang::ja;
  switch (unit) {
    case Unit::count:
      return ja ? "件" : "";
    case Unit::percent:
      return "%";
    case Unit::years:
      return ja ? "年" : "years";
    case Unit::ratio:
      return ja ? "倍" : "times";
    case Unit::items:
      return ja ? "件" : "items";
  }
  return "";
}

int Kpi::precision() const {
  if (decimals) return *decimals;
  return unit == Unit::count || unit == Unit::items ? 0 : 1;
}

std::string_view Kpi::item_label(std::string_view item, Lang lang) const {
  const LabelMap& labels = lang == Lang::ja ? item_labels_ja : item_labels_en;
  auto it = labels.find(item);
  return it == labels.end() ? item : std::string_view(it->second);
}

const Dimension* Kpi::dimension(std::string_view name) const {
  for (const auto& d : dims)
    if (d.name == name) return &d;
  return nullptr;
}

bool Kpi::submittable_by(std::string_view body) const {
  return std::find(bodies.begin(), bodies.end(), body) != bodies.end();
}

const Kpi* Catalog::find(std::string_view id) const {
  auto it = kpi_index_.find(id);
  return it == kpi_index_.end() ? nullptr : &kpis_[it->second];
}

const Goal* Catalog::goal(int number) const {
  for (const auto& g : goals_)
    if (g.number == number) return &g;
  return nullptr;
}

const Body* Catalog::body(std::string_view id) const {
  for (const auto& b : bodies_)
    if (b.id == id) return &b;
  return nullptr;
}

Loaded<std::shared_ptr<const Catalog>> Catalog::parse(std::string_view text, const std::string& source) {
  Diagnostics diags;
  auto root = parse_toml(text, source, diags);
  if (!root) return diags;

  auto catalog = std::make_shared<Catalog>();
  TomlTable top(*root, "", source, diags);
  if (auto schema = top.integer("schema", true); schema && *schema != kSchema)
    top.error(*root->get("schema"),
              fmt::format("unsupported catalog schema {} (this kpiwatch reads {})", *schema, kSchema));

  for (std::size_t i = 0; const auto* t : top.tables("bodies", true)) {
    TomlTable r(*t, fmt::format("bodies[{}]", i++), source, diags);
    Body b = read_body(r);
    if (catalog->body(b.id)) r.error(fmt::format("duplicate body id \"{}\"", b.id));
    catalog->bodies_.push_back(std::move(b));
  }
  for (std::size_t i = 0; const auto* t : top.tables("goals", true)) {
    TomlTable r(*t, fmt::format("goals[{}]", i++), source, diags);
    Goal g = read_goal(r, *catalog);
    catalog->goals_.push_back(std::move(g));
  }
  DefaultDeadlines deadlines = read_deadlines(top, source, diags);
  for (std::size_t i = 0; const auto* t : top.tables("kpis", true)) {
    std::string where = fmt::format("kpis[{}]", i++);
    if (const auto* id = t->get_as<std::string>("id")) where = fmt::format("kpi \"{}\"", id->get());
    TomlTable r(*t, where, source, diags);
    Kpi k = KpiReader(r, *t, source, diags).read(*catalog, deadlines);
    if (catalog->find(k.id)) r.error(fmt::format("duplicate KPI id \"{}\"", k.id));
    catalog->kpi_index_.emplace(k.id, catalog->kpis_.size());
    catalog->kpis_.push_back(std::move(k));
  }
  top.reject_unknown_keys();

  if (!diags.empty()) return diags;
  return std::shared_ptr<const Catalog>(std::move(catalog));
}

Loaded<std::shared_ptr<const Catalog>> Catalog::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Diagnostics{{path, 0, 0, "cannot open catalog file"}};
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

std::shared_ptr<const Catalog> Catalog::embedded() {
  static const std::shared_ptr<const Catalog> catalog = [] {
    auto loaded = parse(embedded::catalog_toml(), "config/catalog.toml (embedded)");
    // The build checks the shipped catalog; a broken one must not start.
    if (auto* diags = std::get_if<Diagnostics>(&loaded)) {
      for (const auto& d : *diags) fmt::print(stderr, "{}\n", d.str());
      std::abort();
    }
    return std::get<0>(loaded);
  }();
  return catalog;
}

}  // namespace kpiwatch
