// Email texts without a network: RFC 2047 subjects, the digest schedule in local
// time, and the receiver's configuration errors.

#include "kpiwatch/email.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <string>
#include <vector>

#include "kpiwatch/settings.hpp"
#include "process.hpp"
#include "temp_dir.hpp"

namespace kpiwatch {
namespace {

using std::chrono::sys_days;

TimePoint utc(int y, unsigned m, unsigned d, int h = 0, int min = 0) {
  return sys_days(std::chrono::year_month_day(std::chrono::year(y), std::chrono::month(m), std::chrono::day(d))) +
         std::chrono::hours(h) + std::chrono::minutes(min);
}

// The text of RFC 2047 words "=?UTF-8?B?...?=" separated by folding, decoded here with OpenSSL.
std::string decode_words(const std::string& header, std::vector<std::string>& lines) {
  std::string out;
  std::size_t start = 0;
  for (;;) {
    auto end = header.find("\r\n", start);
    lines.push_back(header.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 2;
  }
  for (auto line : lines) {
    if (line.starts_with(" ")) line.erase(0, 1);
    EXPECT_TRUE(line.starts_with("=?UTF-8?B?") && line.ends_with("?=")) << line;
    std::string b64 = line.substr(10, line.size() - 12);
    std::string raw(b64.size(), '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                            reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
    raw.resize(static_cast<std::size_t>(n) - (b64.ends_with("==") ? 2 : b64.ends_with("=") ? 1 : 0));
    EXPECT_FALSE(invalid_utf8_at(raw).has_value()) << "a word splits a character: " << line;
    out += raw;
  }
  return out;
}

TEST(EncodeHeader, PlainAsciiStaysAsItIs) {
  EXPECT_EQ(encode_header("[kpiwatch] Goal 6: fell"), "[kpiwatch] Goal 6: fell");
}

TEST(EncodeHeader, JapaneseBecomesWholeCharacterWordsOnLinesOf78) {
  const std::string subject =
      "【kpiwatch】ゴール6: 2024年の採択1年後のステージアップの割合（全体）は33.1%から26.8%に低下しました";
  std::vector<std::string> lines;
  auto encoded = encode_header(subject);
  EXPECT_EQ(decode_words(encoded, lines), subject);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_LE(lines[0].size() + 9, 78u) << "after \"Subject: \"";
  for (const auto& line : lines) EXPECT_LE(line.size(), 78u) << line;
}

TEST(EncodeHeader, BytesThatAreNotUtf8StillEnd) {
  std::string junk(100, '\x80');  // continuation bytes only: no character boundary to cut at
  std::vector<std::string> lines;
  auto encoded = encode_header(junk);
  EXPECT_GE(std::count(encoded.begin(), encoded.end(), '?'), 4);
  for (std::size_t at = 0, next = 0; at != std::string::npos; at = next == std::string::npos ? next : next + 2) {
    next = encoded.find("\r\n", at);
    EXPECT_LE(encoded.substr(at, next == std::string::npos ? next : next - at).size(), 78u);
  }
}

TEST(NextDigest, DailyAtNineInTokyoIsMidnightUtc) {
  DigestConfig daily;  // daily, 09:00, Asia/Tokyo
  EXPECT_EQ(next_digest(daily, utc(2026, 12, 1, 23, 59)), utc(2026, 12, 2));
  EXPECT_EQ(next_digest(daily, utc(2026, 12, 2)), utc(2026, 12, 3)) << "strictly after: the one due now is sent";
  EXPECT_EQ(next_digest(daily, utc(2026, 12, 2, 0, 30)), utc(2026, 12, 3));
}

TEST(NextDigest, WeeklyOnMondayFromEveryDayOfTheWeek) {
  DigestConfig weekly;
  weekly.every = DigestConfig::Every::weekly;
  weekly.weekday = 1;
  // Wednesday 2 December 2026 → Monday 7 December, 09:00 JST.
  EXPECT_EQ(next_digest(weekly, utc(2026, 12, 2, 4)), utc(2026, 12, 7));
  // Sunday 6 December 23:00 UTC is already Monday 08:00 in Tokyo: the same day's 09:00.
  EXPECT_EQ(next_digest(weekly, utc(2026, 12, 6, 23)), utc(2026, 12, 7));
  EXPECT_EQ(next_digest(weekly, utc(2026, 12, 7)), utc(2026, 12, 14));
  EXPECT_EQ(weekly.group_key(), "digest:weekly:monday:09:00:Asia/Tokyo");
}

TEST(NextDigest, LocalTimeAcrossAClockChange) {
  DigestConfig berlin;
  berlin.time_zone = "Europe/Berlin";
  // Summer time ends on 25 October 2026: 09:00 is 07:00 UTC on the 24th, 08:00 UTC on the 25th.
  EXPECT_EQ(next_digest(berlin, utc(2026, 10, 23, 8)), utc(2026, 10, 24, 7));
  EXPECT_EQ(next_digest(berlin, utc(2026, 10, 24, 8)), utc(2026, 10, 25, 8));
}

TEST(DigestKey, ReadsBackWhatItWrites) {
  DigestConfig weekly;
  weekly.every = DigestConfig::Every::weekly;
  weekly.weekday = 5;
  weekly.minute_of_day = 17 * 60 + 30;
  weekly.time_zone = "Europe/Berlin";
  auto back = parse_digest_key(weekly.group_key());
  ASSERT_TRUE(back.has_value()) << weekly.group_key();
  EXPECT_EQ(back->group_key(), "digest:weekly:friday:17:30:Europe/Berlin");
  EXPECT_EQ(parse_digest_key(DigestConfig{}.group_key())->group_key(), "digest:daily:09:00:Asia/Tokyo");
  EXPECT_FALSE(parse_digest_key("{goal=\"6\"}").has_value());
  EXPECT_FALSE(parse_digest_key("digest:weekly:mon:09:00:Asia/Tokyo").has_value());
}

// An item as the alert engine queues it ("lang" first).
std::string item(const std::string& event, int goal, const std::string& summary) {
  return fmt::format(R"({{"lang":"ja","event":"{}","goal":{},"summary":"{}"}})", event, goal, summary);
}

TEST(ComposeEmail, ADigestIsTitledByItsOwnScheduleAndTimeZone) {
  ReceiverConfig mail;  // no digest of its own: the route's
  mail.type = ReceiverType::email;
  mail.email.from_address = "kpiwatch@example.go.jp";
  mail.email.to = {"a@example.go.jp"};
  mail.email.time_zone = "UTC";
  DigestConfig weekly;
  weekly.every = DigestConfig::Every::weekly;
  // Sunday 6 December 2026, 23:30 UTC is already Monday in Tokyo.
  auto m = compose_email(mail, EmailKind::digest, {item("firing", 6, "a"), item("resolved", 6, "b")}, "k",
                         utc(2026, 12, 6, 23, 30), "http://kpiwatch.test", &weekly);
  EXPECT_EQ(m.subject, "【kpiwatch】週次ダイジェスト（2026年12月7日）: 発生1件、解消1件");
  EXPECT_NE(std::find(m.headers.begin(), m.headers.end(), "Message-ID: <k@example.go.jp>"), m.headers.end());
  EXPECT_NE(std::find(m.headers.begin(), m.headers.end(), "Date: Sun, 06 Dec 2026 23:30:00 +0000"), m.headers.end());
}

std::string errors_of(const std::string& receiver, const std::string& route = "") {
  auto loaded = parse_settings("[[receivers]]\nname = \"mail\"\ntype = \"email\"\n" + receiver +
                                   (route.empty() ? "" : "\n[[routes]]\nreceivers = [\"mail\"]\n" + route),
                               "k.toml", "/etc/kpiwatch");
  std::string out;
  if (const auto* diags = std::get_if<Diagnostics>(&loaded))
    for (const auto& d : *diags) out += d.str() + "\n";
  return out;
}

const std::string kMinimal =
    "smtp_url = \"smtp://relay.example.go.jp:587\"\nfrom = \"kpiwatch@example.go.jp\"\nto = [\"a@example.go.jp\"]\n";

TEST(EmailSettings, AMinimalReceiverReadsWithItsDefaults) {
  auto loaded = parse_settings("[[receivers]]\nname = \"mail\"\ntype = \"email\"\n" + kMinimal, "k.toml", "/etc");
  ASSERT_TRUE(std::holds_alternative<Settings>(loaded)) << errors_of(kMinimal);
  const auto& e = std::get<Settings>(loaded).receivers.at(0).email;
  EXPECT_EQ(e.tls, SmtpTls::starttls);
  EXPECT_EQ(e.language, Lang::ja);
  EXPECT_EQ(e.time_zone, "Asia/Tokyo");
  EXPECT_FALSE(e.digest.has_value());
}

TEST(EmailSettings, APasswordInTheConfigIsRefusedWhereItIsWritten) {
  EXPECT_EQ(errors_of(kMinimal + "username = \"k\"\npassword = \"secret\""),
            "k.toml:8:12: receivers[0]: a password is not written in the config: name a file (\"password_file\") or "
            "an environment variable (\"password_env\")\n"
            "k.toml:7:12: receivers[0]: \"username\" needs \"password_file\" or \"password_env\"\n");
}

TEST(EmailSettings, EachMistakeNamesItsKey) {
  EXPECT_NE(errors_of(kMinimal + "tls = \"none\"\nusername = \"k\"\npassword_env = \"P\"")
                .find("k.toml:8:12: receivers[0]: a password is sent only over TLS"),
            std::string::npos);
  EXPECT_NE(errors_of(kMinimal + "cc = [\"not an address\"]")
                .find("k.toml:7:6: receivers[0]: \"cc\" lists \"not an address\""),
            std::string::npos);
  EXPECT_NE(errors_of(kMinimal + "time_zone = \"Asia/Tokio\"")
                .find("k.toml:7:13: receivers[0]: unknown time zone \"Asia/Tokio\""),
            std::string::npos);
  EXPECT_NE(errors_of(kMinimal + "url = \"http://x\"").find("k.toml:7:1: receivers[0]: unknown key \"url\""),
            std::string::npos)
      << errors_of(kMinimal + "url = \"http://x\"");
  EXPECT_NE(errors_of("smtp_url = \"http://relay\"\nfrom = \"a@b\"\nto = [\"a@b\"]")
                .find("k.toml:4:12: receivers[0]: \"smtp_url\" must start with smtp:// (STARTTLS) or smtps:// (TLS)"),
            std::string::npos);
  EXPECT_NE(errors_of(kMinimal, "digest = { every = \"weekly\", weekday = \"mon\" }")
                .find("\"weekday\" must be a day such as monday, not \"mon\""),
            std::string::npos);
  EXPECT_NE(errors_of(kMinimal, "digest = { every = \"daily\", at = \"9:00\" }")
                .find("\"at\" is a local time such as \"09:00\", not \"9:00\""),
            std::string::npos);
}

TEST(EmailSettings, ARouteOfWebhooksHasNoLanguageOrDigest) {
  auto loaded = parse_settings(
      "[[receivers]]\nname = \"hook\"\nurl = \"http://127.0.0.1:9\"\n[[routes]]\nreceivers = [\"hook\"]\n"
      "language = \"en\"\n",
      "k.toml", "/etc");
  ASSERT_TRUE(std::holds_alternative<Diagnostics>(loaded));
  EXPECT_EQ(std::get<Diagnostics>(loaded).at(0).str(),
            "k.toml:6:12: routes[0]: \"language\" is for email receivers, and this route has none");
}

TEST(EmailSettings, ADigestTimeIsTwoDigitsEach) {
  for (const char* at : {" 9:00", "+9:00", "9:00", "24:00", "09:60"})
    EXPECT_NE(errors_of(kMinimal, fmt::format("digest = {{ every = \"daily\", at = \"{}\" }}", at))
                  .find("\"at\" is a local time such as \"09:00\""),
              std::string::npos)
        << at;
}

TEST(SmtpPassword, IsTheFilesFirstLineAndNeverEmpty) {
  test::TempDir dir;
  EmailConfig e;
  e.username = "kpiwatch";
  e.password_file = dir.file("pw");
  test::write_file(e.password_file, "秘密-pass\r\n# rotated 2026-12-01\n");
  auto read = smtp_password(e);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read.value(), "秘密-pass");
  test::write_file(e.password_file, "\nsecond-line\n");
  ASSERT_FALSE(smtp_password(e).ok());
  EXPECT_EQ(smtp_password(e).error().message,
            "the password file " + e.password_file + " (password_file) has an empty first line");
  e.password_file = dir.file("missing");
  EXPECT_EQ(smtp_password(e).error().field, "password_file");
}

TEST(EmailSettings, ARouteChoosesItsLanguageAndDigest) {
  auto loaded = parse_settings("[[receivers]]\nname = \"mail\"\ntype = \"email\"\n" + kMinimal +
                                   "[[routes]]\nreceivers = [\"mail\"]\nlanguage = \"en\"\n"
                                   "digest = { every = \"weekly\", weekday = \"monday\", at = \"08:30\" }\n",
                               "k.toml", "/etc");
  ASSERT_TRUE(std::holds_alternative<Settings>(loaded));
  const auto& route = std::get<Settings>(loaded).routes.at(0);
  EXPECT_EQ(route.language, Lang::en);
  ASSERT_TRUE(route.digest.has_value());
  EXPECT_EQ(route.digest->group_key(), "digest:weekly:monday:08:30:Asia/Tokyo");
}

}  // namespace
}  // namespace kpiwatch
