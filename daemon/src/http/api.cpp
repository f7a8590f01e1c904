#include "http/api.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
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
  spdlog::debug("request {} {} ({} bytes)", request.method_string(), request.target(), request.body().size());
  auto target = boost::urls::parse_origin_form(request.target());
  RouteMatch found;
  if (target) found = match_route(routes(), target->segments(), request.method());
  respond = counted(request, found.label, std::move(respond));
  if (!target) return respond(error_response(ErrorCode::bad_target, "malformed request target"));
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
          method = std::string(request.method_string()), target = std::string(request.target()),
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
