// `kpiwatch eval` (or `backtest`): the alerts the rules raise in each period
// of the stored history or of a file, and the missing data as of a day.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <tuple>

#include "commands/setup.hpp"
#include "kpiwatch/importer.hpp"
#include "kpiwatch/json.hpp"
#include "kpiwatch/messages.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {
namespace {

// One line per alert ending in its summary, and its description below it, in `lang`.
void print_alerts(const std::vector<Evaluation>& evaluations, Lang lang) {
  for (const auto& e : evaluations)
    for (const auto& a : e.active) {
      std::string dims;
      for (const auto& [k, v] : a.labels)
        if (k != "rule" && k != "kpi" && k != "goal" && k != "severity" && k != "area")
          dims += fmt::format("{}{}={}", dims.empty() ? "" : ",", k, v);
      const bool ja = lang == Lang::ja;
      fmt::print("  {:<8} {:<8} {:<40} {:<24} {}\n", to_string(a.state), to_string(a.severity), a.rule_id,
                 dims.empty() ? "-" : dims, ja ? a.summary_ja : a.summary_en);
      std::string description = ja ? a.description_ja : a.description_en;
      for (std::size_t at = description.find('\n'); at != std::string::npos; at = description.find('\n', at + 1))
        description.insert(at + 1, "      ");  // every line of it under the summary
      if (!description.empty()) fmt::print("      {}\n", description);
    }
}

boost::json::array alerts_json(const std::vector<Evaluation>& evaluations) {
  boost::json::array out;
  for (const auto& e : evaluations)
    for (const auto& a : e.active) {
      boost::json::object labels;
      for (const auto& [k, v] : a.labels) labels[k] = v;
      boost::json::value value;
      if (a.value) value = *a.value;
      out.push_back(boost::json::object{{"fingerprint", a.fingerprint},
                                        {"rule", a.rule_id},
                                        {"kpi", a.kpi},
                                        {"state", to_string(a.state)},
                                        {"severity", to_string(a.severity)},
                                        {"period", a.period.str()},
                                        {"value", std::move(value)},
                                        {"labels", std::move(labels)},
                                        {"summary_ja", a.summary_ja},
                                        {"summary_en", a.summary_en},
                                        {"description_ja", a.description_ja},
                                        {"description_en", a.description_en}});
    }
  return out;
}

std::size_t count_active(const std::vector<Evaluation>& evaluations) {
  std::size_t n = 0;
  for (const auto& e : evaluations) n += e.active.size();
  return n;
}

// Fills `index` from `input` if given, else from the database; 0, or the exit code.
int load_history(const Setup& setup, const std::string& input, SeriesIndex& index) {
  if (!input.empty()) {
    auto content = read_input_file(input);
    if (!content) return 2;
    auto batch = read_import(*setup.catalog, *content, guess_format(input, *content), input, setup.settings.limits);
    if (!batch) {
      fmt::print(stderr, "{}\n", batch.error().message);
      return 1;
    }
    for (const auto& s : batch.value()) index.upsert(s.kpi, s.dims, Point{s.period, s.value, s.items});
    return 0;
  }
  auto store = open_existing_store(setup.settings, "--config, --state-dir or --input FILE");
  if (!store) return 2;
  auto read = store->revisions().for_each_current(
      [&](const std::string& kpi, const Dims& dims, Point p) { index.upsert(kpi, dims, std::move(p)); });
  if (!read) {
    fmt::print(stderr, "{}\n", read.error().message);
    return 2;
  }
  return 0;
}

// Every period that holds a figure, in time order (fiscal years after calendar years of the same number).
std::vector<Period> periods_of(const SeriesIndex& index) {
  std::map<std::tuple<int, int, int>, Period> by_key;
  for (const Series* s : index.all())
    for (const auto& p : s->points)
      by_key[std::make_tuple(p.period.year, p.period.sub, static_cast<int>(p.period.kind))] = p.period;
  std::vector<Period> periods;
  periods.reserve(by_key.size());
  for (const auto& [key, period] : by_key) periods.push_back(period);
  return periods;
}

void print_text(const RuleSet& rules, const SeriesIndex& index, TimePoint now, Lang lang) {
  const bool ja = lang == Lang::ja;
  auto alerts = [ja](std::size_t n) {
    return ja ? fmt::format("アラート {} 件", n) : fmt::format("{} alert{}", n, n == 1 ? "" : "s");
  };
  if (ja)
    fmt::print("ルール {} 件、系列 {} 件\n", rules.size(), index.size());
  else
    fmt::print("{} rules over {} series\n", rules.size(), index.size());
  for (const Period& p : periods_of(index)) {
    auto evaluations = rules.evaluate_at(index, p);
    if (ja)
      fmt::print("\n{}（{}）\n", period_name(p, lang), alerts(count_active(evaluations)));
    else
      fmt::print("\n{} ({})\n", p.str(), alerts(count_active(evaluations)));
    print_alerts(evaluations, lang);
  }
  auto deadlines = rules.evaluate_deadlines(index, now);
  const std::string day = format_rfc3339(now).substr(0, 10);
  if (ja)
    fmt::print("\n{} 時点の未提出（{}）\n", day, alerts(count_active(deadlines)));
  else
    fmt::print("\nmissing data as of {} ({})\n", day, alerts(count_active(deadlines)));
  print_alerts(deadlines, lang);
}

void print_json(const RuleSet& rules, const SeriesIndex& index, TimePoint now) {
  boost::json::array by_period;
  for (const Period& p : periods_of(index))
    by_period.push_back(boost::json::object{{"period", p.str()}, {"alerts", alerts_json(rules.evaluate_at(index, p))}});
  auto deadlines = rules.evaluate_deadlines(index, now);
  fmt::print("{}\n", serialize_json(boost::json::object{
                         {"rules", rules.size()},
                         {"series", index.size()},
                         {"periods", std::move(by_period)},
                         {"missing_data", boost::json::object{{"as_of", format_rfc3339(now).substr(0, 10)},
                                                              {"alerts", alerts_json(deadlines)}}}}));
}

}  // namespace

int run_eval(const CommonOptions& options, const std::vector<std::string>& rule_paths, const std::string& input,
             const std::string& at, const std::string& format, const std::string& lang_name) {
  if (format != "text" && format != "json") {
    fmt::print(stderr, "--format must be text or json, not \"{}\"\n", format);
    return 2;
  }
  Lang lang = Lang::en;
  if (!choose_lang(lang_name, lang)) {
    fmt::print(stderr, "--lang must be ja or en, not \"{}\"\n", lang_name);
    return 2;
  }
  auto setup = load_setup_or_print(options, rule_paths, lang);
  if (!setup) return 2;
  auto now = at.empty() ? std::optional<TimePoint>(std::chrono::system_clock::now()) : parse_day(at);
  if (!now) {
    fmt::print(stderr, "--at must be a date, YYYY-MM-DD, not \"{}\"\n", at);
    return 2;
  }
  SeriesIndex index;
  if (int failed = load_history(*setup, input, index)) return failed;
  if (format == "json")
    print_json(*setup->rules, index, *now);
  else
    print_text(*setup->rules, index, *now, lang);
  return 0;
}

}  // namespace kpiwatch
