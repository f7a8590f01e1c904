#pragma once
// The diagnostics of check, test and eval in the reader's language: each English
// message has a stable code (docs/ja/README.md lists them) and a Japanese text,
// with a hint where one helps. The English texts stay the key, as operators and
// tests read them.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kpiwatch/result.hpp"
#include "kpiwatch/text.hpp"

namespace kpiwatch {

struct LocalizedMessage {
  std::string code;     // e.g. "E-KEY-UNKNOWN"; "E-TOML-SYNTAX" or "E-OTHER" when no entry fits
  std::string ja;       // the Japanese message (the English one where no entry fits)
  std::string hint_ja;  // may be empty
};

// The code and Japanese text of an English diagnostic message, which may begin with
// where it is (`rule "id": `, `input[2], period "2024": `).
LocalizedMessage localize(std::string_view english);

// `file:line:col: message [CODE]`; in ja the Japanese message and, on the next line, its hint.
std::string render(const Diagnostic& diagnostic, Lang lang);

// Every code the catalogue can give, in its order.
std::vector<std::string> message_codes();

// Each entry's code and English message as the code writes it, with `{}` for a variable part.
struct MessageEntry {
  std::string_view code;
  std::string_view english;
};
std::vector<MessageEntry> message_entries();

// The language of the first of LC_ALL, LC_MESSAGES, LANG that is set and not empty:
// ja for "ja..." (ja_JP.UTF-8), else en; en when none is set.
Lang lang_from_environment(const std::function<const char*(const char*)>& getenv);
Lang lang_from_environment();

// `--lang` if given ("ja" or "en"), else the environment's; false for any other value.
bool choose_lang(std::string_view flag, Lang& out);

}  // namespace kpiwatch
