// The body of POST /api/v1/submissions: one object or {"submissions": [...]},
// validated against the shipped catalog.
#include <boost/json.hpp>

#include "fuzz_support.hpp"
#include "kpiwatch/catalog.hpp"
#include "kpiwatch/submission.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kpiwatch;
  static const auto catalog = Catalog::embedded();
  auto text = fuzz::as_text(data, size);
  auto batch = parse_submissions(*catalog, text);
  if (!batch) {
    fuzz::check_text("error message is not UTF-8", batch.error().message);
    return 0;
  }
  for (const auto& s : batch.value()) {
    fuzz::check_submission(s);
    if (!catalog->find(s.kpi)) fuzz::violated("accepted an unknown KPI", s.kpi);
    // What the API answers with: it must serialize.
    Revision revision{s, 1, 1, "fuzz", "2026-01-01T00:00:00Z"};
    auto json = boost::json::serialize(to_json(revision));
    fuzz::check_text("answer is not UTF-8", json);
  }
  return 0;
}
