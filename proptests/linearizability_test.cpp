// Tests of the linearizability checker itself (proptests/support/linearizability.hpp) on
// hand-written histories: a checker that accepts everything would make Q8's property
// worthless, so each rejection below is a way a queue can go wrong.
#include "support/linearizability.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

namespace httpower::lin {
namespace {

constexpr auto kOk = QueueStatus::kOk;
constexpr auto kFull = QueueStatus::kFull;
constexpr auto kEmpty = QueueStatus::kEmpty;
constexpr auto kClosed = QueueStatus::kClosed;
constexpr auto kTimeout = QueueStatus::kTimeout;

// Builds a history: each call adds one operation [invoke, response] (response kPending for
// an operation that never returned).
class H {
 public:
  H& push(int t, int v, QueueStatus s, std::uint64_t inv, std::uint64_t resp,
          OpKind k = OpKind::kPush) {
    return add({t, k, v, s, 0, inv, resp});
  }
  H& try_push(int t, int v, QueueStatus s, std::uint64_t inv, std::uint64_t resp) {
    return push(t, v, s, inv, resp, OpKind::kTryPush);
  }
  H& pop(int t, QueueStatus s, int v, std::uint64_t inv, std::uint64_t resp,
         OpKind k = OpKind::kPop) {
    return add({t, k, v, s, 0, inv, resp});
  }
  H& try_pop(int t, QueueStatus s, int v, std::uint64_t inv, std::uint64_t resp) {
    return pop(t, s, v, inv, resp, OpKind::kTryPop);
  }
  H& close(int t, std::uint64_t inv, std::uint64_t resp) {
    return add({t, OpKind::kClose, 0, kOk, 0, inv, resp});
  }
  H& size(int t, std::size_t n, std::uint64_t inv, std::uint64_t resp) {
    return add({t, OpKind::kSize, 0, kOk, n, inv, resp});
  }
  const History& history() const { return h_; }

