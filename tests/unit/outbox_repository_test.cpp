// The outbox and silence repositories, on real database files in a temporary directory.

#include "kpiwatch/outbox_repository.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "kpiwatch/store.hpp"
#include "temp_dir.hpp"

namespace kpiwatch {
namespace {

namespace fs = std::filesystem;

constexpr const char* kT0 = "2025-04-01T00:00:00Z";
constexpr const char* kT1 = "2025-04-01T00:01:00Z";
constexpr const char* kT2 = "2025-04-01T00:02:00Z";
constexpr const char* kT3 = "2025-04-01T00:03:00Z";

class OutboxRepositoryTest : public ::testing::Test {
 protected:
  OutboxRepositoryTest() {
    auto opened = Store::open({path()});
    if (!opened) throw std::runtime_error(opened.error().message);
    store_ = std::move(opened.value());
  }
  ~OutboxRepositoryTest() override { store_.reset(); }

  std::string path() const { return dir_.file("k.db"); }
  OutboxRepository& outbox() { return store_->outbox(); }
  SilenceRepository& silences() { return store_->silences(); }

  // Queues one notification, created (and due) at `at`, in a transaction of its own; returns its id.
  std::int64_t enqueue(const std::string& fingerprint, OutboxEvent event, const std::string& at,
                       const std::string& receiver = "hook", OutboxStatus status = OutboxStatus::pending) {
    OutboxEntry e;
    e.fingerprint = fingerprint;
    e.receiver = receiver;
    e.event = event;
    e.status = status;
    e.body = fingerprint + " " + std::string(to_string(event));
    e.idempotency_key = fingerprint + "-" + receiver + "-" + std::to_string(++queued_);
    e.created_at = e.next_attempt_at = at;
    Transaction tx(store_->connection());
    EXPECT_TRUE(tx.began().ok());
    auto queued = outbox().enqueue({e});
    EXPECT_TRUE(queued.ok()) << queued.error().message;
    EXPECT_TRUE(tx.commit().ok());
    return store_->connection().last_insert_id();
  }
  // Queues one notification of the group {goal="6"} of "hook", due at `due_at`.
  std::int64_t enqueue_grouped(const std::string& fingerprint, OutboxEvent event, const std::string& at,
                               const std::string& due_at) {
    OutboxEntry e;
    e.fingerprint = fingerprint;
    e.receiver = "hook";
    e.event = event;
    e.body = fingerprint;
    e.idempotency_key = fingerprint + "-g-" + std::to_string(++queued_);
    e.created_at = at;
    e.next_attempt_at = due_at;
    e.group_key = "{goal=\"6\"}";
    e.group_labels = R"({"goal":"6"})";
    Transaction tx(store_->connection());
    EXPECT_TRUE(tx.began().ok());
    EXPECT_TRUE(outbox().enqueue({e}).ok());
    EXPECT_TRUE(tx.commit().ok());
    return store_->connection().last_insert_id();
  }
  std::vector<std::int64_t> due(const std::string& now, int limit = 100) {
    auto rows = outbox().due(now, limit);
    EXPECT_TRUE(rows.ok());
    std::vector<std::int64_t> ids;
    if (rows)
      for (const auto& e : rows.value()) ids.push_back(e.id);
    return ids;
  }
  OutboxEntry entry(std::int64_t id) {
    auto rows = outbox().list(std::nullopt, 1000);
    EXPECT_TRUE(rows.ok());
    if (rows)
      for (const auto& e : rows.value())
        if (e.id == id) return e;
    ADD_FAILURE() << "no outbox row " << id;
    return {};
  }
  // The event and status columns as stored.
  std::string stored_names(std::int64_t id) {
    sqlite3* db = nullptr;
    sqlite3_open(path().c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    sqlite3_prepare_v2(db, "SELECT event || '/' || status FROM outbox WHERE id = ?1", -1, &stmt, nullptr);
    sqlite3_bind_int64(stmt, 1, id);
    if (sqlite3_step(stmt) == SQLITE_ROW) out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }

  test::TempDir dir_;  // first: outlives the store
  std::unique_ptr<Store> store_;
  int queued_ = 0;
};

TEST(OutboxNames, EveryEventAndStatusHasOneNameThatParsesBack) {
  for (auto event : {OutboxEvent::firing, OutboxEvent::resolved, OutboxEvent::repeat}) {
    OutboxEvent parsed = event == OutboxEvent::firing ? OutboxEvent::repeat : OutboxEvent::firing;
    EXPECT_TRUE(parse_outbox_event(to_string(event), parsed));
    EXPECT_EQ(parsed, event);
  }
  for (auto status : {OutboxStatus::pending, OutboxStatus::delivered, OutboxStatus::dead, OutboxStatus::suppressed}) {
    OutboxStatus parsed = status == OutboxStatus::pending ? OutboxStatus::dead : OutboxStatus::pending;
    EXPECT_TRUE(parse_outbox_status(to_string(status), parsed));
    EXPECT_EQ(parsed, status);
  }
  EXPECT_EQ(to_string(OutboxEvent::resolved), "resolved");
  EXPECT_EQ(to_string(OutboxStatus::suppressed), "suppressed");
  OutboxStatus untouched = OutboxStatus::dead;
  EXPECT_FALSE(parse_outbox_status("Pending", untouched));
  EXPECT_FALSE(parse_outbox_status("", untouched));
  EXPECT_EQ(untouched, OutboxStatus::dead);
  OutboxEvent event = OutboxEvent::repeat;
  EXPECT_FALSE(parse_outbox_event("fired", event));
  EXPECT_EQ(event, OutboxEvent::repeat);
}

TEST_F(OutboxRepositoryTest, AQueuedNotificationReadsBackWithEveryFieldAndIsStoredByName) {
  auto id = enqueue("fp1", OutboxEvent::resolved, kT0, "chat");
  auto e = entry(id);
  EXPECT_EQ(e.fingerprint, "fp1");
  EXPECT_EQ(e.receiver, "chat");
  EXPECT_EQ(e.event, OutboxEvent::resolved);
  EXPECT_EQ(e.status, OutboxStatus::pending);
  EXPECT_EQ(e.body, "fp1 resolved");
  EXPECT_EQ(e.idempotency_key, "fp1-chat-1");
  EXPECT_EQ(e.created_at, kT0);
  EXPECT_EQ(e.next_attempt_at, kT0);
  EXPECT_EQ(e.attempts, 0);
  EXPECT_EQ(e.last_error, "");
  EXPECT_EQ(e.delivered_at, "");
  EXPECT_EQ(stored_names(id), "resolved/pending");
  auto repeat = enqueue("fp2", OutboxEvent::repeat, kT0, "chat", OutboxStatus::suppressed);
  EXPECT_EQ(stored_names(repeat), "repeat/suppressed");
}

TEST_F(OutboxRepositoryTest, AnEnqueueNotCommittedLeavesNothing) {
  OutboxEntry e;
  e.fingerprint = "fp1";
  e.receiver = "hook";
  e.idempotency_key = "k1";
  e.created_at = e.next_attempt_at = kT0;
  {
    Transaction tx(store_->connection());
    ASSERT_TRUE(outbox().enqueue({e}).ok());
  }
  EXPECT_TRUE(outbox().list(std::nullopt, 10).value().empty());
  EXPECT_EQ(outbox().depth().value().pending, 0);
}

TEST_F(OutboxRepositoryTest, DueGivesOnlyTheOldestPendingOfEachAlertAndReceiver) {
  auto a_firing = enqueue("a", OutboxEvent::firing, kT0);
  auto a_resolved = enqueue("a", OutboxEvent::resolved, kT0);
  auto a_other = enqueue("a", OutboxEvent::firing, kT1, "chat");
  auto b_firing = enqueue("b", OutboxEvent::firing, kT0);
  EXPECT_EQ(due(kT2), (std::vector<std::int64_t>{a_firing, b_firing, a_other})) << "by due time, then id";
  ASSERT_TRUE(outbox().mark_delivered(a_firing, kT2).ok());
  EXPECT_EQ(due(kT2), (std::vector<std::int64_t>{a_resolved, b_firing, a_other}));
  EXPECT_EQ(due(kT2, 1), (std::vector<std::int64_t>{a_resolved}));
}

TEST_F(OutboxRepositoryTest, ANotificationWaitingForItsRetryHoldsBackTheOnesAfterIt) {
  auto firing = enqueue("a", OutboxEvent::firing, kT0);
  auto resolved = enqueue("a", OutboxEvent::resolved, kT0);
  ASSERT_TRUE(outbox().mark_retry(firing, 1, kT3, "HTTP 503").ok());
  EXPECT_TRUE(due(kT2).empty()) << "the resolution must not overtake the firing notification";
  EXPECT_EQ(due(kT3), (std::vector<std::int64_t>{firing}));
  ASSERT_TRUE(outbox().mark_dead(firing, 2, "HTTP 503").ok());
  EXPECT_EQ(due(kT3), (std::vector<std::int64_t>{resolved})) << "a dead letter holds nothing back";
}

TEST_F(OutboxRepositoryTest, NothingIsDueBeforeItsTimeAndOnlyPendingRowsAreDue) {
  enqueue("a", OutboxEvent::firing, kT2);
  enqueue("b", OutboxEvent::firing, kT0, "hook", OutboxStatus::suppressed);
  EXPECT_TRUE(due(kT1).empty());
  EXPECT_EQ(due(kT2).size(), 1u);
}

TEST_F(OutboxRepositoryTest, ARetryReschedulesAndNextDueIsTheEarliestPendingAttempt) {
  EXPECT_FALSE(outbox().next_due().value().has_value());
  auto a = enqueue("a", OutboxEvent::firing, kT0);
  auto b = enqueue("b", OutboxEvent::firing, kT1);
  EXPECT_EQ(outbox().next_due().value(), kT0);
  ASSERT_TRUE(outbox().mark_retry(a, 1, kT3, "connection refused").ok());
  auto e = entry(a);
  EXPECT_EQ(e.attempts, 1);
  EXPECT_EQ(e.next_attempt_at, kT3);
  EXPECT_EQ(e.last_error, "connection refused");
  EXPECT_EQ(e.status, OutboxStatus::pending);
  EXPECT_EQ(outbox().next_due().value(), kT1);
  ASSERT_TRUE(outbox().mark_delivered(b, kT2).ok());
  EXPECT_EQ(outbox().next_due().value(), kT3);
  ASSERT_TRUE(outbox().mark_dead(a, 2, "connection refused").ok());
  EXPECT_FALSE(outbox().next_due().value().has_value());
}

TEST_F(OutboxRepositoryTest, DeliveryCountsTheAttemptAndClearsTheLastError) {
  auto id = enqueue("a", OutboxEvent::firing, kT0);
  ASSERT_TRUE(outbox().mark_retry(id, 1, kT1, "timeout").ok());
  ASSERT_TRUE(outbox().mark_delivered(id, kT2).ok());
  auto e = entry(id);
  EXPECT_EQ(e.status, OutboxStatus::delivered);
  EXPECT_EQ(e.delivered_at, kT2);
  EXPECT_EQ(e.attempts, 2);
  EXPECT_EQ(e.last_error, "");
  EXPECT_EQ(stored_names(id), "firing/delivered");
}

TEST_F(OutboxRepositoryTest, ADeadLetterIsRequeuedAsPendingDueAndAgedFromNow) {
  auto dead = enqueue("a", OutboxEvent::firing, kT0);
  auto pending = enqueue("b", OutboxEvent::firing, kT0);
  ASSERT_TRUE(outbox().mark_dead(dead, 5, "HTTP 500").ok());
  EXPECT_EQ(entry(dead).status, OutboxStatus::dead);
  EXPECT_EQ(stored_names(dead), "firing/dead");
  EXPECT_EQ(due(kT1), (std::vector<std::int64_t>{pending}));

  EXPECT_EQ(outbox().requeue(dead, kT2).value(), 1);
  auto e = entry(dead);
  EXPECT_EQ(e.status, OutboxStatus::pending);
  EXPECT_EQ(e.created_at, kT2);
  EXPECT_EQ(e.next_attempt_at, kT2);
  EXPECT_EQ(e.attempts, 5);
  EXPECT_EQ(outbox().requeue(dead, kT3).value(), 0) << "no longer a dead letter";
  EXPECT_EQ(outbox().requeue(pending, kT3).value(), 0) << "never one";
  EXPECT_EQ(outbox().requeue(999, kT3).value(), 0);
  EXPECT_EQ(entry(pending).created_at, kT0);
}

TEST_F(OutboxRepositoryTest, RequeueAllBringsBackEveryDeadLetterAndNothingElse) {
  auto a = enqueue("a", OutboxEvent::firing, kT0);
  auto b = enqueue("b", OutboxEvent::resolved, kT0);
  auto c = enqueue("c", OutboxEvent::firing, kT0);
  ASSERT_TRUE(outbox().mark_dead(a, 1, "x").ok());
  ASSERT_TRUE(outbox().mark_dead(b, 1, "x").ok());
  ASSERT_TRUE(outbox().mark_delivered(c, kT1).ok());
  EXPECT_EQ(outbox().requeue_all(kT2).value(), 2);
  EXPECT_EQ(entry(a).status, OutboxStatus::pending);
  EXPECT_EQ(entry(b).created_at, kT2);
  EXPECT_EQ(entry(c).status, OutboxStatus::delivered);
  EXPECT_EQ(outbox().requeue_all(kT3).value(), 0);
}

TEST_F(OutboxRepositoryTest, DepthCountsPendingNotificationsAndGivesTheOldest) {
  auto depth = outbox().depth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(depth.value().pending, 0);
  EXPECT_EQ(depth.value().oldest, "");
  auto first = enqueue("a", OutboxEvent::firing, kT0);
  enqueue("b", OutboxEvent::firing, kT2);
  enqueue("c", OutboxEvent::firing, kT1);
  enqueue("d", OutboxEvent::firing, kT0, "hook", OutboxStatus::suppressed);
  EXPECT_EQ(outbox().depth().value().pending, 3);
  EXPECT_EQ(outbox().depth().value().oldest, kT0);
  ASSERT_TRUE(outbox().mark_delivered(first, kT3).ok());
  EXPECT_EQ(outbox().depth().value().pending, 2);
  EXPECT_EQ(outbox().depth().value().oldest, kT1);
}

TEST_F(OutboxRepositoryTest, LastQueuedIsTheNewestCreationOfThatAlertForThatReceiver) {
  EXPECT_EQ(outbox().last_queued("a", "hook").value(), "");
  enqueue("a", OutboxEvent::firing, kT0);
  auto repeat = enqueue("a", OutboxEvent::repeat, kT2, "hook", OutboxStatus::suppressed);
  enqueue("a", OutboxEvent::repeat, kT3, "chat");
  enqueue("b", OutboxEvent::repeat, kT3);
  ASSERT_TRUE(outbox().mark_delivered(repeat, kT3).ok());
  EXPECT_EQ(outbox().last_queued("a", "hook").value(), kT2) << "whatever became of it";
  EXPECT_EQ(outbox().last_queued("a", "chat").value(), kT3);
  EXPECT_EQ(outbox().last_queued("c", "hook").value(), "");
}

TEST_F(OutboxRepositoryTest, ListIsNewestFirstFilteredByStatusUpToTheLimit) {
  auto a = enqueue("a", OutboxEvent::firing, kT0);
  auto b = enqueue("b", OutboxEvent::firing, kT0);
  auto c = enqueue("c", OutboxEvent::firing, kT0);
  ASSERT_TRUE(outbox().mark_dead(b, 1, "x").ok());
  auto ids = [](const Result<std::vector<OutboxEntry>>& rows) {
    std::vector<std::int64_t> out;
    if (rows)
      for (const auto& e : rows.value()) out.push_back(e.id);
    return out;
  };
  EXPECT_EQ(ids(outbox().list(std::nullopt, 10)), (std::vector<std::int64_t>{c, b, a}));
  EXPECT_EQ(ids(outbox().list(std::nullopt, 2)), (std::vector<std::int64_t>{c, b}));
  EXPECT_EQ(ids(outbox().list(OutboxStatus::pending, 10)), (std::vector<std::int64_t>{c, a}));
  EXPECT_EQ(ids(outbox().list(OutboxStatus::dead, 10)), (std::vector<std::int64_t>{b}));
  EXPECT_TRUE(outbox().list(OutboxStatus::delivered, 10).value().empty());
}

Silence silence(Matchers matchers, const std::string& starts, const std::string& ends) {
  Silence s;
  s.matchers = std::move(matchers);
  s.starts_at = starts;
  s.ends_at = ends;
  s.created_by = "officer";
  s.comment = "maintenance";
  s.created_at = kT0;
  return s;
}

std::vector<std::int64_t> ids_of(const Result<std::vector<Silence>>& silences) {
  std::vector<std::int64_t> out;
  if (silences)
    for (const auto& s : silences.value()) out.push_back(s.id);
  return out;
}

TEST_F(OutboxRepositoryTest, ASilenceReadsBackWithItsMatchers) {
  auto id = silences().add(silence({{"kpi", "g06.stage_up_rate"}, {"stage", "applied"}}, kT0, kT3));
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_GT(id.value(), 0);
  auto all = silences().all();
  ASSERT_EQ(all.value().size(), 1u);
  const auto& s = all.value()[0];
  EXPECT_EQ(s.id, id.value());
  EXPECT_EQ(s.matchers, (Matchers{{"kpi", "g06.stage_up_rate"}, {"stage", "applied"}}));
  EXPECT_EQ(s.starts_at, kT0);
  EXPECT_EQ(s.ends_at, kT3);
  EXPECT_EQ(s.created_by, "officer");
  EXPECT_EQ(s.comment, "maintenance");
  EXPECT_EQ(s.created_at, kT0);
  EXPECT_TRUE(s.matches({{"kpi", "g06.stage_up_rate"}, {"stage", "applied"}, {"severity", "warning"}}));
  EXPECT_FALSE(s.matches({{"kpi", "g06.stage_up_rate"}, {"stage", "basic"}}));
  EXPECT_FALSE(silence({}, kT0, kT3).matches({{"kpi", "x"}})) << "no matchers silence nothing";
}

TEST_F(OutboxRepositoryTest, ASilenceIsActiveFromItsStartUntilJustBeforeItsEnd) {
  auto early = silences().add(silence({{"kpi", "a"}}, kT0, kT2)).value();
  auto late = silences().add(silence({{"kpi", "b"}}, kT1, kT3)).value();
  EXPECT_TRUE(ids_of(silences().active_at("2025-03-31T23:59:59Z")).empty());
  EXPECT_EQ(ids_of(silences().active_at(kT0)), (std::vector<std::int64_t>{early}));
  EXPECT_EQ(ids_of(silences().active_at(kT1)), (std::vector<std::int64_t>{early, late}));
  EXPECT_EQ(ids_of(silences().active_at(kT2)), (std::vector<std::int64_t>{late}));
  EXPECT_TRUE(ids_of(silences().active_at(kT3)).empty());
  EXPECT_EQ(ids_of(silences().all()), (std::vector<std::int64_t>{early, late})) << "ended ones too";
}

TEST_F(OutboxRepositoryTest, ARemovedSilenceIsGoneAndCannotBeRemovedTwice) {
  auto kept = silences().add(silence({{"kpi", "a"}}, kT0, kT3)).value();
  auto removed = silences().add(silence({{"kpi", "b"}}, kT0, kT3)).value();
  EXPECT_TRUE(silences().remove(removed, kT1).value());
  EXPECT_FALSE(silences().remove(removed, kT2).value());
  EXPECT_FALSE(silences().remove(999, kT2).value());
  EXPECT_EQ(ids_of(silences().active_at(kT1)), (std::vector<std::int64_t>{kept}));
  EXPECT_EQ(ids_of(silences().all()), (std::vector<std::int64_t>{kept}));
}

TEST_F(OutboxRepositoryTest, AGroupIsSentAsOneMessageOfTheOldestNotificationOfEachAlert) {
  const std::string group = "{goal=\"6\"}";
  auto a = enqueue_grouped("a", OutboxEvent::firing, kT0, kT1);
  auto b = enqueue_grouped("b", OutboxEvent::firing, kT0, kT1);
  auto a_resolved = enqueue_grouped("a", OutboxEvent::resolved, kT0, kT1);
  EXPECT_TRUE(due(kT3).empty()) << "grouped notifications are not sent alone";
  ASSERT_TRUE(outbox().due_groups(kT0, 10).value().empty()) << "not due yet";
  auto groups = outbox().due_groups(kT1, 10).value();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].group_key, group);
  EXPECT_EQ(groups[0].message_key, "") << "no message yet";

