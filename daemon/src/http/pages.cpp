// The status page: the HTML shell of /, /goals/{number}, /alerts and
// /alerts/{fingerprint} (the ES modules in /assets draw the data), and /assets/*.
// The shell holds no data and no inline script or style, so it stays open.
#include "http/pages.hpp"

#include <fmt/format.h>

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <optional>

#include "http/api.hpp"
#include "http/web_assets.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {

namespace {

struct PageText {
  std::string_view site, skip, nav, overview, alerts, report, loading, noscript, footer, not_found, not_found_text,
      back;
};

const PageText& page_text(Lang lang) {
  static const PageText ja{"医療機器基本計画 KPI 状況",
                           "本文へ移動",
                           "サイト内の移動",
                           "概要",
                           "アラート",
                           "報告書",
                           "読み込み中です…",
                           "この画面を表示するには JavaScript を有効にしてください。",
                           "第2期医療機器基本計画の KPI 進捗 · kpiwatch",
                           "ページが見つかりません",
                           "お探しのページは存在しないか、移動しました。",
                           "概要に戻る"};
  static const PageText en{"Medical Device Basic Plan: KPI status",
                           "Skip to content",
                           "Site navigation",
                           "Overview",
                           "Alerts",
                           "Report",
                           "Loading…",
                           "This page needs JavaScript.",
                           "KPI progress of the 2nd Medical Device Basic Plan · kpiwatch",
                           "Page not found",
                           "The page you asked for does not exist or has moved.",
                           "Back to the overview"};
  return lang == Lang::ja ? ja : en;
}

// ?lang: absent → ja; ja or en; anything else → nullopt.
std::optional<Lang> page_lang(const boost::urls::url_view& target) {
  auto it = target.params().find("lang");
  if (it == target.params().end()) return Lang::ja;
  Lang lang{};
  if (!parse_lang((*it).value, lang)) return std::nullopt;
  return lang;
}

// The same page in `lang`: every other query parameter kept.
std::string with_lang(const boost::urls::url_view& target, Lang lang) {
  boost::urls::url url(target);
  url.params().set("lang", std::string(to_string(lang)));
  return std::string(url.encoded_target());
}

std::string lang_link(std::string_view path, Lang lang) {
  return lang == Lang::ja ? std::string(path) : fmt::format("{}?lang=en", path);
}

struct Shell {
  std::string page;   // data-page: overview, goal, alerts, alert, not-found, bad-request
  std::string data;   // more body attributes: ` data-goal="6"`
  std::string title;  // escaped
  std::string main;   // escaped HTML of <main>
};

Response html_response(http::status status, std::string body) {
  Response res{status, 11};
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-cache");
  res.set(http::field::server, "kpiwatch");
  res.body() = std::move(body);
  return res;
}

void replace_all(std::string& text, std::string_view key, std::string_view value) {
  for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
    text.replace(at, key.size(), value);
}

std::string render(const Shell& shell, const boost::urls::url_view& target, Lang lang) {
  const PageText& t = page_text(lang);
  Lang other = lang == Lang::ja ? Lang::en : Lang::ja;
  std::string html(web_asset("shell.html")->body);
  // {{main}} last: nothing in it is read as a placeholder.
  const std::pair<std::string_view, std::string> values[] = {
      {"{{lang}}", std::string(to_string(lang))},
      {"{{other_lang}}", std::string(to_string(other))},
      {"{{title}}", shell.title},
      {"{{page}}", shell.page},
      {"{{data}}", shell.data},
      {"{{site}}", std::string(t.site)},
      {"{{skip}}", std::string(t.skip)},
      {"{{nav_label}}", std::string(t.nav)},
      {"{{nav_overview}}", std::string(t.overview)},
      {"{{nav_alerts}}", std::string(t.alerts)},
      {"{{home}}", lang_link("/", lang)},
      {"{{alerts}}", lang_link("/alerts", lang)},
      {"{{nav_report}}", std::string(t.report)},
      {"{{report}}", lang_link("/report", lang)},
      {"{{switch_href}}", html_escape(with_lang(target, other))},
      {"{{switch_text}}", other == Lang::ja ? "日本語" : "English"},
      {"{{footer}}", std::string(t.footer)},
      {"{{main}}", shell.main},
  };
  for (const auto& [key, value] : values) replace_all(html, key, value);
  return html;
}

Shell loading_shell(std::string page, std::string data, Lang lang) {
  const PageText& t = page_text(lang);
  return {
      std::move(page), std::move(data), std::string(t.site),
      fmt::format("<p class=\"loading\" data-loading>{}</p>\n<noscript><p>{}</p></noscript>", t.loading, t.noscript)};
}

Shell not_found_shell(Lang lang) {
  const PageText& t = page_text(lang);
  return {"not-found", "", fmt::format("{} · {}", t.not_found, t.site),
          fmt::format("<h1>{}</h1>\n<p>{}</p>\n<p><a href=\"{}\">{}</a></p>", t.not_found, t.not_found_text,
                      lang_link("/", lang), t.back)};
}

Response bad_lang_page(const boost::urls::url_view& target) {
  // The language asked for is unknown: both languages.
  Shell shell{"bad-request", "", "表示言語の指定が正しくありません / Unknown language",
              "<h1>表示言語の指定が正しくありません</h1>\n"
              "<p>lang には ja（日本語）または en（英語）を指定してください。</p>\n"
              "<h2 lang=\"en\">Unknown language</h2>\n<p lang=\"en\">lang must be ja (Japanese) or en (English).</p>\n"
              "<p><a href=\"/\">概要 / Overview</a></p>"};
  boost::urls::url plain(target);
  plain.params().erase("lang");
  return html_response(http::status::bad_request, render(shell, plain, Lang::ja));
}

// The shell of a page, or the 400 page if ?lang is unknown; `known` false gives the 404 page.
Response page(const Request& request, std::string name, std::string data, bool known) {
  auto target = boost::urls::parse_origin_form(request.target());
  if (!target) return html_response(http::status::bad_request, "");
  auto lang = page_lang(*target);
  if (!lang) return bad_lang_page(*target);
  if (!known) return html_response(http::status::not_found, render(not_found_shell(*lang), *target, *lang));
  return html_response(http::status::ok,
                       render(loading_shell(std::move(name), std::move(data), *lang), *target, *lang));
}

// If-None-Match holds the asset's ETag (or *).
bool matches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    auto comma = if_none_match.find(',');
    std::string_view tag = if_none_match.substr(0, comma);
    while (tag.starts_with(' ')) tag.remove_prefix(1);
    while (tag.ends_with(' ')) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag || tag == "*") return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

