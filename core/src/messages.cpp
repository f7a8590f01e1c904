#include "kpiwatch/messages.hpp"

#include <fmt/args.h>
#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <map>
#include <regex>

namespace kpiwatch {
namespace {

// `en` is the English message with `{}` for each variable part ({{ and }} for braces);
// `ja` and `hint` name those parts {0}, {1}, ... Entries are tried in order: the more
// specific first.
struct Entry {
  const char* code;
  const char* en;
  const char* ja;
  const char* hint;
};

constexpr const char* kTomlHint = "TOML の書き方は docs/ja/README.md の「ルールファイルの書き方」を見てください。";

const std::array kEntries{
    // TOML syntax, as toml++ describes it.
    Entry{"E-TOML-STRING",
          "Error while parsing string: unescaped control characters other than TAB (U+0009) are explicitly prohibited",
          "文字列の終わりの \" がありません",
          "文字列は \" で始めて、同じ行のうちに \" で閉じます（例: title = \"研修受講者数の減少\"）。"},
    Entry{"E-TOML-STRING", "Error while parsing string: encountered end-of-file", "文字列の終わりの \" がありません",
          "文字列は \" で始めて、同じ行のうちに \" で閉じます（例: title = \"研修受講者数の減少\"）。"},
    Entry{"E-TOML-ESCAPE", "Error while parsing string: unknown escape sequence '{}'",
          "文字列の中の「{0}」は使えない書き方です", "\\ を文字として書くときは \\\\ と重ねます。"},
    Entry{"E-TOML-VALUE", "Error while parsing value: could not determine value type", "値の書き方がわかりません",
          "文字は \"...\"（半角の二重引用符）で囲み、数値は 5 や 33.1 のように数字だけで書きます。"},
    Entry{"E-TOML-NUMBER", "Error while parsing decimal integer: expected digit, saw '{}'",
          "数値の中に「{0}」があります", "数値には % や 人、件 などの単位を付けず、数字と小数点だけで書きます。"},
    Entry{"E-TOML-NUMBER", "Error while parsing floating-point: expected decimal digit, saw '{}'",
          "数値の中に「{0}」があります",
          "数値には % や 人、件 などの単位を付けず、数字と小数点だけで書きます（例: 26.8）。"},
    Entry{"E-TOML-NUMBER", "Error while parsing floating-point: {}", "小数の書き方に誤りがあります（{0}）",
          "数値には単位を付けず、数字と小数点1つだけで書きます（例: 26.8）。"},
    Entry{"E-TOML-DUPLICATE-KEY", "Error while parsing table header: cannot redefine existing {} '{}' as table",
          "「{1}」はすでに値として書かれています", "同じ名前を値と表の両方には使えません。"},
    Entry{"E-TOML-DUPLICATE-KEY", "Error while parsing table header: cannot redefine existing table '{}'",
          "表 [{0}] が2回書かれています", "ルールを2つ以上書くときは、それぞれを [[rule]]（角かっこ2つ）で始めます。"},
    Entry{"E-TOML-DUPLICATE-KEY", "Error while parsing key-value pair: cannot redefine existing {} '{}'",
          "キー「{1}」が同じ表に2回書かれています",
          "1つの表には同じキーを1回だけ書けます。別のルールにするときは [[rule]] で区切ります。"},
    Entry{"E-TOML-EXPECTED-EQUALS", "Error while parsing key-value pair: expected '=', saw '{}'",
          "キーの後に = がありません（「{0}」があります）",
          "キーは半角英数字と _ で、空白を入れずに書きます（例: more_than = 5）。"},
    Entry{"E-TOML-MISSING-VALUE", "Error while parsing key-value pair: expected value, saw '{}'",
          "= の後に値がありません", nullptr},
    Entry{"E-TOML-EXTRA", "Error while parsing key-value pair: expected a comment or whitespace, saw '{}'",
          "値の後に余分な「{0}」があります",
          "1行には キー = 値 を1つだけ書きます。説明は # の後にコメントとして書けます。"},
    Entry{"E-TOML-UNCLOSED", "Error while parsing array: encountered end-of-file", "配列の終わりの ] がありません",
          nullptr},
    Entry{"E-TOML-UNCLOSED", "Error while parsing inline table: expected key or closing '}', saw '{}'",
          "{{ ... }} の終わりの }} がありません", "{{ ... }} は1行に書きます（途中で改行できません）。"},
    Entry{"E-TOML-UNCLOSED", "Error while parsing table header: expected ']', saw '{}'",
          "表の見出しの終わりの ] がありません", "[[rule]] や [rule.change] のように閉じます。"},
    Entry{"E-TOML-CHARACTER", "Error while parsing {}: expected space or tab, saw '\\u3000'", "全角の空白があります",
          "全角の空白は \"...\" の中でだけ使えます。行頭や = の前後の空白は半角で書きます。"},
    Entry{"E-TOML-CHARACTER", "Error while parsing {}: expected space or tab, saw '{}'",
          "使えない文字「{1}」があります",
          "全角の空白や記号は \"...\" の中でだけ使えます。行頭や = の前後は半角で書きます。"},
    Entry{"E-TOML-DATE", "Error while parsing date: {}", "日付の書き方に誤りがあります（{0}）", nullptr},
    Entry{"E-TOML-SYNTAX", "Error while parsing {}: {}", "TOML として読めません（{0}: {1}）", kTomlHint},
    // Figures, as the submissions API checks them.
    Entry{"E-FIGURE-WHOLE", "KPI \"{}\" counts: \"value\" must be a whole number, not {}",
          "KPI「{0}」は数を数える KPI なので、値は整数で書きます（{1} になっています）", nullptr},
    Entry{"E-FIGURE-RANGE", "\"value\" {} is outside the valid range of KPI \"{}\" ({} to {} {})",
          "値 {0} は KPI「{1}」の範囲（{2}〜{3}）の外です", "割合は 0〜100 の % の数値で書きます（26.8% なら 26.8）。"},
    Entry{"E-FIGURE-FINITE", "\"value\" must be a finite number", "値は有限の数値で書きます", nullptr},
    Entry{"E-FIGURE-KIND", "KPI \"{}\" is an item list: give \"items\", not \"value\"",
          "KPI「{0}」は品目の一覧なので values ではなく items で書きます", nullptr},
    Entry{"E-FIGURE-KIND", "KPI \"{}\" is an item list: \"items\" is required",
          "KPI「{0}」は品目の一覧なので items が必要です", nullptr},
    Entry{"E-FIGURE-KIND", "KPI \"{}\" is a number ({}): give \"value\", not \"items\"",
          "KPI「{0}」は数値の KPI なので items ではなく values で書きます", nullptr},
    Entry{"E-FIGURE-ITEM", "an item must not be empty or only white space", "空の品目は書けません", nullptr},
    Entry{"E-FIGURE-ITEM", "item \"{}\" is listed twice", "品目「{0}」が2回書かれています", nullptr},
    // Rules.
    Entry{"E-RULE-ID", "rule id must use a-z, 0-9, \"-\", \"_\" and \".\" only",
          "ルールID には半角の英小文字、数字、-、_、. だけが使えます", "例: id = \"g06-stage-up-rate-falling\""},
    Entry{"E-RULE-DUPLICATE-ID", "duplicate rule id \"{}\" (first defined at {})",
          "ルールID「{0}」が2回使われています（最初は {1}）", "ルールID は全部のファイルを通して1つだけにします。"},
    Entry{"E-KPI-UNKNOWN", "unknown KPI \"{}\"", "カタログにない KPI「{0}」です",
          "KPI の ID は docs/ja/README.md の用語集で確かめてください（例: g06.stage_up_rate）。"},
    Entry{"E-KPI-UNKNOWN", "no KPI matches \"{}\"", "「{0}」に当てはまる KPI がありません", nullptr},
    Entry{"E-KPI-UNKNOWN", "unknown KPI or function \"{}\"", "式の中の「{0}」は KPI でも関数でもありません",
          "KPI の ID（g01.trainees など）か、previous、avg、min、max、count を書きます。"},
    Entry{"E-DIM-VALUE", "\"{}\" is not a value of dimension \"{}\" of KPI \"{}\" (allowed: {})",
          "「{0}」は KPI「{2}」の区分「{1}」の値ではありません（使える値: {3}）", nullptr},
    Entry{"E-DIM-UNKNOWN", "KPI \"{}\" has no dimension \"{}\" ({})", "KPI「{0}」には区分「{1}」がありません（{2}）",
          nullptr},
    Entry{"E-DIM-UNKNOWN", "KPI \"{}\" has no dimension \"{}\"", "KPI「{0}」には区分「{1}」がありません", nullptr},
    Entry{"E-DIM-MISSING", "KPI \"{}\" needs dimension \"{}\" (one of: {})",
          "KPI「{0}」には区分「{1}」の値が必要です（{2} のどれか）", nullptr},
    Entry{"E-DIM-MISSING", "KPI \"{}\" needs a value for dimension \"{}\": write {}",
          "KPI「{0}」には区分「{1}」の値が必要です", "{2} のように書きます。"},
    Entry{"E-RULE-SEVERITY", "severity must be info, warning or critical, not \"{}\"",
          "severity は info、warning、critical のどれかです（「{0}」になっています）",
          "info は参考、warning は注意、critical は重大です。"},
    Entry{"E-RULE-LABEL", "label name \"{}\" must match [a-z][a-z0-9_]*",
          "ラベル名「{0}」は半角英小文字で始め、英小文字・数字・_ だけで書きます", nullptr},
    Entry{"E-RULE-HOLD-FOR", "\"hold_for\" must be 1–120 periods", "hold_for は 1〜120（期間の数）で書きます", nullptr},
    Entry{"E-RULE-HOLD-FOR", "hold_for does not apply to missing-data rules",
          "未提出のルールには hold_for を書けません", nullptr},
    Entry{"E-RULE-BASELINE", "\"baseline\": {} (KPI \"{}\" has {} periods)",
          "baseline の期間に誤りがあります: {0}（KPI「{1}」の期間は {2}）",
          "暦年は \"2022\"、年度は \"FY2022\" と書きます。"},
    Entry{"E-RULE-CONDITION", "a rule needs one condition table: [rule.{}]", "条件の表がありません",
          "次の条件の表のうち1つを書きます: [rule.{0}]"},
    Entry{"E-RULE-CONDITION", "a rule has one condition, but this one has {}",
          "1つのルールに書ける条件は1つですが、{0} があります", "条件ごとにルールを分けます。"},
    Entry{"E-RULE-KPI-KIND", "no KPI matched by \"kpi\" fits [rule.{}]", "kpi の KPI はどれも [rule.{0}] に使えません",
          nullptr},
    Entry{"E-RULE-KPI-KIND", "[rule.new_item] needs an item-list KPI; \"{}\" is a {} KPI",
          "[rule.new_item] は品目の一覧の KPI に使います。「{0}」は数値（{1}）の KPI です", nullptr},
    Entry{"E-RULE-KPI-KIND",
          "[rule.{}] needs a number KPI; \"{}\" is an item list (use new_item or count() in an expression)",
          "[rule.{0}] は数値の KPI に使います。「{1}」は品目の一覧です",
          "[rule.new_item] か、式の count() を使います。"},
    // Conditions.
    Entry{"E-COND-BOUND", "give exactly one of above, at_or_above, below, at_or_below",
          "above（超）、at_or_above（以上）、below（未満）、at_or_below（以下）のうち1つだけを書きます", nullptr},
    Entry{"E-COND-CHOICE", "\"direction\" must be \"falling\" or \"rising\"",
          "direction は \"falling\"（低下）か \"rising\"（上昇）です", nullptr},
    Entry{"E-COND-CHOICE", "\"by\" must be \"points\" or \"percent\"",
          "by は \"points\"（ポイント、値の差）か \"percent\"（前の値に対する%）です", nullptr},
    Entry{"E-COND-CHOICE", "\"against\" must be \"previous_period\", \"last_reported\" or \"baseline\"",
          "against は \"previous_period\"、\"last_reported\"、\"baseline\" のどれかです", nullptr},
    Entry{"E-COND-CHOICE", "\"due\" must be like \"3 months\" or \"90 days\", not \"{}\"",
          "due は \"3 months\" や \"90 days\" のように書きます（「{0}」になっています）", nullptr},
    Entry{"E-COND-AMOUNT", "give more_than or at_least, not both", "more_than と at_least はどちらか一方だけを書きます",
          nullptr},
    Entry{"E-COND-AMOUNT", "the amount of change must not be negative; use direction", "変化の大きさは正の数で書きます",
          "低下か上昇かは direction で書き分けます。"},
    Entry{"E-COND-TREND", "give declines = N, rises = N, or window = N with slope_below or slope_above",
          "declines = N、rises = N、または window = N と slope_below / slope_above を書きます", nullptr},
    Entry{"E-COND-TREND", "the number of steps must be 1–120", "回数は 1〜120 で書きます", nullptr},
    Entry{"E-COND-TREND", "\"window\" goes with slope_below or slope_above",
          "window は slope_below か slope_above と一緒に書きます", nullptr},
    Entry{"E-COND-TREND", "a slope needs window = 2–120 periods", "傾きには window = 2〜120 が必要です", nullptr},
    Entry{"E-COND-WINDOW", "\"window\" must be 1–120 periods", "window は 1〜120（期間の数）で書きます", nullptr},
    Entry{"E-COND-WINDOW", "growth over a window needs window ≥ 2", "伸びを見るには window を 2 以上にします", nullptr},
    Entry{"E-COND-STAGNATION", "give one of tolerance, tolerance_percent, at_or_below",
          "tolerance、tolerance_percent、at_or_below のうち1つを書きます", nullptr},
    Entry{"E-COND-DEADLINE", "no KPI matched by \"kpi\" has a reporting deadline",
          "kpi の KPI にはどれも提出期限がありません", "[rule.missing] に due = \"3 months\" のように期限を書きます。"},
    Entry{"E-COND-DEADLINE", "KPI \"{}\" has no reporting deadline in the catalog: give \"due\"",
          "KPI「{0}」にはカタログに提出期限がありません",
          "[rule.missing] に due = \"3 months\" のように期限を書きます。"},
    // Expressions.
    Entry{"E-EXPR-PATTERN", "an expression rule watches one KPI, not a pattern",
          "式のルールの kpi には KPI を1つだけ書きます（* は使えません）", nullptr},
    Entry{"E-EXPR-COMPARISON", "the expression must be a comparison (e.g. x < 50)", "式は比較で書きます（例: x < 50）",
          nullptr},
    Entry{"E-EXPR-CHARACTER", "unexpected character \"{}\"", "式に使えない文字「{0}」があります",
          "式に書けるのは KPI の ID、数値、+ - * /、< <= > >= == !=、and or not、かっこです。"
          "全角の記号（＞ や ／）は半角で書きます。"},
    Entry{"E-EXPR-SYNTAX", "expected a number, a KPI or \"(\" but found \"{}\"",
          "数値、KPI、「(」のどれかが来るところに「{0}」があります", "演算子が2つ続いていないか確かめてください。"},
    Entry{"E-EXPR-SYNTAX", "expected {} but found \"{}\"", "{0} が来るところに「{1}」があります", nullptr},
    Entry{"E-EXPR-SYNTAX", "unexpected \"{}\"", "式の「{0}」が余分です", nullptr},
    Entry{"E-EXPR-SYNTAX", "\"{}\" needs an operand before it", "「{0}」の前に値がありません", nullptr},
    Entry{"E-EXPR-SYNTAX", "malformed number", "数値の書き方に誤りがあります", nullptr},
    Entry{"E-EXPR-SYNTAX", "unclosed string", "文字列の終わりの \" がありません", nullptr},
    Entry{"E-EXPR-SYNTAX", "expression nested deeper than {}", "式のかっこの入れ子が深すぎます（{0} 段まで）", nullptr},
    Entry{"E-EXPR-PERIOD-KIND", "KPI \"{}\" is reported per {}, but the rule watches a KPI reported per {}",
          "KPI「{0}」は{1}ごとの数値ですが、このルールの KPI は{2}ごとです",
          "式に並べる KPI は、暦年どうし・年度どうしのように期間の種類をそろえます。"},
    Entry{"E-EXPR-DIM", "expected a dimension name in {{...}}", "{{...}} の中には区分の名前を書きます", nullptr},
    Entry{"E-EXPR-DIM", "expected a quoted value of dimension \"{}\" (one of: {})",
          "区分「{0}」の値を \"...\" で囲んで書きます（{1} のどれか）", nullptr},
    Entry{"E-EXPR-FUNCTION", "count() takes an item-list KPI", "count() には品目の一覧の KPI を書きます", nullptr},
    Entry{"E-EXPR-FUNCTION", "the window of {}() must be a whole number of periods, 1–{}",
          "{0}() の期間の数は 1〜{1} の整数で書きます", nullptr},
    Entry{"E-EXPR-COST", "the expression reads up to {} figures per evaluation, more than {}: {}",
          "式が1回に読む数値が多すぎます（最大 {0}、上限 {1}）", nullptr},
    // Templates.
    Entry{"E-TMPL-PLACEHOLDER", "unknown placeholder {{{}}} (known: {})", "定義されていない差し込み項目 {{{0}}} です",
          "使える項目: {1}"},
    Entry{"E-TMPL-FORMAT", "{{{}}}: {{{}}} takes no format", "{{{1}}} には書式を付けられません", nullptr},
    Entry{"E-TMPL-FORMAT", "{{{}}}: the only format of {{{}}} is \":id\" (the id instead of its name)",
          "{{{1}}} に付けられる書式は :id（名前ではなく ID）だけです", nullptr},
    Entry{"E-TMPL-FORMAT", "{{{}}}: write three words for rising, falling and flat, separated by \"|\" ({})",
          "{{{0}}}: 増加・減少・横ばいの3つの語を | で区切って書きます（{1}）", nullptr},
    Entry{"E-TMPL-FORMAT", "{{{}}}: {}", "{{{0}}} の書式に誤りがあります（{1}）",
          "数値の書式は .1f（小数1桁）、+.1f（符号付き）、,（3桁区切り）などです。"},
    Entry{"E-TMPL-BRACE", "unclosed \"{{\" (write \"{{{{\" for a brace)", "{{ に対応する }} がありません",
          "文字として {{ を書くときは {{{{ と重ねます。"},
    Entry{"E-TMPL-BRACE", "unmatched \"}}\" (write \"}}}}\" for a brace)", "}} に対応する {{ がありません",
          "文字として }} を書くときは }}}} と重ねます。"},
    // Inhibition.
    Entry{"E-INHIBIT-MATCHER", "\"{}\" needs at least one label, e.g. {{ rule = \"...\" }}",
          "「{0}」にはラベルを1つ以上書きます（例: {{ rule = \"...\" }}）", nullptr},
    Entry{"E-INHIBIT-RULE", "unknown rule \"{}\"", "ルール「{0}」が読み込んだファイルにありません", nullptr},
    // Rule tests.
    Entry{"E-TEST-DATE", "\"now\" must be a date, YYYY-MM-DD", "now は日付 YYYY-MM-DD で書きます（例: \"2025-07-01\"）",
          nullptr},
    Entry{"E-TEST-INPUT", "give \"values\" (numbers) or \"items\" (item lists), one of them",
          "values（数値）か items（品目の一覧）のどちらか一方を書きます", nullptr},
    Entry{"E-TEST-EXPECT", "an expectation needs \"at\" (a period) or \"now\" (a date)",
          "[[expect]] には at（期間）か now（日付）を書きます", nullptr},
    Entry{"E-TEST-STATE", "state must be pending or firing", "state は pending か firing です", nullptr},
    Entry{"E-FILE-OPEN", "cannot open rule file", "ルールファイルを開けません",
          "ファイル名とフォルダを確かめてください。"},
    // Keys and types of any table: last, as their shapes are the most general.
    Entry{"E-KEY-UNKNOWN", "unknown key \"{}\"", "定義されていないキー「{0}」です",
          "つづりを確かめてください。書けるキーは docs/ja/README.md の一覧にあります。"},
    Entry{"E-KEY-MISSING", "missing required key \"{}\" ({})", "必要なキー「{0}」がありません（{1}で書きます）",
          nullptr},
    Entry{"E-KEY-NOT-FINITE", "\"{}\" must be a finite number, not {}",
          "「{0}」は有限の数値で書きます（{1} は使えません）", nullptr},
    Entry{"E-KEY-TYPE", "\"{}\" must be an array of tables ([[{}]]), not {}",
          "「{0}」は [[{1}]]（角かっこ2つ）で書きます（{2}になっています）",
          "ルールは1つだけでも [[rule]] で始めます。条件の表は [rule.change] のように角かっこ1つです。"},
    Entry{"E-KEY-TYPE", "\"{}\" must be {}, not {}", "「{0}」は{1}で書きます（{2}になっています）", nullptr},
    Entry{"E-KEY-TYPE", "\"{}\" must hold only strings", "「{0}」には文字列だけを並べます", nullptr},
    Entry{"E-KEY-TYPE", "\"{}\" must hold only tables ([[{}]])", "「{0}」は [[{1}]] の表として書きます", nullptr},
    Entry{"E-KEY-TYPE", "\"{}\" must be a string", "「{0}」は文字列で書きます", "値を \"...\" で囲みます。"},
    Entry{"E-KEY-TYPE", "\"alerts\" must be an array", "「alerts」は配列 [ ... ] で書きます", nullptr},
};

std::string escape_regex(char c) {
  static const std::string_view special = R"(\^$.|?*+()[]{}/)";
  return special.find(c) != std::string_view::npos ? std::string{'\\', c} : std::string{c};
}

// `^(?:(prefix): )?en$` with a group per {}.
std::regex compile(std::string_view en) {
  std::string re = "^(?:(.*?): )?";
  for (std::size_t i = 0; i < en.size(); ++i) {
    if (en.compare(i, 2, "{}") == 0) {
      re += "(.*?)";
      ++i;
    } else if (en.compare(i, 2, "{{") == 0 || en.compare(i, 2, "}}") == 0) {
      re += escape_regex(en[i]);
      ++i;
    } else {
      re += escape_regex(en[i]);
    }
  }
  return std::regex(re + "$");
}

const std::vector<std::regex>& patterns() {
  static const std::vector<std::regex> compiled = [] {
    std::vector<std::regex> out;
    out.reserve(kEntries.size());
    for (const auto& e : kEntries) out.push_back(compile(e.en));
    return out;
  }();
  return compiled;
}

// English words that the messages quote from the code (types, period kinds, units).
std::string japanese_word(const std::string& word) {
  static const std::map<std::string, std::string, std::less<>> words{
      {"a string", "文字列"},
      {"an integer", "整数"},
      {"a number", "数値"},
      {"true or false", "true か false"},
      {"an array of strings", "文字列の配列"},
      {"a table", "表"},
      {"string", "文字列"},
      {"integer", "整数"},
      {"floating-point", "小数"},
      {"boolean", "true/false"},
      {"table", "表"},
      {"array", "配列"},
      {"date", "日付"},
      {"year", "暦年"},
      {"fiscal_year", "年度"},
      {"quarter", "四半期"},
      {"month", "月"},
      {"a number, a KPI or \"(\"", "数値、KPI、「(」"},
  };
  auto it = words.find(word);
  return it == words.end() ? word : it->second;
}

// `rule "id"` → `ルール "id"`, `input[2], period "2024"` → `input[2]、期間 "2024"`.
std::string japanese_where(std::string where) {
  if (where.starts_with("rule \"")) where.replace(0, 4, "ルール");
  if (auto at = where.find(", period \""); at != std::string::npos) where.replace(at, 9, "、期間 ");
  return where;
}

std::string format_with(const char* text, const std::vector<std::string>& args) {
  fmt::dynamic_format_arg_store<fmt::format_context> store;
  for (const auto& a : args) store.push_back(a);
  return fmt::vformat(text, store);
}

}  // namespace

LocalizedMessage localize(std::string_view english) {
  const std::string text(english);
  const auto& compiled = patterns();
  std::smatch m;
  for (std::size_t i = 0; i < kEntries.size(); ++i) {
    if (!std::regex_match(text, m, compiled[i])) continue;
    std::vector<std::string> args;
    for (std::size_t g = 2; g < m.size(); ++g) args.push_back(japanese_word(m[g].str()));
    std::string ja = format_with(kEntries[i].ja, args);
    if (m[1].matched) ja = fmt::format("{}: {}", japanese_where(m[1].str()), ja);
    return {kEntries[i].code, std::move(ja), kEntries[i].hint ? format_with(kEntries[i].hint, args) : ""};
  }
  return {"E-OTHER", text, ""};
}

std::string render(const Diagnostic& diagnostic, Lang lang) {
  auto localized = localize(diagnostic.message);
  Diagnostic shown = diagnostic;
  if (lang == Lang::ja) shown.message = localized.ja;
  std::string out = fmt::format("{} [{}]", shown.str(), localized.code);
  if (lang == Lang::ja && !localized.hint_ja.empty()) out += fmt::format("\n    ヒント: {}", localized.hint_ja);
  return out;
}

std::vector<std::string> message_codes() {
  std::vector<std::string> out;
  for (const auto& e : kEntries)
    if (out.empty() || out.back() != e.code) out.emplace_back(e.code);
  out.emplace_back("E-OTHER");
  return out;
}

std::vector<MessageEntry> message_entries() {
  std::vector<MessageEntry> out;
  out.reserve(kEntries.size());
  for (const auto& e : kEntries) out.push_back({e.code, e.en});
  return out;
}

Lang lang_from_environment(const std::function<const char*(const char*)>& getenv) {
  for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* value = getenv(name);
    if (value == nullptr || *value == '\0') continue;
    return std::string_view(value).starts_with("ja") ? Lang::ja : Lang::en;
  }
  return Lang::en;
}

Lang lang_from_environment() {
  return lang_from_environment([](const char* name) { return std::getenv(name); });  // NOLINT(concurrency-mt-unsafe)
}

bool choose_lang(std::string_view flag, Lang& out) {
  if (flag.empty()) {
    out = lang_from_environment();
    return true;
  }
  return parse_lang(flag, out);
}

}  // namespace kpiwatch
