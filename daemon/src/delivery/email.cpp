// What an alert's email says, and when digests go out (docs/NOTIFICATIONS.md, "Email").
#include "kpiwatch/email.hpp"

#include <date/tz.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>

#include "kpiwatch/figure_csv.hpp"
#include "kpiwatch/json.hpp"
#include "kpiwatch/rules.hpp"
#include "kpiwatch/series.hpp"

namespace kpiwatch {
namespace json = boost::json;

namespace {

constexpr std::size_t kFigures = 6;  // the periods of the series an email shows

std::string period_text(const Kpi* kpi, const std::string& period, Lang lang) {
  if (!kpi) return period;
  auto p = parse_period(period, kpi->period);
  return p ? period_name(p.value(), lang) : period;
}

// The figure a change is compared against, from the series.
std::optional<double> reference(const Series& series, const RuleCriterion& c, const Period& at) {
  std::optional<double> found;
  for (const auto& point : series.points) {
    const Period& p = point.period;
    bool hit = c.against == RuleCriterion::Against::baseline        ? c.baseline && p == *c.baseline
               : c.against == RuleCriterion::Against::last_reported ? p < at
                                                                    : p == at.previous();
    if (hit && point.value()) found = point.value();
  }
  return found;
}

// The series' last figures up to the alert's period: [period, figure, is the alert's].
json::array figures_json(const Series& series, const Period& at, const Kpi& kpi, Lang lang) {
  std::vector<const SeriesPoint*> shown;
  for (const auto& p : series.points)
    if (!(at < p.period) && p.value()) shown.push_back(&p);
  if (shown.size() > kFigures) shown.erase(shown.begin(), shown.end() - static_cast<std::ptrdiff_t>(kFigures));
  json::array out;
  for (const auto* p : shown)
    out.push_back(json::array{period_name(p->period, lang), figure_with_unit(*p->value(), kpi, lang), p->period == at});
  return out;
}

// The Japanese or English name of a catalog entry (goal, body, KPI), or `fallback` without one.
template <class Named>
std::string name_in(const Named* named, Lang lang, std::string fallback) {
  if (!named) return fallback;
  return lang == Lang::ja ? named->name_ja : named->name_en;
}

std::string label_of(const AlertRecord& a, const std::string& name) {
  auto it = a.labels.find(name);
  return it == a.labels.end() ? std::string() : it->second;
}

std::string text_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

std::string email_item(const AlertRecord& a, std::string_view event, Lang lang, const RuleSet* rules,
                       const SeriesIndex& index, const std::string& external_url) {
  bool ja = lang == Lang::ja;
  const Catalog* catalog = rules ? &rules->catalog() : nullptr;
  const Kpi* kpi = catalog ? catalog->find(a.kpi) : nullptr;
  const Goal* goal = kpi && catalog ? catalog->goal(kpi->goal) : nullptr;
  bool overdue = label_of(a, "criterion") == "missing_data";
  // A missing figure's body is the one that owes it; otherwise the body that reports the KPI.
  std::string body = overdue ? label_of(a, "body") : kpi && !kpi->bodies.empty() ? kpi->bodies.front() : "";
  const Body* body_entry = catalog && !body.empty() ? catalog->body(body) : nullptr;

  json::object o{{"lang", to_string(lang)},
                 {"event", event},
                 {"fingerprint", a.fingerprint},
                 {"rule", a.rule_id},
                 {"severity", to_string(a.severity)},
                 {"overdue", overdue},
                 {"goal", kpi ? kpi->goal : 0},
                 {"goal_name", name_in(goal, lang, "")},
                 {"body", body},
                 {"body_name", name_in(body_entry, lang, body)},
                 {"kpi_name", name_in(kpi, lang, a.kpi)},
                 {"period", period_text(kpi, a.period, lang)},
                 {"summary", ja ? a.summary_ja : a.summary_en},
                 {"description", ja ? a.description_ja : a.description_en},
                 {"url", external_url + "/alerts/" + a.fingerprint},
                 {"since", format_rfc3339(a.firing_since ? a.firing_since : a.active_since)},
                 {"resolved_at", format_rfc3339(a.resolved_at)}};
  if (a.value && kpi && !overdue) o["value"] = figure_with_unit(*a.value, *kpi, lang);  // overdue: a count missing
  if (!kpi) return serialize_json(o);

  Dims dims;
  for (const auto& d : kpi->dims)
    if (auto v = label_of(a, d.name); !v.empty()) dims[d.name] = v;
  o["series"] = series_label(*kpi, dims, lang);
  auto at = parse_period(a.period, kpi->period);
  if (!at) return serialize_json(o);
  const Series* s = overdue ? nullptr : index.find(kpi->id, dims);
  if (s) o["figures"] = figures_json(*s, at.value(), *kpi, lang);
  if (auto c = rules->criterion(a.rule_id, *kpi)) {
    o["criterion"] = ja ? c->ja : c->en;
    std::optional<double> ref =
        s && c->bound == RuleCriterion::Bound::change ? reference(*s, *c, at.value()) : std::nullopt;
    if (auto bound = c->bound_value(ref)) o["bound"] = c->bound_label(*bound, *kpi, lang);
  }
  return serialize_json(o);
}

bool is_email_item(std::string_view body) { return body.starts_with(R"({"lang":)"); }

// Headers -------------------------------------------------------------------

std::string encode_header(std::string_view text) {
  bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
  if (plain) return std::string(text);
  // Encoded words of at most 42 bytes of text (56 of base64) keep every line within 78
  // characters, and a word never splits a UTF-8 character (RFC 2047, 5).
  constexpr std::size_t kChunk = 42;
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = std::min(text.size(), i + kChunk);
    while (end < text.size() && end > i && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    if (end == i) end = std::min(text.size(), i + kChunk);  // not UTF-8 there: cut anyway, never stall
    auto chunk = text.substr(i, end - i);
    std::string b64(4 * ((chunk.size() + 2) / 3), '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                            reinterpret_cast<const unsigned char*>(chunk.data()), static_cast<int>(chunk.size()));
    b64.resize(static_cast<std::size_t>(std::max(n, 0)));
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + b64 + "?=";
    i = end;
  }
  return out;
}

// Dates ---------------------------------------------------------------------

namespace {

const date::time_zone* zone_of(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return date::locate_zone("UTC");
  }
}

// 「2026年12月2日 18:00（日本時間）」 / "2 December 2026, 18:00 JST".
std::string local_time_text(TimePoint t, const std::string& zone_name, Lang lang) {
  const auto* zone = zone_of(zone_name);
  auto local = zone->to_local(std::chrono::floor<std::chrono::seconds>(t));
  auto day = std::chrono::floor<std::chrono::days>(local);
  std::chrono::hh_mm_ss clock{std::chrono::floor<std::chrono::minutes>(local - day)};
  auto info = zone->get_info(std::chrono::floor<std::chrono::seconds>(t));
  std::string date = date_name(std::chrono::year_month_day(std::chrono::sys_days(day.time_since_epoch())), lang);
  if (lang == Lang::ja)
    return fmt::format("{} {:02}:{:02}（{}）", date, clock.hours().count(), clock.minutes().count(),
                       zone_name == "Asia/Tokyo" ? std::string("日本時間") : info.abbrev);
  return fmt::format("{}, {:02}:{:02} {}", date, clock.hours().count(), clock.minutes().count(), info.abbrev);
}

std::string local_date_text(TimePoint t, const std::string& zone_name, Lang lang) {
  auto local = zone_of(zone_name)->to_local(std::chrono::floor<std::chrono::seconds>(t));
  auto day = std::chrono::floor<std::chrono::days>(local);
  return date_name(std::chrono::year_month_day(std::chrono::sys_days(day.time_since_epoch())), lang);
}

// "Tue, 01 Dec 2026 09:00:00 +0000" (RFC 5322, 3.3).
std::string rfc5322_date(TimePoint t) {
  static constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto day = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd(day);
  std::chrono::hh_mm_ss clock{std::chrono::floor<std::chrono::seconds>(t - day)};
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} +0000", kDays[std::chrono::weekday(day).c_encoding()],
                     static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1],
                     static_cast<int>(ymd.year()), clock.hours().count(), clock.minutes().count(),
                     clock.seconds().count());
}

}  // namespace

