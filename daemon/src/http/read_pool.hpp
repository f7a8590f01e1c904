#pragma once
// Threads that read the database for the API, each with a connection of its
// own (WAL readers never wait on the writer), so that the event loop never
// waits on SQLite. Jobs beyond `max_waiting` are refused: the caller answers 503.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "kpiwatch/store.hpp"

namespace kpiwatch {

class ReadPool {
 public:
  // The store is null if the thread could not open its connection (`error` says why).
  using Job = std::function<void(Store* store, const Error* error)>;

  ReadPool(StoreOptions options, std::size_t threads, std::size_t max_waiting);
  // The jobs running finish; those waiting are dropped (with their connections' answers).
  ~ReadPool();
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;

  // False if `max_waiting` jobs wait already.
  bool post(Job job);

 private:
  void run();

  StoreOptions options_;
  std::size_t max_waiting_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kpiwatch
