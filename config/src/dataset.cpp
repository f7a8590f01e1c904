#include "kpiwatch/dataset.hpp"

#include "embedded.hpp"
#include "kpiwatch/digest.hpp"
#include "kpiwatch/settings.hpp"

namespace kpiwatch {

std::string_view bundled_dataset_json() { return embedded::dataset_json(); }

std::string bundled_dataset_version() {
  static const std::string version = "sha256:" + sha256_hex(embedded::dataset_json());
  return version;
}

std::string_view example_config_toml() { return embedded::example_config_toml(); }

}  // namespace kpiwatch
