#include "bench_workload.hpp"

#include <fmt/format.h>

namespace kpiwatch::bench {

std::string institution(std::size_t i) { return fmt::format("i{:05}", i); }

std::string catalog_head(const std::string& writer) {
  return fmt::format(R"(# Benchmark catalog (written by {}).
schema = 1

[[bodies]]
id = "bench"
name_ja = "ベンチマーク"
name_en = "Benchmark"

[[goals]]
number = 1
name_ja = "ベンチマーク"
name_en = "Benchmark"
bodies = ["bench"]
)",
                     writer);
}

std::string workload_catalog_toml(std::size_t institutions, const std::string& writer) {
  std::string values;
  values.reserve(institutions * 10);
  for (std::size_t i = 0; i < institutions; ++i) values += fmt::format("{}\"{}\"", i ? ", " : "", institution(i));
  return catalog_head(writer) + fmt::format(R"(
[[kpis]]
id = "{}"
goal = 1
name_ja = "月次件数"
name_en = "Monthly count per institution"
unit = "count"
period = "month"
bodies = ["bench"]
min = 0
max = 1000000000

[kpis.dims.institution]
values = [{}]
)",
                                            kWorkloadKpi, values);
}

std::string workload_config_toml(const std::string& writer, const std::string& catalog_path,
                                 const std::string& rules_dir, const std::string& synchronous,
                                 const std::string& token_name, const std::string& token_sha256,
                                 std::size_t max_connections) {
  return fmt::format(R"(# Benchmark configuration (written by {}).
[server]
listen = "127.0.0.1:0"
max_connections = {}

[storage]
synchronous = "{}"

[catalog]
path = "{}"

[dataset]
load_bundled = false

[rules]
paths = ["{}"]

[limits]
max_batch = 10000

[log]
level = "info"

[[tokens]]
name = "{}"
sha256 = "{}"
admin = true
)",
                     writer, max_connections, synchronous, catalog_path, rules_dir, token_name, token_sha256);
}

std::string workload_period(std::size_t k, std::size_t institutions) {
  std::size_t month = k / institutions;
  return fmt::format("{:04}-{:02}", 2000 + month / 12, month % 12 + 1);
}

std::string workload_submission_json(std::size_t k, std::size_t institutions) {
  return fmt::format(
      R"({{"kpi":"{}","period":"{}","dims":{{"institution":"{}"}},"value":{},"body":"bench","source":"kpiwatch bench","note":""}})",
      kWorkloadKpi, workload_period(k, institutions), institution(k % institutions), (k * 7919) % 1000000);
}

std::string workload_batch_json(std::size_t first, std::size_t count, std::size_t institutions) {
  std::string body = R"({"submissions":[)";
  body.reserve(count * 150 + 20);
  for (std::size_t i = 0; i < count; ++i) {
    if (i) body += ',';
    body += workload_submission_json(first + i, institutions);
  }
  body += "]}";
  return body;
}

}  // namespace kpiwatch::bench
