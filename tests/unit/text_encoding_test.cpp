// Import files as Japanese Excel saves them: UTF-8 with or without a BOM,
// UTF-16 LE/BE with a BOM, CP932; an undecodable byte named by line and offset.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "kpiwatch/importer.hpp"
#include "temp_dir.hpp"

namespace kpiwatch {
namespace {

using ::testing::HasSubstr;

const std::string kCsv =
    "kpi,period,dims.stage,value,note\r\n"
    "g06.stage_up_rate,2024,all,26.8,日本医療研究開発機構の調査\r\n";

// UTF-8 → UTF-16 for ASCII and BMP characters, with its BOM.
std::string utf16(std::string_view utf8, bool big_endian) {
  std::string out = big_endian ? "\xFE\xFF" : "\xFF\xFE";
  for (std::size_t i = 0; i < utf8.size();) {
    auto c = static_cast<unsigned char>(utf8[i]);
    unsigned cp = c;
    std::size_t n = 1;
    if (c >= 0xE0) {
      cp = (c & 0x0FU) << 12U | (static_cast<unsigned char>(utf8[i + 1]) & 0x3FU) << 6U |
           (static_cast<unsigned char>(utf8[i + 2]) & 0x3FU);
      n = 3;
    } else if (c >= 0xC0) {
      cp = (c & 0x1FU) << 6U | (static_cast<unsigned char>(utf8[i + 1]) & 0x3FU);
      n = 2;
    }
    char hi = static_cast<char>(cp >> 8U);
    char lo = static_cast<char>(cp & 0xFFU);
    out += big_endian ? hi : lo;
    out += big_endian ? lo : hi;
    i += n;
  }
  return out;
}

// What `iconv -t CP932` writes, run as a real process.
std::string cp932(const std::string& utf8) {
  test::TempDir dir;
  const std::string in = dir.file("utf8.csv");
  const std::string out = dir.file("cp932.csv");
  std::FILE* f = std::fopen(in.c_str(), "wb");
  std::fwrite(utf8.data(), 1, utf8.size(), f);
  std::fclose(f);
  std::string command = "iconv -f UTF-8 -t CP932 '" + in + "' > '" + out + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::FILE* r = std::fopen(out.c_str(), "rb");
  std::string bytes;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, r)) > 0;) bytes.append(buf, n);
  std::fclose(r);
  return bytes;
}

std::string decoded(std::string_view bytes) {
  auto r = decode_import_text(bytes, "figures.csv");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : "";
}

Error decode_error(std::string_view bytes) {
  auto r = decode_import_text(bytes, "figures.csv");
  EXPECT_FALSE(r.ok());
  return r.ok() ? Error{} : r.error();
}

TEST(ImportEncoding, KeepsUtf8WithAndWithoutItsBom) {
  EXPECT_EQ(decoded(kCsv), kCsv);
  EXPECT_EQ(decoded("\xEF\xBB\xBF" + kCsv), "\xEF\xBB\xBF" + kCsv);
}

TEST(ImportEncoding, ReadsUtf16LittleAndBigEndianByTheirBom) {
  std::string le = utf16(kCsv, false);
  std::string be = utf16(kCsv, true);
  ASSERT_NE(le, be);
  EXPECT_EQ(decoded(le), kCsv);
  EXPECT_EQ(decoded(be), kCsv);
}

TEST(ImportEncoding, ReadsCp932WhenTheBytesAreNotUtf8) {
  std::string bytes = cp932(kCsv);
  ASSERT_FALSE(bytes.empty());
  ASSERT_EQ(bytes.find("日本医療研究開発機構"), std::string::npos);  // not UTF-8 any more
  EXPECT_EQ(decoded(bytes), kCsv);
}

TEST(ImportEncoding, TheImporterReadsEachEncodingAlike) {
  const Catalog& catalog = *Catalog::embedded();
  for (const std::string& bytes : {kCsv, "\xEF\xBB\xBF" + kCsv, utf16(kCsv, false), utf16(kCsv, true), cp932(kCsv)}) {
    auto batch = read_import(catalog, bytes, guess_format("figures", bytes), "figures");
    ASSERT_TRUE(batch.ok()) << batch.error().message;
    ASSERT_EQ(batch->size(), 1u);
    EXPECT_EQ(batch->front().value, 26.8);
    EXPECT_EQ(batch->front().note, "日本医療研究開発機構の調査");
  }
}

TEST(ImportEncoding, AnUndecodableByteNamesItsLineAndOffset) {
  // 0x85 0x20 is neither UTF-8 nor a CP932 character (0x85 leads a pair whose second byte is 0x40-0xFC).
  std::string bytes = "kpi,period,value\r\ng01.trainees,2024,4086\r\ng01.trainees,2025,\x85 \r\n";
  auto e = decode_error(bytes);
  EXPECT_EQ(to_string(e.code), "invalid_encoding");
  EXPECT_THAT(e.message, HasSubstr("figures.csv:3:"));
  EXPECT_THAT(e.message, HasSubstr("0x85"));
  EXPECT_THAT(e.message, HasSubstr(fmt::format("offset {}", bytes.find('\x85'))));

  // With a UTF-8 BOM the file says it is UTF-8: no second guess.
  auto with_bom = decode_error("\xEF\xBB\xBFkpi\r\n\x82\xA0\r\n");
  EXPECT_THAT(with_bom.message, HasSubstr("figures.csv:2: byte 0x82 at offset 8 is not UTF-8"));

  // UTF-16 cut off in the middle of a character on line 2.
  std::string cut = utf16("kpi\nx", false);
  cut.pop_back();
  auto e16 = decode_error(cut);
  EXPECT_THAT(e16.message, HasSubstr("figures.csv:2:"));
  EXPECT_THAT(e16.message, HasSubstr("UTF-16 LE"));
}

}  // namespace
}  // namespace kpiwatch
