// Import files (CSV, JSON), validated as the API validates, located by line.

#include "kpiwatch/importer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "kpiwatch/dataset.hpp"

namespace kpiwatch {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const Catalog& catalog() { return *Catalog::embedded(); }

std::vector<Submission> imported(std::string_view text, ImportFormat format, const std::string& file = "figures") {
  auto r = read_import(catalog(), text, format, file);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : std::string(to_string(r.error().code)) + ": " + r.error().message);
  return r.ok() ? r.value() : std::vector<Submission>{};
}

Error import_error(std::string_view text, ImportFormat format, const std::string& file = "figures.csv",
                   const ValidationLimits& limits = {}) {
  auto r = read_import(catalog(), text, format, file, limits);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? Error{} : r.error();
}

TEST(CsvImport, ReadsRowsByHeaderName) {
  auto batch = imported(
      "period,kpi,value,body,source,note\n"
      "2023,g01.trainees,2783,amed,report,\n"
      "2024,g01.trainees,4086,amed,report,checked\n",
      ImportFormat::csv);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].kpi, "g01.trainees");
  EXPECT_EQ(batch[0].period.str(), "2023");
  EXPECT_EQ(batch[0].value, 2783.0);
  EXPECT_EQ(batch[0].body, "amed");
  EXPECT_EQ(batch[0].source, "report");
  EXPECT_EQ(batch[0].note, "");
  EXPECT_EQ(batch[1].value, 4086.0);
  EXPECT_EQ(batch[1].note, "checked");
}

TEST(CsvImport, ReadsDimensionColumnsAndAppliesDefaultsForEmptyCells) {
  auto batch = imported(
      "kpi,period,dims.stage,value\n"
      "g06.stage_up_rate,2024,basic,33.1\n"
      "g06.stage_up_rate,2024,,26.8\n",
      ImportFormat::csv);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].dims, (Dims{{"stage", "basic"}}));
  EXPECT_EQ(batch[0].value, 33.1);
  EXPECT_EQ(batch[1].dims, (Dims{{"stage", "all"}}));
}

TEST(CsvImport, SplitsItemsOnVerticalBars) {
  auto batch = imported(
      "kpi,period,items\n"
      "g10.new_reference_countries,2024,Brazil|Egypt|Uzbekistan\n"
      "g10.new_reference_countries,2023,Peru\n",
      ImportFormat::csv);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].items, (std::vector<std::string>{"Brazil", "Egypt", "Uzbekistan"}));
  EXPECT_EQ(batch[1].items, std::vector<std::string>{"Peru"});
  EXPECT_FALSE(batch[0].value.has_value());
}

TEST(CsvImport, StripsTheByteOrderMarkExcelWrites) {
  auto batch = imported("\xEF\xBB\xBFkpi,period,value\ng01.trainees,2024,4086\n", ImportFormat::csv);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].kpi, "g01.trainees");
}

TEST(CsvImport, AcceptsCrlfLineEndings) {
  auto batch =
      imported("kpi,period,value,note\r\ng01.trainees,2023,2783,a\r\ng01.trainees,2024,4086,b\r\n", ImportFormat::csv);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[1].period.str(), "2024");
  EXPECT_EQ(batch[1].note, "b");  // no stray carriage return
}

TEST(CsvImport, AcceptsAFileWithoutAFinalNewline) {
  auto batch = imported("kpi,period,value\ng01.trainees,2024,4086", ImportFormat::csv);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].value, 4086.0);
}

TEST(CsvImport, ReadsQuotedCellsWithCommasQuotesAndNewlines) {
  auto batch = imported(
      "kpi,period,value,source,note\n"
      "g01.trainees,2024,4086,\"Follow-up report, goal 1\",\"said \"\"final\"\"\nsecond line\"\n",
      ImportFormat::csv);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].source, "Follow-up report, goal 1");
  EXPECT_EQ(batch[0].note, "said \"final\"\nsecond line");
}

TEST(CsvImport, SkipsBlankLines) {
  auto batch = imported("\nkpi,period,value\n\ng01.trainees,2023,1\n\n\ng01.trainees,2024,2\n\n", ImportFormat::csv);
  EXPECT_EQ(batch.size(), 2u);
}

TEST(CsvImport, NamesTheFileAndLineOfTheFirstBadRow) {
  Error e = import_error(
      "kpi,period,value\n"
      "g01.trainees,2022,2737\n"
      "g01.trainees,2023,-5\n"
      "g01.trainees,FY2024,1\n",
      ImportFormat::csv, "upload.csv");
  EXPECT_EQ(to_string(e.code), "out_of_range");
  EXPECT_EQ(e.field, "value");
  EXPECT_EQ(e.index, 3u);
  EXPECT_THAT(e.message, StartsWith("upload.csv:3: "));
}

