// `kpiwatch serve`: start-up is a list of steps, each a small function.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>

#include "commands/setup.hpp"
#include "http/api.hpp"
#include "http/events.hpp"
#include "http/server.hpp"
#include "ingest/alert_engine.hpp"
#include "kpiwatch/auth.hpp"
#include "kpiwatch/commands.hpp"
#include "kpiwatch/delivery.hpp"
#include "kpiwatch/ingest.hpp"
#include "kpiwatch/metrics.hpp"
#include "kpiwatch/notifications.hpp"
#include "service/memory.hpp"
#include "service/service_notifier.hpp"

namespace kpiwatch {
namespace asio = boost::asio;

namespace {

struct Daemon {
  CommonOptions options;
  Setup setup;
  SystemClock clock;
  ServiceNotifier notifier;
  asio::io_context io{1};
  std::unique_ptr<EventHub> events;  // before the writer, which publishes to it
  std::unique_ptr<Ingest> ingest;
  std::shared_ptr<AlertEngine> engine;
  Metrics metrics;
  std::unique_ptr<WebhookClient> transport;
  // Its sends in progress keep io.run() going until they are answered (and recorded).
  std::unique_ptr<SmtpMailer> mailer;
  std::unique_ptr<Delivery> delivery;
  std::unique_ptr<asio::steady_timer> tick;
  std::unique_ptr<asio::steady_timer> external_check;
  std::unique_ptr<Api> api;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<asio::signal_set> stop_signals;
  std::unique_ptr<asio::signal_set> reload_signal;
  std::unique_ptr<asio::steady_timer> watchdog;
  std::unique_ptr<asio::steady_timer> trim;
  std::string listening;
  bool stopping = false;
  // Reloads read and compile the configuration here, one at a time, off the event loop.
  // Last: joined first, while what its jobs refer to still exists.
  asio::thread_pool reloads{1};
};

StoreOptions store_options(const Settings& s) { return {s.database_path(), s.synchronous, s.busy_timeout_ms}; }

std::string serving_status(const Daemon& d) {
  return fmt::format("serving {} KPIs on {}", d.setup.catalog->kpis().size(), d.listening);
}

void warn_if_no_tokens(const Settings& s) {
  if (s.read_token && s.tokens.empty())
    spdlog::warn("[api] read_token = true but no tokens are configured, so every API read is refused (401)");
  if (s.tokens.empty())
    spdlog::warn(
        "no tokens are configured, so submissions are refused (401). Create one with "
        "`kpiwatch token create --name NAME --body BODY` and add the printed block to a config file "
        "(see config/kpiwatch.example.toml)");
}

bool open_storage(Daemon& d) {
  const auto& s = d.setup.settings;
  d.notifier.status("opening the database");
  auto writer = Store::open(store_options(s));
  if (!writer) {
    spdlog::critical("cannot open the database {}: {}", s.database_path(), writer.error().message);
    return false;
  }
  if (s.load_bundled_dataset) {
    auto loaded = load_bundled_dataset(*writer.value(), *d.setup.catalog, d.clock);
    if (!loaded) {
      spdlog::critical("{}", loaded.error().message);
      return false;
    }
    if (loaded.value() > 0) spdlog::info("loaded the bundled dataset: {} figures", loaded.value());
  }
  d.ingest = std::make_unique<Ingest>(std::move(writer.value()), d.clock);
  d.engine = std::make_shared<AlertEngine>(d.setup.rules, nullptr, d.metrics);
  d.ingest->set_after_commit([engine = d.engine](Store& store, const std::vector<Revision>& stored, TimePoint now) {
    engine->on_stored(store, stored, now);
  });
  d.events = std::make_unique<EventHub>(d.io);
  d.engine->on_event([events = d.events.get()](std::string event, std::string data) {
    events->publish(std::move(event), std::move(data));
  });
  d.ingest->start();
  spdlog::info("database {} (schema {}, synchronous={})", s.database_path(), Store::current_schema_version(),
               s.synchronous);
  return true;
}

void finish_reload(Daemon& d, Setup next, const std::function<void(Diagnostics)>& done);

// A full dry-run load of config and catalog, swapped in only if it succeeds; `done`
// is called on the event loop with the errors, once the new rules are evaluated.
// The load and the evaluation run off the event loop.
void reload(Daemon& d, std::function<void(Diagnostics)> done) {
  spdlog::info("reloading {}", d.setup.settings.source);
  d.notifier.reloading("reloading configuration");
  asio::post(d.reloads, [&d, done = std::move(done)] {
    auto loaded = std::make_shared<Loaded<Setup>>(load_setup(d.options));
    asio::post(d.io, [&d, loaded, done] {
      if (auto* diags = std::get_if<Diagnostics>(loaded.get())) {
        for (const auto& diag : *diags) spdlog::error("reload: {}", diag.str());
        spdlog::error("reload failed with {} error(s); the previous configuration keeps running", diags->size());
        if (!d.stopping) d.notifier.ready(fmt::format("reload failed; {}", serving_status(d)));
        return done(*diags);
      }
      finish_reload(d, std::get<Setup>(std::move(*loaded)), done);
    });
  });
}

// On the event loop: the new catalog and tokens now, the rules once the writer has
// evaluated them (so that what is answered after `done` sees them).
void finish_reload(Daemon& d, Setup next, const std::function<void(Diagnostics)>& done) {
  const auto& old = d.setup.settings;
  const auto& now = next.settings;
  if (now.listen_host != old.listen_host || now.listen_port != old.listen_port ||
      now.database_path() != old.database_path() || now.synchronous != old.synchronous)
    spdlog::warn("listen address and storage settings take effect at the next restart");
  d.api->swap(next.catalog, std::make_shared<Auth>(now.tokens, now.read_token), now.limits, next.report_templates);
  auto notify = make_notify_config(now, d.listening);
  d.delivery->swap(notify);
  auto held = std::make_shared<Setup>(std::move(next));
  d.ingest->post([&d, rules = held->rules, notify, held, done](Store& store) {
    d.engine->swap_notify(notify);
    d.engine->swap_rules(store, rules, d.clock.now());
    asio::post(d.io, [&d, held, done] {
      const auto& settings = held->settings;
      spdlog::set_level(spdlog::level::from_str(settings.log_level));
      warn_if_no_tokens(settings);
      d.setup = std::move(*held);
      spdlog::info("reloaded: {} KPIs, {} rules, {} token(s)", d.setup.catalog->kpis().size(), d.setup.rules->size(),
                   d.setup.settings.tokens.size());
      if (!d.stopping) d.notifier.ready(serving_status(d));  // not READY once STOPPING was sent
      done({});
    });
  });
}

bool start_http(Daemon& d) {
  const auto& s = d.setup.settings;
  warn_if_no_tokens(s);
  d.api = std::make_unique<Api>(d.io, d.setup.catalog, store_options(s), *d.ingest,
                                std::make_shared<Auth>(s.tokens, s.read_token), s.limits, d.setup.report_templates);
  d.api->set_reloader([&d](std::function<void(Diagnostics)> done) { reload(d, std::move(done)); });
  d.api->set_events(d.events.get());
  ServerLimits limits{s.max_connections, s.max_body_bytes, std::size_t{16} * 1024, s.read_timeout, s.idle_timeout};
  d.server = std::make_unique<HttpServer>(d.io, limits,
                                          [api = d.api.get()](Request&& req, Respond respond, StartStream stream) {
                                            api->handle(std::move(req), std::move(respond), std::move(stream));
                                          });
  auto endpoint = d.server->listen(s.listen_host, s.listen_port);
  if (!endpoint) {
    spdlog::critical("{}", endpoint.error().message);
    return false;
  }
  d.listening = fmt::format("{}:{}", endpoint->address().to_string(), endpoint->port());
  spdlog::info("listening on {}", d.listening);
  return true;
}

// Rules evaluated at start-up, and the worker that delivers their notifications.
void describe_metrics(Metrics& m) {
  m.describe("kpiwatch_submissions_total", "counter", "Submissions by result (accepted, rejected, failed).");
  m.describe("kpiwatch_http_requests_total", "counter", "HTTP requests by route and status.");
  m.describe("kpiwatch_rule_evaluations_total", "counter", "Rule evaluations of a rule on a series.");
  m.describe("kpiwatch_rule_evaluation_seconds_sum", "counter", "Time spent evaluating rules after submissions.");
  m.describe("kpiwatch_rule_evaluation_seconds_count", "counter", "Evaluation passes after submissions.");
  m.describe("kpiwatch_alerts", "gauge", "Alerts by state.");
  m.describe("kpiwatch_notifications_total", "counter",
             "Notifications by receiver and result (sent, failed, retried, dead, suppressed).");
  m.describe("kpiwatch_outbox_depth", "gauge", "Notifications waiting to be delivered.");
  m.describe("kpiwatch_outbox_oldest_age_seconds", "gauge", "Age of the oldest notification waiting.");
}

// What would make an email receiver fail only at its first send (for a weekly digest, days later).
void warn_about_email(const NotifyConfig& notify) {
  for (const auto& r : notify.receivers) {
    if (r.type != ReceiverType::email) continue;
    if (auto password = smtp_password(r.email); !password)
      spdlog::warn("receiver {}: {}; its emails wait in the outbox until it can be read", r.name,
                   password.error().message);
    bool loopback = r.email.smtp_url.starts_with("smtp://127.") || r.email.smtp_url.starts_with("smtp://localhost") ||
                    r.email.smtp_url.starts_with("smtp://[::1]");
    if (r.email.tls == SmtpTls::none && !loopback)
      spdlog::warn("receiver {}: tls = \"none\" sends the emails to {} unencrypted", r.name, r.email.smtp_url);
  }
}

void start_alerting(Daemon& d) {
  describe_metrics(d.metrics);
  auto notify = make_notify_config(d.setup.settings, d.listening);
  d.engine->swap_notify(notify);  // before any writer job uses the engine
  d.transport = std::make_unique<WebhookClient>(d.io);
  d.mailer = std::make_unique<SmtpMailer>(d.io);
  d.delivery = std::make_unique<Delivery>(d.io, *d.ingest, d.clock, d.metrics, notify, *d.transport, *d.mailer);
  d.engine->on_enqueued([&d] { asio::post(d.io, [&d] { d.delivery->wake(); }); });
  d.api->set_alerting(d.engine, d.delivery.get(), &d.metrics, &d.clock);
  // Ready once the alert states are loaded (and evaluated, if they must be): a write
  // answered after /readyz does not wait behind them.
  d.ingest->post([&d](Store& store) {
    if (auto s = d.engine->start(store, d.clock.now()); !s)
      spdlog::error("evaluating the rules at start-up failed: {}", s.error().message);
    else
      spdlog::info("rules evaluated over {} series", d.engine->series_count());
    asio::post(d.io, [&d] {
      if (d.stopping) return;
      d.api->set_ready(true);
      d.notifier.ready(serving_status(d));
    });
  });
  d.delivery->start();
  spdlog::info("{} receiver(s), {} route(s)", notify->receivers.size(), notify->routes.size());
  warn_about_email(*notify);
}

void handle_signals(Daemon& d) {
  d.stop_signals = std::make_unique<asio::signal_set>(d.io, SIGTERM, SIGINT);
  d.stop_signals->async_wait([&d](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("{} received: finishing in-flight requests, then stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    d.notifier.stopping("finishing in-flight requests");
    d.stopping = true;
    d.api->set_ready(false);
    d.reload_signal->cancel();
    if (d.watchdog) d.watchdog->cancel();
    if (d.trim) d.trim->cancel();
    if (d.tick) d.tick->cancel();
    if (d.external_check) d.external_check->cancel();
    d.delivery->stop();
    d.mailer->stop();
    d.events->stop();  // streams end at once: they do not hold the drain
    d.server->stop(d.setup.settings.shutdown_timeout, [] {});
  });

  d.reload_signal = std::make_unique<asio::signal_set>(d.io, SIGHUP);
  struct OnHangup {
    Daemon& d;
    void operator()(const boost::system::error_code& ec, int) const {
      if (ec) return;
      spdlog::info("SIGHUP received");
      reload(d, [](const Diagnostics&) {});
      d.reload_signal->async_wait(*this);
    }
  };
  d.reload_signal->async_wait(OnHangup{d});
}

// Runs `job` on the writer thread every `interval`, until `timer` is cancelled.
void every(Daemon& d, std::unique_ptr<asio::steady_timer>& timer, std::chrono::milliseconds interval,
           std::function<void(AlertEngine&, Store&, TimePoint)> job) {
  timer = std::make_unique<asio::steady_timer>(d.io);
  struct Repeat {
    Daemon& d;
    asio::steady_timer& timer;
    std::chrono::milliseconds interval;
    std::shared_ptr<std::function<void(AlertEngine&, Store&, TimePoint)>> job;
    void operator()(const boost::system::error_code& ec) const {
      if (ec) return;
      d.ingest->post(
          [engine = d.engine, &clock = d.clock, job = job](Store& store) { (*job)(*engine, store, clock.now()); });
      timer.expires_after(interval);
      timer.async_wait(*this);
    }
  };
  timer->expires_after(interval);
  timer->async_wait(Repeat{d, *timer, interval, std::make_shared<decltype(job)>(std::move(job))});
}

void start_scheduler(Daemon& d) {
  // Missing-data rules against the clock, and repeat notifications.
  every(d, d.tick, d.setup.settings.evaluation_interval,
        [](AlertEngine& engine, Store& store, TimePoint now) { engine.on_tick(store, now); });
  // Figures that `kpiwatch import` (or another process) committed are evaluated like submitted ones.
  every(d, d.external_check, d.setup.settings.external_check_interval,
        [](AlertEngine& engine, Store& store, TimePoint now) { engine.catch_up(store, now); });
}

// Pings systemd's watchdog from the event loop, so that a hung loop is restarted.
void start_watchdog(Daemon& d) {
  auto interval = d.notifier.watchdog_interval();
  if (!interval) return;
  d.watchdog = std::make_unique<asio::steady_timer>(d.io);
  struct Ping {
    Daemon& d;
    std::chrono::microseconds interval;
    void operator()(const boost::system::error_code& ec) const {
      if (ec) return;
      d.notifier.watchdog();
      d.watchdog->expires_after(interval);
      d.watchdog->async_wait(*this);
    }
  };
  Ping{d, *interval}(boost::system::error_code{});
  spdlog::info("watchdog pings every {} ms", interval->count() / 1000);
}

// Gives freed memory back every few seconds, on the reload thread: trimming walks
// every arena, which the event loop must not wait for.
constexpr std::chrono::seconds kMemoryReturnInterval{5};

void start_memory_return(Daemon& d) {
  d.trim = std::make_unique<asio::steady_timer>(d.io);
  struct Trim {
    Daemon& d;
    void operator()(const boost::system::error_code& ec) const {
      if (ec) return;
      asio::post(d.reloads, [] {
        auto took = return_free_memory();
        if (took > std::chrono::milliseconds(20))
          spdlog::debug("returning free memory took {} ms", took.count() / 1000);
      });
      d.trim->expires_after(kMemoryReturnInterval);
      d.trim->async_wait(*this);
    }
  };
  d.trim->expires_after(kMemoryReturnInterval);
  d.trim->async_wait(Trim{d});
}

}  // namespace

int run_serve(const CommonOptions& options) {
  tune_allocator();
  Daemon d;
  d.options = options;
  auto setup = load_setup_or_print(options);
  if (!setup) return 2;
  d.setup = std::move(*setup);
  init_logging(d.setup.settings.log_level);
  spdlog::info("kpiwatch {} starting with {} ({} goals, {} KPIs, {} rules)", KPIWATCH_VERSION, d.setup.settings.source,
               d.setup.catalog->goals().size(), d.setup.catalog->kpis().size(), d.setup.rules->size());

  if (!open_storage(d)) return 1;
  // Before "listening on" is logged: a SIGTERM sent on seeing it must find the handler.
  handle_signals(d);
  if (!start_http(d)) return 1;
  start_alerting(d);
  start_scheduler(d);
  start_watchdog(d);
  start_memory_return(d);

  d.io.run();

  d.ingest->stop();  // every acknowledged batch is committed before this returns
  spdlog::info("stopped; database closed");
  return 0;
}

}  // namespace kpiwatch
