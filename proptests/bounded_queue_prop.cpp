// BoundedQueue against a sequential model (RapidCheck stateful testing): Q1, Q2, Q3, Q4 and,
// for one thread, Q8. The model is a std::deque, a closed flag and the capacity; every command
// checks the exact result, the exact new state (size, closed, and through later pops the
// contents), that a refused item was not moved from, and check_invariants().
//
// Blocking commands (Push, Pop) are generated only when they cannot block in one thread:
// Push when the queue is closed or has room, Pop when it is closed or not empty.
//
// Seed: RapidCheck prints "Using configuration: seed=N"; rerun with RC_PARAMS="seed=N".
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <ostream>

#include "httpower/bounded_queue.hpp"
#include "support/rc_scale.hpp"  // 1000 cases at scale 1

namespace httpower {
namespace {

using namespace std::chrono_literals;

struct Model {
  std::deque<int> items;
  bool closed = false;
  std::size_t capacity = 1;
  bool full() const { return items.size() >= capacity; }
};

// Move-only items: a refused push must leave the caller's item engaged.
using Item = std::unique_ptr<int>;
using Sut = BoundedQueue<Item>;
using Cmd = rc::state::Command<Model, Sut>;

// Checks that hold after every command.
void check_state(const Model& after, const Sut& q) {
  RC_ASSERT(q.check_invariants());
  RC_ASSERT(q.size() == after.items.size());
  RC_ASSERT(q.size() <= q.capacity());  // Q1
  RC_ASSERT(q.closed() == after.closed);
}

// What a push of any form returns in state m, given what it does when full and open.
QueueStatus expected_push(const Model& m, QueueStatus when_full) {
  if (m.closed) return QueueStatus::kClosed;
  return m.full() ? when_full : QueueStatus::kOk;
}

void apply_push(Model& m, int v) {
  if (!m.closed && !m.full()) m.items.push_back(v);
}

// Runs one push form; checks the status and whether the item was taken.
template <typename PushFn>
void run_push(const Model& m, Sut& q, int v, QueueStatus when_full, PushFn&& push) {
  Item item = std::make_unique<int>(v);
  const QueueStatus got = push(q, std::move(item));
  const QueueStatus want = expected_push(m, when_full);
  RC_ASSERT(got == want);
  // (RapidCheck's failure message shows a unique_ptr by dereferencing it, so assert on bools.)
  const bool engaged = item != nullptr;  // NOLINT(bugprone-use-after-move)
  if (got == QueueStatus::kOk) {
    RC_ASSERT(!engaged);  // moved into the queue
  } else {
    RC_ASSERT(engaged);  // Q4: refused, so the caller still owns it
    RC_ASSERT(*item == v);
  }
}

// What a pop of any form returns in state m, given what it does when empty and open.
QueueStatus expected_pop(const Model& m, QueueStatus when_empty) {
  if (!m.items.empty()) return QueueStatus::kOk;
  return m.closed ? QueueStatus::kClosed : when_empty;
}

void apply_pop(Model& m) {
  if (!m.items.empty()) m.items.pop_front();
}

void check_pop(const Model& m, const PopResult<Item>& r, QueueStatus when_empty) {
  RC_ASSERT(r.status == expected_pop(m, when_empty));
  const bool has_item = r.item.has_value() && *r.item != nullptr;
  if (r.status == QueueStatus::kOk) {
    RC_ASSERT(has_item);
    RC_ASSERT(**r.item == m.items.front());  // Q2: the head, no other
  } else {
    RC_ASSERT(!r.item.has_value());
  }
}

struct Push : Cmd {
  int value = *rc::gen::arbitrary<int>();
  void checkPreconditions(const Model& m) const override {
    RC_PRE(m.closed || !m.full());  // must not block in a single thread
  }
  void apply(Model& m) const override { apply_push(m, value); }
  void run(const Model& m, Sut& q) const override {
    run_push(m, q, value, QueueStatus::kOk, [](Sut& s, Item&& i) { return s.push(std::move(i)); });
    check_state(nextState(m), q);
  }
  void show(std::ostream& os) const override { os << "Push(" << value << ")"; }
};

struct TryPush : Cmd {
  int value = *rc::gen::arbitrary<int>();
  void apply(Model& m) const override { apply_push(m, value); }
  void run(const Model& m, Sut& q) const override {
    run_push(m, q, value, QueueStatus::kFull,
             [](Sut& s, Item&& i) { return s.try_push(std::move(i)); });
    check_state(nextState(m), q);
  }
  void show(std::ostream& os) const override { os << "TryPush(" << value << ")"; }
};

struct PushFor0 : Cmd {
  int value = *rc::gen::arbitrary<int>();
  void apply(Model& m) const override { apply_push(m, value); }
  void run(const Model& m, Sut& q) const override {
    run_push(m, q, value, QueueStatus::kTimeout,
             [](Sut& s, Item&& i) { return s.push_for(std::move(i), 0ms); });
    check_state(nextState(m), q);
  }
  void show(std::ostream& os) const override { os << "PushFor0(" << value << ")"; }
};

struct Pop : Cmd {
  void checkPreconditions(const Model& m) const override {
    RC_PRE(m.closed || !m.items.empty());  // must not block in a single thread
  }
  void apply(Model& m) const override { apply_pop(m); }
  void run(const Model& m, Sut& q) const override {
    check_pop(m, q.pop(), QueueStatus::kOk);
    check_state(nextState(m), q);
  }
  void show(std::ostream& os) const override { os << "Pop"; }
};

struct TryPop : Cmd {
  void apply(Model& m) const override { apply_pop(m); }
  void run(const Model& m, Sut& q) const override {
    check_pop(m, q.try_pop(), QueueStatus::kEmpty);
    check_state(nextState(m), q);
  }
  void show(std::ostream& os) const override { os << "TryPop"; }
};

struct PopFor0 : Cmd {
  void apply(Model& m) const override { apply_pop(m); }
  void run(const Model& m, Sut& q) const override {
    check_pop(m, q.pop_for(0ms), QueueStatus::kTimeout);
    check_state(nextState(m), q);
  }
  void show(std::ostream& os) const override { os << "PopFor0"; }
};

struct Close : Cmd {
  void apply(Model& m) const override { m.closed = true; }
  void run(const Model& m, Sut& q) const override {
    q.close();
    check_state(nextState(m), q);
  }
  void show(std::ostream& os) const override { os << "Close"; }
};

struct Size : Cmd {
  void run(const Model& m, Sut& q) const override {
    RC_ASSERT(q.size() == m.items.size());
    check_state(m, q);
  }
  void show(std::ostream& os) const override { os << "Size"; }
};

RC_GTEST_PROP(BoundedQueueModel, Q1_Q2_Q3_Q4_Q8_MatchesTheSequentialModel, ()) {
  Model initial;
  initial.capacity = *rc::gen::inRange<std::size_t>(1, 6);
  Sut q(initial.capacity);
  rc::state::check(initial, q,
                   rc::state::gen::execOneOfWithArgs<Push, TryPush, PushFor0, Pop, TryPop, PopFor0,
                                                     Close, Size>());
  // Whatever the sequence left behind drains after close(), and the queue ends empty.
  q.close();
  for (;;) {
    auto r = q.pop();
    if (!r.ok()) {
      RC_ASSERT(r.status == QueueStatus::kClosed);
      break;
    }
  }
  RC_ASSERT(q.size() == 0u);
  RC_ASSERT(q.check_invariants());
}

}  // namespace
}  // namespace httpower