  auto key = outbox().claim_group("hook", group, kT1).value();
  ASSERT_FALSE(key.empty());
  auto message = outbox().message(key).value();
  ASSERT_EQ(message.size(), 2u);
  EXPECT_EQ(message[0].id, a);
  EXPECT_EQ(message[1].id, b);
  EXPECT_EQ(outbox().group_timing("hook", group).value().last_sent, std::optional<std::string>(kT1));
  EXPECT_EQ(outbox().group_timing("hook", group).value().unsent_due, std::optional<std::string>(kT1))
      << "a's resolution waits for the next message";

  // While the message is outstanding, the resolution is not due; the message is (a retry).
  ASSERT_TRUE(outbox().mark_message_retry(key, 1, kT2, "503").ok());
  groups = outbox().due_groups(kT3, 10).value();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].message_key, key);
  EXPECT_EQ(outbox().next_due().value(), std::optional<std::string>(kT2));
  ASSERT_TRUE(outbox().mark_message_delivered(key, kT2).ok());
  EXPECT_EQ(entry(a).status, OutboxStatus::delivered);
  EXPECT_EQ(entry(b).status, OutboxStatus::delivered);
  EXPECT_EQ(entry(b).attempts, 2);

  auto notifications = outbox().of_alert("a").value();
  ASSERT_EQ(notifications.size(), 2u);
  EXPECT_EQ(notifications[0].message_alerts, 2);
  EXPECT_EQ(notifications[0].entry.group_key, group);
  EXPECT_EQ(notifications[0].entry.group_labels, R"({"goal":"6"})");
  EXPECT_EQ(notifications[1].entry.id, a_resolved);

  groups = outbox().due_groups(kT3, 10).value();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].message_key, "") << "the resolution, in a message of its own";
  auto next = outbox().claim_group("hook", group, kT3).value();
  EXPECT_NE(next, key);
  ASSERT_EQ(outbox().message(next).value().size(), 1u);
  ASSERT_TRUE(outbox().mark_message_dead(next, 1, "gone").ok());
  EXPECT_EQ(entry(a_resolved).status, OutboxStatus::dead);
  EXPECT_EQ(outbox().claim_group("hook", group, kT3).value(), "") << "nothing left";
}

}  // namespace
}  // namespace kpiwatch
