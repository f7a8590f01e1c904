#pragma once
// What the rules and notification benchmarks print about the machine they ran
// on, and the small statistics they report.

#include <string>
#include <vector>

namespace kpiwatch::bench {

std::string machine_cpu_model();
std::string machine_load_average();                       // "1.23 0.98 0.75"
std::string machine_filesystem(const std::string& path);  // "ext4", "tmpfs (...)", ...

// The p-th percentile (0..100, nearest rank) of `values`; 0 if empty.
double percentile(std::vector<double> values, double p);
double mean(const std::vector<double>& values);

}  // namespace kpiwatch::bench