Response page_not_found(const Request& request) { return page(request, "", "", false); }

Response Api::get_overview_page(const Call& call) const { return page(call.request, "overview", "", true); }

Response Api::get_alerts_page(const Call& call) const { return page(call.request, "alerts", "", true); }

Response Api::get_goal_page(const Call& call) const {
  const std::string& text = call.segment("number");
  int number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  bool known = ec == std::errc{} && end == text.data() + text.size() && call.catalog->goal(number);
  return page(call.request, "goal", fmt::format(" data-goal=\"{}\"", number), known);
}

Response Api::get_alert_page(const Call& call, Store& store) const {
  const std::string& fingerprint = call.segment("fingerprint");
  auto alert = store.alerts().one(fingerprint);
  // A storage error still serves the shell: the page reports what the API says.
  bool known = !alert || alert.value().has_value();
  return page(call.request, "alert", fmt::format(" data-fingerprint=\"{}\"", html_escape(fingerprint)), known);
}

Response Api::get_asset(const Call& call) const {
  const WebAsset* asset = web_asset("assets/" + call.segment("name"));
  if (!asset) return page_not_found(call.request);
  bool fresh = matches(call.request[http::field::if_none_match], asset->etag);
  Response res{fresh ? http::status::not_modified : http::status::ok, 11};
  res.set(http::field::etag, asset->etag);
  res.set(http::field::cache_control, "no-cache");
  res.set(http::field::server, "kpiwatch");
  if (!fresh) {
    res.set(http::field::content_type, asset->content_type);
    res.body() = std::string(asset->body);
  }
  return res;
}

}  // namespace kpiwatch
