#include "http/read_pool.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kpiwatch {
namespace {
constexpr int kNice = 10;
}  // namespace

ReadPool::ReadPool(StoreOptions options, std::size_t threads, std::size_t max_waiting)
    : options_(std::move(options)), max_waiting_(max_waiting) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

ReadPool::~ReadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

bool ReadPool::post(Job job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || jobs_.size() >= max_waiting_) return false;
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

void ReadPool::run() {
  // Below the event loop and the writer: on a busy machine the loop still gets a
  // core at once to answer /healthz and small requests (Linux: per thread). The
  // systemd unit's filter refuses it (@resources): there they keep the loop's.
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kNice) != 0)
    spdlog::debug("a reader keeps its priority: {}", std::strerror(errno));
  std::unique_ptr<Store> store;  // opened on the first job, kept for the thread's life
  std::optional<Error> failed;
  while (true) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    if (!store) {
      auto opened = Store::open(options_);
      if (opened) {
        store = std::move(opened.value());
        failed.reset();
      } else {
        failed = opened.error();
        spdlog::error("a reader cannot open the database: {}", failed->message);
      }
    }
    job(store.get(), store ? nullptr : &*failed);
  }
}

}  // namespace kpiwatch
