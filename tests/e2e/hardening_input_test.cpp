// Hostile and careless input through the public API and commands (issue 14): repeated JSON keys,
// blank items, text that is not UTF-8 on every write path, the encodings Japanese Excel saves,
// and rule bounds that cannot compare. Each is refused with where, and nothing is written.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "http_client.hpp"
#include "process.hpp"

namespace kpiwatch::test {
namespace {

const char* const kNoBundled = "[dataset]\nload_bundled = false\n";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A file converted by the system's iconv, as a user's tools write it.
std::string converted(const std::string& dir, const std::string& utf8_text, const std::string& to,
                      const std::string& name) {
  const std::string in = dir + "/" + name + ".utf8";
  const std::string out = dir + "/" + name;
  write_file(in, utf8_text);
  EXPECT_EQ(std::system(("iconv -f UTF-8 -t " + to + " '" + in + "' > '" + out + "'").c_str()), 0);
  return out;
}

struct Refusal {
  std::string name;
  std::string body;
  std::string field;
  int index = -1;       // -1: null
  std::string message;  // a part of error.message
};

TEST(HardeningInput, RepeatedJsonKeysAreRefusedAtAnyLevelNamingTheKeyAndWhere) {
  Daemon daemon("", kNoBundled);
  daemon.start();
  const std::vector<Refusal> cases = {
      {"a repeated period", R"({"kpi":"g01.trainees","period":"2025-13","period":"2025","value":1})", "period", -1,
       R"(line 1 column 42: key "period" appears twice in one object (at /period))"},
      {"a repeated dimension", R"({"kpi":"g06.stage_up_rate","period":"2025","dims":{"stage":"all","stage":"basic"},
"value":3})",
       "dims.stage", -1, R"(key "stage" appears twice in one object (at /dims/stage))"},
      {"a repeated key in a batch's second entry", R"({"submissions":[
  {"kpi":"g01.trainees","period":"2025","value":1},
  {"kpi":"g01.trainees","period":"2026","value":1,"value":2}]})",
       "value", 1, R"(line 3 column 51: key "value" appears twice in one object (at /submissions/1/value))"},
      {"a repeated submissions",
       R"({"submissions":[],"submissions":[{"kpi":"g01.trainees","period":"2025","value":1}]})", "submissions", -1,
       R"(key "submissions" appears twice)"},
  };
  HttpClient client(daemon.port());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto reply = client.post("/api/v1/submissions", c.body, kAdminToken);
    EXPECT_EQ(reply.status, 400) << reply.body;
    EXPECT_EQ(reply.error_code(), "invalid_json") << reply.body;
    auto error = reply.json().at("error").as_object();
    EXPECT_TRUE(contains(std::string(error.at("message").as_string()), c.message)) << reply.body;
    EXPECT_EQ(error.at("field").as_string(), c.field) << reply.body;
    if (c.index >= 0) {
      EXPECT_EQ(error.at("index").to_number<int>(), c.index) << reply.body;
    }
  }
  EXPECT_EQ(count_revisions(daemon.database()), 0);

  // The same in a JSON file to import: the file, the line and column, the key.
  const std::string file = daemon.dir() + "/figures.json";
  write_file(file,
             "[\n  {\"kpi\": \"g01.trainees\", \"period\": \"2025\", \"value\": 1},\n"
             "  {\"kpi\": \"g01.trainees\", \"period\": \"2026\", \"dims\": {}, \"dims\": {}, \"value\": 1}\n]\n");
  auto refused = run_kpiwatch({"import", file, "--config", daemon.config_path()});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_TRUE(contains(refused.err, file + ": malformed JSON at line 3 column 57: key \"dims\" appears twice"))
      << refused.err;
  EXPECT_TRUE(contains(refused.err, "nothing was imported")) << refused.err;
  EXPECT_EQ(count_revisions(daemon.database()), 0);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(HardeningInput, ASilenceOrAnAcknowledgementWithARepeatedKeyIsRefused) {
  Daemon daemon("", kNoBundled);
  daemon.start();
  HttpClient client(daemon.port());
  auto post = [&](const std::string& path, const std::string& body) {
    return client.request(
        "POST", path, body,
        {{"Authorization", std::string("Bearer ") + kAdminToken}, {"Content-Type", "application/json"}});
  };
  // The second "ends_at" would have won: a silence of a day made into one of a century.
  auto silence =
      post("/api/v1/silences",
           R"({"matchers": {"goal": "6"}, "ends_at": "2026-12-03T00:00:00Z", "ends_at": "2126-01-01T00:00:00Z"})");
  EXPECT_EQ(silence.status, 400) << silence.body;
  EXPECT_EQ(silence.error_code(), "invalid_json") << silence.body;
  EXPECT_TRUE(contains(silence.body, R"(key \"ends_at\" appears twice)")) << silence.body;
  auto listed =
      client.request("GET", "/api/v1/silences", "", {{"Authorization", std::string("Bearer ") + kAdminToken}});
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_TRUE(listed.json().at("silences").as_array().empty()) << listed.body;

  auto ack = post("/api/v1/alerts/0000000000000000/ack", R"({"comment": "a", "comment": "b"})");
  EXPECT_EQ(ack.status, 400) << ack.body;
  EXPECT_EQ(ack.error_code(), "invalid_json") << ack.body;
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(HardeningInput, ItemsBlankAfterTrimmingAreRefusedNamingTheIndexAndRaiseNoAlert) {
  Daemon daemon("", kNoBundled);
  daemon.start();
  HttpClient client(daemon.port());
  for (const std::string blank : {" ", "\\t", "\xE3\x80\x80", " \xE3\x80\x80\\n"}) {
    SCOPED_TRACE(blank);
    auto reply = client.post(
        "/api/v1/submissions",
        R"({"kpi":"g10.new_reference_countries","period":"2025","items":["Peru",")" + blank + R"("]})", kAdminToken);
    EXPECT_EQ(reply.status, 422) << reply.body;
    EXPECT_EQ(reply.error_code(), "invalid_item") << reply.body;
    EXPECT_EQ(reply.json().at("error").at("field").as_string(), "items[1]") << reply.body;
  }
  EXPECT_EQ(count_revisions(daemon.database()), 0);

  // A CSV cell of items ("|"-separated) with a blank one: the line and the index.
  const std::string csv = daemon.dir() + "/items.csv";
  write_file(csv, "kpi,period,items\r\ng10.new_reference_countries,2025,Peru|\xE3\x80\x80\r\n");
  auto refused = run_kpiwatch({"import", csv, "--config", daemon.config_path()});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_TRUE(contains(refused.err, csv + ":2: an item must not be empty or only white space (field \"items[1]\")"))
      << refused.err;
  EXPECT_EQ(count_revisions(daemon.database()), 0);

  auto alerts = client.get("/api/v1/alerts");
  ASSERT_EQ(alerts.status, 200) << alerts.body;
  EXPECT_FALSE(contains(alerts.body, "g10-new-reference-country")) << alerts.body;
  EXPECT_EQ(daemon.stop(), 0);
}

// Sequences that are not UTF-8: a stray byte, an overlong "/", a surrogate, a code point past U+10FFFF.
struct BadSequence {
  std::string name;
  std::string bytes;
};
const std::vector<BadSequence> kBadSequences = {
    {"stray byte", "\xFF"},
    {"overlong", "\xC0\xAF"},
    {"surrogate", "\xED\xA0\x80"},
    {"past U+10FFFF", "\xF4\x90\x80\x80"},
};

TEST(HardeningInput, TextThatIsNotUtf8IsRefusedOnEveryWritePathAndNothingIsWritten) {
  Daemon daemon("", kNoBundled);
  daemon.start();
  HttpClient client(daemon.port());
  const std::string rules = daemon.dir() + "/rules.toml";
  write_file(rules, R"([[rule]]
id = "new-country"
title = "A new country"
kpi = "g10.new_reference_countries"
severity = "info"
summary_ja = "{items}"
summary_en = "{items}"
[rule.new_item]
)");
  for (const auto& bad : kBadSequences) {
    SCOPED_TRACE(bad.name);
    const auto high = static_cast<unsigned char>(bad.bytes[0]);
    // HTTP: the line and column of the sequence.
    const std::string body =
        "{\"kpi\":\"g10.new_reference_countries\",\n\"period\":\"2025\",\"items\":[\"Peru" + bad.bytes + "\"]}";
    auto reply = client.post("/api/v1/submissions", body, kAdminToken);
    EXPECT_EQ(reply.status, 400) << reply.body;
    EXPECT_EQ(reply.error_code(), "invalid_json") << reply.body;
    EXPECT_TRUE(contains(reply.body, fmt::format("line 2 column 31: byte 0x{:02X} (offset {}) is not UTF-8", high,
                                                 body.find(bad.bytes))))
        << reply.body;

    // A JSON file to import (JSON is UTF-8: no other encoding is guessed).
    const std::string json = daemon.dir() + "/bad.json";
    const std::string figure =
        "{\"kpi\": \"g01.trainees\", \"period\": \"2025\", \"value\": 1,\n \"note\": \"x" + bad.bytes + "\"}\n";
    write_file(json, figure);
    auto from_json = run_kpiwatch({"import", json, "--config", daemon.config_path()});
    EXPECT_EQ(from_json.exit_code, 1) << from_json.err;
    EXPECT_TRUE(contains(from_json.err, fmt::format("{}:2: byte 0x{:02X} at offset {} is not UTF-8", json, high,
                                                    figure.find(bad.bytes))))
        << from_json.err;

    // A CSV file to import, declared UTF-8 by its BOM or by --encoding. (Undeclared, some of these
    // bytes are CP932 text, which detection reads as such and says so.)
    const std::string csv = daemon.dir() + "/bad.csv";
    for (bool bom : {true, false}) {
      const std::string text = std::string(bom ? "\xEF\xBB\xBF" : "") +
                               "kpi,period,value,note\r\ng01.trainees,2025,1,x" + bad.bytes + "\r\n";
      write_file(csv, text);
      std::vector<std::string> args = {"import", csv, "--config", daemon.config_path()};
      if (!bom) args.insert(args.end(), {"--encoding", "utf-8"});
      auto from_csv = run_kpiwatch(args);
      EXPECT_EQ(from_csv.exit_code, 1) << from_csv.err;
      EXPECT_TRUE(contains(
          from_csv.err, fmt::format("{}:2: byte 0x{:02X} at offset {} is not UTF-8", csv, high, text.find(bad.bytes))))
          << from_csv.err;
      EXPECT_TRUE(contains(from_csv.err, "nothing was imported")) << from_csv.err;
    }
    if (high == 0xFF) {  // not CP932 either
      write_file(csv, "kpi,period,value,note\r\ng01.trainees,2025,1,x" + bad.bytes + "\r\n");
      auto undeclared = run_kpiwatch({"import", csv, "--config", daemon.config_path()});
      EXPECT_EQ(undeclared.exit_code, 1) << undeclared.err;
      EXPECT_TRUE(contains(undeclared.err, csv + ":2: byte 0xFF at offset 44 is not UTF-8 or CP932")) << undeclared.err;
    }

    // `kpiwatch eval --input` reads a file as import does.
    auto evaluated = run_kpiwatch({"eval", "--config", daemon.config_path(), "--rules", rules, "--input", json});
    EXPECT_NE(evaluated.exit_code, 0) << evaluated.out;
    EXPECT_TRUE(contains(evaluated.err, json + ":2:")) << evaluated.err;

    // The inputs of a rule test.
    const std::string test = daemon.dir() + "/bad_test.toml";
    write_file(test,
               "rule_files = [\"rules.toml\"]\n[[input]]\nkpi = \"g10.new_reference_countries\"\n"
               "items = { \"2025\" = [\"Peru" +
                   bad.bytes + "\"] }\n[[expect]]\nat = \"2025\"\n");
    auto tested = run_kpiwatch({"test", test});
    EXPECT_NE(tested.exit_code, 0) << tested.out << tested.err;
    EXPECT_TRUE(contains(tested.out + tested.err, test + ":4:")) << tested.out << tested.err;
  }
  EXPECT_EQ(count_revisions(daemon.database()), 0);
  auto alerts = client.get("/api/v1/alerts");
  EXPECT_FALSE(contains(alerts.body, "new-country")) << alerts.body;
  EXPECT_EQ(daemon.stop(), 0);
}

const std::string kJapaneseCsv =
    "kpi,period,dims,value,source,note\r\n"
    "g06.stage_up_rate,2024,stage=all,26.8,AMED実施調査,日本医療研究開発機構による\r\n";

TEST(HardeningInput, ImportReadsEachEncodingExcelSavesAndSaysWhatItDetected) {
  Daemon daemon("", kNoBundled);
  const std::string cp932 = converted(daemon.dir(), kJapaneseCsv, "CP932", "excel.csv");
  ASSERT_FALSE(contains(read_file(cp932), "日本医療研究開発機構"));

  // Detected: said on stderr, with how to choose.
  auto detected = run_kpiwatch({"import", cp932, "--config", daemon.config_path()});
  ASSERT_EQ(detected.exit_code, 0) << detected.err;
  EXPECT_TRUE(contains(detected.err, cp932 + ": read as CP932 (Shift_JIS, detected: the file is not UTF-8); use "
                                             "--encoding to choose"))
      << detected.err;

  // Chosen: no guess to report.
  for (const std::string name : {"cp932", "shift_jis", "Shift_JIS"}) {
    auto chosen = run_kpiwatch({"import", cp932, "--encoding", name, "--config", daemon.config_path()});
    EXPECT_EQ(chosen.exit_code, 0) << name << ": " << chosen.err;
    EXPECT_FALSE(contains(chosen.err, "detected")) << chosen.err;
  }
  const std::string utf16 = converted(daemon.dir(), kJapaneseCsv, "UTF-16", "unicode.csv");
  auto from_utf16 = run_kpiwatch({"import", utf16, "--encoding", "utf-16", "--config", daemon.config_path()});
  EXPECT_EQ(from_utf16.exit_code, 0) << from_utf16.err;
  const std::string utf8 = daemon.dir() + "/utf8.csv";
  write_file(utf8, "\xEF\xBB\xBF" + kJapaneseCsv);
  auto from_utf8 = run_kpiwatch({"import", utf8, "--encoding", "utf-8", "--config", daemon.config_path()});
  EXPECT_EQ(from_utf8.exit_code, 0) << from_utf8.err;
  EXPECT_EQ(count_revisions(daemon.database()), 6);

  // A CP932 file declared UTF-8: its first non-UTF-8 byte, by line and offset.
  auto wrong = run_kpiwatch({"import", cp932, "--encoding", "utf-8", "--config", daemon.config_path()});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.err;
  std::string bytes = read_file(cp932);
  auto first_high = static_cast<std::size_t>(
      std::find_if(bytes.begin(), bytes.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }) -
      bytes.begin());
  EXPECT_TRUE(contains(wrong.err, fmt::format("{}:2: byte 0x{:02X} at offset {} is not UTF-8 text", cp932,
                                              static_cast<unsigned char>(bytes[first_high]), first_high)))
      << wrong.err;
  auto unknown = run_kpiwatch({"import", cp932, "--encoding", "ebcdic", "--config", daemon.config_path()});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_TRUE(contains(unknown.err, "unknown encoding \"ebcdic\"")) << unknown.err;
  EXPECT_EQ(count_revisions(daemon.database()), 6);

  daemon.start();
  auto csv = http_get(daemon.port(), "/api/v1/export.csv").body;
  EXPECT_TRUE(contains(csv, "AMED実施調査,日本医療研究開発機構による")) << csv;
  EXPECT_EQ(daemon.stop(), 0);
}

