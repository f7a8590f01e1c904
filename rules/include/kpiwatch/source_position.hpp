#pragma once
// Where a value stands in a rule file, as an editor shows it.

#include <cstddef>
#include <string_view>

namespace kpiwatch {

// 1-based; columns count characters, as toml++ does.
struct SourcePos {
  int line = 0;
  int column = 0;
};

// A value read from a file, with the position of its first character.
template <typename T>
struct Located {
  T value;
  SourcePos at;
};

// The position of byte `offset` of the decoded text of the string value that
// begins (at its opening quote) at `value_at` in `text`: escapes count as
// written, CRLF as one character, and multi-line strings span lines.
SourcePos position_in_string(std::string_view text, SourcePos value_at, std::size_t offset);

}  // namespace kpiwatch