TEST(CsvImport, CountsBlankLinesBeforeTheBadRow) {
  Error e = import_error("\n\nkpi,period,value\n\ng01.trainees,2023,1\n\n\ng01.trainees,2024,2.5\n", ImportFormat::csv,
                         "upload.csv");
  EXPECT_EQ(to_string(e.code), "not_integer");
  EXPECT_EQ(e.index, 8u);
  EXPECT_THAT(e.message, StartsWith("upload.csv:8: "));
}

TEST(CsvImport, CountsCrlfLinesAndTheBomToo) {
  Error e = import_error("\xEF\xBB\xBFkpi,period,value\r\n\r\ng01.trainees,2024,x\r\n", ImportFormat::csv, "u.csv");
  EXPECT_EQ(to_string(e.code), "invalid_type");
  EXPECT_THAT(e.message, StartsWith("u.csv:3: "));
}

TEST(CsvImport, RejectsAnUnknownColumnAtTheHeader) {
  Error e = import_error("\nkpi,period,amount\ng01.trainees,2024,1\n", ImportFormat::csv, "u.csv");
  EXPECT_EQ(to_string(e.code), "unknown_column");
  EXPECT_EQ(e.field, "amount");
  EXPECT_THAT(e.message, StartsWith("u.csv:2: "));
  EXPECT_THAT(e.message, HasSubstr("\"amount\""));
}

TEST(CsvImport, RejectsAColumnGivenTwice) {
  Error e = import_error("kpi,period,value,value\ng01.trainees,2024,1,2\n", ImportFormat::csv);
  EXPECT_EQ(to_string(e.code), "duplicate_column");
}

TEST(CsvImport, RejectsARowWithTheWrongNumberOfCells) {
  Error e = import_error("kpi,period,value\ng01.trainees,2023,1\ng01.trainees,2024\n", ImportFormat::csv, "u.csv");
  EXPECT_EQ(to_string(e.code), "invalid_csv");
  EXPECT_THAT(e.message, StartsWith("u.csv:3: "));
  Error more = import_error("kpi,period,value\ng01.trainees,2024,1,extra\n", ImportFormat::csv, "u.csv");
  EXPECT_EQ(to_string(more.code), "invalid_csv");
  EXPECT_THAT(more.message, StartsWith("u.csv:2: "));
}

TEST(CsvImport, RejectsAnUnterminatedQuoteRatherThanSwallowingTheRowsAfterIt) {
  Error e = import_error("kpi,period,value,note\ng01.trainees,2024,1,\"open\ng01.trainees,2023,2,x\n",
                         ImportFormat::csv, "u.csv");
  EXPECT_EQ(to_string(e.code), "invalid_csv");
  EXPECT_THAT(e.message, StartsWith("u.csv:2: "));
}

TEST(CsvImport, RejectsDuplicateRowsAtTheSecondOne) {
  Error e = import_error("kpi,period,value\ng01.trainees,2024,1\ng01.trainees,2023,1\ng01.trainees,2024,2\n",
                         ImportFormat::csv, "u.csv");
  EXPECT_EQ(to_string(e.code), "duplicate_entry");
  EXPECT_THAT(e.message, StartsWith("u.csv:4: "));
}

TEST(CsvImport, RejectsAFileWithOnlyAHeader) {
  EXPECT_EQ(to_string(import_error("kpi,period,value\n", ImportFormat::csv).code), "empty_batch");
  EXPECT_EQ(to_string(import_error("", ImportFormat::csv).code), "empty_batch");
}

TEST(CsvImport, RejectsMoreRowsThanTheBatchLimit) {
  ValidationLimits limits;
  limits.max_batch = 1;
  EXPECT_EQ(to_string(import_error("kpi,period,value\ng01.trainees,2023,1\ng01.trainees,2024,1\n", ImportFormat::csv,
                                   "u.csv", limits)
                          .code),
            "batch_too_large");
}

const std::string kJsonBatch = R"({"submissions": [
  {"kpi": "g01.trainees", "period": "2023", "value": 2783},
  {"kpi": "g01.trainees",
   "period": "2024",
   "value": 4086},
  {"kpi": "g10.new_reference_countries", "period": "2024", "items": ["Brazil", "Egypt"]}
]}
)";

TEST(JsonImport, ReadsASubmissionsObject) {
  auto batch = imported(kJsonBatch, ImportFormat::json);
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch[1].value, 4086.0);
  EXPECT_EQ(batch[2].items.size(), 2u);
}

