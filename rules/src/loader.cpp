// Rule files → compiled rules: read with positions, check against the catalog.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "embedded_rules.hpp"
#include "kpiwatch/toml_reader.hpp"
#include "rule.hpp"

namespace kpiwatch {
namespace fs = std::filesystem;

namespace {

// "3 months", "90 days", "1 month".
bool parse_due(std::string_view text, Missing& out) {
  static const std::regex pattern("^\\s*([0-9]{1,4})\\s*(day|days|month|months)\\s*$");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(text.begin(), text.end(), m, pattern)) return false;
  int n = std::stoi(m[1].str());
  if (m[2].str().starts_with("day"))
    out.days = n;
  else
    out.months = n;
  return true;
}

bool is_rule_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

// Compiles a rule file; rules go to `out`, problems to `diags`.
class RuleReader {
 public:
  RuleReader(const RuleSource& source, const Catalog& catalog, Diagnostics& diags)
      : source_(source), catalog_(catalog), diags_(diags) {}

  void read(std::vector<std::unique_ptr<Rule>>& out) {
    auto root = parse_toml(source_.text, source_.name, diags_);
    if (!root) return;
    TomlTable top(*root, "", source_.name, diags_);
    for (std::size_t i = 0; const auto* t : top.tables("rule")) {
      auto rule = read_rule(*t, i++);
      if (rule) out.push_back(std::move(rule));
    }
    top.reject_unknown_keys();
  }

 private:
  // At byte `offset` of the text of the string value `node`, as the file shows it: columns
  // count characters (as toml++ does), escapes count as written, multi-line strings span lines.
  void error_at(const toml::node& node, std::size_t offset, const std::string& message) {
    const auto& begin = node.source().begin;
    int line = static_cast<int>(begin.line), column = static_cast<int>(begin.column);
    const std::string& text = source_.text;
    auto char_size = [&](std::size_t at) -> std::size_t {
      auto c = static_cast<unsigned char>(text[at]);
      return c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    };
    std::size_t i = 0;  // the byte of the opening quote
    for (int l = 1; l < line && i < text.size(); ++i)
      if (text[i] == '\n') ++l;
    for (int c = 1; c < column && i < text.size(); ++c) i += char_size(i);
    if (line < 1 || i >= text.size() || (text[i] != '"' && text[i] != '\'')) {
      diags_.push_back({source_.name, line, column + 1 + static_cast<int>(offset), message});
      return;
    }
    auto step = [&] {
      if (text[i] == '\n') {
        ++line;
        column = 1;
        ++i;
      } else {
        i += char_size(i);
        ++column;
      }
    };
    bool basic = text[i] == '"';
    bool multi = text.compare(i, 3, std::string(3, text[i])) == 0;
    for (int k = 0; k < (multi ? 3 : 1); ++k) step();
    if (multi && text.compare(i, 2, "\r\n") == 0) {
      step();
      step();
    } else if (multi && i < text.size() && text[i] == '\n') {
      step();
    }
    for (std::size_t decoded = 0; decoded < offset && i < text.size();) {
      char c = text[i];
      char next = i + 1 < text.size() ? text[i + 1] : '\0';
      if (basic && c == '\\' && (next == 'u' || next == 'U')) {
        std::size_t digits = next == 'u' ? 4 : 8;
        unsigned long cp = std::strtoul(text.substr(i + 2, digits).c_str(), nullptr, 16);
        decoded += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        for (std::size_t k = 0; k < 2 + digits && i < text.size(); ++k) step();
      } else if (basic && multi && c == '\\' && (next == ' ' || next == '\t' || next == '\r' || next == '\n')) {
        step();  // a line-ending backslash: it and the whitespace after it are no text
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) step();
      } else if ((basic && c == '\\') || (c == '\r' && next == '\n')) {
        decoded += 1;  // an escape, or CRLF: two characters written, one decoded
        step();
        step();
      } else {
        decoded += char_size(i);
        step();
      }
    }
    diags_.push_back({source_.name, line, column, message});
  }

