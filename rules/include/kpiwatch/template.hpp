#pragma once
// Summary and description templates: "{kpi_name}が{previous}%から{value}%に低下（{period}）".
// Placeholders take typed values, written in the language of the text:
// numbers by a format spec or the KPI's own precision, periods as 2023年度 /
// FY2023, dims values and items by their catalog labels.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kpiwatch/period.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {

// An id and how each language writes it ("basic": 基礎研究 / basic research).
struct TemplateLabel {
  std::string id, ja, en;
};

// A number and how it is written when the template gives no spec.
struct TemplateNumber {
  double value = 0;
  NumberFormat format;
};

using TemplateValue = std::variant<std::string, TemplateLabel, TemplateNumber, Period, std::chrono::year_month_day>;
using TemplateValues = std::map<std::string, TemplateValue, std::less<>>;

class Template {
 public:
  struct Error {
    std::size_t offset;
    std::string message;
  };
  // Checks every placeholder against the known names (and dims.X / labels.X) and its spec.
  static std::variant<Template, Error> compile(std::string_view text);
  std::string render(const TemplateValues& values, Lang lang) const;
  bool empty() const { return parts_.empty(); }

 private:
  struct Part {
    bool placeholder = false;
    std::string text;                    // literal text, or the placeholder name
    std::optional<NumberFormat> format;  // {value:.1f}
    bool raw_id = false;                 // {dims.stage:id}
  };
  static std::optional<Error> parse_placeholder(std::string_view inside, std::size_t at, Part& part);
  std::vector<Part> parts_;
};

}  // namespace kpiwatch
