#pragma once
// The single writer: batches from concurrent requests are gathered into one
// SQLite transaction (group commit), each batch in its own savepoint so that
// one failing batch does not fail the others. A batch is acknowledged only
// after the COMMIT that holds it returned.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "kpiwatch/clock.hpp"
#include "kpiwatch/store.hpp"
#include "kpiwatch/submission.hpp"

namespace kpiwatch {

class Ingest {
 public:
  // Called on the writer thread once the batch is durable, or failed.
  using Done = std::function<void(Result<std::vector<Revision>>)>;

  struct Stats {
    std::uint64_t commits = 0;
    std::uint64_t batches = 0;
  };

  Ingest(std::unique_ptr<Store> store, const Clock& clock, std::size_t max_group_rows = 20000);
  ~Ingest();  // stops, draining what was queued

  // Runs on the writer thread after each commit, before the batches are
  // acknowledged: `stored` holds the revisions of the group. Set before start().
  using AfterCommit = std::function<void(Store& store, const std::vector<Revision>& stored, TimePoint now)>;
  void set_after_commit(AfterCommit hook) { after_commit_ = std::move(hook); }
  // Runs `job` on the writer thread, between groups. Dropped once stopping.
  void post(std::function<void(Store&)> job);

  void start();
  // Finishes every queued batch, then closes the database.
  void stop();
  // REQUIRES: start() was called and stop() not yet.
  void submit(std::vector<Submission> batch, std::string submitted_by, Done done);
  Stats stats() const;

 private:
  struct Pending {
    std::vector<Submission> batch;
    std::string submitted_by;
    Done done;
    std::function<void(Store&)> job;  // set for posted jobs, which carry no batch
  };
  void run();
  void write_group(std::vector<Pending>& group);

  std::unique_ptr<Store> store_;
  AfterCommit after_commit_;
  const Clock& clock_;
  std::size_t max_group_rows_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace kpiwatch