TimePoint next_digest(const DigestConfig& digest, TimePoint now) {
  const auto* zone = zone_of(digest.time_zone);
  auto local_now = zone->to_local(std::chrono::floor<std::chrono::seconds>(now));
  auto day = std::chrono::floor<std::chrono::days>(local_now);
  auto at = [&](date::local_days d) {
    auto local = d + std::chrono::minutes(digest.minute_of_day);
    // A local time that a clock change skips or repeats: its first instant.
    return TimePoint(zone->to_sys(local, date::choose::earliest));
  };
  date::local_days d{day.time_since_epoch()};
  if (digest.every == DigestConfig::Every::weekly) {
    auto today = static_cast<int>(std::chrono::weekday(std::chrono::sys_days(d.time_since_epoch())).c_encoding());
    d += std::chrono::days((digest.weekday - today + 7) % 7);
  }
  auto step = std::chrono::days(digest.every == DigestConfig::Every::weekly ? 7 : 1);
  while (at(d) <= now) d += step;
  return at(d);
}

// Composition ---------------------------------------------------------------

namespace {

struct Item {
  json::object o;
  std::string event() const { return text_of(o, "event"); }
  bool overdue() const {
    const auto* v = o.if_contains("overdue");
    return v && v->is_bool() && v->get_bool();
  }
  std::int64_t goal() const {
    const auto* v = o.if_contains("goal");
    return v && v->is_int64() ? v->get_int64() : 0;
  }
  std::string operator[](std::string_view key) const { return text_of(o, key); }
};

struct Words {
  bool ja;
  const char* pick(const char* j, const char* e) const { return ja ? j : e; }
};

std::string severity_word(const std::string& severity, Words w) {
  if (severity == "critical") return w.pick("重大", "critical");
  if (severity == "info") return w.pick("情報", "info");
  return w.pick("警告", "warning");
}

std::string goal_word(std::int64_t goal, Words w) {
  return goal > 0 ? fmt::format(fmt::runtime(w.pick("ゴール{}", "Goal {}")), goal) : std::string();
}

// "発生" / "fired", as a digest or group lists it.
std::string event_word(const Item& item, Words w) {
  std::string e = item.event();
  if (e == "resolved") return item.overdue() ? w.pick("提出済み", "submitted") : w.pick("解消", "resolved");
  if (e == "repeat") return w.pick("継続中", "still firing");
  return item.overdue() ? w.pick("期限超過", "overdue") : w.pick("発生", "fired");
}

struct Rendered {
  std::string text, html;
};

// The facts of an alert, each a label and its text, in the order people read them.
std::vector<std::pair<std::string, std::string>> facts_of(const Item& item, const std::string& zone, Words w) {
  std::vector<std::pair<std::string, std::string>> facts;
  std::string kpi = item["kpi_name"];
  if (auto s = item["series"]; !s.empty()) kpi = fmt::format(fmt::runtime(w.pick("{}（{}）", "{} ({})")), kpi, s);
  facts.emplace_back(w.pick("指標", "KPI"), kpi);
  if (auto g = goal_word(item.goal(), w); !g.empty())
    facts.emplace_back(w.pick("目標", "Goal"),
                       item["goal_name"].empty() ? g : fmt::format("{} {}", g, item["goal_name"]));
  facts.emplace_back(w.pick("対象期間", "Period"), item["period"]);
  if (auto c = item["criterion"]; !c.empty()) facts.emplace_back(w.pick("基準", "Criterion"), c);
  if (auto b = item["bound"]; !b.empty()) facts.emplace_back(w.pick("基準値", "Bound"), b);
  if (auto v = item["value"]; !v.empty()) facts.emplace_back(w.pick("今回の数値", "Figure"), v);
  if (auto b = item["body_name"]; !b.empty()) facts.emplace_back(w.pick("報告主体", "Reporting body"), b);
  facts.emplace_back(w.pick("重大度", "Severity"), severity_word(item["severity"], w));
  Lang lang = w.ja ? Lang::ja : Lang::en;
  if (auto since = parse_rfc3339(item["since"]))
    facts.emplace_back(w.pick("発生日時", "Fired"), local_time_text(*since, zone, lang));
  if (item.event() == "resolved")
    if (auto at = parse_rfc3339(item["resolved_at"]))
      facts.emplace_back(w.pick("解消日時", "Resolved"), local_time_text(*at, zone, lang));
  return facts;
}

// The series' figures, the alert's marked.
void render_figures(Rendered& out, const json::array& figures, Words w) {
  out.text += w.pick("  推移:\n", "  Figures:\n");
  out.html += fmt::format("<p>{}</p>\n<table>\n", w.pick("推移", "Figures"));
  for (const auto& f : figures) {
    if (!f.is_array() || f.get_array().size() != 3) continue;
    const auto& row = f.get_array();
    std::string period(row[0].is_string() ? row[0].get_string() : "");
    std::string value(row[1].is_string() ? row[1].get_string() : "");
    bool current = row[2].is_bool() && row[2].get_bool();
    out.text += fmt::format("    {}  {}{}\n", period, value, current ? w.pick("  ← 今回", "  <- this figure") : "");
    out.html += fmt::format("<tr><td>{}</td><td align=\"right\">{}</td><td>{}</td></tr>\n", html_escape(period),
                            current ? fmt::format("<b>{}</b>", html_escape(value)) : html_escape(value),
                            current ? html_escape(w.pick("今回", "this figure")) : "");
  }
  out.html += "</table>\n";
}

// One alert's part of an email: its summary, then the figures and the criterion behind it.
void render_item(Rendered& out, const Item& item, const ReceiverConfig& receiver, Words w, bool headed) {
  std::string summary = item["summary"];
  if (headed) summary = fmt::format("［{}］{}", event_word(item, w), summary);
  out.text += fmt::format("■ {}\n", summary);
  out.html += fmt::format("<h3>{}</h3>\n", html_escape(summary));
  if (auto d = item["description"]; !d.empty()) {
    out.text += fmt::format("{}\n", d);
    out.html += fmt::format("<p>{}</p>\n", html_escape(d));
  }
  out.html += "<table>\n";
  for (const auto& [k, v] : facts_of(item, receiver.email.time_zone, w)) {
    out.text += fmt::format("  {}: {}\n", k, v);
    out.html += fmt::format("<tr><th align=\"left\">{}</th><td>{}</td></tr>\n", html_escape(k), html_escape(v));
  }
  out.html += "</table>\n";
  if (const auto* figures = item.o.if_contains("figures"); figures && figures->is_array())
    render_figures(out, figures->get_array(), w);
  std::string link = item["url"];
  out.text += fmt::format("  {}: {}\n\n", w.pick("詳細（推移のグラフと履歴）", "Details (chart and history)"), link);
  out.html += fmt::format("<p><a href=\"{}\">{}</a></p>\n", html_escape(link),
                          w.pick("推移のグラフと履歴を見る", "See the chart and the history"));
}

std::string counts_text(const std::vector<Item>& items, Words w) {
  std::map<std::string, int> counts;
  std::vector<std::string> order;
  for (const auto& i : items) {
    std::string word = event_word(i, w);
    if (!counts.contains(word)) order.push_back(word);
    ++counts[word];
  }
  std::string out;
  for (const auto& word : order)
    out += (out.empty() ? "" : w.pick("、", ", ")) +
           (w.ja ? fmt::format("{}{}件", word, counts[word]) : fmt::format("{} {}", counts[word], word));
  return out;
}

std::string subject_of(EmailKind kind, const std::vector<Item>& items, const DigestConfig* digest, TimePoint date,
                       Words w) {
  std::string prefix = w.pick("【kpiwatch】", "[kpiwatch] ");
  if (kind == EmailKind::digest && digest) {
    bool weekly = digest->every == DigestConfig::Every::weekly;
    std::string day = local_date_text(date, digest->time_zone, w.ja ? Lang::ja : Lang::en);
    return w.ja
               ? fmt::format("{}{}ダイジェスト（{}）: {}", prefix, weekly ? "週次" : "日次", day, counts_text(items, w))
               : fmt::format("{}{} digest, {}: {}", prefix, weekly ? "Weekly" : "Daily", day, counts_text(items, w));
  }
  if (kind == EmailKind::group && items.size() > 1) {
    std::int64_t goal = items.front().goal();
    bool one_goal = std::all_of(items.begin(), items.end(), [&](const Item& i) { return i.goal() == goal; });
    std::string where = one_goal && goal > 0 ? goal_word(goal, w) + ": " : "";
    return w.ja ? fmt::format("{}{}アラート{}件（{}）", prefix, where, items.size(), counts_text(items, w))
                : fmt::format("{}{}{} alerts ({})", prefix, where, items.size(), counts_text(items, w));
  }
  const Item& item = items.front();
  std::string e = item.event();
  std::string state = e == "resolved" ? w.pick("解消: ", "Resolved: ")
                      : e == "repeat" ? w.pick("継続中: ", "Still firing: ")
                                      : "";
  std::string goal = goal_word(item.goal(), w);
  return prefix + state + (goal.empty() ? "" : goal + ": ") + item["summary"];
}

std::string opening(EmailKind kind, const std::vector<Item>& items, Words w) {
  if (kind == EmailKind::digest)
    return w.pick("前回のダイジェスト以降に発生・解消・期限超過となったアラートです。",
                  "The alerts that fired, resolved or became overdue since the last digest.");
  if (kind == EmailKind::group && items.size() > 1)
    return w.pick("医療機器基本計画のフォローアップで、次のアラートがありました。",
                  "The follow-up raised or cleared these alerts.");
  std::string e = items.front().event();
  if (e == "resolved")
    return items.front().overdue() ? w.pick("未提出だった数値が提出されました。", "The missing figures have arrived.")
                                   : w.pick("次のアラートは解消しました。", "This alert has resolved.");
  if (e == "repeat") return w.pick("次のアラートは続いています。", "This alert is still firing.");
  return items.front().overdue() ? w.pick("報告期限を過ぎても数値が提出されていません。", "Figures are overdue.")
                                 : w.pick("医療機器基本計画のフォローアップで、次の指標が基準を外れました。",
                                          "A KPI of the follow-up has crossed its criterion.");
}

// A digest: what fired and resolved by goal, then what is overdue by reporting body.
void render_digest(Rendered& out, const std::vector<Item>& items, const ReceiverConfig& receiver, Words w) {
  std::map<std::int64_t, std::vector<const Item*>> by_goal;
  std::map<std::string, std::vector<const Item*>> by_body;
  for (const auto& i : items)
    if (i.overdue())
      by_body[i["body_name"]].push_back(&i);
    else
      by_goal[i.goal()].push_back(&i);
  if (!by_goal.empty()) {
    out.text += w.pick("◆ 目標別\n\n", "◆ By goal\n\n");
    out.html += std::string("<h2>") + w.pick("目標別", "By goal") + "</h2>\n";
  }
  for (const auto& [goal, list] : by_goal) {
    std::string heading = goal > 0 ? goal_word(goal, w) : w.pick("目標なし", "No goal");
    if (auto name = (*list.front())["goal_name"]; !name.empty()) heading = fmt::format("{} {}", heading, name);
    out.text += fmt::format("【{}】\n", heading);
    out.html += fmt::format("<h2>{}</h2>\n", html_escape(heading));
    for (const Item* i : list) render_item(out, *i, receiver, w, true);
  }
  if (!by_body.empty()) {
    out.text += w.pick("◆ 報告主体別（報告期限）\n\n", "◆ By reporting body (deadlines)\n\n");
    out.html += std::string("<h2>") + w.pick("報告主体別（報告期限）", "By reporting body (deadlines)") + "</h2>\n";
  }
  for (const auto& [body, list] : by_body) {
    std::string heading = body.empty() ? w.pick("報告主体なし", "No reporting body") : body;
    out.text += fmt::format("【{}】\n", heading);
    out.html += fmt::format("<h2>{}</h2>\n", html_escape(heading));
    for (const Item* i : list) render_item(out, *i, receiver, w, true);
  }
}

std::string address_list(const std::vector<std::string>& addresses) {
  std::string out;
  for (const auto& a : addresses) out += (out.empty() ? "" : ", ") + a;
  return out;
}

}  // namespace

