#include "report_templates.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "embedded.hpp"
#include "kpiwatch/source_position.hpp"
#include "kpiwatch/toml_reader.hpp"

namespace kpiwatch::views {

namespace {

std::optional<Direction> parse_direction(std::string_view s) {
  for (auto d : {Direction::rising, Direction::falling, Direction::flat, Direction::none})
    if (direction_id(d) == s) return d;
  return std::nullopt;
}

std::optional<Verdict> parse_verdict(std::string_view s) {
  for (auto v : {Verdict::on_track, Verdict::concern, Verdict::overdue, Verdict::no_data})
    if (verdict_id(v) == s) return v;
  return std::nullopt;
}

// Reads one [[headline]] or [[progress]] table.
class EntryReader {
 public:
  EntryReader(std::string_view text, const std::string& file, const Catalog& catalog, Diagnostics& diags)
      : text_(text), file_(file), catalog_(catalog), diags_(diags) {}

  std::optional<ReportTemplates::Entry> read(const toml::table& table, const std::string& where, bool headline) {
    TomlTable t(table, where, file_, diags_);
    std::size_t errors = diags_.size();
    ReportTemplates::Entry e;
    auto kpi = t.string("kpi", true);
    if (kpi && !(e.kpi = catalog_.find(*kpi))) t.error(*table.get("kpi"), fmt::format("unknown KPI \"{}\"", *kpi));
    if (e.kpi) read_dims(t, e);
    read_when(t, e);
    if (headline) read_verdict(t, e);
    if (auto tol = t.number("tolerance")) {
      if (*tol < 0 || *tol >= 1) t.error(*table.get("tolerance"), "tolerance must be at least 0 and below 1");
      e.tolerance = *tol;
    }
    if (auto compare = t.string("compare")) {
      if (*compare != "first" && *compare != "previous")
        t.error(*table.get("compare"), fmt::format("compare: \"{}\" is not first or previous", *compare));
      e.against_previous = *compare == "previous";
    }
    e.ja = compile(t, table, "ja");
    e.en = compile(t, table, "en");
    t.reject_unknown_keys();
    if (diags_.size() != errors) return std::nullopt;
    return e;
  }

 private:
  void read_dims(TomlTable& t, ReportTemplates::Entry& e) {
    const toml::table* dims = t.table("dims");
    if (!dims) return;
    Dims out;
    for (const auto& [key, node] : *dims) {
      const Dimension* dim = e.kpi->dimension(key.str());
      const auto* value = node.as_string();
      if (!dim) {
        t.error(node, fmt::format("{} has no dimension \"{}\"", e.kpi->id, key.str()));
      } else if (!value || !dim->allows(value->get())) {
        t.error(node, fmt::format("dims.{}: not a value of the dimension", key.str()));
      } else {
        out[std::string(key.str())] = value->get();
      }
    }
    e.dims = std::move(out);
  }

  void read_when(TomlTable& t, ReportTemplates::Entry& e) {
    auto when = t.strings("when");
    if (!when) return;
    for (const auto& w : *when) {
      auto d = parse_direction(w);
      if (!d) t.error(*t.raw().get("when"), fmt::format("when: \"{}\" is not rising, falling, flat or none", w));
      if (d) e.when.push_back(*d);
    }
  }

  void read_verdict(TomlTable& t, ReportTemplates::Entry& e) {
    auto v = t.string("verdict");
    if (!v) return;
    e.verdict = parse_verdict(*v);
    if (!e.verdict || *e.verdict == Verdict::no_data || *e.verdict == Verdict::overdue)
      t.error(*t.raw().get("verdict"), fmt::format("verdict: \"{}\" is not on_track or concern", *v));
  }

  Template compile(TomlTable& t, const toml::table& table, std::string_view key) {
    auto text = t.string(key, true);
    if (!text) return {};
    auto compiled = Template::compile(*text, TemplateNames::report);
    if (auto* e = std::get_if<Template::Error>(&compiled)) {
      const auto& src = table.get(key)->source().begin;
      auto at = position_in_string(text_, {static_cast<int>(src.line), static_cast<int>(src.column)}, e->offset);
      diags_.push_back({file_, at.line, at.column, fmt::format("{}: \"{}\": {}", t.where(), key, e->message)});
      return {};
    }
    return std::get<Template>(std::move(compiled));
  }

