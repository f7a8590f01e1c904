#include "kpiwatch/auth.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>

namespace kpiwatch {

const TokenConfig* Auth::authenticate(std::string_view header) const {
  constexpr std::string_view scheme = "Bearer ";
  if (header.size() <= scheme.size()) return nullptr;
  for (std::size_t i = 0; i < scheme.size(); ++i)  // the scheme is case-insensitive (RFC 9110)
    if (std::tolower(static_cast<unsigned char>(header[i])) != std::tolower(static_cast<unsigned char>(scheme[i])))
      return nullptr;
  std::string_view presented = header.substr(scheme.size());
  while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
  while (!presented.empty() && presented.back() == ' ') presented.remove_suffix(1);

  unsigned char digest[32];
  unsigned int length = 0;
  EVP_Digest(presented.data(), presented.size(), digest, &length, EVP_sha256(), nullptr);
  const TokenConfig* found = nullptr;
  for (const auto& token : tokens_) {
    bool equal = CRYPTO_memcmp(digest, token.sha256.data(), sizeof digest) == 0;
    if (equal && !found) found = &token;
  }
  return found;
}

bool Auth::may_submit(const TokenConfig& token, const Kpi& kpi, std::string_view body) {
  if (token.admin) return true;
  if (std::find(token.kpis.begin(), token.kpis.end(), kpi.id) != token.kpis.end()) return true;
  for (const auto& b : token.bodies) {
    if (!kpi.submittable_by(b)) continue;
    if (body.empty() || body == b) return true;
  }
  return false;
}

Diagnostics check_token_scopes(const Settings& settings, const Catalog& catalog) {
  Diagnostics diags;
  for (const auto& token : settings.tokens) {
    for (const auto& b : token.bodies)
      if (!catalog.body(b))
        diags.push_back(
            {settings.source, 0, 0, fmt::format("token \"{}\": unknown reporting body \"{}\"", token.name, b)});
    for (const auto& k : token.kpis)
      if (!catalog.find(k))
        diags.push_back({settings.source, 0, 0, fmt::format("token \"{}\": unknown KPI \"{}\"", token.name, k)});
  }
  return diags;
}

std::string generate_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness available for a token");
  unsigned char encoded[64];
  int n = EVP_EncodeBlock(encoded, bytes, sizeof bytes);
  std::string token = "kpw_";
  for (int i = 0; i < n; ++i) {
    char c = static_cast<char>(encoded[i]);
    if (c == '=') break;
    token += c == '+' ? '-' : c == '/' ? '_' : c;  // base64url
  }
  return token;
}

}  // namespace kpiwatch
