// `kpiwatch test [--require-texts] FILES...`: rule unit tests.
#include <fmt/format.h>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/commands.hpp"
#include "kpiwatch/messages.hpp"
#include "kpiwatch/rule_tests.hpp"

namespace kpiwatch {

int run_rule_tests(const std::vector<std::string>& files, bool require_texts, const std::string& lang_name) {
  Lang lang = Lang::en;
  if (!choose_lang(lang_name, lang)) {
    fmt::print(stderr, "--lang must be ja or en, not \"{}\"\n", lang_name);
    return 2;
  }
  auto report = kpiwatch::run_rule_tests(files, Catalog::embedded(), RuleTestOptions{require_texts, lang});
  fmt::print("{}", report.output);
  if (lang == Lang::ja)
    fmt::print("\n成功 {} 件、失敗 {} 件\n", report.passed, report.failed);
  else
    fmt::print("\n{} passed, {} failed\n", report.passed, report.failed);
  if (report.rules_without_texts > 0)
    fmt::print(
        fmt::runtime(lang == Lang::ja
                         ? "文言を確かめる期待アラートのないまま発火するルールが {} 件あります（--require-texts）\n"
                         : "{} rule(s) fire without an expected alert asserting their texts (--require-texts)\n"),
        report.rules_without_texts);
  return report.failed == 0 && report.rules_without_texts == 0 ? 0 : 1;
}

}  // namespace kpiwatch
