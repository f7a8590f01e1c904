#pragma once
// The HTTP API under /api/v1, plus /healthz and /readyz.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>

#include "http/server.hpp"
#include "ingest/alert_engine.hpp"
#include "kpiwatch/auth.hpp"
#include "kpiwatch/catalog.hpp"
#include "kpiwatch/delivery.hpp"
#include "kpiwatch/ingest.hpp"
#include "kpiwatch/metrics.hpp"
#include "kpiwatch/settings.hpp"
#include "kpiwatch/store.hpp"

namespace kpiwatch {

class Api {
 public:
  using QueryParams = std::vector<std::pair<std::string, std::string>>;
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
  // Alerts, notifications and metrics. REQUIRES: set before requests arrive.
  void set_alerting(std::shared_ptr<AlertEngine> engine, Delivery* delivery, Metrics* metrics, const Clock* clock) {
    engine_ = std::move(engine);
    delivery_ = delivery;
    metrics_ = metrics;
    clock_ = clock;
  }

 private:
  void post_submissions(const Request& request, Respond respond);
  void post_reload(const Request& request, const Respond& respond);
  // Runs `job` on the writer thread and answers with what it returns.
  void write(std::function<Response(Store&)> job, Respond respond);
  const TokenConfig* admin(const Request& request, const Respond& respond) const;
  void post_silence(const Request& request, Respond respond);
  void delete_silence(const Request& request, const std::string& id, Respond respond);
  void post_ack(const Request& request, const std::string& fingerprint, Respond respond);
  void post_requeue(const Request& request, const std::string& id, Respond respond);
  Response get_silences();
  Response get_outbox(const QueryParams& params);
  Response get_metrics();
  // The token of the Authorization header; answers 401 and returns null if none.
  const TokenConfig* authenticate(const Request& request, const Respond& respond) const;
  Response get_kpis() const;
  Response get_kpi(const Kpi& kpi) const;
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
  std::shared_ptr<AlertEngine> engine_;
  Delivery* delivery_ = nullptr;
  Metrics* metrics_ = nullptr;
  const Clock* clock_ = nullptr;
  std::atomic<bool> ready_ = false;
};

}  // namespace kpiwatch