MailMessage compose_email(const ReceiverConfig& receiver, EmailKind kind, const std::vector<std::string>& items_json,
                          const std::string& key, TimePoint date, const std::string& external_url,
                          const DigestConfig* digest) {
  std::vector<Item> items;
  for (const auto& text : items_json) {
    boost::system::error_code ec;
    if (auto v = json::parse(text, ec); !ec && v.is_object()) items.push_back({std::move(v.get_object())});
  }
  const EmailConfig& e = receiver.email;
  Lang lang = e.language;
  if (!items.empty()) parse_lang(items.front()["lang"], lang);  // the route's language, chosen when queued
  Words w{lang == Lang::ja};

  MailMessage m;
  m.envelope_from = e.from_address;
  m.recipients = e.to;
  m.recipients.insert(m.recipients.end(), e.cc.begin(), e.cc.end());
  if (items.empty()) items.push_back({json::object{{"summary", w.pick("（内容なし）", "(no content)")}}});
  m.subject = subject_of(kind, items, digest, date, w);

  Rendered r;
  std::string intro = opening(kind, items, w);
  r.text = intro + "\n\n";
  r.html = "<!DOCTYPE html>\n<html lang=\"" + std::string(to_string(lang)) +
           "\"><head><meta charset=\"utf-8\"><title>" + html_escape(m.subject) + "</title></head><body>\n<p>" +
           html_escape(intro) + "</p>\n";
  if (kind == EmailKind::digest)
    render_digest(r, items, receiver, w);
  else
    for (const auto& i : items) render_item(r, i, receiver, w, kind == EmailKind::group && items.size() > 1);
  std::string footer =
      fmt::format(fmt::runtime(w.pick("このメールは kpiwatch が自動で送信しています。アラートの一覧: {}",
                                      "Sent by kpiwatch. All alerts: {}")),
                  external_url + "/alerts");
  r.text += "-- \n" + footer + "\n";
  r.html += "<hr><p><small>" + html_escape(footer) + "</small></p>\n</body></html>\n";
  m.text = std::move(r.text);
  m.html = std::move(r.html);

  std::string from = e.from_name.empty() ? e.from_address
                     : std::all_of(e.from_name.begin(), e.from_name.end(), [](char c) { return c >= 0x20 && c < 0x7f; })
                         ? fmt::format("\"{}\" <{}>", e.from_name, e.from_address)
                         : fmt::format("{} <{}>", encode_header(e.from_name), e.from_address);
  std::string domain = e.from_address.substr(e.from_address.find('@') + 1);
  m.headers = {"From: " + from, "To: " + address_list(e.to), "Subject: " + encode_header(m.subject),
               "Date: " + rfc5322_date(date),
               // The same for every attempt: a relay or a reader sees a retried send as the same message.
               fmt::format("Message-ID: <{}@{}>", key, domain), "MIME-Version: 1.0",
               "Content-Language: " + std::string(to_string(lang)), "Auto-Submitted: auto-generated"};
  if (!e.cc.empty()) m.headers.insert(m.headers.begin() + 2, "Cc: " + address_list(e.cc));
  return m;
}

}  // namespace kpiwatch