  // At the key `name` of an inline table such as dims = { stage = "x" }.
  void error_at_key(TomlTable& r, const toml::table& table, std::string_view name, bool at_value,
                    const std::string& message) {
    for (const auto& [k, v] : table)
      if (k.str() == name) {
        const auto& at = !at_value && k.source().begin ? k.source().begin : v.source().begin;
        diags_.push_back({source_.name, static_cast<int>(at.line), static_cast<int>(at.column),
                          fmt::format("{}: {}", r.where(), message)});
        return;
      }
    r.error(table, message);
  }

  std::optional<Template> read_template(TomlTable& r, const toml::table& t, std::string_view key, bool required) {
    auto text = r.string(key, required);
    if (!text) return std::nullopt;
    auto compiled = Template::compile(*text);
    if (auto* e = std::get_if<Template::Error>(&compiled)) {
      error_at(*t.get(key), e->offset, fmt::format("{}: \"{}\": {}", r.where(), key, e->message));
      return std::nullopt;
    }
    return std::get<Template>(std::move(compiled));
  }

  Labels read_string_table(TomlTable& r, std::string_view key) {
    Labels out;
    const auto* t = r.table(key);
    if (!t) return out;
    for (const auto& [k, v] : *t) {
      if (auto s = v.value<std::string>(); s && v.is_string())
        out[std::string(k.str())] = *s;
      else
        r.error(v, fmt::format("\"{}.{}\" must be a string", key, k.str()));
    }
    return out;
  }

  std::unique_ptr<Rule> read_rule(const toml::table& t, std::size_t index) {
    std::string where = fmt::format("rule[{}]", index);
    if (const auto* id = t.get_as<std::string>("id")) where = fmt::format("rule \"{}\"", id->get());
    TomlTable r(t, where, source_.name, diags_);
    std::size_t errors_before = diags_.size();

    auto rule = std::make_unique<Rule>();
    rule->file = source_.name;
    rule->line = static_cast<int>(t.source().begin.line);
    rule->id = r.string("id", true).value_or("");
    if (!rule->id.empty() && !is_rule_id(rule->id))
      r.error(*t.get("id"), "rule id must use a-z, 0-9, \"-\", \"_\" and \".\" only");
    rule->title = r.string("title", true).value_or("");

    auto kpi_pattern = r.string("kpi", true);
    if (kpi_pattern) {
      if (kpi_pattern->ends_with("*")) {
        std::string prefix = kpi_pattern->substr(0, kpi_pattern->size() - 1);
        for (const auto& k : catalog_.kpis())
          if (k.id.starts_with(prefix)) rule->kpis.push_back(&k);
        if (rule->kpis.empty()) r.error(*t.get("kpi"), fmt::format("no KPI matches \"{}\"", *kpi_pattern));
      } else if (const Kpi* k = catalog_.find(*kpi_pattern)) {
        rule->kpis.push_back(k);
      } else {
        r.error(*t.get("kpi"), fmt::format("unknown KPI \"{}\"", *kpi_pattern));
      }
    }
    bool wildcard = kpi_pattern && kpi_pattern->ends_with("*");

    auto dims = read_string_table(r, "dims");
    for (const auto& [name, value] : dims) {
      bool known = false;
      for (const Kpi* k : rule->kpis) {
        const Dimension* d = k->dimension(name);
        if (!d) continue;
        known = true;
        if (!d->allows(value))
          error_at_key(r, *t.get("dims")->as_table(), name, true,
                       fmt::format("\"{}\" is not a value of dimension \"{}\" of KPI \"{}\" (allowed: {})", value, name,
                                   k->id, fmt::join(d->values, ", ")));
      }
      if (!known && !rule->kpis.empty())
        error_at_key(r, *t.get("dims")->as_table(), name, false,
                     fmt::format("KPI \"{}\" has no dimension \"{}\"", *kpi_pattern, name));
    }
    rule->dims = Dims(dims.begin(), dims.end());
    if (wildcard && !rule->dims.empty())  // only KPIs that have every filtered dimension
      std::erase_if(rule->kpis, [&](const Kpi* k) {
        return std::any_of(rule->dims.begin(), rule->dims.end(), [&](auto& d) { return !k->dimension(d.first); });
      });

    if (auto severity = r.string("severity", true); severity && !parse_severity(*severity, rule->severity))
      r.error(*t.get("severity"), fmt::format("severity must be info, warning or critical, not \"{}\"", *severity));
    rule->labels = read_string_table(r, "labels");
    for (const auto& [k, v] : rule->labels)
      if (!is_identifier(k)) r.error(*t.get("labels"), fmt::format("label name \"{}\" must match [a-z][a-z0-9_]*", k));
    rule->receivers = r.strings("receivers").value_or(std::vector<std::string>{});
    if (auto hold = r.integer("hold_for")) {
      if (*hold < 1 || *hold > 120)
        r.error(*t.get("hold_for"), "\"hold_for\" must be 1–120 periods");
      else
        rule->hold_for = static_cast<int>(*hold);
    }
    if (auto s = read_template(r, t, "summary_ja", true)) rule->summary_ja = *s;
    if (auto s = read_template(r, t, "summary_en", true)) rule->summary_en = *s;
    if (auto s = read_template(r, t, "description_ja", false)) rule->description_ja = *s;
    if (auto s = read_template(r, t, "description_en", false)) rule->description_en = *s;

    read_condition(r, t, *rule, wildcard);
    r.reject_unknown_keys();

    for (const Kpi* k : rule->kpis) rule->reads.insert(k->id);
    if (auto* e = std::get_if<ExpressionCondition>(&rule->condition); e && e->expr) {
      std::vector<const Kpi*> kpis;
      collect_kpis(*e->expr, kpis);
      for (const Kpi* k : kpis) rule->reads.insert(k->id);
    }
    if (diags_.size() != errors_before) return nullptr;
    return rule;
  }

