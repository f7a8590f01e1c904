#pragma once
// What the rules and notification benchmarks print about the machine they ran
// on, and the small statistics they report.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace kpiwatch::bench {

std::string machine_cpu_model();
std::string machine_load_average();                       // "1.23 0.98 0.75"
std::string machine_filesystem(const std::string& path);  // "ext4", "tmpfs (...)", ...

// A field of /proc/PID/status in KiB ("VmRSS", "VmHWM"); -1 if it cannot be read.
std::int64_t process_status_kib(pid_t pid, const std::string& field);
// Bytes free for an unprivileged user on the filesystem of `path`; -1 if unknown.
std::int64_t filesystem_free_bytes(const std::string& path);

// The p-th percentile (0..100, nearest rank) of `values`; 0 if empty.
double percentile(std::vector<double> values, double p);
double mean(const std::vector<double>& values);

}  // namespace kpiwatch::bench
