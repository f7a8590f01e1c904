// The message catalogue: codes and Japanese for the English diagnostics, and the language choice.
#include "kpiwatch/messages.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

namespace kpiwatch {
namespace {

TEST(Messages, AnUnknownKeyKeepsItsWhereAndGetsACodeAndJapanese) {
  auto m = localize("rule \"g06-x\" [rule.change]: unknown key \"more_then\"");
  EXPECT_EQ(m.code, "E-KEY-UNKNOWN");
  EXPECT_EQ(m.ja, "ルール \"g06-x\" [rule.change]: 定義されていないキー「more_then」です");
  EXPECT_FALSE(m.hint_ja.empty());
}

TEST(Messages, TomlParseErrorsAreMappedByTheirDescription) {
  EXPECT_EQ(localize("Error while parsing string: encountered end-of-file").code, "E-TOML-STRING");
  EXPECT_EQ(localize("Error while parsing string: unescaped control characters other than TAB (U+0009) are "
                     "explicitly prohibited")
                .ja,
            "文字列の終わりの \" がありません");
  EXPECT_EQ(localize("Error while parsing key-value pair: cannot redefine existing integer 'below'").ja,
            "キー「below」が同じ表に2回書かれています");
  EXPECT_EQ(localize("Error while parsing value: could not determine value type").code, "E-TOML-VALUE");
  EXPECT_EQ(localize("Error while parsing decimal integer: expected digit, saw '%'").ja, "数値の中に「%」があります");
  // A rate written with its decimals and unit, as the report prints it (26.8%).
  EXPECT_EQ(localize("Error while parsing floating-point: expected decimal digit, saw '%'").ja,
            "数値の中に「%」があります");
  // A space typed with the Japanese input method, named as people call it.
  EXPECT_EQ(localize("Error while parsing key-value pair: expected space or tab, saw '\\u3000'").ja,
            "全角の空白があります");
  auto missing = localize("rule \"a\": a rule needs one condition table: [rule.threshold], [rule.change]");
  EXPECT_EQ(missing.hint_ja, "次の条件の表のうち1つを書きます: [rule.threshold], [rule.change]");
  // A description no entry names still gets the TOML code, and its English text.
  auto other = localize("Error while parsing time: expected 2-digit hour, saw 'x'");
  EXPECT_EQ(other.code, "E-TOML-SYNTAX");
  EXPECT_NE(other.ja.find("expected 2-digit hour"), std::string::npos) << other.ja;
}

TEST(Messages, ASpecificEntryWinsOverTheGeneralOneItAlsoFits) {
  // `"value" must be ..., not ...` is also the general type error's shape.
  auto m =
      localize("input[2], period \"2024\": KPI \"g01.trainees\" counts: \"value\" must be a whole number, not 155.5");
  EXPECT_EQ(m.code, "E-FIGURE-WHOLE");
  EXPECT_EQ(m.ja,
            "input[2]、期間 \"2024\": KPI「g01.trainees」は数を数える KPI なので、値は整数で書きます（155.5 "
            "になっています）");
}

TEST(Messages, BracesInTemplatesAndTypeWordsAreTranslated) {
  auto m = localize("rule \"r\": \"summary_en\": unknown placeholder {valeu} (known: value, period)");
  EXPECT_EQ(m.code, "E-TMPL-PLACEHOLDER");
  EXPECT_EQ(m.ja, "ルール \"r\": \"summary_en\": 定義されていない差し込み項目 {valeu} です");
  EXPECT_EQ(m.hint_ja, "使える項目: value, period");
  EXPECT_EQ(localize("server: \"port\" must be an integer, not string").ja,
            "server: 「port」は整数で書きます（文字列になっています）");
}

TEST(Messages, AMessageNoEntryKnowsStaysAsItIsUnderTheGenericCode) {
  auto m = localize("something new went wrong");
  EXPECT_EQ(m.code, "E-OTHER");
  EXPECT_EQ(m.ja, "something new went wrong");
  EXPECT_TRUE(m.hint_ja.empty());
}

TEST(Messages, RenderKeepsFileLineColumnAndPutsTheCodeLast) {
  Diagnostic d{"rules/g06.toml", 12, 5, "rule \"g06-x\": unknown KPI \"g06.stageup_rate\""};
  EXPECT_EQ(render(d, Lang::en),
            "rules/g06.toml:12:5: rule \"g06-x\": unknown KPI \"g06.stageup_rate\" [E-KPI-UNKNOWN]");
  EXPECT_EQ(render(d, Lang::ja),
            "rules/g06.toml:12:5: ルール \"g06-x\": カタログにない KPI「g06.stageup_rate」です [E-KPI-UNKNOWN]\n"
            "    ヒント: KPI の ID は docs/ja/README.md の用語集で確かめてください（例: g06.stage_up_rate）。");
}

TEST(Messages, CodesAreFewStableNamesInOneScheme) {
  auto codes = message_codes();
  std::set<std::string> unique(codes.begin(), codes.end());
  EXPECT_EQ(unique.size(), codes.size()) << "an entry's code is split from its kind";
  for (const auto& c : codes) EXPECT_TRUE(c.starts_with("E-")) << c;
  EXPECT_TRUE(unique.contains("E-TOML-STRING"));
  EXPECT_TRUE(unique.contains("E-OTHER"));
}

// A message as the code writes it: each variable part filled, braces as written.
std::string sample(std::string_view english) {
  std::string out;
  for (std::size_t i = 0; i < english.size(); ++i) {
    if (english.compare(i, 2, "{}") == 0) {
      out += 'v';  // one piece at a time: GCC 12 at -O3 reports a false -Wrestrict on "v" + std::string
      out += std::to_string(i);
      ++i;
    } else {
      if (english.compare(i, 2, "{{") == 0 || english.compare(i, 2, "}}") == 0) ++i;
      out += english[i];
    }
  }
  return out;
}

TEST(Messages, NoEntryIsHiddenByAnEarlierOneOfAnotherCode) {
  for (const auto& e : message_entries()) {
    EXPECT_EQ(localize(sample(e.english)).code, e.code) << e.english;
    EXPECT_EQ(localize(fmt::format("rule \"r\" [rule.change]: {}", sample(e.english))).code, e.code)
        << "after a where: " << e.english;
  }
}

Lang lang_of(std::map<std::string, std::string> env) {
  return lang_from_environment([&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

TEST(Messages, TheLanguageIsTheFirstSetOfLcAllLcMessagesLang) {
  EXPECT_EQ(lang_of({}), Lang::en);
  EXPECT_EQ(lang_of({{"LANG", "ja_JP.UTF-8"}}), Lang::ja);
  EXPECT_EQ(lang_of({{"LANG", "ja"}}), Lang::ja);
  EXPECT_EQ(lang_of({{"LANG", "en_US.UTF-8"}}), Lang::en);
  EXPECT_EQ(lang_of({{"LC_MESSAGES", "ja_JP.UTF-8"}, {"LANG", "C"}}), Lang::ja);
  EXPECT_EQ(lang_of({{"LC_ALL", "C.UTF-8"}, {"LC_MESSAGES", "ja_JP.UTF-8"}, {"LANG", "ja_JP.UTF-8"}}), Lang::en);
  EXPECT_EQ(lang_of({{"LC_ALL", ""}, {"LANG", "ja_JP.eucJP"}}), Lang::ja) << "an empty variable counts as unset";
}

TEST(Messages, TheFlagDecidesWhenGivenAndRefusesOtherLanguages) {
  Lang lang = Lang::en;
  EXPECT_TRUE(choose_lang("ja", lang));
  EXPECT_EQ(lang, Lang::ja);
  EXPECT_TRUE(choose_lang("en", lang));
  EXPECT_EQ(lang, Lang::en);
  EXPECT_FALSE(choose_lang("fr", lang));
}

}  // namespace
}  // namespace kpiwatch