  void read_condition(TomlTable& r, const toml::table& t, Rule& rule, bool wildcard) {
    static const std::vector<std::string_view> kinds = {"threshold", "change",  "trend",     "stagnation",
                                                        "new_item",  "missing", "expression"};
    std::vector<std::string_view> present;
    for (auto kind : kinds)
      if (t.contains(kind)) present.push_back(kind);
    if (present.size() != 1) {
      r.error(present.empty()
                  ? fmt::format("a rule needs one condition table: [rule.{}]", fmt::join(kinds, "], [rule."))
                  : fmt::format("a rule has one condition, but this one has {}", fmt::join(present, ", ")));
      for (auto kind : kinds) r.table(kind);  // known keys, reported above
      return;
    }
    std::string_view kind = present[0];
    const toml::table* ct = r.table(kind);
    if (!ct) return;
    TomlTable c(*ct, fmt::format("{} [rule.{}]", r.where(), kind), source_.name, diags_);

    bool numbers = kind != "new_item" && kind != "missing" && kind != "expression";
    if (numbers || kind == "new_item") {
      bool want_items = kind == "new_item";
      if (wildcard) {
        std::erase_if(rule.kpis, [&](const Kpi* k) { return k->is_items() != want_items; });
        if (rule.kpis.empty()) r.error(*t.get("kpi"), fmt::format("no KPI matched by \"kpi\" fits [rule.{}]", kind));
      } else {
        for (const Kpi* k : rule.kpis)
          if (k->is_items() != want_items)
            r.error(*t.get("kpi"),
                    want_items ? fmt::format("[rule.new_item] needs an item-list KPI; \"{}\" is a {} KPI", k->id,
                                             to_string(k->unit))
                               : fmt::format("[rule.{}] needs a number KPI; \"{}\" is an item list (use new_item "
                                             "or count() in an expression)",
                                             kind, k->id));
      }
    }

    if (kind == "threshold") {
      Threshold th;
      int given = 0;
      for (auto [key, op] : {std::pair{"above", Threshold::Op::above},
                             {"at_or_above", Threshold::Op::at_or_above},
                             {"below", Threshold::Op::below},
                             {"at_or_below", Threshold::Op::at_or_below}}) {
        if (auto v = c.number(key)) {
          th.op = op;
          th.bound = *v;
        }
        if (ct->contains(key)) ++given;  // a bound of the wrong type is reported once, above
      }
      if (given != 1) c.error("give exactly one of above, at_or_above, below, at_or_below");
      rule.condition = th;
    } else if (kind == "change") {
      Change ch;
      auto direction = c.string("direction", true);
      if (direction && *direction != "falling" && *direction != "rising")
        c.error(*ct->get("direction"), "\"direction\" must be \"falling\" or \"rising\"");
      ch.falling = direction.value_or("falling") == "falling";
      auto by = c.string("by", true);
      if (by && *by != "points" && *by != "percent")
        c.error(*ct->get("by"), "\"by\" must be \"points\" or \"percent\"");
      ch.percent = by.value_or("points") == "percent";
      auto more = c.number("more_than");
      auto least = c.number("at_least");
      if (more && least) c.error("give more_than or at_least, not both");
      ch.amount = more.value_or(least.value_or(0));
      ch.inclusive = least.has_value();
      if (ch.amount < 0) c.error("the amount of change must not be negative; use direction");
      if (auto against = c.string("against")) {
        if (*against != "previous_period" && *against != "last_reported")
          c.error(*ct->get("against"), "\"against\" must be \"previous_period\" or \"last_reported\"");
        ch.last_reported = *against == "last_reported";
      }
      rule.condition = ch;
    } else if (kind == "trend") {
      Trend tr;
      auto declines = c.integer("declines");
      auto rises = c.integer("rises");
      auto window = c.integer("window");
      auto below = c.number("slope_below");
      auto above = c.number("slope_above");
      int forms = (declines ? 1 : 0) + (rises ? 1 : 0) + ((below || above) ? 1 : 0);
      if (forms != 1 || (below && above))
        c.error("give declines = N, rises = N, or window = N with slope_below or slope_above");
      if (declines || rises) {
        tr.kind = declines ? Trend::Kind::declines : Trend::Kind::rises;
        tr.periods = static_cast<int>(declines.value_or(rises.value_or(0)));
        if (tr.periods < 1 || tr.periods > 120) c.error("the number of steps must be 1–120");
        if (window) c.error("\"window\" goes with slope_below or slope_above");
      } else if (below || above) {
        tr.kind = below ? Trend::Kind::slope_below : Trend::Kind::slope_above;
        tr.bound = below.value_or(above.value_or(0));
        tr.periods = static_cast<int>(window.value_or(0));
        if (tr.periods < 2 || tr.periods > 120) c.error("a slope needs window = 2–120 periods");
      }
      rule.condition = tr;
    } else if (kind == "stagnation") {
      Stagnation st;
      st.window = static_cast<int>(c.integer("window", true).value_or(0));
      if (st.window < 1 || st.window > 120) c.error("\"window\" must be 1–120 periods");
      auto tolerance = c.number("tolerance");
      auto tolerance_percent = c.number("tolerance_percent");
      st.at_or_below = c.number("at_or_below");
      if ((tolerance ? 1 : 0) + (tolerance_percent ? 1 : 0) + (st.at_or_below ? 1 : 0) > 1)
        c.error("give one of tolerance, tolerance_percent, at_or_below");
      if (!st.at_or_below && st.window < 2) c.error("growth over a window needs window ≥ 2");
      st.tolerance = tolerance.value_or(tolerance_percent.value_or(0));
      st.tolerance_percent = tolerance_percent.has_value();
      rule.condition = st;
    } else if (kind == "new_item") {
      rule.condition = NewItem{};
    } else if (kind == "missing") {
      Missing m;
      if (auto due = c.string("due", true); due && !parse_due(*due, m))
        c.error(*ct->get("due"), fmt::format("\"due\" must be like \"3 months\" or \"90 days\", not \"{}\"", *due));
      if (rule.hold_for != 1) c.error("hold_for does not apply to missing-data rules");
      rule.condition = m;
    } else if (kind == "expression") {
      ExpressionCondition ec;
      if (auto text = c.string("expr", true); text && !rule.kpis.empty()) {
        if (wildcard) {
          c.error("an expression rule watches one KPI, not a pattern");
        } else {
          auto parsed = parse_expression(*text, catalog_, *rule.kpis[0]);
          if (auto* e = std::get_if<ExprError>(&parsed)) {
            error_at(*ct->get("expr"), e->offset, fmt::format("{} [rule.expression]: {}", r.where(), e->message));
          } else {
            auto expr = std::move(std::get<std::unique_ptr<Expr>>(parsed));
            if (!expr->is_boolean())
              error_at(
                  *ct->get("expr"), 0,
                  fmt::format("{} [rule.expression]: the expression must be a comparison (e.g. x < 50)", r.where()));
            ec.expr = std::move(expr);
          }
        }
      }
      rule.condition = std::move(ec);
    }
    c.reject_unknown_keys();
  }

