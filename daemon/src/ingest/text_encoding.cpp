// Files as Japanese Excel saves them, read as UTF-8: "CSV UTF-8" (with a BOM),
// "Unicode" (UTF-16 with a BOM) and plain "CSV" (CP932). Converted by glibc's iconv.
#include <fmt/format.h>
#include <iconv.h>

#include <cerrno>
#include <cstdint>
#include <memory>

#include "kpiwatch/importer.hpp"

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
               fmt::format("{}:{}: {} is not {} text; save the file as \"CSV UTF-8\"", file, line, what, encoding), "",
               line};
}

Result<std::string> from_utf16(std::string_view bytes, const std::string& file, bool big_endian) {
  auto body = bytes.substr(2);
  auto converted = to_utf8(body, big_endian ? "UTF-16BE" : "UTF-16LE");
  if (!converted) return converted.error();
  if (converted->bad) {
    std::size_t offset = *converted->bad;
    return undecodable(file, bytes, offset + 2, line_of(body, offset, 2, big_endian),
                       big_endian ? "UTF-16 BE" : "UTF-16 LE");
  }
  return std::move(converted->text);
}

}  // namespace

Result<std::string> decode_import_text(std::string_view bytes, const std::string& file) {
  if (bytes.starts_with("\xFF\xFE")) return from_utf16(bytes, file, false);
  if (bytes.starts_with("\xFE\xFF")) return from_utf16(bytes, file, true);
  bool bom = bytes.starts_with("\xEF\xBB\xBF");
  // Checked by writing UTF-32: glibc reads code points above U+10FFFF as UTF-8, but does not write them.
  auto utf8 = convert(bytes, "UTF-8", "UTF-32LE");
  if (!utf8) return utf8.error();
  if (!utf8->bad) return std::string(bytes);
  // A BOM says UTF-8; without one, bytes that are not UTF-8 are what Excel writes as "CSV": CP932.
  if (bom) return undecodable(file, bytes, *utf8->bad, line_of(bytes, *utf8->bad, 1, false), "UTF-8");
  auto cp932 = to_utf8(bytes, "CP932");
  if (!cp932) return cp932.error();
  if (cp932->bad)
    return undecodable(file, bytes, *cp932->bad, line_of(bytes, *cp932->bad, 1, false), "UTF-8 or CP932 (Shift_JIS)");
  return std::move(cp932->text);
}

}  // namespace kpiwatch
