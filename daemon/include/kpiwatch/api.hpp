#pragma once
// The HTTP API under /api/v1, plus /healthz and /readyz.

#include <atomic>
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
      const Auth& auth, ValidationLimits limits);

  void handle(Request&& request, Respond respond);
  // /readyz answers 200 only while ready.
  void set_ready(bool ready) { ready_ = ready; }

 private:
  void post_submissions(const Request& request, Respond respond);
  Response get_kpis() const;
  Response get_kpi(const Kpi& kpi) const;
  using QueryParams = std::vector<std::pair<std::string, std::string>>;
  Response get_series(const Kpi& kpi, const QueryParams& params);

  boost::asio::io_context& io_;
  std::shared_ptr<const Catalog> catalog_;
  Store& reader_;
  Ingest& ingest_;
  const Auth& auth_;
  ValidationLimits limits_;
  std::atomic<bool> ready_ = false;
};

// The HTTP status for a validation error code (400, 413 or 422).
http::status status_for(const Error& error);
// {"error": {"code", "message", "field", "index"}}
std::string error_json(const Error& error);

}  // namespace kpiwatch
