// Validation of submissions against the shipped catalog: every bad input gets
// a stable code, the field, and in a batch the index; good input is normalised.

#include "kpiwatch/submission.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "kpiwatch/catalog.hpp"
#include "kpiwatch/dataset.hpp"

namespace kpiwatch {
namespace {

using ::testing::HasSubstr;

const Catalog& catalog() { return *Catalog::embedded(); }

Result<std::vector<Submission>> parse(std::string_view json, const ValidationLimits& limits = {}) {
  return parse_submissions(catalog(), json, limits);
}

Submission accepted(std::string_view json) {
  auto r = parse(json);
  EXPECT_TRUE(r.ok()) << json << "\n"
                      << (r.ok() ? "" : std::string(to_string(r.error().code)) + ": " + r.error().message);
  if (!r.ok() || r.value().size() != 1) return {};
  return r.value()[0];
}

Error rejected(std::string_view json, const ValidationLimits& limits = {}) {
  auto r = parse(json, limits);
  EXPECT_FALSE(r.ok()) << json;
  return r.ok() ? Error{} : r.error();
}

struct BadInput {
  std::string name;
  std::string json;
  std::string code;
  std::string field;
};

std::ostream& operator<<(std::ostream& out, const BadInput& b) { return out << b.name; }

class SubmissionRejects : public ::testing::TestWithParam<BadInput> {};

TEST_P(SubmissionRejects, WithItsCodeAndFieldAndNoIndex) {
  Error e = rejected(GetParam().json);
  EXPECT_EQ(to_string(e.code), GetParam().code) << e.message;
  EXPECT_EQ(e.field, GetParam().field) << e.message;
  EXPECT_FALSE(e.index.has_value()) << "a single submission has no batch index";
  EXPECT_FALSE(e.message.empty());
}

INSTANTIATE_TEST_SUITE_P(
    BadInputs, SubmissionRejects,
    ::testing::Values(
        BadInput{"NotAnObject", R"(42)", "invalid_type", ""},
        BadInput{"KpiNotAString", R"({"kpi": 6, "period": "2024", "value": 1})", "invalid_type", "kpi"},
        BadInput{"PeriodNotAString", R"({"kpi": "g01.trainees", "period": 2024, "value": 1})", "invalid_type",
                 "period"},
        BadInput{"ValueAString", R"({"kpi": "g01.trainees", "period": "2024", "value": "12"})", "invalid_type",
                 "value"},
        BadInput{"ValueNull", R"({"kpi": "g01.trainees", "period": "2024", "value": null})", "invalid_type", "value"},
        BadInput{"ValueBoolean", R"({"kpi": "g01.trainees", "period": "2024", "value": true})", "invalid_type",
                 "value"},
        BadInput{"DimsAnArray", R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": ["all"], "value": 1})",
                 "invalid_type", "dims"},
        BadInput{"DimValueANumber",
                 R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"stage": 1}, "value": 1})", "invalid_type",
                 "dims.stage"},
        BadInput{"ItemsNotAnArray", R"({"kpi": "g10.new_reference_countries", "period": "2024", "items": "Peru"})",
                 "invalid_type", "items"},
        BadInput{"ItemNotAString", R"({"kpi": "g10.new_reference_countries", "period": "2024", "items": ["Peru", 7]})",
                 "invalid_type", "items[1]"},
        BadInput{"SourceNotAString", R"({"kpi": "g01.trainees", "period": "2024", "value": 1, "source": 3})",
                 "invalid_type", "source"},
        BadInput{"MissingKpi", R"({"period": "2024", "value": 1})", "missing_field", "kpi"},
        BadInput{"MissingPeriod", R"({"kpi": "g01.trainees", "value": 1})", "missing_field", "period"},
        BadInput{"MissingValue", R"({"kpi": "g01.trainees", "period": "2024"})", "missing_field", "value"},
        BadInput{"MissingItems", R"({"kpi": "g10.new_reference_countries", "period": "2024"})", "missing_field",
                 "items"},
        BadInput{"UnknownField", R"({"kpi": "g01.trainees", "period": "2024", "value": 1, "colour": "red"})",
                 "unknown_field", "colour"},
        BadInput{"UnknownKpi", R"({"kpi": "g01.nothing", "period": "2024", "value": 1})", "unknown_kpi", "kpi"},
        BadInput{"UnknownDimension",
                 R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"phase": "basic"}, "value": 1})",
                 "unknown_dimension", "dims.phase"},
        BadInput{"DimensionOnAKpiWithoutDimensions",
                 R"({"kpi": "g01.trainees", "period": "2024", "dims": {"stage": "all"}, "value": 1})",
                 "unknown_dimension", "dims.stage"},
        BadInput{"InvalidDimensionValue",
                 R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"stage": "final"}, "value": 1})",
                 "invalid_dimension_value", "dims.stage"},
        BadInput{"MissingDimensionWithoutDefault",
                 R"({"kpi": "g01.hubs_offering_course", "period": "2024", "value": 1})", "missing_dimension",
                 "dims.course_type"},
        BadInput{"FiscalYearForAYearKpi", R"({"kpi": "g01.trainees", "period": "FY2024", "value": 1})",
                 "invalid_period", "period"},
        BadInput{"YearForAFiscalYearKpi", R"({"kpi": "g08.device_lag", "period": "2024", "value": 1})",
                 "invalid_period", "period"},
        BadInput{"NegativeCount", R"({"kpi": "g01.trainees", "period": "2024", "value": -1})", "out_of_range", "value"},
        BadInput{"NonIntegerCount", R"({"kpi": "g01.trainees", "period": "2024", "value": 2.5})", "not_integer",
                 "value"},
        BadInput{"PercentOver100", R"({"kpi": "g06.stage_up_rate", "period": "2024", "value": 100.5})", "out_of_range",
                 "value"},
        BadInput{"NegativePercent", R"({"kpi": "g06.stage_up_rate", "period": "2024", "value": -0.1})", "out_of_range",
                 "value"},
        BadInput{"OverflowingNumber", R"({"kpi": "g06.stage_up_rate", "period": "2024", "value": 1e400})", "not_finite",
                 "value"},
        BadInput{"OverflowingNegativeNumber", R"({"kpi": "g08.device_lag", "period": "FY2024", "value": -1e400})",
                 "not_finite", "value"},
        BadInput{"NaNLiteral", R"({"kpi": "g06.stage_up_rate", "period": "2024", "value": NaN})", "invalid_json", ""},
        BadInput{"InfinityLiteral", R"({"kpi": "g06.stage_up_rate", "period": "2024", "value": Infinity})",
                 "invalid_json", ""},
        BadInput{"InvalidUtf8InAString",
                 "{\"kpi\": \"g01.trainees\", \"period\": \"2024\", \"value\": 1, "
                 "\"note\": \"caf\xC3\x28\"}",
                 "invalid_json", ""},
        BadInput{"InvalidUtf8InAnItem",
                 "{\"kpi\": \"g10.new_reference_countries\", \"period\": \"2024\", \"items\": [\"\xFF\"]}",
                 "invalid_json", ""},
        BadInput{"ItemsOnANumberKpi", R"({"kpi": "g01.trainees", "period": "2024", "value": 1, "items": ["a"]})",
                 "unexpected_field", "items"},
        BadInput{"ValueOnAnItemsKpi",
                 R"({"kpi": "g10.new_reference_countries", "period": "2024", "value": 2, "items": ["Peru"]})",
                 "unexpected_field", "value"},
        BadInput{"DuplicateItems",
                 R"({"kpi": "g10.new_reference_countries", "period": "2024", "items": ["Peru", "Chile", "Peru"]})",
                 "duplicate_item", "items[2]"},
        BadInput{"EmptyItem", R"({"kpi": "g10.new_reference_countries", "period": "2024", "items": [""]})",
                 "invalid_item", "items[0]"},
        BadInput{"BodyThatDoesNotReportTheKpi",
                 R"({"kpi": "g01.trainees", "period": "2024", "value": 1, "body": "pmda"})", "body_not_allowed",
                 "body"},
        BadInput{"EmptyBatch", R"({"submissions": []})", "empty_batch", "submissions"},
        BadInput{"SubmissionsNotAnArray", R"({"submissions": {}})", "invalid_type", "submissions"},
        BadInput{"FieldBesideSubmissions", R"({"submissions": [], "token": "x"})", "unknown_field", "token"},
        BadInput{"TrailingGarbage", R"({"kpi": "g01.trainees", "period": "2024", "value": 1} x)", "invalid_json", ""},
        BadInput{"EmptyBody", "", "invalid_json", ""}),
    [](const auto& info) { return info.param.name; });

