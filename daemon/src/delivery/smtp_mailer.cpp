// SMTP through libcurl: the protocol, STARTTLS, AUTH and MIME are libcurl's.
#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "kpiwatch/email.hpp"

namespace kpiwatch {

namespace {

constexpr int kThreads = 2;  // concurrent sends; each waits on the network, not the CPU

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
  void operator()(curl_mime* m) const { curl_mime_free(m); }
};
template <typename T>
using Owned = std::unique_ptr<T, CurlDeleter>;

curl_slist* append(curl_slist* list, const std::string& text) {
  curl_slist* grown = curl_slist_append(list, text.c_str());
  return grown ? grown : list;
}

std::string crlf(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (char c : text) {
    if (c == '\n' && (out.empty() || out.back() != '\r')) out += '\r';
    out += c;
  }
  return out;
}

PostResult perform(const ReceiverConfig& receiver, const MailMessage& m, const std::string& password) {
  Owned<CURL> curl(curl_easy_init());
  if (!curl) return {0, "cannot start an SMTP session (curl_easy_init)"};
  CURL* c = curl.get();
  const EmailConfig& e = receiver.email;
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM on a worker thread
  curl_easy_setopt(c, CURLOPT_URL, e.smtp_url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_USE_SSL,
                   e.tls == SmtpTls::none ? static_cast<long>(CURLUSESSL_NONE) : static_cast<long>(CURLUSESSL_ALL));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!receiver.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, receiver.ca_file.c_str());
  if (!e.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, e.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(receiver.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<std::int64_t>(receiver.timeout.count(), 10'000)));
  std::string from = "<" + m.envelope_from + ">";
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_slist* rcpt = nullptr;
  for (const auto& r : m.recipients) rcpt = append(rcpt, "<" + r + ">");
  Owned<curl_slist> recipients(rcpt);
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_slist* head = nullptr;
  for (const auto& h : m.headers) head = append(head, h);
  Owned<curl_slist> headers(head);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, head);

  // multipart/alternative of the plain text and the HTML, each UTF-8 in base64.
  Owned<curl_mime> mime(curl_mime_init(c));
  Owned<curl_mime> alternative(curl_mime_init(c));
  // Text in MIME's canonical form: CRLF line ends (RFC 2046, 4.1.1).
  std::string text = crlf(m.text), html = crlf(m.html);
  for (const auto& [data, type] :
       {std::pair{&text, "text/plain; charset=UTF-8"}, std::pair{&html, "text/html; charset=UTF-8"}}) {
    curl_mimepart* part = curl_mime_addpart(alternative.get());
    curl_mime_data(part, data->data(), data->size());
    curl_mime_type(part, type);
    curl_mime_encoder(part, "base64");
  }
  curl_mimepart* body = curl_mime_addpart(mime.get());
  if (curl_mime_subparts(body, alternative.get()) == CURLE_OK)
    static_cast<void>(alternative.release());  // owned by `mime` from here
  curl_mime_type(body, "multipart/alternative");
  curl_mime_headers(body, curl_slist_append(nullptr, "Content-Disposition: inline"), 1);
  curl_easy_setopt(c, CURLOPT_MIMEPOST, mime.get());

  CURLcode code = curl_easy_perform(c);
  long reply = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
  if (code == CURLE_OK) return {static_cast<int>(reply), ""};
  std::string what = *error ? std::string(error) : std::string(curl_easy_strerror(code));
  if (reply > 0) what += fmt::format(" (SMTP {})", reply);
  return {static_cast<int>(reply), "SMTP: " + what};
}

}  // namespace

Result<std::string> smtp_password(const EmailConfig& e) {
  if (e.username.empty()) return std::string();
  if (!e.password_env.empty()) {
    const char* value = std::getenv(e.password_env.c_str());
    if (!value || !*value)
      return Error{ErrorCode::config_error,
                   fmt::format("the environment variable {} (password_env) is not set", e.password_env), "password_env",
                   std::nullopt};
    return std::string(value);
  }
  std::ifstream in(e.password_file, std::ios::binary);
  std::string password;
  if (!in || !std::getline(in, password))
    return Error{ErrorCode::config_error,
                 fmt::format("cannot read the password file {} (password_file)", e.password_file), "password_file",
                 std::nullopt};
  if (password.ends_with('\r')) password.pop_back();
  if (password.empty())
    return Error{ErrorCode::config_error,
                 fmt::format("the password file {} (password_file) has an empty first line", e.password_file),
                 "password_file", std::nullopt};
  return password;
}

SmtpMailer::SmtpMailer(boost::asio::io_context& io) : io_(io), pool_(kThreads) {
  // Once per process, before any thread uses libcurl.
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialized) spdlog::error("libcurl could not be initialized: emails cannot be sent");
}

SmtpMailer::~SmtpMailer() { join(); }

void SmtpMailer::join() { pool_.join(); }

void SmtpMailer::stop() { stopping_ = true; }

void SmtpMailer::send(const ReceiverConfig& receiver, MailMessage message, std::function<void(PostResult)> done) {
  // The work guard keeps the event loop running until the answer is back, so that a
  // shutdown records a send in progress instead of leaving it pending to be sent again.
  boost::asio::post(pool_, [this, receiver, message = std::move(message), done = std::move(done),
                            guard = boost::asio::make_work_guard(io_)]() mutable {
    if (stopping_) return;  // not started: stays pending in the outbox, sent after the restart
    auto password = smtp_password(receiver.email);
    PostResult result =
        password ? perform(receiver, message, password.value()) : PostResult{0, password.error().message};
    boost::asio::post(io_, [done = std::move(done), result] { done(result); });
    guard.reset();
  });
}

}  // namespace kpiwatch
