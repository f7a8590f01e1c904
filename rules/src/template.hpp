#pragma once
// Summary and description templates: "{kpi_name_ja}が{previous}%から{value}%に低下".

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kpiwatch {

class Template {
 public:
  struct Error {
    std::size_t offset;
    std::string message;
  };
  // Checks every placeholder against the known names (and dims.X / labels.X).
  static std::variant<Template, Error> compile(std::string_view text);
  std::string render(const std::map<std::string, std::string>& values) const;
  bool empty() const { return parts_.empty(); }

 private:
  struct Part {
    bool placeholder = false;
    std::string text;  // literal text, or the placeholder name
  };
  std::vector<Part> parts_;
};

// "33.1", "2737", "-6.3": up to two decimals, no trailing zeros.
std::string format_number(double value);

}  // namespace kpiwatch
