// What fuzzing (tests/fuzz, the import target) found in the decoding of import
// files: glibc's iconv reads as UTF-8 code points that UTF-8 cannot hold.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "kpiwatch/importer.hpp"

namespace kpiwatch {
namespace {

using ::testing::HasSubstr;

// Above U+10FFFF: F4 90, F5–F7 (4 bytes) and F8 (5 bytes) lead bytes.
const char* const kBeyondUnicode[] = {"\xF4\x90\x80\x80", "\xF6\x9F\xAD\x9A", "\xF8\x88\x80\x80\x80"};

TEST(ImportUtf8, ACodePointAboveU10FFFFIsNotUtf8) {
  for (const char* bytes : kBeyondUnicode) {
    auto decoded = decode_import_text(std::string("\xEF\xBB\xBFkpi\n") + bytes + "\n", "u.csv");
    ASSERT_FALSE(decoded) << bytes;
    EXPECT_THAT(decoded.error().message, HasSubstr("u.csv:2: byte 0x"));
    EXPECT_THAT(decoded.error().message, HasSubstr("at offset 7 is not UTF-8"));
  }
}

TEST(ImportUtf8, WithoutABomSuchBytesAreReadAsCp932OrRefused) {
  for (const char* bytes : kBeyondUnicode) {
    std::string text = std::string("kpi\n") + bytes + "\n";
    auto decoded = decode_import_text(text, "u.csv");
    // Never the bytes as they were: they are not UTF-8.
    if (decoded) {
      EXPECT_NE(decoded.value(), text) << bytes;
    }
  }
}

}  // namespace
}  // namespace kpiwatch