  std::string_view text_;
  const std::string& file_;
  const Catalog& catalog_;
  Diagnostics& diags_;
};

}  // namespace

Loaded<ReportTemplates> ReportTemplates::parse(std::string_view toml, const std::string& file, const Catalog& catalog) {
  Diagnostics diags;
  auto doc = parse_toml(toml, file, diags);
  if (!doc) return diags;
  TomlTable root(*doc, "report templates", file, diags);
  ReportTemplates out;
  if (const toml::table* settings = root.table("report")) {
    TomlTable s(*settings, "report", file, diags);
    if (auto tol = s.number("tolerance")) {
      if (*tol < 0 || *tol >= 1) s.error(*settings->get("tolerance"), "tolerance must be at least 0 and below 1");
      out.tolerance_ = *tol;
    }
    s.reject_unknown_keys();
  }
  EntryReader reader(toml, file, catalog, diags);
  for (auto [key, list] : {std::pair{"headline", &out.headlines_}, std::pair{"progress", &out.progress_}}) {
    auto tables = root.tables(key);
    for (std::size_t i = 0; i < tables.size(); ++i)
      if (auto e = reader.read(*tables[i], fmt::format("{}[{}]", key, i), key == std::string_view("headline")))
        list->push_back(std::make_shared<const Entry>(std::move(*e)));
  }
  root.reject_unknown_keys();
  if (!diags.empty()) return diags;
  return out;
}

Loaded<ReportTemplates> ReportTemplates::load_file(const std::string& path, const Catalog& catalog) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Diagnostics{{path, 0, 0, "cannot read the report templates"}};
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path, catalog);
}

std::string_view ReportTemplates::shipped_toml() { return embedded::report_templates_toml(); }

const ReportTemplates& ReportTemplates::embedded() {
  static const ReportTemplates shipped = [] {
    auto t = parse(shipped_toml(), "config/report/headlines.toml", *Catalog::embedded());
    // The shipped file is tested (report_test); a broken one is a build defect.
    if (auto* d = std::get_if<Diagnostics>(&t)) throw std::logic_error(d->front().str());
    return std::get<ReportTemplates>(std::move(t));
  }();
  return shipped;
}

const Series* report_series(const ReportKpi& kpi, const std::optional<Dims>& dims) {
  const auto& all = kpi.figures.series;
  auto wanted = dims ? dims : overall_dims(*kpi.kpi);
  if (wanted)
    for (const auto& s : all)
      if (s.dims == *wanted) return &s;
  if (dims || all.empty()) return nullptr;
  return &all.front();
}