TEST(JsonImport, ReadsABareArray) {
  auto batch = imported("\xEF\xBB\xBF [\n{\"kpi\": \"g01.trainees\", \"period\": \"2024\", \"value\": 4086}\n]",
                        ImportFormat::json);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch[0].kpi, "g01.trainees");
}

TEST(JsonImport, ReadsASingleObject) {
  EXPECT_EQ(imported(R"({"kpi": "g01.trainees", "period": "2024", "value": 4086})", ImportFormat::json).size(), 1u);
}

TEST(JsonImport, ReadsTheBundledDataset) {
  auto batch = imported(bundled_dataset_json(), ImportFormat::json);
  EXPECT_GT(batch.size(), 100u);
}

TEST(JsonImport, NamesTheLineWhereTheBadEntryBegins) {
  std::string text = kJsonBatch;
  text.replace(text.find("4086"), 4, "-1");
  Error e = import_error(text, ImportFormat::json, "figures.json");
  EXPECT_EQ(to_string(e.code), "out_of_range");
  EXPECT_EQ(e.index, 3u);  // the line, for file imports
  EXPECT_THAT(e.message, StartsWith("figures.json:3: "));
  EXPECT_THAT(e.message, HasSubstr("entry 1"));
}

TEST(JsonImport, NamesTheLineInABareArray) {
  std::string text =
      "[\n  {\"kpi\": \"g01.trainees\", \"period\": \"2023\", \"value\": 1},\n\n"
      "  {\"kpi\": \"g01.nothing\", \"period\": \"2024\", \"value\": 1}\n]\n";
  Error e = import_error(text, ImportFormat::json, "figures.json");
  EXPECT_EQ(to_string(e.code), "unknown_kpi");
  EXPECT_THAT(e.message, StartsWith("figures.json:4: "));
}

TEST(JsonImport, NamesTheFileOfMalformedJson) {
  Error e = import_error("{\"submissions\": [\n  {\"kpi\": }\n]}", ImportFormat::json, "figures.json");
  EXPECT_EQ(to_string(e.code), "invalid_json");
  EXPECT_THAT(e.message, StartsWith("figures.json: "));
  EXPECT_THAT(e.message, HasSubstr("line 2"));
}

TEST(JsonImport, ReportsTheColumnOfMalformedJsonInABareArray) {
  Error e = import_error("[{\"kpi\": }]", ImportFormat::json, "figures.json");
  EXPECT_EQ(to_string(e.code), "invalid_json");
  EXPECT_THAT(e.message, HasSubstr("line 1 column 10"));
}

TEST(JsonImport, RejectsAnEmptyArray) {
  EXPECT_EQ(to_string(import_error("[]", ImportFormat::json, "f.json").code), "empty_batch");
}

TEST(JsonEntryLine, FindsTheLineOfEachEntry) {
  EXPECT_EQ(json_entry_line(kJsonBatch, 0), 2u);
  EXPECT_EQ(json_entry_line(kJsonBatch, 1), 3u);
  EXPECT_EQ(json_entry_line(kJsonBatch, 2), 6u);
}

TEST(JsonEntryLine, IgnoresBracketsCommasAndEscapesInsideStrings) {
  std::string text =
      "[\n"
      "{\"note\": \"a, [b], {c} \\\" ,\"},\n"
      "{\"items\": [\"x\",\n \"y\"]},\n"
      "\"last\"\n"
      "]";
  EXPECT_EQ(json_entry_line(text, 0), 2u);
  EXPECT_EQ(json_entry_line(text, 1), 3u);
  EXPECT_EQ(json_entry_line(text, 2), 5u);
}

TEST(JsonEntryLine, FindsEntriesOnTheSameLine) {
  EXPECT_EQ(json_entry_line("[{}, {},\n{}]", 1), 1u);
  EXPECT_EQ(json_entry_line("[{}, {},\n{}]", 2), 2u);
}

TEST(GuessFormat, UsesTheExtensionThenTheFirstCharacter) {
  EXPECT_EQ(guess_format("a.csv", "{"), ImportFormat::csv);
  EXPECT_EQ(guess_format("a.JSON", "kpi"), ImportFormat::json);
  EXPECT_EQ(guess_format("-", "\xEF\xBB\xBF\n  [{}]"), ImportFormat::json);
  EXPECT_EQ(guess_format("-", "{}"), ImportFormat::json);
  EXPECT_EQ(guess_format("figures.txt", "kpi,period,value\n"), ImportFormat::csv);
}

}  // namespace
}  // namespace kpiwatch