TEST(Submission, MalformedJsonNamesLineAndColumn) {
  Error e = rejected("{\"kpi\": \"g01.trainees\",\n  \"period\": ,\n  \"value\": 1}");
  EXPECT_EQ(to_string(e.code), "invalid_json");
  EXPECT_THAT(e.message, HasSubstr("line 2 column 13"));
}

TEST(Submission, DeeplyNestedJsonIsRejected) {
  std::string deep = R"({"kpi": "g01.trainees", "period": "2024", "value": 1, "note": )" + std::string(100, '[') +
                     std::string(100, ']') + "}";
  EXPECT_EQ(to_string(rejected(deep).code), "invalid_json");
}

TEST(Submission, AcceptsANumberWithEveryOptionalField) {
  Submission s = accepted(
      R"({"kpi": "g01.trainees", "period": "2024", "value": 4086, "body": "amed", "source": "report", "note": "n"})");
  EXPECT_EQ(s.kpi, "g01.trainees");
  EXPECT_EQ(s.period.str(), "2024");
  EXPECT_EQ(s.value, 4086.0);
  EXPECT_TRUE(s.items.empty());
  EXPECT_TRUE(s.dims.empty());
  EXPECT_EQ(s.body, "amed");
  EXPECT_EQ(s.source, "report");
  EXPECT_EQ(s.note, "n");
}

