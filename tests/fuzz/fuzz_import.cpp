// `kpiwatch import FILE`: the file's bytes as Excel or a script saved them
// (UTF-8 with or without a BOM, UTF-16 with a BOM, CP932), CSV or JSON by
// their first character, validated against the shipped catalog.
#include "fuzz_support.hpp"
#include "kpiwatch/catalog.hpp"
#include "kpiwatch/importer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace kpiwatch;
  static const auto catalog = Catalog::embedded();
  static const std::string file = "figures";  // no extension: the format is guessed from the text
  auto bytes = fuzz::as_text(data, size);
  auto decoded = decode_import_text(bytes, file);
  if (decoded) fuzz::check_text("decoded text is not UTF-8", decoded.value());
  auto batch = read_import(*catalog, bytes, guess_format(file, bytes), file);
  if (!batch) {
    fuzz::check_text("error message is not UTF-8", batch.error().message);
    return 0;
  }
  if (!decoded) fuzz::violated("imported a file that does not decode", bytes);
  for (const auto& s : batch.value()) {
    fuzz::check_submission(s);
    if (!catalog->find(s.kpi)) fuzz::violated("imported an unknown KPI", s.kpi);
  }
  return 0;
}