TEST(HardeningInput, ALatin1FileIsRefusedAtItsFirstByteThatIsNotUtf8) {
  Daemon daemon("", kNoBundled);
  // "è" then "v" is a CP932 character; "é" then "," is none: the file is neither.
  const std::string latin1 = converted(daemon.dir(),
                                       "kpi,period,value,note\r\n"
                                       "g01.trainees,2025,12,Genève café, 2025\r\n",
                                       "LATIN1", "latin1.csv");
  const std::string bytes = read_file(latin1);
  const auto e_grave = bytes.find('\xE8');
  ASSERT_NE(e_grave, std::string::npos);
  for (const std::vector<std::string>& extra : {std::vector<std::string>{}, {"--encoding", "utf-8"}}) {
    std::vector<std::string> args = {"import", latin1, "--config", daemon.config_path()};
    args.insert(args.end(), extra.begin(), extra.end());
    auto refused = run_kpiwatch(args);
    EXPECT_EQ(refused.exit_code, 1) << refused.err;
    EXPECT_TRUE(contains(refused.err, fmt::format("{}:2: byte 0xE8 at offset {} is not", latin1, e_grave)))
        << refused.err;
    EXPECT_TRUE(contains(refused.err, "nothing was imported")) << refused.err;
  }
  EXPECT_FALSE(std::filesystem::exists(daemon.database()));  // not even opened

  // Every byte pair of this one is also CP932 ("Ö" a half-width katakana, "èv" a kanji): not guessed as it.
  const std::string western = converted(daemon.dir(),
                                        "kpi,period,value,note\r\n"
                                        "g01.trainees,2025,12,Österreich Genève\r\n",
                                        "LATIN1", "western.csv");
  const std::string western_bytes = read_file(western);
  auto refused = run_kpiwatch({"import", western, "--config", daemon.config_path()});
  EXPECT_EQ(refused.exit_code, 1) << refused.err;
  EXPECT_TRUE(contains(refused.err, fmt::format("{}:2: byte 0xD6 at offset {} is not UTF-8 or CP932", western,
                                                western_bytes.find('\xD6'))))
      << refused.err;
  EXPECT_FALSE(std::filesystem::exists(daemon.database()));
}

