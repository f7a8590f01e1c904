#include "kpiwatch/ingest.hpp"

#include <spdlog/spdlog.h>

#include "ingest/fault_point.hpp"

namespace kpiwatch {

Ingest::Ingest(std::unique_ptr<Store> store, const Clock& clock, std::size_t max_group_rows)
    : store_(std::move(store)), clock_(clock), max_group_rows_(max_group_rows) {}

Ingest::~Ingest() { stop(); }

void Ingest::start() {
  thread_ = std::thread([this] { run(); });
}

void Ingest::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  store_.reset();
}

void Ingest::submit(std::vector<Submission> batch, std::string submitted_by, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_) {
      queue_.push_back({std::move(batch), std::move(submitted_by), std::move(done), nullptr});
      done = nullptr;
    }
  }
  // Called outside the lock: a callback may call back into this Ingest.
  if (done) {
    done(Error{ErrorCode::shutting_down, "kpiwatch is stopping; submit again later", "", {}});
    return;
  }
  wake_.notify_one();
}

void Ingest::post(std::function<void(Store&)> job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    queue_.push_back({{}, {}, nullptr, std::move(job)});
  }
  wake_.notify_one();
}

Ingest::Stats Ingest::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void Ingest::run() {
  for (;;) {
    std::vector<Pending> group;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      if (queue_.front().job) {
        auto job = std::move(queue_.front().job);
        queue_.pop_front();
        lock.unlock();
        job(*store_);
        continue;
      }
      std::size_t rows = 0;
      while (!queue_.empty() && !queue_.front().job &&
             (group.empty() || rows + queue_.front().batch.size() <= max_group_rows_)) {
        rows += queue_.front().batch.size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    write_group(group);
  }
}

void Ingest::write_group(std::vector<Pending>& group) {
  std::vector<Result<std::vector<Revision>>> results;
  results.reserve(group.size());
  std::string received_at = format_rfc3339(clock_.now());

  auto fail_all = [&](const Error& e) {
    spdlog::error("storing {} batch(es) failed: {}", group.size(), e.message);
    // A full disk is the client's to retry (503) once there is room; nothing of the group was kept.
    for (auto& p : group)
      p.done(Error{e.code == ErrorCode::storage_full ? ErrorCode::storage_full : ErrorCode::storage_error,
                   "the figures could not be stored: " + e.message,
                   "",
                   {}});
  };

  // One transaction, a savepoint per batch: a failing batch is rolled back to alone.
  auto write = [&]() -> Status {
    Transaction tx(store_->connection());
    if (!tx.began()) return tx.began();
    for (auto& p : group) {
      Savepoint batch(tx);
      if (!batch.began()) return batch.began();
      auto stored = store_->revisions().insert(p.batch, p.submitted_by, received_at);
      if (stored) {
        if (auto s = batch.release(); !s) return s;
      } else if (!store_->connection().in_transaction()) {
        // SQLite rolled the whole transaction back (a full disk, an I/O error): no batch of
        // the group is kept, and none may be written after it outside the transaction.
        return stored.error();
      }
      results.push_back(std::move(stored));
    }
    return tx.commit();
  };
  if (auto s = write(); !s) return fail_all(s.error());
  fault_point("after-revision-commit");
  if (after_commit_) {
    std::vector<Revision> stored;
    for (const auto& r : results)
      if (r) stored.insert(stored.end(), r.value().begin(), r.value().end());
    if (!stored.empty()) after_commit_(*store_, stored, clock_.now());
  }
  {
    std::lock_guard lock(mutex_);
    ++stats_.commits;
    stats_.batches += group.size();
  }
  for (std::size_t i = 0; i < group.size(); ++i) group[i].done(std::move(results[i]));
}

}  // namespace kpiwatch
