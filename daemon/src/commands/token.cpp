// `kpiwatch token create`: a new token, and the config block holding its hash.
#include <fmt/format.h>

#include <cstdio>

#include "kpiwatch/auth.hpp"
#include "kpiwatch/commands.hpp"
#include "kpiwatch/digest.hpp"

namespace kpiwatch {

int run_token_create(const std::string& name, const std::vector<std::string>& bodies,
                     const std::vector<std::string>& kpis, bool admin, bool read) {
  if (!admin && !read && bodies.empty() && kpis.empty()) {
    fmt::print(stderr, "a token needs a scope: --body, --kpi, --read or --admin\n");
    return 2;
  }
  std::string token = generate_token();
  auto quoted = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "\"" : ", \"") + s + "\"";
    return out;
  };
  fmt::print(stderr, "Give this token to its holder; it is not stored anywhere and cannot be shown again:\n");
  fmt::print("{}\n", token);
  fmt::print(stderr, "\nAdd the [[tokens]] block below to the configuration file, then restart kpiwatch.\n");
  fmt::print("\n[[tokens]]\nname = \"{}\"\nsha256 = \"{}\"\nbodies = [{}]\nkpis = [{}]\nadmin = {}\n", name,
             sha256_hex(token), quoted(bodies), quoted(kpis), admin);
  if (read) fmt::print("scopes = [\"read\"]\n");
  return 0;
}

}  // namespace kpiwatch
