#pragma once
// An alert's labels (rule, kpi, goal, severity, its dims, the rule's own), and
// the one way they are matched: by routes, silences and the alerts API.

#include <map>
#include <string>

namespace kpiwatch {

using Labels = std::map<std::string, std::string>;
// Label name → the value it must have.
using Matchers = std::map<std::string, std::string>;

// True if every matcher's label has the matcher's value; no matchers match everything.
bool labels_match(const Matchers& matchers, const Labels& labels);

}  // namespace kpiwatch
