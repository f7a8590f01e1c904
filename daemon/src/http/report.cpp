// The follow-up report as a page: GET /report?year=&lang= (report/report_html.cpp draws it).
#include "kpiwatch/report.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <chrono>

#include "http/api.hpp"
#include "http/errors.hpp"
#include "report/report_html.hpp"

namespace kpiwatch {
namespace {

// The report's policy: nothing fetched, no script; its one <style> element by its hash.
const std::string& report_csp() {
  static const std::string csp = [] {
    std::string_view css = report_css();
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(css.data()), css.size(), digest);
    unsigned char base64[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
    EVP_EncodeBlock(base64, digest, SHA256_DIGEST_LENGTH);
    return "default-src 'none'; style-src 'sha256-" + std::string(reinterpret_cast<char*>(base64)) +
           "'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  }();
  return csp;
}

struct ReportQuery {
  std::optional<int> year;
  Lang lang = Lang::ja;
};

Result<ReportQuery> report_query(const QueryParams& params) {
  ReportQuery q;
  for (const auto& [key, value] : params) {
    if (key == "lang") {
      if (!parse_lang(value, q.lang)) return bad_parameter("lang", "lang must be ja or en");
    } else if (key == "year") {
      q.year = views::parse_year(value);
      if (!q.year) return bad_parameter("year", "year must be a year such as 2024");
    }
  }
  return q;
}

}  // namespace

Response Api::get_report(const Call& call) const {
  auto query = report_query(call.query);
  if (!query) return error_response(query.error());
  TimePoint now = clock_ ? clock_->now() : std::chrono::system_clock::now();
  auto rules = engine_ ? engine_->current_rules() : nullptr;
  if (!rules) return error_response(ErrorCode::not_ready, "the rules are not loaded yet");
  auto report = views::report(reader_, *call.catalog, *rules, *report_templates_, query.value().year, now);
  if (!report) return error_response(report.error());
  Response res{http::status::ok, call.request.version()};
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-cache");
  res.set(http::field::server, "kpiwatch");
  res.set("Content-Security-Policy", report_csp());
  res.body() = render_report_html(report.value(), query.value().lang);
  return res;
}

}  // namespace kpiwatch
