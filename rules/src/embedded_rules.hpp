#pragma once
// The shipped rule files (config/rules/*.toml), compiled into the binary.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kpiwatch::embedded {

std::vector<std::pair<std::string, std::string_view>> rule_files();

}  // namespace kpiwatch::embedded