  const RuleSource& source_;
  const Catalog& catalog_;
  Diagnostics& diags_;
};

}  // namespace

RuleSet::~RuleSet() = default;

Loaded<std::shared_ptr<const RuleSet>> RuleSet::load(const std::vector<RuleSource>& sources,
                                                     std::shared_ptr<const Catalog> catalog) {
  Diagnostics diags;
  std::shared_ptr<RuleSet> set(new RuleSet());
  set->catalog_ = std::move(catalog);
  for (const auto& source : sources) RuleReader(source, *set->catalog_, diags).read(set->rules_);

  std::map<std::string, const Rule*> ids;
  for (const auto& rule : set->rules_) {
    auto [it, inserted] = ids.emplace(rule->id, rule.get());
    if (!inserted)
      diags.push_back({rule->file, rule->line, 1,
                       fmt::format("duplicate rule id \"{}\" (first defined at {}:{})", rule->id, it->second->file,
                                   it->second->line)});
  }
  if (!diags.empty()) return diags;
  for (const auto& rule : set->rules_)
    for (const auto& kpi : rule->reads) set->readers_[kpi].push_back(rule.get());
  return std::shared_ptr<const RuleSet>(std::move(set));
}

Result<std::vector<RuleSource>> RuleSet::read_sources(const std::vector<std::string>& paths) {
  std::vector<RuleSource> out;
  auto read = [&](const fs::path& file) -> Status {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Error{ErrorCode::rules_error, fmt::format("{}: cannot open rule file", file.string()), "", {}};
    std::stringstream text;
    text << in.rdbuf();
    out.push_back({file.string(), text.str()});
    return ok_status();
  };
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(path, ec))
        if (entry.is_regular_file() && entry.path().extension() == ".toml") files.push_back(entry.path());
      if (ec) return Error{ErrorCode::rules_error, fmt::format("{}: {}", path, ec.message()), "", {}};
      std::sort(files.begin(), files.end());
      for (const auto& f : files)
        if (auto s = read(f); !s) return s.error();
    } else if (auto s = read(path); !s) {
      return s.error();
    }
  }
  return out;
}

