#pragma once
// What every harness checks of what a parser accepted: a violated property
// aborts, so that libFuzzer keeps the input as a crash.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "kpiwatch/dims.hpp"
#include "kpiwatch/submission.hpp"

namespace kpiwatch::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void violated(const char* what, std::string_view text) {
  std::fprintf(stderr, "fuzz: %s: \"%.*s\"\n", what, static_cast<int>(text.size()), text.data());
  std::abort();
}

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
inline bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // cut off
    for (int k = 1; k <= n; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

inline void check_text(const char* what, std::string_view s) {
  if (!is_utf8(s)) violated(what, s);
}

// A submission as the store would keep it: UTF-8 everywhere, a finite value,
// dims that survive their series key.
inline void check_submission(const Submission& s) {
  check_text("kpi is not UTF-8", s.kpi);
  check_text("body is not UTF-8", s.body);
  check_text("source is not UTF-8", s.source);
  check_text("note is not UTF-8", s.note);
  for (const auto& item : s.items) check_text("item is not UTF-8", item);
  for (const auto& [name, value] : s.dims) {
    check_text("dim name is not UTF-8", name);
    check_text("dim value is not UTF-8", value);
  }
  if (parse_dims_key(dims_key(s.dims)) != s.dims) violated("dims do not survive their key", dims_key(s.dims));
  if (s.value && !std::isfinite(*s.value)) violated("value is not finite", s.kpi);
}

}  // namespace kpiwatch::fuzz
