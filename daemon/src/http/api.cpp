#include "http/api.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "http/errors.hpp"
#include "http/pages.hpp"
#include "http/read_pool.hpp"

namespace kpiwatch {

namespace {

// Two readers for the API's reads (the machine this runs on has a few cores; the
// writer has one), and one for reports, which read every figure.
constexpr std::size_t kReaders = 2;
constexpr std::size_t kReadsWaiting = 256;
constexpr std::size_t kReportsWaiting = 4;

// Query parameters that would carry a token: refused, and never logged.
bool names_a_token(std::string_view key) {
  constexpr std::string_view names[] = {"access_token", "token",  "api_key",    "apikey",
                                        "auth",         "bearer", "auth_token", "authorization"};
  for (auto name : names)
    if (boost::beast::iequals(key, name)) return true;
  return false;
}

// The target as logs show it: a token-like parameter's value is never written.
std::string loggable_target(std::string_view target) {
  auto question = target.find('?');
  if (question == std::string_view::npos) return std::string(target);
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return std::string(target.substr(0, question)) + "?(unreadable query)";
  std::string out(target.substr(0, question + 1));
  bool first = true;
  for (auto param : parsed->encoded_params()) {
    out += first ? "" : "&";
    first = false;
    out.append(param.key.data(), param.key.size());
    if (!param.has_value) continue;
    out += '=';
    if (names_a_token(param.key.decode()))
      out += "(redacted)";
    else
      out.append(param.value.data(), param.value.size());
  }
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// A body is JSON in UTF-8, as sent: Content-Type application/json (charset utf-8
// if one is named) and no content coding, which the daemon does not undo.
std::optional<Error> body_refused(const Request& request) {
  auto unsupported = [](std::string field, std::string message) {
    return Error{ErrorCode::unsupported_media_type, std::move(message), std::move(field), {}};
  };
  for (const auto& field : request.base())
    if (field.name() == http::field::content_encoding && !boost::beast::iequals(trim(field.value()), "identity"))
      return unsupported("Content-Encoding",
                         "Content-Encoding is not supported: send the body uncompressed (identity)");
  if (request.body().empty() && request.method() != http::verb::post) return std::nullopt;
  if (request.body().empty() && request.find(http::field::content_type) == request.end()) return std::nullopt;
  constexpr std::string_view kNeeded = "a request body needs \"Content-Type: application/json\"";
  if (request.count(http::field::content_type) != 1) return unsupported("Content-Type", std::string(kNeeded));
  std::string_view value = request[http::field::content_type];
  auto semicolon = value.find(';');
  if (!boost::beast::iequals(trim(value.substr(0, semicolon)), "application/json"))
    return unsupported("Content-Type", std::string(kNeeded));
  while (semicolon != std::string_view::npos) {
    value.remove_prefix(semicolon + 1);
    semicolon = value.find(';');
    auto parameter = value.substr(0, semicolon);
    auto equals = parameter.find('=');
    if (equals == std::string_view::npos || !boost::beast::iequals(trim(parameter.substr(0, equals)), "charset"))
      continue;
    auto charset = trim(parameter.substr(equals + 1));
    if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"')
      charset = charset.substr(1, charset.size() - 2);
    if (!boost::beast::iequals(charset, "utf-8"))
      return unsupported("Content-Type", "a request body is JSON in UTF-8: charset must be utf-8 if named");
  }
  return std::nullopt;
}

}  // namespace

Api::Api(boost::asio::io_context& io, std::shared_ptr<const Catalog> catalog, const StoreOptions& storage,
         Ingest& ingest, std::shared_ptr<const Auth> auth, ValidationLimits limits,
         std::shared_ptr<const views::ReportTemplates> report_templates)
    : io_(io),
      catalog_(std::move(catalog)),
      report_templates_(std::move(report_templates)),
      ingest_(ingest),
      auth_(std::move(auth)),
      limits_(limits),
      reads_(std::make_unique<ReadPool>(storage, kReaders, kReadsWaiting)),
      reports_(std::make_unique<ReadPool>(storage, 1, kReportsWaiting)) {}

Api::~Api() = default;

void Api::swap(std::shared_ptr<const Catalog> catalog, std::shared_ptr<const Auth> auth, ValidationLimits limits,
               std::shared_ptr<const views::ReportTemplates> report_templates) {
  catalog_ = std::move(catalog);
  report_templates_ = std::move(report_templates);
  auth_ = std::move(auth);
  limits_ = limits;
}

void Api::handle(Request&& incoming, Respond respond, StartStream stream) {
  // Held by the call, which a read takes to another thread.
  auto held = std::make_shared<Request>(std::move(incoming));
  const Request& request = *held;
  spdlog::debug("request {} {} ({} bytes)", request.method_string(), loggable_target(request.target()),
                request.body().size());
  auto target = boost::urls::parse_origin_form(request.target());
  RouteMatch found;
  if (target) found = match_route(routes(), target->segments(), request.method());
  respond = counted(request, found.label, std::move(respond));
  if (!target) return respond(error_response(ErrorCode::bad_target, "malformed request target"));
  for (auto param : target->params())
    if (names_a_token(param.key))
      return respond(error_response(bad_parameter(
          param.key, fmt::format("tokens go in the \"Authorization: Bearer <token>\" header, never in the URL (\"{}\")",
                                 param.key))));
  std::string path = target->encoded_path().decode();
  if (found.allow.empty()) {
    // Outside the API a person reads the answer: the status page's 404.
    bool page =
        !path.starts_with("/api/") && (request.method() == http::verb::get || request.method() == http::verb::head);
    return respond(page ? page_not_found(request) : error_response(ErrorCode::not_found, "no such resource: " + path));
  }
  if (!found.route) {
    auto res = error_response(ErrorCode::method_not_allowed,
                              fmt::format("{} is not allowed on {}", request.method_string(), path));
    res.set(http::field::allow, found.allow);
    return respond(std::move(res));
  }
  auto call =
      std::make_shared<Call>(Call{request, std::move(found.segments), {}, catalog_, auth_, nullptr, std::move(stream)});
  for (auto param : target->params()) call->query.emplace_back(param.key, param.value);
  if (!authorize(*found.route, *call, respond)) return;
  if (auto refused = body_refused(request)) return respond(error_response(*refused));
  const auto& handler = found.route->handler;
  if (const auto* reply = std::get_if<Route::Reply>(&handler)) return respond((this->*(*reply))(*call));
  // Other threads hold the answer until it is sent; the session it holds is released on the loop.
  respond = loop_bound(std::move(respond));
  if (const auto* reading = std::get_if<Route::Read>(&handler)) {
    call->stream = nullptr;  // a read does not stream; the stream would hold the session too
    return read([this, reading = *reading, call, held](Store& store) { return (this->*reading)(*call, store); },
                respond, held->version());
  }
  // A handler that answers later may read its request until then.
  (this->*std::get<Route::Handle>(handler))(
      *call, [respond = std::move(respond), held](Response res) { respond(std::move(res)); });
}

Respond Api::counted(const Request& request, std::string_view label, Respond respond) const {
  return [inner = std::move(respond), started = std::chrono::steady_clock::now(),
          method = std::string(request.method_string()), target = loggable_target(request.target()),
          route = std::string(label), metrics = metrics_](Response res) {
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    spdlog::debug("response {} {} {} in {:.1f} ms", res.result_int(), method, target, ms);
    if (metrics)
      metrics->add("kpiwatch_http_requests_total", {{"route", route}, {"status", std::to_string(res.result_int())}});
    inner(std::move(res));
  };
}

bool Api::authorize(const Route& route, Call& call, const Respond& respond) const {
  if (route.access == Access::open) return true;
  if (route.access == Access::read && !call.auth->reads_need_token()) return true;
  auto header = call.request[http::field::authorization];
  call.token = header.empty() ? nullptr : call.auth->authenticate(header);
  if (!call.token) {
    auto res = error_response(ErrorCode::unauthorized, !header.empty() ? "the bearer token is not valid"
                                                       : route.access == Access::read
                                                           ? "reads need an \"Authorization: Bearer <token>\" header "
                                                             "([api] read_token = true)"
                                                           : "writes need an \"Authorization: Bearer <token>\" header");
    res.set(http::field::www_authenticate, R"(Bearer realm="kpiwatch")");
    respond(std::move(res));
    return false;
  }
  if (route.access == Access::admin && !call.token->admin) {
    respond(error_response(ErrorCode::forbidden, std::string(route.forbidden)));
    return false;
  }
  if (route.access == Access::token && call.token->read_only()) {
    respond(error_response(ErrorCode::forbidden, fmt::format("token \"{}\" may only read", call.token->name)));
    return false;
  }
  return true;
}

Respond Api::loop_bound(Respond respond) const {
  // The deleter runs where the last copy goes; the Respond (and the session in it) is
  // destroyed on the loop, or with the io_context if that has stopped.
  auto held = std::shared_ptr<Respond>(new Respond(std::move(respond)), [&io = io_](Respond* r) {
    boost::asio::post(io, [owned = std::unique_ptr<Respond>(r)] {});
  });
  return [held](Response res) { (*held)(std::move(res)); };
}

void Api::on_loop(const Respond& respond, Response response) const {
  boost::asio::post(
      io_, [respond, response = std::make_shared<Response>(std::move(response))] { respond(std::move(*response)); });
}

void Api::read(std::function<Response(Store&)> job, const Respond& respond, unsigned version) const {
  auto answer = [this, job = std::move(job), respond, version](Store* store, const Error* error) {
    on_loop(respond, store ? job(*store) : error_response(*error, version));
  };
  if (!reads_->post(std::move(answer)))
    respond(error_response(ErrorCode::too_many_connections, "too many reads are waiting; try again in a moment"));
}

void Api::write(std::function<Response(Store&)> job, Respond respond) const {
  ingest_.post([this, job = std::move(job), respond = std::move(respond)](Store& store) mutable {
    auto response = std::make_shared<Response>(job(store));
    boost::asio::post(io_, [respond = std::move(respond), response] { respond(std::move(*response)); });
  });
}

}  // namespace kpiwatch