 private:
  H& add(Operation op) {
    h_.push_back(op);
    return *this;
  }
  History h_;
};

void expect_linearizable(const H& h, std::size_t capacity) {
  const CheckResult r = check_queue_history(h.history(), capacity);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.linearizable) << "rejected a linearizable history:\n"
                              << format_history(h.history());
}

void expect_not_linearizable(const H& h, std::size_t capacity) {
  const CheckResult r = check_queue_history(h.history(), capacity);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_FALSE(r.linearizable) << "accepted a non-linearizable history:\n"
                               << format_history(h.history());
}

TEST(Linearizability, EmptyHistoryIsLinearizable) { expect_linearizable(H(), 1); }

TEST(Linearizability, SequentialFifoAcceptedWithItsWitness) {
  H h;
  h.push(0, 1, kOk, 0, 1).push(0, 2, kOk, 2, 3).pop(1, kOk, 1, 4, 5).pop(1, kOk, 2, 6, 7);
  const CheckResult r = check_queue_history(h.history(), 2);
  ASSERT_TRUE(r.linearizable);
  EXPECT_EQ(r.order, (std::vector<std::size_t>{0, 1, 2, 3}));
}

TEST(Linearizability, OverlappingPushesMayTakeEitherOrder) {
  H h;
  h.push(0, 1, kOk, 0, 3).push(1, 2, kOk, 1, 4).pop(2, kOk, 2, 5, 6).pop(2, kOk, 1, 7, 8);
  expect_linearizable(h, 2);
}

TEST(Linearizability, RejectsPopOfAValueNeverPushed) {
  H h;
  h.push(0, 1, kOk, 0, 1).pop(1, kOk, 7, 2, 3);
  expect_not_linearizable(h, 2);
}

TEST(Linearizability, RejectsADuplicatedValue) {
  H h;
  h.push(0, 1, kOk, 0, 1).pop(1, kOk, 1, 2, 5).pop(2, kOk, 1, 3, 4);
  expect_not_linearizable(h, 2);
}

TEST(Linearizability, RejectsFifoSwapOfSequentialPushes) {
  H h;
  h.push(0, 1, kOk, 0, 1).push(0, 2, kOk, 2, 3).pop(1, kOk, 2, 4, 5);
  expect_not_linearizable(h, 2);
}

TEST(Linearizability, RejectsClosedPopWhileAnItemPushedBeforeCloseRemains) {
  H h;
  h.push(0, 1, kOk, 0, 1).close(1, 2, 3).pop(2, kClosed, 0, 4, 5);
  expect_not_linearizable(h, 2);
}

TEST(Linearizability, ClosedPopConcurrentWithAPushDependsOnThePushResult) {
  H refused;  // the push lost the race with close: the queue is closed and empty
  refused.push(0, 1, kClosed, 0, 10).close(1, 1, 2).pop(2, kClosed, 0, 3, 4);
  expect_linearizable(refused, 2);
  H accepted;  // the push won, so its item was there when the pop said "closed"
  accepted.push(0, 1, kOk, 0, 10).close(1, 1, 2).pop(2, kClosed, 0, 3, 4);
  expect_not_linearizable(accepted, 2);
}

TEST(Linearizability, RejectsPushSucceedingOnAFullQueue) {
  H h;
  h.push(0, 1, kOk, 0, 1).try_push(0, 2, kOk, 2, 3);
  expect_not_linearizable(h, 1);
  H with_pop;  // a concurrent pop may have made room first
  with_pop.push(0, 1, kOk, 0, 1).pop(1, kOk, 1, 2, 5).try_push(0, 2, kOk, 3, 4);
  expect_linearizable(with_pop, 1);
}

TEST(Linearizability, BlockingPushLinearizesOnlyWhereThereIsRoom) {
  H waited;  // the push blocked until the pop made room
  waited.push(0, 1, kOk, 0, 1).push(0, 2, kOk, 2, 9).pop(1, kOk, 1, 3, 4).pop(1, kOk, 2, 10, 11);
  expect_linearizable(waited, 1);
  H did_not_wait;  // returned kOk before any pop: the queue held two items
  did_not_wait.push(0, 1, kOk, 0, 1).push(0, 2, kOk, 2, 3).pop(1, kOk, 1, 4, 5)
      .pop(1, kOk, 2, 6, 7);
  expect_not_linearizable(did_not_wait, 1);
}

TEST(Linearizability, BlockingPopLinearizesOnlyWhenAnItemOrCloseIsThere) {
  H waited;
  waited.pop(0, kOk, 5, 0, 9).push(1, 5, kOk, 3, 4);
  expect_linearizable(waited, 1);
  H closed;
  closed.pop(0, kClosed, 0, 0, 9).close(1, 3, 4);
  expect_linearizable(closed, 1);
  H early;  // said "closed" before close() was called
  early.pop(0, kClosed, 0, 0, 1).close(1, 3, 4);
  expect_not_linearizable(early, 1);
}

TEST(Linearizability, RejectsWrongFailureResults) {
  H empty_with_item;
  empty_with_item.push(0, 1, kOk, 0, 1).try_pop(1, kEmpty, 0, 2, 3);
  expect_not_linearizable(empty_with_item, 2);
  H full_with_room;
  full_with_room.try_push(0, 1, kFull, 0, 1);
  expect_not_linearizable(full_with_room, 2);
  H pop_timeout_with_item;
  pop_timeout_with_item.push(0, 1, kOk, 0, 1).pop(1, kTimeout, 0, 2, 3, OpKind::kTimedPop);
  expect_not_linearizable(pop_timeout_with_item, 2);
  H push_timeout_with_room;
  push_timeout_with_room.push(0, 1, kTimeout, 0, 1, OpKind::kTimedPush);
  expect_not_linearizable(push_timeout_with_room, 2);
  H timeout_after_close;  // closed wins over timeout
  timeout_after_close.close(0, 0, 1).pop(1, kTimeout, 0, 2, 3, OpKind::kTimedPop);
  expect_not_linearizable(timeout_after_close, 2);
}

TEST(Linearizability, AcceptsCorrectFailureResults) {
  H h;
  h.try_pop(0, kEmpty, 0, 0, 1)
      .pop(0, kTimeout, 0, 2, 3, OpKind::kTimedPop)
      .try_push(0, 1, kOk, 4, 5)
      .try_push(0, 2, kFull, 6, 7)
      .push(0, 2, kTimeout, 8, 9, OpKind::kTimedPush)
      .close(1, 10, 11)
      .close(1, 12, 13)  // idempotent
      .push(0, 3, kClosed, 14, 15)
      .pop(0, kOk, 1, 16, 17)  // drains after close
      .pop(0, kClosed, 0, 18, 19, OpKind::kTimedPop);
  expect_linearizable(h, 1);
}

TEST(Linearizability, SizeMustMatchSomeLinearizationPoint) {
  H ok;
  ok.push(0, 1, kOk, 0, 1).push(1, 2, kOk, 2, 6).size(2, 1, 3, 4).size(2, 2, 7, 8);
  expect_linearizable(ok, 2);
  H too_big;
  too_big.push(0, 1, kOk, 0, 1).size(2, 2, 3, 4);
  expect_not_linearizable(too_big, 2);
}

TEST(Linearizability, PendingPopMayHaveTakenTheItem) {
  H h;  // the item is gone although no completed pop returned it
  h.push(0, 1, kOk, 0, 1).pop(1, kOk, 0, 2, kPending).try_pop(2, kEmpty, 0, 3, 4);
  expect_linearizable(h, 1);
}

TEST(Linearizability, PendingPushMayHaveDeliveredItsValue) {
  H h;
  h.push(0, 5, kOk, 0, kPending).pop(1, kOk, 5, 1, 2);
  expect_linearizable(h, 1);
}

TEST(Linearizability, PendingBlockedOperationsMayBeDropped) {
  H h;  // a pop still blocked on an empty queue, a push still blocked on a full one
  h.pop(0, kOk, 0, 0, kPending);
  expect_linearizable(h, 1);
  H full;
  full.push(0, 1, kOk, 0, 1).push(1, 2, kOk, 2, kPending);
  expect_linearizable(full, 1);
}

TEST(Linearizability, PendingOperationsCannotRescueAWrongOrder) {
  H h;
  h.push(0, 1, kOk, 0, 1).push(0, 2, kOk, 2, 3).pop(1, kOk, 2, 4, 5).pop(2, kOk, 0, 6, kPending);
  expect_not_linearizable(h, 2);
}

TEST(Linearizability, PendingOperationIsNotPlacedBeforeItsInvocation) {
  H h;  // the value 5 was popped before push(5) was even called
  h.pop(0, kOk, 5, 0, 1).push(1, 5, kOk, 2, kPending);
  expect_not_linearizable(h, 1);
}

TEST(Linearizability, RejectsMalformedHistories) {
  H backwards;
  backwards.push(0, 1, kOk, 5, 4);
  EXPECT_FALSE(check_queue_history(backwards.history(), 1).error.empty());
  H too_long;
  for (int i = 0; i < 65; ++i) too_long.size(0, 0, 2 * i, 2 * i + 1);
  EXPECT_FALSE(check_queue_history(too_long.history(), 1).error.empty());
}

// 64 operations, each overlapping its neighbours (as in a run of 4 threads): built from a
// legal sequential run by widening each operation around its linearization point. Accepted,
// and once one pop answer is swapped with another, rejected, both within a bounded time
// (the memoization keeps the search to the reachable (set, state) pairs).
History widened_legal_run() {
  History h;
  QueueModel model;
  model.capacity = 2;
  std::uint64_t rnd = 12345;
  auto next = [&rnd] { return (rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
  for (std::uint64_t i = 0; i < 64; ++i) {
    Operation op;
    op.thread = static_cast<int>(i % 4);
    op.kind = next() % 2 == 0 ? OpKind::kTryPush : OpKind::kTryPop;
    op.value = static_cast<int>(i);
    Operation answer;
    EXPECT_TRUE(model.step(op, answer));
    answer.invoke = 100 * i + 1000 - 1 - next() % 200;  // up to two neighbours each side
    answer.response = 100 * i + 1000 + 1 + next() % 200;
    h.push_back(answer);
  }
  return h;
}

TEST(Linearizability, HandlesA64OperationHistoryWithOverlap) {
  const History h = widened_legal_run();
  const auto start = std::chrono::steady_clock::now();
  const CheckResult r = check_queue_history(h, 2);
  EXPECT_TRUE(r.linearizable) << format_history(h);
  EXPECT_EQ(r.order.size(), 64u);
  History bad = h;  // swap the values of the first and last successful pops
  std::size_t first = 64;
  std::size_t last = 64;
  for (std::size_t i = 0; i < bad.size(); ++i) {
    if (bad[i].kind == OpKind::kTryPop && bad[i].status == kOk) {
      if (first == 64) first = i;
      last = i;
    }
  }
  ASSERT_LT(first, last);
  std::swap(bad[first].value, bad[last].value);
  EXPECT_FALSE(check_queue_history(bad, 2).linearizable) << format_history(bad);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace httpower::lin
