#pragma once
// Returning freed memory to the system. glibc keeps what the daemon frees in its
// arenas: a 50 MB answer drawn on a reader thread, or the churn of an ingest,
// stays in RSS after it is released unless it is given back.

#include <chrono>

namespace kpiwatch {

// Call once at start-up, before other threads run: large blocks (answers,
// pages, bodies) are mapped and unmapped on their own, not kept in an arena.
void tune_allocator();

// Gives the arenas' free pages back to the system; returns how long it took.
// It walks every arena, so call it off the event loop.
std::chrono::microseconds return_free_memory();

}  // namespace kpiwatch