TEST(Submission, AppliesTheDimensionDefaultWhenOmitted) {
  Submission s = accepted(R"({"kpi": "g06.stage_up_rate", "period": "2024", "value": 26.8})");
  EXPECT_EQ(s.dims, (Dims{{"stage", "all"}}));
  Submission n = accepted(R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": null, "value": 26.8})");
  EXPECT_EQ(n.dims, (Dims{{"stage", "all"}}));
}

TEST(Submission, KeepsAnExplicitDimensionValue) {
  Submission s = accepted(R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"stage": "basic"}, "value": 5})");
  EXPECT_EQ(s.dims, (Dims{{"stage", "basic"}}));
  EXPECT_EQ(dims_key(s.dims), "stage=basic");
}

TEST(Submission, AcceptsAWholeCountWrittenAsADecimal) {
  Submission s = accepted(R"({"kpi": "g01.trainees", "period": "2024", "value": 3.0})");
  EXPECT_EQ(s.value, 3.0);
}

TEST(Submission, AcceptsTheBoundsOfThePercentRange) {
  EXPECT_EQ(accepted(R"({"kpi": "g06.stage_up_rate", "period": "2024", "value": 100})").value, 100.0);
  EXPECT_EQ(accepted(R"({"kpi": "g06.stage_up_rate", "period": "2024", "value": 0})").value, 0.0);
}

TEST(Submission, AcceptsANegativeDeviceLagWithinItsRange) {
  Submission s = accepted(R"({"kpi": "g08.device_lag", "period": "FY2023", "value": -0.5})");
  EXPECT_EQ(s.value, -0.5);
  EXPECT_EQ(s.period.kind, PeriodKind::fiscal_year);
  EXPECT_EQ(s.period.year, 2023);
}

TEST(Submission, AcceptsAnItemList) {
  Submission s = accepted(
      R"({"kpi": "g10.new_reference_countries", "period": "2024", "items": ["Brazil", "Egypt", "ウズベキスタン"]})");
  EXPECT_FALSE(s.value.has_value());
  EXPECT_EQ(s.items, (std::vector<std::string>{"Brazil", "Egypt", "ウズベキスタン"}));
}

TEST(Submission, RejectsTextLongerThanTheLimit) {
  ValidationLimits limits;
  limits.max_text = 30;
  std::string long_text(31, 'x');
  Error e = rejected(R"({"kpi": "g01.trainees", "period": "2024", "value": 1, "note": ")" + long_text + "\"}", limits);
  EXPECT_EQ(to_string(e.code), "text_too_long");
  EXPECT_EQ(e.field, "note");
  EXPECT_TRUE(
      parse(R"({"kpi": "g01.trainees", "period": "2024", "value": 1, "note": ")" + long_text.substr(1) + "\"}", limits)
          .ok());
  Error item =
      rejected(R"({"kpi": "g10.new_reference_countries", "period": "2024", "items": [")" + long_text + "\"]}", limits);
  EXPECT_EQ(to_string(item.code), "text_too_long");
  EXPECT_EQ(item.field, "items[0]");
}

