// `kpiwatch import FILE`: a CSV or JSON file of submissions, all or nothing.
#include <fmt/format.h>

#include "commands/setup.hpp"
#include "kpiwatch/importer.hpp"

namespace kpiwatch {

int run_import(const CommonOptions& options, const std::string& file, const std::string& submitted_by,
               const std::string& encoding_name) {
  auto encoding = encoding_name.empty() ? TextEncoding::detect : parse_text_encoding(encoding_name);
  if (!encoding) {
    fmt::print(stderr, "--encoding: unknown encoding \"{}\" (utf-8, utf-16, cp932 or shift_jis)\n", encoding_name);
    return 2;
  }
  auto setup = load_setup_or_print(options);
  if (!setup) return 2;
  init_logging(setup->settings.log_level);

  auto content = read_input_file(file);
  if (!content) return 2;
  auto format = guess_format(file, *content);
  auto decoded = decode_text(*content, file, *encoding, format);
  if (!decoded) {
    fmt::print(stderr, "{}\nnothing was imported\n", decoded.error().message);
    return 1;
  }
  if (!decoded->notice.empty()) fmt::print(stderr, "{}\n", decoded->notice);
  auto batch = read_import_text(*setup->catalog, decoded->text, format, file, setup->settings.limits);
  if (!batch) {
    fmt::print(stderr, "{}\nnothing was imported\n", batch.error().message);
    return 1;
  }
  auto store =
      Store::open({setup->settings.database_path(), setup->settings.synchronous, setup->settings.busy_timeout_ms});
  if (!store) {
    fmt::print(stderr, "{}\n", store.error().message);
    return 2;
  }
  SystemClock clock;
  auto stored = store.value()->revisions().append(batch.value(), submitted_by.empty() ? "import:" + file : submitted_by,
                                                  format_rfc3339(clock.now()));
  if (!stored) {
    fmt::print(stderr, "{}\nnothing was imported\n", stored.error().message);
    return 1;
  }
  fmt::print("imported {} submission(s) from {} into {}\n", stored->size(), file, setup->settings.database_path());
  fmt::print(
      "a kpiwatch serve on this database evaluates the rules on them within {} ms; otherwise at its next start\n",
      setup->settings.external_check_interval.count());
  return 0;
}

}  // namespace kpiwatch
