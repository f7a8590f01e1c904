#pragma once
// The status page's HTML: the shell of every page, the 404 and 400 pages.

#include "http/server.hpp"

namespace kpiwatch {

// The 404 page in the language of the request's ?lang (Japanese if absent or unknown).
Response page_not_found(const Request& request);

}  // namespace kpiwatch
