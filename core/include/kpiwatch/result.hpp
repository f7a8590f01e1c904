#pragma once
// Errors as values at module boundaries.

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "kpiwatch/error.hpp"

namespace kpiwatch {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }

  // REQUIRES: !ok()
  const Error& error() const { return std::get<1>(v_); }
  Error& error() { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

using Status = Result<std::monostate>;
inline Status ok_status() { return std::monostate{}; }

// A problem in a file a person wrote, reported as `file:line:col: message`.
struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;

  std::string str() const {
    if (file.empty()) return message;
    // Appends one piece at a time: GCC 12 at -O3 reports a false -Wrestrict on "..." + std::string.
    std::string out = file;
    if (line > 0) {
      out += ':';
      out += std::to_string(line);
      out += ':';
      out += std::to_string(column);
    }
    out += ": ";
    out += message;
    return out;
  }
};

using Diagnostics = std::vector<Diagnostic>;

// Loading a person's file either succeeds or returns every problem found in it.
template <class T>
using Loaded = std::variant<T, Diagnostics>;

}  // namespace kpiwatch
