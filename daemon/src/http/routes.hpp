#pragma once
// The route table's shape and its matcher. The table itself, Api::routes() in
// routes.cpp, is the one list of endpoints: the dispatcher (Api::handle) takes
// each route's methods, access and metrics label from it, and from nowhere else.

#include <boost/url/segments_view.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "http/server.hpp"
#include "kpiwatch/auth.hpp"
#include "kpiwatch/catalog.hpp"

namespace kpiwatch {

class Api;
class Store;

// Query parameters in request order.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
// The named segments of a matched pattern: {"fingerprint", "3f2a..."}, decoded.
using PathSegments = std::vector<std::pair<std::string_view, std::string>>;

// What a handler receives. The catalog and tokens are those current when the
// request arrived, held so that a reload does not pull them away mid-request.
struct Call {
  const Request& request;
  PathSegments segments;
  QueryParams query;
  std::shared_ptr<const Catalog> catalog;
  std::shared_ptr<const Auth> auth;
  const TokenConfig* token = nullptr;  // the caller's token; null on open routes (and read ones, by default)
  StartStream stream;                  // takes the connection over for a streaming response

  // The value of `{name}`. REQUIRES: the route's pattern names it.
  const std::string& segment(std::string_view name) const;
};

enum class Access {
  open,   // anyone, always: health, metrics, the page shell and its assets
  read,   // an API read: anyone, or any valid token once [api] read_token = true
  token,  // any token that may write (which KPIs it may submit is checked by the handler)
  admin,  // an admin token
};

struct Route {
  using Reply = Response (Api::*)(const Call&) const;               // answers at once, on the event loop
  using Read = Response (Api::*)(const Call&, Store& store) const;  // answers from a reader thread
  using Handle = void (Api::*)(const Call&, Respond) const;         // answers later, e.g. after a write

  // "/api/v1/alerts/{fingerprint}/ack": literal or {named} segments. It is also
  // the route label of kpiwatch_http_requests_total.
  std::string_view pattern;
  http::verb method;  // GET also answers HEAD
  Access access;
  std::variant<Reply, Read, Handle> handler;
  std::string_view forbidden = "this needs an admin token";  // the 403 message of an admin route
};

// What the table says about a request's path and method.
struct RouteMatch {
  const Route* route = nullptr;  // null: no route of this path allows the method
  PathSegments segments;         // of `route`
  std::string allow;             // "GET, HEAD, POST": the methods of this path; empty if no route has it
  std::string_view label = "other";
};

// The named segments of `path` if it matches `pattern`; a named segment
// matches one non-empty segment.
std::optional<PathSegments> match_pattern(std::string_view pattern, boost::urls::segments_view path);
RouteMatch match_route(const std::vector<Route>& table, boost::urls::segments_view path, http::verb method);

// A positive integer id from a path segment, or not_found.
Result<std::int64_t> parse_id(std::string_view text);

}  // namespace kpiwatch
