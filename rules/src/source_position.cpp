#include "kpiwatch/source_position.hpp"

#include <cstdlib>
#include <string>

namespace kpiwatch {
namespace {

bool is_toml_whitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Walks the text of a file character by character, keeping line and column.
class TextCursor {
 public:
  explicit TextCursor(std::string_view text) : text_(text) {}

  // Moves to `at` without decoding; false if that is past the end.
  bool seek(SourcePos at) {
    at_ = at;
    for (int line = 1; line < at.line && i_ < text_.size(); ++i_)
      if (text_[i_] == '\n') ++line;
    for (int column = 1; column < at.column && i_ < text_.size(); ++column) i_ += char_size();
    return i_ < text_.size();
  }

  bool at_quote() const { return peek() == '"' || peek() == '\''; }

  // Steps over the opening quote, or three of them and the newline a
  // multi-line string starts with (which is no text).
  void open_string() {
    basic_ = peek() == '"';
    multi_ = starts_with(std::string(3, peek()));
    for (int k = 0; k < (multi_ ? 3 : 1); ++k) step();
    if (multi_ && starts_with("\r\n")) {
      step();
      step();
    } else if (multi_ && i_ < text_.size() && peek() == '\n') {
      step();
    }
  }

  // Steps over what the first `offset` bytes of the decoded value were written as.
  void skip_decoded(std::size_t offset) {
    for (std::size_t decoded = 0; decoded < offset && i_ < text_.size();) decoded += step_written_character();
  }

  SourcePos position() const { return at_; }

 private:
  char peek(std::size_t ahead = 0) const { return i_ + ahead < text_.size() ? text_[i_ + ahead] : '\0'; }
  bool starts_with(std::string_view s) const { return i_ <= text_.size() && text_.substr(i_).starts_with(s); }

  // Bytes of the UTF-8 character at the cursor.
  std::size_t char_size() const {
    auto c = static_cast<unsigned char>(peek());
    if (c < 0x80) return 1;
    if ((c >> 5) == 0x6) return 2;
    if ((c >> 4) == 0xE) return 3;
    if ((c >> 3) == 0x1E) return 4;
    return 1;
  }

  void step() {
    if (peek() == '\n') {
      ++at_.line;
      at_.column = 1;
      ++i_;
    } else {
      i_ += char_size();
      ++at_.column;
    }
  }

  // Steps over one character, escape or line continuation as written; returns
  // the bytes it decodes to.
  std::size_t step_written_character() {
    char c = peek();
    char next = peek(1);
    if (basic_ && c == '\\' && (next == 'u' || next == 'U')) return step_unicode_escape(next == 'u' ? 4 : 8);
    if (basic_ && multi_ && c == '\\' && is_toml_whitespace(next)) {
      step();  // a line-ending backslash: it and the whitespace after it are no text
      while (i_ < text_.size() && is_toml_whitespace(peek())) step();
      return 0;
    }
    if ((basic_ && c == '\\') || (c == '\r' && next == '\n')) {
      step();  // an escape, or CRLF: two characters written, one decoded
      step();
      return 1;
    }
    std::size_t size = char_size();
    step();
    return size;
  }

  std::size_t step_unicode_escape(std::size_t digits) {
    unsigned long cp = std::strtoul(std::string(text_.substr(i_ + 2, digits)).c_str(), nullptr, 16);
    for (std::size_t k = 0; k < 2 + digits && i_ < text_.size(); ++k) step();
    if (cp < 0x80) return 1;
    if (cp < 0x800) return 2;
    return cp < 0x10000 ? 3 : 4;
  }

  std::string_view text_;
  std::size_t i_ = 0;
  SourcePos at_;
  bool basic_ = true;
  bool multi_ = false;
};

}  // namespace

SourcePos position_in_string(std::string_view text, SourcePos value_at, std::size_t offset) {
  TextCursor cursor(text);
  if (value_at.line < 1 || !cursor.seek(value_at) || !cursor.at_quote())
    return {value_at.line, value_at.column + 1 + static_cast<int>(offset)};
  cursor.open_string();
  cursor.skip_decoded(offset);
  return cursor.position();
}

}  // namespace kpiwatch
