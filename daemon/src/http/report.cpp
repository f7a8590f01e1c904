// The follow-up report as a page: GET /report?year=&lang= (report/report_html.cpp draws it).
#include "kpiwatch/report.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "http/api.hpp"
#include "http/errors.hpp"
#include "http/read_pool.hpp"
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

Response report_response(unsigned version, std::string html) {
  Response res{http::status::ok, version};
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-cache");
  res.set(http::field::server, "kpiwatch");
  res.set("Content-Security-Policy", report_csp());
  res.body() = std::move(html);
  return res;
}

}  // namespace

void Api::get_report(const Call& call, Respond reply) const {
  const Respond respond = std::move(reply);  // copied into the job, which may outlive this call
  auto query = report_query(call.query);
  if (!query) return respond(error_response(query.error()));
  auto rules = engine_ ? engine_->current_rules() : nullptr;
  if (!rules) return respond(error_response(ErrorCode::not_ready, "the rules are not loaded yet"));
  TimePoint now = clock_ ? clock_->now() : std::chrono::system_clock::now();
  // What the report reads, held for it: a reload meanwhile swaps in others for later requests.
  auto job = [this, catalog = call.catalog, rules, templates = report_templates_, q = query.value(), now,
              version = call.request.version(), respond](Store* store, const Error* error) {
    Response res = [&] {
      if (!store) return error_response(*error, version);
      auto report = views::report(*store, *catalog, *rules, *templates, q.year, now);
      if (!report) return error_response(report.error(), version);
      return report_response(version, render_report_html(report.value(), q.lang));
    }();
    on_loop(respond, std::move(res));
  };
  if (!reports_->post(std::move(job)))
    respond(error_response(ErrorCode::too_many_connections, "reports are being drawn; try again in a moment"));
}

}  // namespace kpiwatch
