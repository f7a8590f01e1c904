#pragma once
// Summary and description templates: "{kpi_name}が{previous}%から{value}%に低下（{period}）".
// Placeholders take typed values, written in the language of the text:
// numbers by a format spec or the KPI's own precision, periods as 2023年度 /
// FY2023, dims values and items by their catalog labels. The report's headline
// templates also name ratios (1.4倍), directions (増加 / 減少 / 横ばい) and figure lists.

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

// One figure over another: 1.4倍 / 1.4 times (one decimal unless the template gives a spec).
struct TemplateRatio {
  double value = 0;
};

// Where the figures went. {direction} writes 増加 / 減少 / 横ばい (increased /
// decreased / stayed flat); {direction:増えて|減って|横ばいで} chooses other words.
enum class TemplateDirection { rising, falling, flat, none };

// Figures in period order with their unit: 「2022年に49コース、2023年に58コース」 /
// "49 courses in 2022, 58 courses in 2023"; without periods: 「4.1年、2.0年、0.4年」.
struct TemplateFigures {
  std::vector<std::pair<Period, double>> points;
  NumberFormat format;
  TemplateLabel unit;
  bool with_periods = true;
};

using TemplateValue = std::variant<std::string, TemplateLabel, TemplateNumber, Period, std::chrono::year_month_day,
                                   TemplateRatio, TemplateDirection, TemplateFigures>;

// Which placeholders a template may name: the alert texts', or those and the report's.
enum class TemplateNames { alert, report };
using TemplateValues = std::map<std::string, TemplateValue, std::less<>>;

class Template {
 public:
  struct Error {
    std::size_t offset;
    std::string message;
  };
  // Checks every placeholder against the known names (and dims.X / labels.X) and its spec.
  static std::variant<Template, Error> compile(std::string_view text, TemplateNames names = TemplateNames::alert);
  std::string render(const TemplateValues& values, Lang lang) const;
  // The same, with the placeholders `values` lacks taken from `fallback`.
  std::string render(const TemplateValues& values, const TemplateValues& fallback, Lang lang) const;
  bool empty() const { return parts_.empty(); }

 private:
  struct Part {
    bool placeholder = false;
    std::string text;                    // literal text, or the placeholder name
    std::optional<NumberFormat> format;  // {value:.1f}
    bool raw_id = false;                 // {dims.stage:id}
    std::vector<std::string> words;      // {direction:増えて|減って|横ばいで}
  };
  static std::optional<Error> parse_placeholder(std::string_view inside, std::size_t at, TemplateNames names,
                                                Part& part);
  std::vector<Part> parts_;
};

}  // namespace kpiwatch
