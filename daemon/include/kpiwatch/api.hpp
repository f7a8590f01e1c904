#pragma once
// The HTTP API under /api/v1, plus /healthz and /readyz.

#include <atomic>
#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "kpiwatch/auth.hpp"
#include "kpiwatch/catalog.hpp"
#include "kpiwatch/http_server.hpp"
#include "kpiwatch/ingest.hpp"
#include "kpiwatch/settings.hpp"
#include "kpiwatch/store.hpp"

namespace kpiwatch {

class Api {
 public:
  // `reader` is used on the io_context thread only; writes go through `ingest`.
  Api(boost::asio::io_context& io, std::shared_ptr<const Catalog> catalog, Store& reader, Ingest& ingest,
      std::shared_ptr<const Auth> auth, ValidationLimits limits);

  // Called on the io_context thread.
  void handle(Request&& request, Respond respond);
  // /readyz answers 200 only while ready.
  void set_ready(bool ready) { ready_ = ready; }
  // Swaps in a reloaded catalog and tokens; requests already running keep theirs.
  // REQUIRES: called on the io_context thread.
  void swap(std::shared_ptr<const Catalog> catalog, std::shared_ptr<const Auth> auth, ValidationLimits limits);
  // What POST /api/v1/reload runs: a full dry-run load, swapped in only if it succeeds.
  using Reloader = std::function<Diagnostics()>;
  void set_reloader(Reloader reloader) { reloader_ = std::move(reloader); }

 private:
  void post_submissions(const Request& request, Respond respond);
  void post_reload(const Request& request, Respond respond);
  // The token of the Authorization header; answers 401 and returns null if none.
  const TokenConfig* authenticate(const Request& request, const Respond& respond) const;
  Response get_kpis() const;
  Response get_kpi(const Kpi& kpi) const;
  using QueryParams = std::vector<std::pair<std::string, std::string>>;
  Response get_series(const Kpi& kpi, const QueryParams& params);
  Response get_alerts(const QueryParams& params);
  Response get_alert(const std::string& fingerprint);

  boost::asio::io_context& io_;
  std::shared_ptr<const Catalog> catalog_;
  Store& reader_;
  Ingest& ingest_;
  std::shared_ptr<const Auth> auth_;
  ValidationLimits limits_;
  Reloader reloader_;
  std::atomic<bool> ready_ = false;
};

// The HTTP status for a validation error code (400, 413 or 422).
http::status status_for(const Error& error);
// {"error": {"code", "message", "field", "index"}}
std::string error_json(const Error& error);

}  // namespace kpiwatch
