#pragma once
// Asynchronous HTTP(S) POST for notifications: one connection per request,
// one deadline for the whole exchange, certificate and host name verified.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kpiwatch {

struct PostResult {
  int status = 0;     // HTTP status; 0 if no response
  std::string error;  // empty on a 2xx response
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// How notifications leave the process: delivery's seam for tests.
class Transport {
 public:
  virtual ~Transport() = default;
  // POSTs `body` to `url`; calls `done` on the io_context's thread, never from within post().
  // `ca_file` empty: the system's CA bundle.
  virtual void post(const std::string& url, const Headers& headers, std::string body, std::chrono::milliseconds timeout,
                    const std::string& ca_file, std::function<void(PostResult)> done) = 0;
};

class WebhookClient final : public Transport {
 public:
  explicit WebhookClient(boost::asio::io_context& io) : io_(io) {}

  void post(const std::string& url, const Headers& headers, std::string body, std::chrono::milliseconds timeout,
            const std::string& ca_file, std::function<void(PostResult)> done) override;

 private:
  std::shared_ptr<boost::asio::ssl::context> tls_context(const std::string& ca_file, std::string& error);

  boost::asio::io_context& io_;
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>> contexts_;
};

}  // namespace kpiwatch