std::vector<RuleSource> RuleSet::embedded_sources() {
  std::vector<RuleSource> out;
  for (const auto& [name, text] : embedded::rule_files())
    out.push_back({"config/rules/" + name + " (embedded)", std::string(text)});
  return out;
}

std::size_t RuleSet::size() const { return rules_.size(); }

std::vector<std::string> RuleSet::rule_ids() const {
  std::vector<std::string> out;
  for (const auto& r : rules_) out.push_back(r->id);
  return out;
}

std::vector<std::pair<std::string, std::string>> RuleSet::receiver_references() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : rules_)
    for (const auto& name : r->receivers) out.emplace_back(r->id, name);
  return out;
}

bool RuleSet::has_rule(std::string_view id) const {
  return std::any_of(rules_.begin(), rules_.end(), [&](const auto& r) { return r->id == id; });
}

bool RuleSet::covers(std::string_view id, std::string_view kpi, const Labels& labels) const {
  for (const auto& r : rules_) {
    if (r->id != id) continue;
    for (const Kpi* k : r->kpis) {
      if (k->id != kpi) continue;
      Dims dims;  // the series' dims, among the alert's labels
      for (const auto& d : k->dims)
        if (auto it = labels.find(d.name); it != labels.end()) dims[d.name] = it->second;
      return r->matches(dims);
    }
    return false;
  }
  return false;
}

}  // namespace kpiwatch
