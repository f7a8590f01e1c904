#pragma once
// Bearer tokens: kept as SHA-256 hashes, compared in constant time, scoped to
// reporting bodies, KPIs, reads, or admin.

#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/settings.hpp"

namespace kpiwatch {

class Auth {
 public:
  explicit Auth(std::vector<TokenConfig> tokens, bool reads_need_token = false)
      : tokens_(std::move(tokens)), reads_need_token_(reads_need_token) {}

  // The token named by an "Authorization: Bearer <token>" header, or nullptr.
  // Every configured hash is compared, whether or not one matched earlier.
  const TokenConfig* authenticate(std::string_view authorization) const;
  bool empty() const { return tokens_.empty(); }
  // [api] read_token: API reads need a token too (any valid one: read, submit or admin).
  bool reads_need_token() const { return reads_need_token_; }

  // Whether `token` may submit figures of `kpi` reported by `body` (empty: any of the KPI's).
  static bool may_submit(const TokenConfig& token, const Kpi& kpi, std::string_view body);

 private:
  std::vector<TokenConfig> tokens_;
  bool reads_need_token_ = false;
};

// Tokens whose scope names unknown bodies or KPIs.
Diagnostics check_token_scopes(const Settings& settings, const Catalog& catalog);

// A new random token ("kpw_" + 43 base64url characters, 256 bits).
std::string generate_token();

}  // namespace kpiwatch
