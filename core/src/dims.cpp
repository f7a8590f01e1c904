#include "kpiwatch/dims.hpp"

namespace kpiwatch {

std::string dims_key(const Dims& dims) {
  std::string key;
  for (const auto& [name, value] : dims) {
    if (!key.empty()) key += ',';
    key += name;
    key += '=';
    key += value;
  }
  return key;
}

Dims parse_dims_key(std::string_view key) {
  Dims dims;
  std::size_t start = 0;
  while (start < key.size()) {
    auto end = key.find(',', start);
    if (end == std::string_view::npos) end = key.size();
    auto pair = key.substr(start, end - start);
    if (auto eq = pair.find('='); eq != std::string_view::npos)
      dims[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
    start = end + 1;
  }
  return dims;
}

}  // namespace kpiwatch
