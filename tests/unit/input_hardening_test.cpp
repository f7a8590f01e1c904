// Input hardening (issue 14): strict JSON (no key twice), UTF-8 everywhere a text is written,
// blank items, and the encodings a file to import may be in.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/importer.hpp"
#include "kpiwatch/json.hpp"
#include "kpiwatch/store.hpp"
#include "kpiwatch/submission.hpp"
#include "kpiwatch/text.hpp"
#include "temp_dir.hpp"

namespace kpiwatch {
namespace {

using ::testing::HasSubstr;
namespace json = boost::json;

std::string parse_error(std::string_view text) {
  auto r = parse_json(text);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.error().message + " | " + r.error().field;
}

TEST(StrictJson, ParsesWhatBoostJsonParses) {
  const std::string text = R"({"a":[1,2.5,"x",{"b":null,"c":true}],"d":{"e":{}},"f":[]})";
  auto r = parse_json(text);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value(), json::parse(text));
  // Equal keys in different objects are no repeat.
  EXPECT_TRUE(parse_json(R"([{"a":1},{"a":2},{"b":{"a":3}}])").ok());
}

TEST(StrictJson, ARepeatedKeyIsRefusedAtAnyDepthWithItsLineColumnAndPointer) {
  EXPECT_EQ(parse_error(R"({"a":1,"a":2})"),
            R"(malformed JSON at line 1 column 8: key "a" appears twice in one object (at /a) | /a)");
  EXPECT_EQ(parse_error("{\"s\":[{\"x\":1},\n{\"k\":{\"q\":1, \"q\":2}}]}"),
            R"(malformed JSON at line 2 column 14: key "q" appears twice in one object (at /s/1/k/q) | /s/1/k/q)");
  // Escaped keys are compared as decoded, and a pointer escapes "~" and "/".
  EXPECT_THAT(parse_error(R"({"a/~":1,"a\/~":2})"), HasSubstr(R"(key "a/~" appears twice in one object (at /a~1~0))"));
  EXPECT_THAT(parse_error(R"({"\u0041":1,"A":2})"), HasSubstr(R"(key "A" appears twice)"));
  // A large object (its keys indexed, not searched) is checked as a small one.
  std::string big = "{";
  for (int i = 0; i < 100; ++i) big += fmt::format("\"k{}\":{},", i, i);
  EXPECT_TRUE(parse_json(big + "\"last\":1}").ok());
  EXPECT_THAT(parse_error(big + "\"k7\":1}"), HasSubstr(R"(key "k7" appears twice in one object (at /k7))"));
}

TEST(StrictJson, BytesThatAreNotUtf8AreNamedByLineColumnAndOffset) {
  for (const std::string bad : {"\xFF", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE3\x81"}) {
    std::string text = "{\"a\":\n \"x" + bad + "\"}";
    EXPECT_THAT(parse_error(text), HasSubstr(fmt::format("line 2 column 4: byte 0x{:02X} (offset 9) is not UTF-8",
                                                         static_cast<unsigned char>(bad[0]))));
  }
  // A lone surrogate written as an escape is refused by Boost.JSON itself.
  EXPECT_FALSE(parse_json(R"({"a":"\ud800"})").ok());
  EXPECT_THAT(parse_error(R"({"a":1} x)"), HasSubstr("line 1 column 9"));
}

TEST(Utf8, FindsTheFirstSequenceThatIsNotUtf8) {
  EXPECT_EQ(invalid_utf8_at("plain ascii"), std::nullopt);
  EXPECT_EQ(invalid_utf8_at("日本医療研究開発機構 \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"), std::nullopt);
  EXPECT_EQ(invalid_utf8_at("ab\xFF"), 2u);
  EXPECT_EQ(invalid_utf8_at("a\xC0\xAF"), 1u);         // overlong "/"
  EXPECT_EQ(invalid_utf8_at("ab\xED\xA0\x80"), 2u);    // a surrogate
  EXPECT_EQ(invalid_utf8_at("\xF4\x90\x80\x80"), 0u);  // past U+10FFFF
  EXPECT_EQ(invalid_utf8_at("日本\xE3\x81"), 6u);      // cut off
  EXPECT_EQ(invalid_utf8_at("\x80"), 0u);              // a stray continuation byte
}

TEST(Utf8, BlankMeansNothingToSee) {
  for (const std::string blank : {"", " ", "\t", "\r\n", "\xE3\x80\x80", "\xC2\xA0", "\xE2\x80\x8B", " \xEF\xBB\xBF "})
    EXPECT_TRUE(is_blank(blank)) << blank;
  for (const std::string text : {"a", " a ", "\xE3\x80\x80日本", "0"}) EXPECT_FALSE(is_blank(text)) << text;
}

// The object a CSV row or a rule test builds, with no JSON text behind it.
json::object built(std::string note) {
  return {{"kpi", "g01.trainees"}, {"period", "2025"}, {"value", 1}, {"note", std::move(note)}};
}

TEST(SubmissionText, ABuiltObjectWithTextThatIsNotUtf8IsRefusedNamingTheField) {
  const Catalog& catalog = *Catalog::embedded();
  auto r = parse_submission(catalog, built("ok \xF4\x90\x80\x80"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(to_string(r.error().code), "invalid_encoding");
  EXPECT_EQ(r.error().field, "note");
  EXPECT_THAT(r.error().message, HasSubstr("byte 0xF4 at offset 3"));

  json::object items{{"kpi", "g10.new_reference_countries"}, {"period", "2025"}, {"items", {"Peru", "x\xC0\xAF"}}};
  auto i = parse_submission(catalog, items);
  ASSERT_FALSE(i.ok());
  EXPECT_EQ(i.error().field, "items[1]");

  // A key that is not UTF-8 is refused before any message would echo it.
  json::object key{{"kpi", "g01.trainees"}, {"period", "2025"}, {"value", 1}, {"n\xFFte", "x"}};
  auto k = parse_submission(catalog, key);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(to_string(k.error().code), "invalid_encoding");
  EXPECT_EQ(invalid_utf8_at(k.error().message), std::nullopt);
}

TEST(SubmissionText, BlankItemsAreRefusedByIndex) {
  const Catalog& catalog = *Catalog::embedded();
  for (const std::string blank : {" ", "\t", "\xE3\x80\x80"}) {
    json::object items{{"kpi", "g10.new_reference_countries"}, {"period", "2025"}, {"items", {"Peru", blank}}};
    auto r = parse_submission(catalog, items);
    ASSERT_FALSE(r.ok()) << blank;
    EXPECT_EQ(to_string(r.error().code), "invalid_item");
    EXPECT_EQ(r.error().field, "items[1]");
  }
}

TEST(SubmissionText, ARepeatedKeyInABatchNamesTheEntryAndTheField) {
  auto r = parse_submissions(*Catalog::embedded(), R"({"submissions":[{"kpi":"g01.trainees","period":"2025","value":1},
    {"kpi":"g06.stage_up_rate","period":"2025","dims":{"stage":"all","stage":"basic"},"value":1}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(to_string(r.error().code), "invalid_json");
  EXPECT_EQ(r.error().field, "dims.stage");
  EXPECT_EQ(r.error().index, 1u);
  EXPECT_THAT(r.error().message, HasSubstr("line 2 column 70"));
}

TEST(StoreText, TheRepositoryStoresNoTextThatIsNotUtf8) {
  test::TempDir dir;
  auto store = Store::open({dir.file("k.db"), "normal", 5000});
  ASSERT_TRUE(store.ok()) << store.error().message;
  Submission good;
  good.kpi = "g01.trainees";
  good.period = Period{PeriodKind::year, 2025, 0};
  good.value = 1;
  Submission bad = good;
  bad.period = Period{PeriodKind::year, 2026, 0};
  bad.source = "x\xED\xA0\x80";
  auto r = store.value()->revisions().append({good, bad}, "test", "2025-01-01T00:00:00.000Z");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(to_string(r.error().code), "invalid_encoding");
  EXPECT_EQ(r.error().field, "source");
  EXPECT_EQ(r.error().index, 1u);
  auto by = store.value()->revisions().append({good}, "x\xFF", "2025-01-01T00:00:00.000Z");
  EXPECT_FALSE(by.ok());
  auto ok = store.value()->revisions().append({good}, "test", "2025-01-01T00:00:00.000Z");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->front().revision, 1);  // nothing of the refused batches was stored
}

TEST(ImportText, EncodingsByNameAndWhatDetectionSays) {
  EXPECT_EQ(parse_text_encoding("UTF-8"), TextEncoding::utf8);
  EXPECT_EQ(parse_text_encoding("utf-16"), TextEncoding::utf16);
  EXPECT_EQ(parse_text_encoding("cp932"), TextEncoding::cp932);
  EXPECT_EQ(parse_text_encoding("Shift_JIS"), TextEncoding::cp932);
  EXPECT_EQ(parse_text_encoding("latin1"), std::nullopt);

  // "日本" in CP932.
  const std::string cp932 = "kpi,note\r\nx,\x93\xFA\x96\x7B\r\n";
  auto detected = decode_text(cp932, "f.csv", TextEncoding::detect, ImportFormat::csv);
  ASSERT_TRUE(detected.ok()) << detected.error().message;
  EXPECT_EQ(detected->text, "kpi,note\r\nx,日本\r\n");
  EXPECT_THAT(detected->notice, HasSubstr("f.csv: read as CP932 (Shift_JIS, detected"));
  auto chosen = decode_text(cp932, "f.csv", TextEncoding::cp932, ImportFormat::csv);
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->notice, "");
  auto as_utf8 = decode_text(cp932, "f.csv", TextEncoding::utf8, ImportFormat::csv);
  ASSERT_FALSE(as_utf8.ok());
  EXPECT_THAT(as_utf8.error().message, HasSubstr("f.csv:2: byte 0x93 at offset 12 is not UTF-8 text"));
  // JSON is UTF-8: nothing is guessed.
  auto json_file = decode_text("{\"note\":\"\x93\xFA\x96\x7B\"}", "f.json", TextEncoding::detect, ImportFormat::json);
  ASSERT_FALSE(json_file.ok());
  EXPECT_THAT(json_file.error().message, HasSubstr("f.json:1: byte 0x93 at offset 9 is not UTF-8 text"));
  // UTF-16 without a BOM, when chosen, is little-endian.
  auto utf16 = decode_text(std::string("a\0b\0", 4), "f.csv", TextEncoding::utf16, ImportFormat::csv);
  ASSERT_TRUE(utf16.ok()) << utf16.error().message;
  EXPECT_EQ(utf16->text, "ab");
}

}  // namespace
}  // namespace kpiwatch