namespace {

// The figures of a series; an item KPI's figure is how many items it lists.
std::vector<std::pair<Period, double>> numbers(const Kpi& kpi, const Series& s) {
  std::vector<std::pair<Period, double>> out;
  for (const auto& r : s.points)
    if (kpi.is_items())
      out.emplace_back(r.submission.period, static_cast<double>(r.submission.items.size()));
    else if (r.submission.value)
      out.emplace_back(r.submission.period, *r.submission.value);
  return out;
}

TemplateLabel item_list(const Kpi& kpi, const std::vector<std::string>& items) {
  TemplateLabel out;
  for (const auto& item : items) {
    out.id += (out.id.empty() ? "" : ",") + item;
    out.ja += (out.ja.empty() ? "" : "、") + std::string(kpi.item_label(item, Lang::ja));
    out.en += (out.en.empty() ? "" : ", ") + std::string(kpi.item_label(item, Lang::en));
  }
  return out;
}

Direction points_direction(const std::vector<std::pair<Period, double>>& points, double tolerance) {
  std::vector<double> values;
  values.reserve(points.size());
  for (const auto& p : points) values.push_back(p.second);
  return views::direction_of(values, tolerance);
}

void add_changes(TemplateValues& v, const std::string& prefix, double value, double base, const NumberFormat& f) {
  double change = value - base;
  v[prefix + "change"] = TemplateNumber{change, f};
  v[prefix + "change_abs"] = TemplateNumber{std::abs(change), f};
  if (base == 0) return;
  double pct = change / base * 100;
  v[prefix + "change_percent"] = TemplateNumber{pct, NumberFormat{false, true, 1}};
  v[prefix + "change_percent_abs"] = TemplateNumber{std::abs(pct), NumberFormat{false, true, 1}};
}

TemplateValues values_of(const Kpi& kpi, const Series& s, const std::vector<std::pair<Period, double>>& points,
                         Direction direction) {
  NumberFormat f{false, true, kpi.precision()};
  TemplateValues v;
  v["kpi_name"] = TemplateLabel{kpi.id, kpi.name_ja, kpi.name_en};
  v["kpi"] = kpi.id;
  TemplateLabel unit{std::string(to_string(kpi.unit)), std::string(kpi.unit_name(Lang::ja)),
                     std::string(kpi.unit_name(Lang::en))};
  v["unit"] = unit;
  v["series_name"] = TemplateLabel{"", series_label(kpi, s.dims, Lang::ja), series_label(kpi, s.dims, Lang::en)};
  for (const auto& [name, value] : s.dims)
    if (const Dimension* d = kpi.dimension(name))
      v["dims." + name] =
          TemplateLabel{value, std::string(d->label(value, Lang::ja)), std::string(d->label(value, Lang::en))};
  v["figures"] = TemplateFigures{points, f, unit, true};
  v["values"] = TemplateFigures{points, f, unit, false};
  v["direction"] = direction;
  if (kpi.is_items()) v["items"] = item_list(kpi, s.points.back().submission.items);
  const auto& [first_period, first] = points.front();
  const auto& [period, value] = points.back();
  v["first"] = TemplateNumber{first, f};
  v["first_period"] = first_period;
  v["value"] = TemplateNumber{value, f};
  v["period"] = period;
  if (first != 0) v["ratio"] = TemplateRatio{value / first};
  if (points.size() >= 2) {
    const auto& [previous_period, previous] = points[points.size() - 2];
    v["previous"] = TemplateNumber{previous, f};
    v["previous_period"] = previous_period;
    add_changes(v, "", value, previous, f);
    v["baseline"] = TemplateNumber{first, f};
    v["baseline_period"] = first_period;
    add_changes(v, "baseline_", value, first, f);
  }
  return v;
}

// The direction the entry reads in the KPI's figures, if it speaks of them and the direction fits.
std::optional<Direction> entry_direction(const ReportTemplates& templates, const ReportTemplates::Entry& e,
                                         const ReportKpi& kpi) {
  if (e.kpi != kpi.kpi) return std::nullopt;
  const Series* s = report_series(kpi, e.dims);
  if (!s) return std::nullopt;
  auto compared = numbers(*kpi.kpi, *s);
  if (compared.empty()) return std::nullopt;
  if (e.against_previous && compared.size() > 2) compared.erase(compared.begin(), compared.end() - 2);
  Direction d = points_direction(compared, e.tolerance.value_or(templates.tolerance()));
  if (!e.when.empty() && std::find(e.when.begin(), e.when.end(), d) == e.when.end()) return std::nullopt;
  return d;
}

// The entry's sentence for the KPI, if the entry speaks of it and its direction fits.
std::optional<ReportText> render_entry(const ReportTemplates& templates, const ReportTemplates::Entry& e,
                                       const ReportKpi& kpi) {
  auto d = entry_direction(templates, e, kpi);
  if (!d) return std::nullopt;
  const Series& s = *report_series(kpi, e.dims);
  auto v = values_of(*kpi.kpi, s, numbers(*kpi.kpi, s), *d);
  return ReportText{e.ja.render(v, Lang::ja), e.en.render(v, Lang::en)};
}

std::vector<ReportText> render_all(const ReportTemplates& templates,
                                   const std::vector<std::shared_ptr<const ReportTemplates::Entry>>& entries,
                                   const ReportKpi& kpi) {
  std::vector<ReportText> out;
  for (const auto& e : entries)
    if (auto text = render_entry(templates, *e, kpi)) out.push_back(std::move(*text));
  return out;
}

}  // namespace

std::vector<ReportText> render_headlines(const ReportTemplates& templates, const ReportKpi& kpi) {
  return render_all(templates, templates.headlines(), kpi);
}

std::vector<ReportText> render_progress(const ReportTemplates& templates, const ReportKpi& kpi) {
  return render_all(templates, templates.progress(), kpi);
}

std::optional<TemplateReading> template_reading(const ReportTemplates& templates, const ReportKpi& kpi) {
  for (const auto& e : templates.headlines())
    if (e->verdict)
      if (auto d = entry_direction(templates, *e, kpi)) return TemplateReading{*e->verdict, *d};
  return std::nullopt;
}

}  // namespace kpiwatch::views
