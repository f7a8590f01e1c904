#pragma once
// The HTTP API under /api/v1, plus /healthz, /readyz and /metrics: the state
// its handlers share. The routes are in routes.cpp, the handlers one file per resource.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>

#include "http/events.hpp"
#include "http/routes.hpp"
#include "http/server.hpp"
#include "ingest/alert_engine.hpp"
#include "kpiwatch/auth.hpp"
#include "kpiwatch/catalog.hpp"
#include "kpiwatch/delivery.hpp"
#include "kpiwatch/ingest.hpp"
#include "kpiwatch/metrics.hpp"
#include "kpiwatch/report.hpp"
#include "kpiwatch/settings.hpp"
#include "kpiwatch/store.hpp"

namespace kpiwatch {

class ReadPool;  // read_pool.hpp

class Api {
 public:
  // Reads run on threads of their own, each with a connection to `storage`;
  // writes go through `ingest`.
  Api(boost::asio::io_context& io, std::shared_ptr<const Catalog> catalog, const StoreOptions& storage, Ingest& ingest,
      std::shared_ptr<const Auth> auth, ValidationLimits limits,
      std::shared_ptr<const views::ReportTemplates> report_templates);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Called on the io_context thread. `stream` is how a streaming route takes the connection over.
  void handle(Request&& request, Respond respond, StartStream stream = {});
  // /readyz answers 200 only while ready.
  void set_ready(bool ready) { ready_ = ready; }
  // Swaps in a reloaded catalog and tokens; requests already running keep theirs.
  // REQUIRES: called on the io_context thread.
  void swap(std::shared_ptr<const Catalog> catalog, std::shared_ptr<const Auth> auth, ValidationLimits limits,
            std::shared_ptr<const views::ReportTemplates> report_templates);
  // What POST /api/v1/reload runs: a full dry-run load, swapped in only if it
  // succeeds; `done` is called on the io_context thread with its errors.
  using Reloader = std::function<void(std::function<void(Diagnostics)> done)>;
  void set_reloader(Reloader reloader) { reloader_ = std::move(reloader); }
  // Alerts, notifications and metrics. REQUIRES: set before requests arrive.
  void set_alerting(std::shared_ptr<AlertEngine> engine, Delivery* delivery, Metrics* metrics, const Clock* clock) {
    engine_ = std::move(engine);
    delivery_ = delivery;
    metrics_ = metrics;
    clock_ = clock;
  }
  // Where GET /api/v1/events subscribes and what silences publish to. REQUIRES: set before requests arrive.
  void set_events(EventHub* events) { events_ = events; }

 private:
  // The route table (routes.cpp); Api::handle dispatches through it.
  static const std::vector<Route>& routes();
  // The metrics-counting, logging wrapper of a request's Respond.
  Respond counted(const Request& request, std::string_view label, Respond respond) const;
  // Checks the route's access; answers 401/403 and returns false if refused.
  bool authorize(const Route& route, Call& call, const Respond& respond) const;
  // Runs `job` on the writer thread and answers with what it returns.
  void write(std::function<Response(Store&)> job, Respond respond) const;
  // Runs `job` on a reader thread and answers with what it returns (503 if too many wait).
  void read(std::function<Response(Store&)> job, const Respond& respond, unsigned version) const;
  // `respond` as other threads may hold it: its last copy is destroyed on the io_context thread.
  Respond loop_bound(Respond respond) const;
  // Answers on the io_context thread, from any thread.
  void on_loop(const Respond& respond, Response response) const;

  // The handlers, one file per resource: ops.cpp, submissions.cpp, kpis.cpp,
  // goals.cpp, alerts.cpp, overdue.cpp, silences.cpp, outbox.cpp, events.cpp, pages.cpp.
  Response get_healthz(const Call& call) const;
  Response get_readyz(const Call& call) const;
  Response get_metrics(const Call& call) const;
  void post_reload(const Call& call, Respond respond) const;
  void post_submissions(const Call& call, Respond respond) const;
  Response get_kpis(const Call& call) const;
  Response get_kpi(const Call& call) const;
  Response get_series(const Call& call, Store& store) const;
  // export.cpp: figures as CSV.
  Response get_export_csv(const Call& call, Store& store) const;
  Response series_csv(const Call& call, Store& store, const Kpi& kpi, const SeriesQuery& query) const;
  Response get_alerts(const Call& call, Store& store) const;
  Response get_alert_groups(const Call& call, Store& store) const;
  Response get_alert(const Call& call, Store& store) const;
  Response get_goals(const Call& call, Store& store) const;
  Response get_goal(const Call& call, Store& store) const;
  Response get_overdue(const Call& call, Store& store) const;
  void get_events(const Call& call, Respond respond) const;
  void post_ack(const Call& call, Respond respond) const;
  Response get_silences(const Call& call, Store& store) const;
  void post_silence(const Call& call, Respond respond) const;
  void delete_silence(const Call& call, Respond respond) const;
  Response get_outbox(const Call& call, Store& store) const;
  void post_requeue(const Call& call, Respond respond) const;
  // The status page (pages.cpp): the HTML shell of each page, and /assets/*.
  Response get_overview_page(const Call& call) const;
  Response get_goal_page(const Call& call) const;
  Response get_alerts_page(const Call& call) const;
  Response get_alert_page(const Call& call, Store& store) const;
  Response get_asset(const Call& call) const;
  // The follow-up report (report.cpp), with a policy of its own.
  void get_report(const Call& call, Respond respond) const;

  boost::asio::io_context& io_;
  std::shared_ptr<const Catalog> catalog_;
  std::shared_ptr<const views::ReportTemplates> report_templates_;  // read against catalog_
  Ingest& ingest_;
  std::shared_ptr<const Auth> auth_;
  ValidationLimits limits_;
  Reloader reloader_;
  std::shared_ptr<AlertEngine> engine_;
  Delivery* delivery_ = nullptr;
  Metrics* metrics_ = nullptr;
  const Clock* clock_ = nullptr;
  EventHub* events_ = nullptr;
  std::unique_ptr<ReadPool> reads_;    // the API's reads
  std::unique_ptr<ReadPool> reports_;  // GET /report: long reads, which must not hold up the others
  std::atomic<bool> ready_ = false;
};

}  // namespace kpiwatch
