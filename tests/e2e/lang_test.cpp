// check, test and eval in the reader's language: --lang, else LC_ALL, LC_MESSAGES, LANG;
// each diagnostic keeps file:line:col and carries its code in both languages.
#include <gtest/gtest.h>

#include "process.hpp"
#include "temp_dir.hpp"

namespace kpiwatch::test {
namespace {

const std::string kUnterminated = R"([[rule]]
id = "few-trainees"
title = "研修受講者数の減少
kpi = "g01.trainees"
)";

const std::string kUnknownKey = R"([[rule]]
id = "few-trainees"
title = "Few trainees"
kpi = "g01.trainees"
severity = "warning"
summary_ja = "{kpi_name}が少ない"
summary_en = "{kpi_name} low"
colour = "red"

[rule.threshold]
below = 1000
)";

// No locale variable but those given.
Environment locale(const std::string& lc_all, const std::string& lc_messages, const std::string& lang) {
  return {{"LC_ALL", lc_all}, {"LC_MESSAGES", lc_messages}, {"LANG", lang}};
}

TEST(LangCommands, CheckSpeaksJapaneseUnderAJapaneseLangWithAHint) {
  TempDir dir;
  write_file(dir.file("rules.toml"), kUnterminated);
  auto ja = run_kpiwatch({"check", dir.file("rules.toml")}, std::chrono::seconds(60), locale("", "", "ja_JP.UTF-8"));
  EXPECT_EQ(ja.exit_code, 1);
  EXPECT_EQ(ja.err, dir.file("rules.toml") +
                        ":3:19: 文字列の終わりの \" がありません [E-TOML-STRING]\n"
                        "    ヒント: 文字列は \" で始めて、同じ行のうちに \" で閉じます（例: title = "
                        "\"研修受講者数の減少\"）。\n");
}

TEST(LangCommands, TheFlagBeatsTheEnvironmentAndEnglishKeepsItsTextWithTheCode) {
  TempDir dir;
  write_file(dir.file("rules.toml"), kUnknownKey);
  auto en = run_kpiwatch({"check", "--lang", "en", dir.file("rules.toml")}, std::chrono::seconds(60),
                         locale("ja_JP.UTF-8", "", ""));
  EXPECT_EQ(en.exit_code, 1);
  EXPECT_EQ(en.err, dir.file("rules.toml") + ":8:1: rule \"few-trainees\": unknown key \"colour\" [E-KEY-UNKNOWN]\n");

  auto ja =
      run_kpiwatch({"check", "--lang", "ja", dir.file("rules.toml")}, std::chrono::seconds(60), locale("C", "", ""));
  EXPECT_NE(ja.err.find(":8:1: ルール \"few-trainees\": 定義されていないキー「colour」です [E-KEY-UNKNOWN]\n"),
            std::string::npos)
      << ja.err;
}

TEST(LangCommands, LcAllThenLcMessagesThenLangDecide) {
  TempDir dir;
  write_file(dir.file("rules.toml"), kUnknownKey);
  const std::string japanese = "定義されていないキー";
  auto run = [&](const Environment& env) {
    return run_kpiwatch({"check", dir.file("rules.toml")}, std::chrono::seconds(60), env).err;
  };
  EXPECT_EQ(run(locale("C.UTF-8", "ja_JP.UTF-8", "ja_JP.UTF-8")).find(japanese), std::string::npos);
  EXPECT_NE(run(locale("", "ja_JP.UTF-8", "C")).find(japanese), std::string::npos);
  EXPECT_EQ(run(locale("", "en_US.UTF-8", "ja_JP.UTF-8")).find(japanese), std::string::npos);
  EXPECT_EQ(run(locale("", "", "")).find(japanese), std::string::npos) << "nothing set: English";
}

TEST(LangCommands, TestReportsARefusedFigureAndItsCountsInJapanese) {
  TempDir dir;
  write_file(dir.file("rules.toml"),
             kUnknownKey.substr(0, kUnknownKey.find("colour")) + "\n[rule.threshold]\nbelow = 1000\n");
  write_file(dir.file("t_test.toml"),
             "rule_files = [\"rules.toml\"]\n\n[[input]]\nkpi = \"g01.trainees\"\n"
             "values = { \"2024\" = 155.5 }\n\n[[expect]]\nat = \"2024\"\nalerts = []\n");
  auto ja = run_kpiwatch({"test", "--lang", "ja", dir.file("t_test.toml")});
  EXPECT_EQ(ja.exit_code, 1);
  EXPECT_NE(ja.out.find(
                dir.file("t_test.toml") +
                ":5:21: input[0]、期間 \"2024\": KPI「g01.trainees」は数を数える KPI なので、値は整数で書きます（155.5 "
                "になっています） [E-FIGURE-WHOLE]"),
            std::string::npos)
      << ja.out;
  EXPECT_NE(ja.out.find("成功 0 件、失敗 1 件"), std::string::npos) << ja.out;

  auto en = run_kpiwatch({"test", "--lang", "en", dir.file("t_test.toml")});
  EXPECT_NE(en.out.find("\"value\" must be a whole number, not 155.5 [E-FIGURE-WHOLE]"), std::string::npos) << en.out;
  EXPECT_NE(en.out.find("0 passed, 1 failed"), std::string::npos) << en.out;
}

TEST(LangCommands, EvalRefusesAnUnknownLanguageAndReportsRuleErrorsInItsLanguage) {
  TempDir dir;
  write_file(dir.file("rules.toml"), kUnterminated);
  for (const std::vector<std::string>& args : {std::vector<std::string>{"check", dir.file("rules.toml")},
                                               {"test", dir.file("rules.toml")},
                                               {"eval", "--rules", dir.file("rules.toml")}}) {
    auto with_lang = args;
    with_lang.insert(with_lang.begin() + 1, {"--lang", "fr"});
    auto bad = run_kpiwatch(with_lang);
    EXPECT_EQ(bad.exit_code, 2) << args[0];
    EXPECT_NE(bad.err.find("--lang must be ja or en, not \"fr\""), std::string::npos) << args[0] << bad.err;
  }
  auto ja = run_kpiwatch({"eval", "--lang", "ja", "--rules", dir.file("rules.toml"), "--input", dir.file("none.json")});
  EXPECT_EQ(ja.exit_code, 2);
  EXPECT_NE(ja.err.find(":3:19: 文字列の終わりの \" がありません [E-TOML-STRING]"), std::string::npos) << ja.err;
}

}  // namespace
}  // namespace kpiwatch::test