const char* const kThresholdRule = R"([[rule]]
id = "few-trainees"
title = "Few trainees"
kpi = "g01.trainees"
severity = "warning"
summary_ja = "{value}"
summary_en = "{value}"
)";

TEST(HardeningInput, CheckRefusesBoundsThatAreNotFiniteAndUnknownReceiversAtTheirPosition) {
  TempDir dir;
  struct Bound {
    std::string table;
    std::string line;
    std::string field;
  };
  const std::vector<Bound> bounds = {
      {"threshold", "below = nan", "below"},
      {"threshold", "above = inf", "above"},
      {"threshold", "at_or_below = -inf", "at_or_below"},
      {"change", "direction = \"falling\"\nby = \"points\"\nmore_than = nan", "more_than"},
      {"trend", "window = 3\nslope_below = -inf", "slope_below"},
      {"stagnation", "window = 3\ntolerance = +inf", "tolerance"},
  };
  for (const auto& b : bounds) {
    SCOPED_TRACE(b.line);
    const std::string file = dir.file("bound.toml");
    std::string text = std::string(kThresholdRule) + "[rule." + b.table + "]\n" + b.line + "\n";
    write_file(file, text);
    auto line = std::count(text.begin(), text.begin() + static_cast<long>(text.find(b.field + " = ")), '\n') + 1;
    auto checked = run_kpiwatch({"check", file});
    EXPECT_NE(checked.exit_code, 0) << checked.err;
    EXPECT_TRUE(contains(checked.err, fmt::format("{}:{}:{}:", file, line, b.field.size() + 4))) << checked.err;
    EXPECT_TRUE(contains(checked.err, "\"" + b.field + "\" must be a finite number")) << checked.err;
  }

  // A receiver the config does not have: at its name in the rule file.
  const std::string file = dir.file("receiver.toml");
  write_file(file,
             std::string(kThresholdRule) + "receivers = [\"chat\", \"nobody\"]\n[rule.threshold]\nbelow = 1000\n");
  const std::string config = dir.file("kpiwatch.toml");
  write_file(config, "[[receivers]]\nname = \"chat\"\nurl = \"http://127.0.0.1:9/hook\"\n");
  auto checked = run_kpiwatch({"check", "--config", config, file});
  EXPECT_NE(checked.exit_code, 0) << checked.err;
  EXPECT_TRUE(contains(checked.err, file + ":8:22: rule \"few-trainees\" names unknown receiver \"nobody\""))
      << checked.err;
  EXPECT_FALSE(contains(checked.err, "\"chat\"")) << checked.err;
}

}  // namespace
}  // namespace kpiwatch::test
