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

class WebhookClient {
 public:
  explicit WebhookClient(boost::asio::io_context& io) : io_(io) {}

  // POSTs `body` to `url`; calls `done` on the io_context's thread.
  // `ca_file` empty: the system's CA bundle.
  void post(const std::string& url, std::vector<std::pair<std::string, std::string>> headers, std::string body,
            std::chrono::milliseconds timeout, const std::string& ca_file, std::function<void(PostResult)> done);

 private:
  std::shared_ptr<boost::asio::ssl::context> tls_context(const std::string& ca_file, std::string& error);

  boost::asio::io_context& io_;
  std::map<std::string, std::shared_ptr<boost::asio::ssl::context>> contexts_;
};

}  // namespace kpiwatch
