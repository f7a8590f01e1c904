#pragma once
// Test-only fault injection at the points where a crash is hardest to recover
// from. The shipped kpiwatch links fault_point.cpp, where this does nothing; only
// the test binary kpiwatch_fault_injection (tests/CMakeLists.txt) links
// tests/support/fault_exit.cpp instead, which ends the process at the point that
// $KPIWATCH_FAULT names. No configuration or environment of kpiwatch can make it fire.

namespace kpiwatch {

// `where`: "after-revision-commit", "after-alert-commit".
void fault_point(const char* where);

}  // namespace kpiwatch
