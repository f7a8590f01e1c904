// Bearer tokens: hashed, scoped to reporting bodies, KPIs or admin.

#include "kpiwatch/auth.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "kpiwatch/digest.hpp"

namespace kpiwatch {
namespace {

using ::testing::HasSubstr;

TokenConfig token(const std::string& name, const std::string& secret) {
  TokenConfig t;
  t.name = name;
  std::string hex = sha256_hex(secret);
  for (std::size_t i = 0; i < 32; ++i)
    t.sha256[i] = static_cast<unsigned char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return t;
}

TokenConfig body_token(const std::string& name, const std::string& secret, std::vector<std::string> bodies) {
  TokenConfig t = token(name, secret);
  t.bodies = std::move(bodies);
  return t;
}

Auth two_tokens() {
  TokenConfig admin = token("ops", "kpw_admin-secret");
  admin.admin = true;
  return Auth({body_token("amed-uploader", "kpw_amed-secret", {"amed"}), admin});
}

const Kpi& kpi(std::string_view id) {
  const Kpi* k = Catalog::embedded()->find(id);
  if (!k) throw std::runtime_error("no KPI " + std::string(id));
  return *k;
}

TEST(Auth, FindsTheTokenForTheRightSecret) {
  Auth auth = two_tokens();
  const TokenConfig* t = auth.authenticate("Bearer kpw_amed-secret");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->name, "amed-uploader");
  const TokenConfig* admin = auth.authenticate("Bearer kpw_admin-secret");
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->name, "ops");
}

TEST(Auth, RejectsAWrongSecret) {
  Auth auth = two_tokens();
  EXPECT_EQ(auth.authenticate("Bearer kpw_amed-secreT"), nullptr);
  EXPECT_EQ(auth.authenticate("Bearer kpw_amed-secret2"), nullptr);
  EXPECT_EQ(auth.authenticate("Bearer " + sha256_hex("kpw_amed-secret")), nullptr);  // the hash is not the token
}

TEST(Auth, RejectsAMissingOrMalformedHeader) {
  Auth auth = two_tokens();
  EXPECT_EQ(auth.authenticate(""), nullptr);
  EXPECT_EQ(auth.authenticate("Bearer"), nullptr);
  EXPECT_EQ(auth.authenticate("Bearer "), nullptr);
  EXPECT_EQ(auth.authenticate("Bearer    "), nullptr);
  EXPECT_EQ(auth.authenticate("kpw_amed-secret"), nullptr);
  EXPECT_EQ(auth.authenticate("Basic kpw_amed-secret"), nullptr);
  EXPECT_EQ(auth.authenticate("Bearerkpw_amed-secret"), nullptr);
}

TEST(Auth, TheSchemeIsCaseInsensitive) {
  Auth auth = two_tokens();
  EXPECT_NE(auth.authenticate("bearer kpw_amed-secret"), nullptr);
  EXPECT_NE(auth.authenticate("BEARER kpw_amed-secret"), nullptr);
  EXPECT_NE(auth.authenticate("bEaReR kpw_amed-secret"), nullptr);
}

TEST(Auth, TheTokenItselfIsCaseSensitive) {
  Auth auth = two_tokens();
  EXPECT_EQ(auth.authenticate("Bearer KPW_AMED-SECRET"), nullptr);
}

TEST(Auth, ToleratesExtraSpacesAroundTheToken) {
  Auth auth = two_tokens();
  EXPECT_NE(auth.authenticate("Bearer   kpw_amed-secret  "), nullptr);
}

TEST(Auth, WithoutTokensNothingAuthenticates) {
  Auth auth({});
  EXPECT_TRUE(auth.empty());
  EXPECT_EQ(auth.authenticate("Bearer anything"), nullptr);
  EXPECT_FALSE(two_tokens().empty());
}

TEST(MaySubmit, AnAdminTokenMaySubmitAnything) {
  TokenConfig admin = token("ops", "x");
  admin.admin = true;
  EXPECT_TRUE(Auth::may_submit(admin, kpi("g01.trainees"), ""));
  EXPECT_TRUE(Auth::may_submit(admin, kpi("g08.device_lag"), "pmda"));
}

