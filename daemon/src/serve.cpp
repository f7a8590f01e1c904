// `kpiwatch serve`: start-up is a list of steps, each a small function.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kpiwatch/api.hpp"
#include "kpiwatch/auth.hpp"
#include "kpiwatch/commands.hpp"
#include "kpiwatch/http_server.hpp"
#include "kpiwatch/ingest.hpp"
#include "setup.hpp"

namespace kpiwatch {
namespace asio = boost::asio;

namespace {

struct Daemon {
  Setup setup;
  SystemClock clock;
  asio::io_context io{1};
  std::unique_ptr<Store> reader;
  std::unique_ptr<Ingest> ingest;
  std::unique_ptr<Auth> auth;
  std::unique_ptr<Api> api;
  std::unique_ptr<HttpServer> server;
  std::unique_ptr<asio::signal_set> signals;
};

StoreOptions store_options(const Settings& s) { return {s.database_path(), s.synchronous, s.busy_timeout_ms}; }

bool open_storage(Daemon& d) {
  const auto& s = d.setup.settings;
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
  auto reader = Store::open(store_options(s));
  if (!reader) {
    spdlog::critical("cannot open the database {}: {}", s.database_path(), reader.error().message);
    return false;
  }
  d.reader = std::move(reader.value());
  d.ingest = std::make_unique<Ingest>(std::move(writer.value()), d.clock);
  d.ingest->start();
  spdlog::info("database {} (schema {}, synchronous={})", s.database_path(), Store::current_schema_version(),
               s.synchronous);
  return true;
}

void init_access(Daemon& d) {
  d.auth = std::make_unique<Auth>(d.setup.settings.tokens);
  if (d.auth->empty())
    spdlog::warn(
        "no tokens are configured, so submissions are refused (401). Create one with "
        "`kpiwatch token create --name NAME --body BODY` and add the printed block to a config file "
        "(see config/kpiwatch.example.toml)");
}

bool start_http(Daemon& d) {
  const auto& s = d.setup.settings;
  d.api = std::make_unique<Api>(d.io, d.setup.catalog, *d.reader, *d.ingest, *d.auth, s.limits);
  ServerLimits limits{s.max_connections, s.max_body_bytes, 16 * 1024, s.read_timeout, s.idle_timeout};
  d.server = std::make_unique<HttpServer>(d.io, limits,
                                          [api = d.api.get()](Request&& req, Respond respond) {
                                            api->handle(std::move(req), std::move(respond));
                                          });
  auto endpoint = d.server->listen(s.listen_host, s.listen_port);
  if (!endpoint) {
    spdlog::critical("{}", endpoint.error().message);
    return false;
  }
  spdlog::info("listening on {}:{}", endpoint->address().to_string(), endpoint->port());
  return true;
}

void handle_signals(Daemon& d) {
  d.signals = std::make_unique<asio::signal_set>(d.io, SIGTERM, SIGINT);
  d.signals->async_wait([&d](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("{} received: finishing in-flight requests, then stopping", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    d.api->set_ready(false);
    d.server->stop(d.setup.settings.shutdown_timeout, [&d] {
      d.signals->cancel();
    });
  });
}

}  // namespace

int run_serve(const CommonOptions& options) {
  Daemon d;
  auto setup = load_setup(options);
  if (!setup) return 2;
  d.setup = std::move(*setup);
  init_logging(d.setup.settings.log_level);
  spdlog::info("kpiwatch {} starting with {} ({} goals, {} KPIs)", KPIWATCH_VERSION, d.setup.settings.source,
               d.setup.catalog->goals().size(), d.setup.catalog->kpis().size());

  if (!open_storage(d)) return 1;
  init_access(d);
  if (!start_http(d)) return 1;
  handle_signals(d);
  d.api->set_ready(true);

  d.io.run();

  d.ingest->stop();  // every acknowledged batch is committed before this returns
  d.reader.reset();
  spdlog::info("stopped; database closed");
  return 0;
}

}  // namespace kpiwatch
