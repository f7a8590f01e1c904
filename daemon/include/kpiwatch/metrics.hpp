#pragma once
// Counters for GET /metrics, in the Prometheus text format. Thread-safe.

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace kpiwatch {

class Metrics {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  void add(const std::string& name, const Labels& labels, double amount = 1);
  void set(const std::string& name, const Labels& labels, double value);
  // Declares a metric's help text and type ("counter" or "gauge").
  void describe(const std::string& name, const std::string& type, const std::string& help);
  // Every metric, with its HELP and TYPE lines.
  std::string render() const;

 private:
  struct Family {
    std::string type = "counter";
    std::string help;
    std::map<std::string, double> samples;  // rendered label set → value
  };
  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

}  // namespace kpiwatch