TEST(MaySubmit, ABodyTokenMaySubmitOnlyItsBodysKpis) {
  TokenConfig amed = body_token("amed-uploader", "x", {"amed"});
  EXPECT_TRUE(Auth::may_submit(amed, kpi("g01.trainees"), ""));
  EXPECT_TRUE(Auth::may_submit(amed, kpi("g06.stage_up_rate"), "amed"));
  EXPECT_FALSE(Auth::may_submit(amed, kpi("g08.device_lag"), ""));
  EXPECT_FALSE(Auth::may_submit(amed, kpi("g02.venture_companies"), ""));
}

TEST(MaySubmit, ABodyTokenMayNotSubmitInTheNameOfAnotherBody) {
  // g08.device_lag is reported by pmda and mhlw.
  TokenConfig pmda = body_token("pmda-uploader", "x", {"pmda"});
  EXPECT_TRUE(Auth::may_submit(pmda, kpi("g08.device_lag"), "pmda"));
  EXPECT_FALSE(Auth::may_submit(pmda, kpi("g08.device_lag"), "mhlw"));
  TokenConfig both = body_token("both", "x", {"pmda", "mhlw"});
  EXPECT_TRUE(Auth::may_submit(both, kpi("g08.device_lag"), "mhlw"));
}

TEST(MaySubmit, AKpiTokenMaySubmitOnlyItsKpis) {
  TokenConfig one = token("one", "x");
  one.kpis = {"g06.stage_up_rate"};
  EXPECT_TRUE(Auth::may_submit(one, kpi("g06.stage_up_rate"), ""));
  EXPECT_FALSE(Auth::may_submit(one, kpi("g06.stage_up_themes"), ""));
}

TEST(MaySubmit, ATokenWithoutScopeMaySubmitNothing) {
  EXPECT_FALSE(Auth::may_submit(token("none", "x"), kpi("g01.trainees"), ""));
}

TEST(CheckTokenScopes, ReportsUnknownBodiesAndKpis) {
  Settings settings;
  settings.source = "kpiwatch.toml";
  settings.tokens.push_back(body_token("good", "a", {"amed", "pmda"}));
  settings.tokens.push_back(body_token("bad-body", "b", {"amedd"}));
  TokenConfig bad_kpi = token("bad-kpi", "c");
  bad_kpi.kpis = {"g06.stage_up_rate", "g06.stageup_rate"};
  settings.tokens.push_back(bad_kpi);

  Diagnostics diags = check_token_scopes(settings, *Catalog::embedded());
  ASSERT_EQ(diags.size(), 2u);
  EXPECT_EQ(diags[0].file, "kpiwatch.toml");
  EXPECT_THAT(diags[0].message, HasSubstr("token \"bad-body\""));
  EXPECT_THAT(diags[0].message, HasSubstr("\"amedd\""));
  EXPECT_THAT(diags[1].message, HasSubstr("token \"bad-kpi\""));
  EXPECT_THAT(diags[1].message, HasSubstr("\"g06.stageup_rate\""));
}

TEST(CheckTokenScopes, AcceptsKnownScopes) {
  Settings settings;
  settings.tokens.push_back(body_token("good", "a", {"amed"}));
  TokenConfig k = token("k", "b");
  k.kpis = {"g10.new_reference_countries"};
  settings.tokens.push_back(k);
  EXPECT_TRUE(check_token_scopes(settings, *Catalog::embedded()).empty());
}

TEST(GenerateToken, IsPrefixedBase64UrlOf256Bits) {
  std::string t = generate_token();
  ASSERT_EQ(t.size(), 4u + 43u);
  EXPECT_EQ(t.substr(0, 4), "kpw_");
  for (char c : t.substr(4))
    EXPECT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')
        << t;
}

TEST(GenerateToken, IsUniqueEachTime) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(seen.insert(generate_token()).second);
}

TEST(GenerateToken, AuthenticatesOnceItsHashIsConfigured) {
  std::string secret = generate_token();
  Auth auth({body_token("new", secret, {"amed"})});
  const TokenConfig* t = auth.authenticate("Bearer " + secret);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->name, "new");
}

}  // namespace
}  // namespace kpiwatch
