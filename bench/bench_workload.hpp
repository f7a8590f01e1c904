#pragma once
// The load drivers' workload: one monthly count KPI with an `institution`
// dimension of N values. Row k is institution k % N, month k / N from 2000-01:
// every row is a new (series, period), so each becomes revision 1 and the rows
// are the same on both sides of a ratio to raw SQLite.

#include <cstddef>
#include <string>

namespace kpiwatch::bench {

inline constexpr const char* kWorkloadKpi = "g01.bench_monthly";

std::string institution(std::size_t i);  // "i00042"
// A bench catalog's first lines: its one reporting body and goal 1; `writer` names the benchmark.
std::string catalog_head(const std::string& writer);
// The catalog of the workload; `writer` names the benchmark in its first comment.
std::string workload_catalog_toml(std::size_t institutions, const std::string& writer);
// A configuration on that catalog: synchronous as given, no bundled data, the
// rules of `rules_dir`, batches up to 10,000, one admin token `token_name`.
std::string workload_config_toml(const std::string& writer, const std::string& catalog_path,
                                 const std::string& rules_dir, const std::string& synchronous,
                                 const std::string& token_name, const std::string& token_sha256,
                                 std::size_t max_connections);
std::string workload_period(std::size_t k, std::size_t institutions);  // "2000-03"
// Row k as a submission object (JSON).
std::string workload_submission_json(std::size_t k, std::size_t institutions);
// Rows [first, first + count) as one batch: {"submissions":[...]}.
std::string workload_batch_json(std::size_t first, std::size_t count, std::size_t institutions);

}  // namespace kpiwatch::bench
