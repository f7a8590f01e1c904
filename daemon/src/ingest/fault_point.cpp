// The shipped fault points: none fires (see fault_point.hpp). Alone in its file,
// so that the test binary's own definition replaces it at link time.
#include "ingest/fault_point.hpp"

namespace kpiwatch {

void fault_point(const char* /*where*/) {}

}  // namespace kpiwatch
