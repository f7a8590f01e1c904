#pragma once
// The status page's files, copied into the binary at build time
// (cmake/embed_web.cmake): the HTML shell, its CSS and ES modules, and Chart.js.

#include <span>
#include <string_view>

namespace kpiwatch {

struct WebAsset {
  std::string_view name;          // "shell.html", "assets/app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view etag;          // "\"3f2a…\"": from the content's SHA-256
  std::string_view body;
};

std::span<const WebAsset> web_assets();
// The asset of that name, or null.
const WebAsset* web_asset(std::string_view name);

}  // namespace kpiwatch
