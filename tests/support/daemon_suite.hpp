#pragma once
// One daemon on the embedded default for a whole test suite: started once, with
// its bundled figures loaded and evaluated, stopped after the suite's last test.

#include <gtest/gtest.h>

#include "process.hpp"

namespace kpiwatch::test {

// `Suite` is the deriving fixture, so that each suite has a daemon of its own.
template <class Suite>
class DaemonSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    daemon_ = new Daemon();
    daemon_->start();
    ASSERT_TRUE(daemon_->wait_for_log("rules evaluated over")) << daemon_->log();
  }
  static void TearDownTestSuite() {
    daemon_->stop();
    delete daemon_;
    daemon_ = nullptr;
  }
  static unsigned short port() { return daemon_->port(); }
  static inline Daemon* daemon_ = nullptr;
};

}  // namespace kpiwatch::test
