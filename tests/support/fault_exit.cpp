// The fault points of the test binary kpiwatch_fault_injection: the process ends
// at once (no destructors, no flush of anything but what is committed) at the
// point $KPIWATCH_FAULT names, as a power cut or SIGKILL there would end it.
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "ingest/fault_point.hpp"

namespace kpiwatch {

// The exit status the tests expect from a fault.
constexpr int kFaultExit = 86;

void fault_point(const char* where) {
  static const char* const wanted = std::getenv("KPIWATCH_FAULT");
  if (wanted == nullptr || std::strcmp(wanted, where) != 0) return;
  constexpr const char kSaid[] = "fault injected: exiting at ";
  (void)!::write(2, kSaid, sizeof kSaid - 1);
  (void)!::write(2, where, std::strlen(where));
  (void)!::write(2, "\n", 1);
  ::_exit(kFaultExit);
}

}  // namespace kpiwatch
