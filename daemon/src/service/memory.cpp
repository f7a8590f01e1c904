#include "memory.hpp"

#include <malloc.h>

namespace kpiwatch {

void tune_allocator() {
  // A fixed threshold also turns off glibc's dynamic one, which after the first
  // large free keeps blocks of up to 32 MiB in the arena, where they stay.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
}

std::chrono::microseconds return_free_memory() {
  auto start = std::chrono::steady_clock::now();
  malloc_trim(0);
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
}

}  // namespace kpiwatch
