// Files as Japanese Excel saves them, read as UTF-8: "CSV UTF-8" (with a BOM),
// "Unicode" (UTF-16 with a BOM) and plain "CSV" (CP932). Converted by glibc's iconv.
#include <fmt/format.h>
#include <iconv.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>

#include "kpiwatch/importer.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {

namespace {

struct IconvCloser {
  void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
};
using IconvHandle = std::unique_ptr<void, IconvCloser>;

// Converts `in` from `from` to UTF-8; `bad` is the offset of the first byte
// that cannot be read (an invalid or cut-off sequence).
struct Converted {
  std::string text;
  std::optional<std::size_t> bad;
};

Result<Converted> convert(std::string_view in, const char* from, const char* to) {
  iconv_t raw = iconv_open(to, from);
  // iconv_open's failure is (iconv_t)-1; compared as an integer, not made into a pointer.
  if (reinterpret_cast<std::intptr_t>(raw) == -1)
    return Error{ErrorCode::import_error, fmt::format("this system's iconv cannot read {}", from), "", {}};
  IconvHandle cd(raw);
  Converted out;
  out.text.resize(in.size() * 3 / 2 + 16);
  // iconv's interface takes non-const input pointers; it does not write through them.
  char* src = const_cast<char*>(in.data());
  std::size_t src_left = in.size();
  std::size_t written = 0;
  while (src_left > 0) {
    char* dst = out.text.data() + written;
    std::size_t dst_left = out.text.size() - written;
    std::size_t rc = iconv(raw, &src, &src_left, &dst, &dst_left);
    written = out.text.size() - dst_left;
    if (rc != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) {
      out.text.resize(out.text.size() * 2);
      continue;
    }
    out.bad = static_cast<std::size_t>(src - in.data());
    break;
  }
  out.text.resize(written);
  return out;
}

Result<Converted> to_utf8(std::string_view in, const char* from) { return convert(in, from, "UTF-8"); }

// The 1-based line of byte `offset`; `unit` is 2 for UTF-16 (a newline is one code unit).
std::size_t line_of(std::string_view bytes, std::size_t offset, std::size_t unit, bool big_endian) {
  std::size_t line = 1;
  for (std::size_t i = 0; i + unit <= offset; i += unit) {
    bool newline = unit == 1 ? bytes[i] == '\n'
                             : bytes[i + (big_endian ? 1 : 0)] == '\n' && bytes[i + (big_endian ? 0 : 1)] == '\0';
    if (newline) ++line;
  }
  return line;
}

Error undecodable(const std::string& file, std::string_view bytes, std::size_t offset, std::size_t line,
                  std::string_view encoding) {
  auto byte = offset < bytes.size() ? static_cast<unsigned char>(bytes[offset]) : 0U;
  std::string what = offset < bytes.size() ? fmt::format("byte 0x{:02X} at offset {}", byte, offset)
                                           : fmt::format("the file ends inside a character (offset {})", offset);
  return Error{ErrorCode::invalid_encoding,
               fmt::format("{}:{}: {} is not {} text; save the file as \"CSV UTF-8\", or choose with --encoding", file,
                           line, what, encoding),
               "", line};
}

Result<std::string> from_utf16(std::string_view bytes, const std::string& file, bool big_endian, bool bom) {
  auto body = bom ? bytes.substr(2) : bytes;
  std::size_t skipped = bom ? 2 : 0;
  auto converted = to_utf8(body, big_endian ? "UTF-16BE" : "UTF-16LE");
  if (!converted) return converted.error();
  if (converted->bad) {
    std::size_t offset = *converted->bad;
    return undecodable(file, bytes, offset + skipped, line_of(body, offset, 2, big_endian),
                       big_endian ? "UTF-16 BE" : "UTF-16 LE");
  }
  return std::move(converted->text);
}

Result<std::string> from_cp932(std::string_view bytes, const std::string& file, std::string_view encoding) {
  auto cp932 = to_utf8(bytes, "CP932");
  if (!cp932) return cp932.error();
  if (cp932->bad) return undecodable(file, bytes, *cp932->bad, line_of(bytes, *cp932->bad, 1, false), encoding);
  return std::move(cp932->text);
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<TextEncoding> parse_text_encoding(std::string_view name) {
  static const std::map<std::string, TextEncoding, std::less<>> names = {
      {"auto", TextEncoding::detect},       {"utf-8", TextEncoding::utf8},      {"utf8", TextEncoding::utf8},
      {"utf-16", TextEncoding::utf16},      {"utf16", TextEncoding::utf16},     {"cp932", TextEncoding::cp932},
      {"shift_jis", TextEncoding::cp932},   {"shift-jis", TextEncoding::cp932}, {"sjis", TextEncoding::cp932},
      {"windows-31j", TextEncoding::cp932},
  };
  auto it = names.find(lower(name));
  if (it == names.end()) return std::nullopt;
  return it->second;
}

// Whether bytes that read as CP932 hold what a Latin-1 or Windows-1252 file makes of it:
// half-width katakana (the bytes of À to ß) or a lead byte of 0xE0 and above (à to ü,
// read as rare kanji and vendor extensions). Japanese text from Excel seldom has either;
// when it does, --encoding cp932 says so. A guess must not turn "Genève" into 钁.
bool reads_as_western(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    if (b < 0x80) continue;
    if ((b >= 0xA1 && b <= 0xDF) || b >= 0xE0) return true;
    ++i;  // a lead byte of 0x81 to 0x9F and its trail byte
  }
  return false;
}

Result<DecodedText> decode_text(std::string_view bytes, const std::string& file, TextEncoding encoding,
                                ImportFormat format) {
  bool le_bom = bytes.starts_with("\xFF\xFE");
  bool be_bom = bytes.starts_with("\xFE\xFF");
  bool utf8_bom = bytes.starts_with("\xEF\xBB\xBF");
  DecodedText out;
  // UTF-8 is checked by invalid_utf8_at, not by iconv: glibc's iconv passes code points above U+10FFFF.
  auto utf8 = [&](std::string_view encoding_name) -> Result<DecodedText> {
    if (auto bad = invalid_utf8_at(bytes))
      return undecodable(file, bytes, *bad, line_of(bytes, *bad, 1, false), encoding_name);
    out.text = std::string(bytes);
    return std::move(out);
  };
  switch (encoding) {
    case TextEncoding::utf8:
      return utf8("UTF-8");
    case TextEncoding::utf16: {
      // Without a byte order mark, little-endian: what Excel writes on Windows.
      auto text = from_utf16(bytes, file, be_bom, le_bom || be_bom);
      if (!text) return text.error();
      out.text = std::move(text.value());
      return out;
    }
    case TextEncoding::cp932: {
      auto text = from_cp932(bytes, file, "CP932 (Shift_JIS)");
      if (!text) return text.error();
      out.text = std::move(text.value());
      return out;
    }
    case TextEncoding::detect:
      break;
  }
  if (le_bom || be_bom) {
    auto text = from_utf16(bytes, file, be_bom, true);
    if (!text) return text.error();
    out.text = std::move(text.value());
    return out;
  }
  auto bad = invalid_utf8_at(bytes);
  if (!bad) {
    out.text = std::string(bytes);
    return out;
  }
  // A BOM says UTF-8, and JSON is UTF-8 (RFC 8259); otherwise bytes that are not UTF-8 are what
  // Excel writes as "CSV": CP932. The first sequence that is not UTF-8 is named, where a person looks first.
  if (utf8_bom || format == ImportFormat::json)
    return undecodable(file, bytes, *bad, line_of(bytes, *bad, 1, false), "UTF-8");
  auto cp932 = to_utf8(bytes, "CP932");
  if (!cp932) return cp932.error();
  if (cp932->bad || reads_as_western(bytes))
    return undecodable(file, bytes, *bad, line_of(bytes, *bad, 1, false), "UTF-8 or CP932 (Shift_JIS)");
  out.text = std::move(cp932->text);
  out.notice =
      fmt::format("{}: read as CP932 (Shift_JIS, detected: the file is not UTF-8); use --encoding to choose", file);
  return out;
}

Result<std::string> decode_import_text(std::string_view bytes, const std::string& file) {
  auto decoded = decode_text(bytes, file, TextEncoding::detect, ImportFormat::csv);
  if (!decoded) return decoded.error();
  return std::move(decoded->text);
}

}  // namespace kpiwatch
