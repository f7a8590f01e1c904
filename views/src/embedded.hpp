#pragma once
// Files of the read side compiled into the binary.

#include <string_view>

namespace kpiwatch::embedded {

std::string_view report_templates_toml();  // config/report/headlines.toml

}  // namespace kpiwatch::embedded
