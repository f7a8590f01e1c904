#include "http/web_assets.hpp"

namespace kpiwatch {

const WebAsset* web_asset(std::string_view name) {
  for (const WebAsset& asset : web_assets())
    if (asset.name == name) return &asset;
  return nullptr;
}

}  // namespace kpiwatch