TEST(Submission, RejectsMoreItemsThanTheLimit) {
  ValidationLimits limits;
  limits.max_items = 2;
  Error e = rejected(R"({"kpi": "g10.new_reference_countries", "period": "2024", "items": ["a", "b", "c"]})", limits);
  EXPECT_EQ(to_string(e.code), "too_many_items");
  EXPECT_EQ(e.field, "items");
}

std::string batch_of(const std::vector<std::string>& entries) {
  std::string out = "{\"submissions\": [";
  for (std::size_t i = 0; i < entries.size(); ++i) out += (i ? ", " : "") + entries[i];
  return out + "]}";
}

std::string trainees(int year, int value = 1) {
  return R"({"kpi": "g01.trainees", "period": ")" + std::to_string(year) + R"(", "value": )" + std::to_string(value) +
         "}";
}

TEST(SubmissionBatch, AcceptsEveryEntryInOrder) {
  auto r = parse(batch_of({trainees(2022, 10), trainees(2023, 20), trainees(2024, 30)}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r.value().size(), 3u);
  EXPECT_EQ(r.value()[0].period.str(), "2022");
  EXPECT_EQ(r.value()[2].value, 30.0);
}

TEST(SubmissionBatch, ReportsTheIndexOfTheBadEntry) {
  Error e = rejected(batch_of({trainees(2022), trainees(2023), R"({"kpi": "g01.trainees", "period": "2024"})"}));
  EXPECT_EQ(to_string(e.code), "missing_field");
  EXPECT_EQ(e.field, "value");
  EXPECT_EQ(e.index, 2u);
}

TEST(SubmissionBatch, ReportsTheFirstBadEntryWhenSeveralAreBad) {
  Error e = rejected(batch_of({trainees(2022), R"({"kpi": "nope", "period": "2023", "value": 1})",
                               R"({"kpi": "g01.trainees", "period": "2024"})"}));
  EXPECT_EQ(to_string(e.code), "unknown_kpi");
  EXPECT_EQ(e.index, 1u);
}

TEST(SubmissionBatch, RejectsADuplicateEntryAtTheIndexOfTheSecond) {
  Error e = rejected(batch_of({trainees(2022), trainees(2023), trainees(2022, 5)}));
  EXPECT_EQ(to_string(e.code), "duplicate_entry");
  EXPECT_EQ(e.index, 2u);
  EXPECT_THAT(e.message, HasSubstr("entry 0"));
}

TEST(SubmissionBatch, ADefaultedDimensionDuplicatesTheExplicitOne) {
  Error e =
      rejected(batch_of({R"({"kpi": "g06.stage_up_rate", "period": "2024", "value": 26.8})",
                         R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"stage": "all"}, "value": 1})"}));
  EXPECT_EQ(to_string(e.code), "duplicate_entry");
  EXPECT_EQ(e.index, 1u);
}

TEST(SubmissionBatch, DifferentDimsOrPeriodsAreNotDuplicates) {
  auto r =
      parse(batch_of({R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"stage": "all"}, "value": 1})",
                      R"({"kpi": "g06.stage_up_rate", "period": "2024", "dims": {"stage": "basic"}, "value": 1})",
                      R"({"kpi": "g06.stage_up_rate", "period": "2023", "dims": {"stage": "all"}, "value": 1})",
                      R"({"kpi": "g06.stage_up_themes", "period": "2024", "dims": {"stage": "all"}, "value": 1})"}));
  EXPECT_TRUE(r.ok()) << r.error().message;
}

TEST(SubmissionBatch, RejectsABatchOverTheLimitBeforeValidatingEntries) {
  ValidationLimits limits;
  limits.max_batch = 2;
  Error e = rejected(batch_of({trainees(2022), trainees(2023), R"({"bad": true})"}), limits);
  EXPECT_EQ(to_string(e.code), "batch_too_large");
  EXPECT_EQ(e.field, "submissions");
  EXPECT_TRUE(parse(batch_of({trainees(2022), trainees(2023)}), limits).ok());
}

