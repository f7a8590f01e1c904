#pragma once
// A synchronous HTTP/1.1 client over loopback for end-to-end tests.

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace kpiwatch::test {

struct HttpReply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  bool keep_alive = false;

  boost::json::value json() const { return boost::json::parse(body); }
  // error.code of an error reply, or "" if the body is no error.
  std::string error_code() const;
};

// One keep-alive connection to 127.0.0.1:port.
class HttpClient {
 public:
  explicit HttpClient(unsigned short port, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();

  HttpReply get(const std::string& target);
  HttpReply post(const std::string& target, const std::string& body, const std::string& token = "",
                 const std::string& content_type = "application/json");
  HttpReply request(const std::string& method, const std::string& target, const std::string& body,
                    const std::map<std::string, std::string>& headers);

  // Sends raw bytes, without reading a reply.
  void send_raw(const std::string& bytes);
  // Reads one reply (after send_raw).
  HttpReply read_reply();
  // Whether bytes of a reply have arrived and wait to be read (without waiting).
  bool reply_arrived();
  // True if the server closed the connection within `deadline`.
  bool closed_by_server(std::chrono::milliseconds deadline);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A one-off request on a new connection.
HttpReply http_get(unsigned short port, const std::string& target);
HttpReply http_post(unsigned short port, const std::string& target, const std::string& body,
                    const std::string& token = "");

}  // namespace kpiwatch::test
