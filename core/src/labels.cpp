#include "kpiwatch/labels.hpp"

namespace kpiwatch {

bool labels_match(const Matchers& matchers, const Labels& labels) {
  for (const auto& [name, value] : matchers) {
    auto it = labels.find(name);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace kpiwatch
