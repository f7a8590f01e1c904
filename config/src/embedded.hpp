#pragma once
// Files compiled into the binary so that `kpiwatch serve` needs none on disk.

#include <string_view>

namespace kpiwatch::embedded {

std::string_view catalog_toml();         // config/catalog.toml
std::string_view dataset_json();         // config/dataset/bundled.json
std::string_view example_config_toml();  // config/kpiwatch.example.toml

}  // namespace kpiwatch::embedded
