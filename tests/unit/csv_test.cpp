// CSV as the export writes it: RFC 4180 quoting, CRLF, plain decimals, and the
// figure rows that `kpiwatch import` reads back.

#include "kpiwatch/csv.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kpiwatch/figure_csv.hpp"
#include "kpiwatch/importer.hpp"

namespace kpiwatch {
namespace {

using ::testing::HasSubstr;

std::string cell(std::string_view text) {
  std::string out;
  append_csv_cell(out, text);
  return out;
}

TEST(CsvWriter, QuotesOnlyCellsThatNeedIt) {
  EXPECT_EQ(cell("plain"), "plain");
  EXPECT_EQ(cell(""), "");
  EXPECT_EQ(cell("日本医療研究開発機構"), "日本医療研究開発機構");
  EXPECT_EQ(cell("first, preliminary"), "\"first, preliminary\"");
  EXPECT_EQ(cell("the \"as printed\" figure"), "\"the \"\"as printed\"\" figure\"");
  EXPECT_EQ(cell("line one\nline two"), "\"line one\nline two\"");
  EXPECT_EQ(cell("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(cell(" padded "), "\" padded \"");
}

TEST(CsvWriter, EndsEveryRowWithCrlf) {
  std::string out;
  append_csv_row(out, {"a", "b,c", ""});
  append_csv_row(out, {"1"});
  EXPECT_EQ(out, "a,\"b,c\",\r\n1\r\n");
}

TEST(CsvWriter, WritesNumbersAsPlainDecimals) {
  EXPECT_EQ(csv_number(33.1), "33.1");
  EXPECT_EQ(csv_number(26.8), "26.8");
  EXPECT_EQ(csv_number(49.0), "49");
  EXPECT_EQ(csv_number(-6.3), "-6.3");
  EXPECT_EQ(csv_number(4086.0), "4086");
  EXPECT_EQ(csv_number(0.000125), "0.000125");
  EXPECT_EQ(kUtf8Bom, "\xEF\xBB\xBF");
}

TEST(FigureCsv, DimsCellReadsBackAndRefusesAPairWithoutEquals) {
  Dims dims{{"stage", "all"}, {"phase", "basic"}};
  EXPECT_EQ(dims_cell(dims), "phase=basic;stage=all");
  Dims back;
  ASSERT_TRUE(parse_dims_cell(dims_cell(dims), back));
  EXPECT_EQ(back, dims);
  Dims none;
  EXPECT_TRUE(parse_dims_cell("", none));
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(parse_dims_cell("stage", none));
}

Revision stage_up(double value, std::string note) {
  Revision r;
  r.submission.kpi = "g06.stage_up_rate";
  r.submission.period = parse_period("2024", Catalog::embedded()->find("g06.stage_up_rate")->period).value();
  r.submission.dims = {{"stage", "all"}};
  r.submission.value = value;
  r.submission.body = "amed";
  r.submission.source = "AMED実施調査";
  r.submission.note = std::move(note);
  r.submitted_by = "bundled-dataset";
  r.received_at = "2026-12-01T00:00:00Z";
  r.revision = 2;
  return r;
}

TEST(FigureCsv, WritesARowInEachLanguage) {
  const Kpi& kpi = *Catalog::embedded()->find("g06.stage_up_rate");
  std::string ja;
  append_figure_header(ja, Lang::ja);
  append_figure_row(ja, kpi, stage_up(26.8, "as printed"), Lang::ja);
  EXPECT_THAT(ja,
              HasSubstr("目標,KPI,KPI名,期間,期間名,系列,次元,値,単位,項目,報告機関,出典,備考,提出者,提出日時,版\r\n"));
  EXPECT_THAT(ja, HasSubstr("6,g06.stage_up_rate,"));
  EXPECT_THAT(ja, HasSubstr(",2024,2024年,全体,stage=all,26.8,"));
  EXPECT_THAT(ja, HasSubstr(",amed,AMED実施調査,as printed,bundled-dataset,2026-12-01T00:00:00Z,2\r\n"));

  std::string en;
  append_figure_header(en, Lang::en);
  append_figure_row(en, kpi, stage_up(33.1, ""), Lang::en);
  EXPECT_THAT(en, HasSubstr("goal,kpi,kpi_name,period,period_name,series,dims,value,unit,items,body,source,note,"
                            "submitted_by,submitted_at,revision\r\n"));
  EXPECT_THAT(en, HasSubstr(",2024,2024,all themes,stage=all,33.1,"));
}

TEST(FigureCsv, ANoteWithCommaQuoteAndNewlineSurvivesARoundTripThroughTheImporter) {
  const Catalog& catalog = *Catalog::embedded();
  const Kpi& kpi = *catalog.find("g06.stage_up_rate");
  const std::string note = "first, \"preliminary\"\nsee p. 12";
  for (Lang lang : {Lang::ja, Lang::en}) {
    std::string csv(kUtf8Bom);
    append_figure_header(csv, lang);
    append_figure_row(csv, kpi, stage_up(33.1, note), lang);
    auto batch = read_import(catalog, csv, ImportFormat::csv, "export.csv");
    ASSERT_TRUE(batch.ok()) << batch.error().message;
    ASSERT_EQ(batch->size(), 1u);
    const Submission& s = batch->front();
    EXPECT_EQ(s.kpi, "g06.stage_up_rate");
    EXPECT_EQ(s.period.str(), "2024");
    EXPECT_EQ(s.dims, (Dims{{"stage", "all"}}));
    EXPECT_EQ(s.value, 33.1);
    EXPECT_EQ(s.note, note);
    EXPECT_EQ(s.source, "AMED実施調査");
    EXPECT_EQ(s.body, "amed");
  }
}

TEST(CsvWriter, ASubmittersTextThatExcelWouldRunAsAFormulaIsMarkedAsText) {
  for (std::string_view formula : {"=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"}) {
    EXPECT_EQ(csv_text(formula).substr(1), formula);
    EXPECT_EQ(csv_text(formula).front(), '\'') << formula;
    EXPECT_EQ(csv_unguarded(csv_text(formula)), formula);
  }
  for (std::string_view text : {"AMED実施調査", "", "'quoted", "a=b"}) {
    EXPECT_EQ(csv_text(text), text);
    EXPECT_EQ(csv_unguarded(text), text);
  }
}

TEST(FigureCsv, AFormulaInANoteIsExportedAsTextAndImportedAsWritten) {
  const Catalog& catalog = *Catalog::embedded();
  const Kpi& kpi = *catalog.find("g06.stage_up_rate");
  const std::string note = "=HYPERLINK(\"http://example.invalid\",\"詳細\")";
  std::string csv;
  append_figure_header(csv, Lang::ja);
  append_figure_row(csv, kpi, stage_up(33.1, note), Lang::ja);
  EXPECT_THAT(csv, HasSubstr(",\"'=HYPERLINK("));
  auto batch = read_import(catalog, csv, ImportFormat::csv, "export.csv");
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  EXPECT_EQ(batch->front().note, note);
}

TEST(FigureCsv, ItemKpisJoinTheirItemsAsTheImporterSplitsThem) {
  const Catalog& catalog = *Catalog::embedded();
  const Kpi& kpi = *catalog.find("g10.new_reference_countries");
  Revision r;
  r.submission.kpi = kpi.id;
  r.submission.period = parse_period("2024", kpi.period).value();
  r.submission.items = {"Brazil", "Egypt", "Uzbekistan"};
  r.submission.body = "mhlw";
  r.revision = 1;
  std::string csv;
  append_figure_header(csv, Lang::en);
  append_figure_row(csv, kpi, r, Lang::en);
  EXPECT_THAT(csv, HasSubstr(",Brazil|Egypt|Uzbekistan,"));
  auto batch = read_import(catalog, csv, ImportFormat::csv, "export.csv");
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  EXPECT_EQ(batch->front().items, r.submission.items);
  EXPECT_FALSE(batch->front().value);
}

TEST(FigureCsv, AMalformedDimsCellNamesTheLineAndField) {
  auto batch = read_import(*Catalog::embedded(), "kpi,period,dims,value\ng06.stage_up_rate,2024,stage,33.1\n",
                           ImportFormat::csv, "export.csv");
  ASSERT_FALSE(batch.ok());
  EXPECT_THAT(batch.error().message, HasSubstr("export.csv:2:"));
  EXPECT_THAT(batch.error().message, HasSubstr("\"dims\""));
}

}  // namespace
}  // namespace kpiwatch