TEST(CheckUnique, AcceptsDistinctEntriesAndFlagsTheSecondOfAPair) {
  auto batch = parse(batch_of({trainees(2022), trainees(2023)}));
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE(check_unique(batch.value()).ok());
  auto twice = batch.value();
  twice.push_back(batch.value()[1]);
  auto status = check_unique(twice);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().index, 2u);
}

TEST(BundledDataset, ValidatesCompletelyAgainstTheShippedCatalog) {
  auto r = parse_submissions(catalog(), bundled_dataset_json());
  ASSERT_TRUE(r.ok()) << to_string(r.error().code) << " at " << r.error().index.value_or(0) << ": "
                      << r.error().message;
  EXPECT_GT(r.value().size(), 100u);
  bool has_items = false;
  for (const auto& s : r.value()) has_items |= !s.items.empty();
  EXPECT_TRUE(has_items);
}

TEST(BundledDataset, VersionIsStableAndNamesItsHash) {
  EXPECT_EQ(bundled_dataset_version(), bundled_dataset_version());
  EXPECT_THAT(bundled_dataset_version(), ::testing::StartsWith("sha256:"));
  EXPECT_EQ(bundled_dataset_version().size(), 7u + 64u);
}

Revision revision_of(Submission s) {
  Revision r;
  r.submission = std::move(s);
  r.id = 42;
  r.revision = 2;
  r.submitted_by = "amed-uploader";
  r.received_at = "2025-01-01T00:00:00.000Z";
  return r;
}

TEST(ToJson, WritesWholeNumbersAsJsonIntegers) {
  auto o = to_json(revision_of(accepted(R"({"kpi": "g01.trainees", "period": "2024", "value": 4086.0})")));
  ASSERT_TRUE(o.contains("value"));
  EXPECT_TRUE(o.at("value").is_int64()) << boost::json::serialize(o);
  EXPECT_EQ(o.at("value").as_int64(), 4086);
  EXPECT_EQ(boost::json::serialize(o.at("value")), "4086");
}

TEST(ToJson, WritesFractionsAsJsonNumbers) {
  auto o = to_json(revision_of(accepted(R"({"kpi": "g06.stage_up_rate", "period": "2024", "value": 26.8})")));
  ASSERT_TRUE(o.at("value").is_double());
  EXPECT_DOUBLE_EQ(o.at("value").as_double(), 26.8);
}

TEST(ToJson, WritesTheRevisionWithItsSeries) {
  auto o = to_json(revision_of(accepted(
      R"({"kpi": "g06.stage_up_rate", "period": "2024", "value": 26.8, "source": "report", "body": "amed"})")));
  EXPECT_EQ(o.at("id").as_int64(), 42);
  EXPECT_EQ(o.at("kpi").as_string(), "g06.stage_up_rate");
  EXPECT_EQ(o.at("dims").as_object().at("stage").as_string(), "all");
  EXPECT_EQ(o.at("period").as_string(), "2024");
  EXPECT_EQ(o.at("revision").as_int64(), 2);
  EXPECT_EQ(o.at("source").as_string(), "report");
  EXPECT_EQ(o.at("body").as_string(), "amed");
  EXPECT_EQ(o.at("submitted_by").as_string(), "amed-uploader");
  EXPECT_EQ(o.at("received_at").as_string(), "2025-01-01T00:00:00.000Z");
  EXPECT_FALSE(o.contains("note"));
  EXPECT_FALSE(o.contains("items"));
}

TEST(ToJson, OmitsKpiAndDimsWithoutSeries) {
  auto o = to_json(revision_of(accepted(R"({"kpi": "g06.stage_up_rate", "period": "2024", "value": 26.8})")), false);
  EXPECT_FALSE(o.contains("kpi"));
  EXPECT_FALSE(o.contains("dims"));
  EXPECT_TRUE(o.contains("period"));
}

TEST(ToJson, WritesItemsAndNoValue) {
  auto o = to_json(revision_of(
      accepted(R"({"kpi": "g10.new_reference_countries", "period": "2024", "items": ["Brazil", "Peru"]})")));
  EXPECT_FALSE(o.contains("value"));
  EXPECT_EQ(boost::json::serialize(o.at("items")), R"(["Brazil","Peru"])");
}

}  // namespace
}  // namespace kpiwatch
