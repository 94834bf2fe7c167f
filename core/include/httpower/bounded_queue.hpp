#pragma once
// BoundedQueue<T>: a blocking multi-producer multi-consumer FIFO with a fixed capacity and
// a close() operation. It hands accepted (and re-armed) connections to the worker pool.
//
// Contract
// --------
// States: OPEN or CLOSED (close() moves OPEN -> CLOSED, never back), times the number of
// items held, 0..capacity.
//
//   push(x)      OPEN and not full: enqueue x at the tail, return kOk.
//                OPEN and full: block until there is space (then enqueue) or the queue is
//                closed (then kClosed).
//                CLOSED: return kClosed at once, whatever the space.
//                On any result but kOk, x is NOT moved from: the caller still owns it
//                (the acceptor must close a connection the queue refused; invariant C1).
//   pop()        not empty: dequeue and return the head, OPEN or CLOSED (close drains).
//                empty and OPEN: block until an item arrives or the queue is closed.
//                empty and CLOSED: return kClosed (the queue is drained and will stay so).
//   try_push / try_pop   never block: kFull / kEmpty instead of waiting.
//   push_until / pop_until (and the _for forms)   block at most until the deadline, then
//                kTimeout. A deadline in the past behaves like the try_ form.
//   close()      idempotent. Wakes every thread blocked in push or pop (Q5).
//   size()       a snapshot; exact when no other thread is operating.
//
// Blocking and wake-ups: one mutex guards all state. Two condition variables: not_full_
// (pushers wait on it) and not_empty_ (poppers wait on it). Every wait is a loop over its
// predicate, so spurious wake-ups are harmless. A push notifies one popper and a pop notifies
// one pusher, and only when someone waits (the waiter counts save a futex call per
// operation on the uncontended path). Notification happens while the lock is held, so a
// woken thread can never observe a queue that has been destroyed under the notifier.
// close() takes the lock, sets closed_, and notify_all()s both variables.
//
// Memory ordering: every access to shared state happens under mu_, so the mutex's
// acquire/release orders them; an item pushed happens-before its pop returns.
//
// Invariants (proofs/INVARIANTS.md names the check for each):
//   Q1 0 <= size <= capacity.               Q2 FIFO (per producer under concurrency).
//   Q3 nothing lost or duplicated.           Q4 close(): push refused, pop drains, idempotent.
//   Q5 close() wakes every blocked thread.   Q6 no lost wake-up, no deadlock.
//   Q7 no data race.                         Q8 linearizable against a sequential FIFO.
// check_invariants() (and the always-on HTTPOWER_QUEUE_ASSERT on every return path) checks
// the state predicate behind Q1: capacity_ >= 1, head_ < capacity_, count_ <= capacity_ (the
// waiter counts have no useful bound, so valid() does not look at them); with
// HTTPOWER_DEEP_CHECKS defined it also checks that exactly the slots [head_, head_ + count_)
// hold values.

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "httpower/thread_annotations.hpp"

// Always on, also in release builds: a broken queue must stop the process, not corrupt it.
#define HTTPOWER_QUEUE_ASSERT(cond)                                                          \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "BoundedQueue invariant violated: %s (%s:%d)\n", #cond, __FILE__, \
                   __LINE__);                                                                \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

namespace httpower {

enum class QueueStatus {
  kOk,       // the operation took effect
  kFull,     // try_push on a full, open queue
  kEmpty,    // try_pop on an empty, open queue
  kClosed,   // push after close(), or pop on a closed and drained queue
  kTimeout,  // a timed operation reached its deadline
};

template <typename T>
struct [[nodiscard]] PopResult {
  QueueStatus status;
  std::optional<T> item;  // engaged iff status == kOk
  bool ok() const noexcept { return status == QueueStatus::kOk; }
};

template <typename T>
class BoundedQueue {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "BoundedQueue<T> requires a nothrow-movable T (a move cannot half-happen)");
  static_assert(std::is_nothrow_destructible_v<T>);

 public:
  using Clock = std::chrono::steady_clock;

  // capacity >= 1; throws std::invalid_argument otherwise (start-up only).
  explicit BoundedQueue(std::size_t capacity)
      : capacity_(capacity), slots_(make_slots(capacity)) {}

  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;
  ~BoundedQueue() = default;  // destroys any items still held

  [[nodiscard]] QueueStatus push(T&& item) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (!closed_ && count_ == capacity_) {
      wait_not_full(lock);
    }
    return finish_push(std::move(item));
  }

  [[nodiscard]] QueueStatus try_push(T&& item) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (!closed_ && count_ == capacity_) {
      HTTPOWER_QUEUE_ASSERT(valid());
      return QueueStatus::kFull;
    }
    return finish_push(std::move(item));
  }

  [[nodiscard]] QueueStatus push_until(T&& item, Clock::time_point deadline) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (!closed_ && count_ == capacity_) {
      if (!wait_not_full_until(lock, deadline) && !closed_ && count_ == capacity_) {
        HTTPOWER_QUEUE_ASSERT(valid());
        return QueueStatus::kTimeout;
      }
    }
    return finish_push(std::move(item));
  }

  template <typename Rep, typename Period>
  [[nodiscard]] QueueStatus push_for(T&& item, std::chrono::duration<Rep, Period> timeout) {
    return push_until(std::move(item), deadline_after(timeout));
  }

  [[nodiscard]] PopResult<T> pop() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (!closed_ && count_ == 0) {
      wait_not_empty(lock);
    }
    return finish_pop();
  }

  [[nodiscard]] PopResult<T> try_pop() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    if (!closed_ && count_ == 0) {
      HTTPOWER_QUEUE_ASSERT(valid());
      return {QueueStatus::kEmpty, std::nullopt};
    }
    return finish_pop();
  }

  [[nodiscard]] PopResult<T> pop_until(Clock::time_point deadline) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    while (!closed_ && count_ == 0) {
      if (!wait_not_empty_until(lock, deadline) && !closed_ && count_ == 0) {
        HTTPOWER_QUEUE_ASSERT(valid());
        return {QueueStatus::kTimeout, std::nullopt};
      }
    }
    return finish_pop();
  }

  template <typename Rep, typename Period>
  [[nodiscard]] PopResult<T> pop_for(std::chrono::duration<Rep, Period> timeout) {
    return pop_until(deadline_after(timeout));
  }

  // Q4/Q5: idempotent; wakes every blocked pusher (they return kClosed) and every blocked
  // popper (they drain what is left, then return kClosed).
  void close() EXCLUDES(mu_) {
    MutexLock lock(mu_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
    HTTPOWER_QUEUE_ASSERT(valid());
  }

  [[nodiscard]] std::size_t size() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return count_;
  }
  [[nodiscard]] bool closed() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return closed_;
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

  // The validity predicate (see the header comment), taken under the lock.
  [[nodiscard]] bool check_invariants() const EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return valid();
  }

 private:
  static std::unique_ptr<std::optional<T>[]> make_slots(std::size_t capacity) {
    if (capacity == 0) throw std::invalid_argument("BoundedQueue capacity must be at least 1");
    return std::make_unique<std::optional<T>[]>(capacity);
  }

  // now + timeout, saturated: a huge timeout (hours::max()) means "no deadline" instead of a
  // signed overflow; a negative one is a deadline in the past (the try_ behaviour).
  template <typename Rep, typename Period>
  static Clock::time_point deadline_after(std::chrono::duration<Rep, Period> timeout) {
    const Clock::time_point now = Clock::now();
    if (timeout <= timeout.zero()) return now;
    const auto room = Clock::time_point::max() - now;
    if (timeout >= std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(room)) {
      return Clock::time_point::max();
    }
    return now + std::chrono::duration_cast<Clock::duration>(timeout);
  }

  // Precondition: closed_ or count_ < capacity_ (the caller's wait loop ended).
  QueueStatus finish_push(T&& item) REQUIRES(mu_) {
    if (closed_) {
      HTTPOWER_QUEUE_ASSERT(valid());
      return QueueStatus::kClosed;  // Q4: refused; item untouched, the caller keeps it
    }
    HTTPOWER_QUEUE_ASSERT(count_ < capacity_);
    const std::size_t old_count = count_;
    slots_[(head_ + count_) % capacity_].emplace(std::move(item));  // Q2: tail
    ++count_;
    if (pop_waiters_ > 0) not_empty_.notify_one();  // Q6: a waiting popper is told
    HTTPOWER_QUEUE_ASSERT(count_ == old_count + 1);
    HTTPOWER_QUEUE_ASSERT(valid());
    return QueueStatus::kOk;
  }

  // Precondition: closed_ or count_ > 0.
  PopResult<T> finish_pop() REQUIRES(mu_) {
    if (count_ == 0) {
      HTTPOWER_QUEUE_ASSERT(closed_);
      HTTPOWER_QUEUE_ASSERT(valid());
      return {QueueStatus::kClosed, std::nullopt};  // Q4: closed and drained
    }
    const std::size_t old_count = count_;
    std::optional<T>& slot = slots_[head_];  // Q2: head
    HTTPOWER_QUEUE_ASSERT(slot.has_value());  // count_ > 0: the head slot holds the oldest item
    // Moving *slot (not the optional) also keeps g++ 12's -Wmaybe-uninitialized quiet: it
    // cannot see that slot is engaged and, for some T and call sites, fails -Werror builds.
    PopResult<T> result{QueueStatus::kOk, std::optional<T>(std::in_place, std::move(*slot))};
    slot.reset();
    head_ = (head_ + 1) % capacity_;
    --count_;
    if (push_waiters_ > 0) not_full_.notify_one();  // Q6: a waiting pusher is told
    HTTPOWER_QUEUE_ASSERT(count_ + 1 == old_count);
    HTTPOWER_QUEUE_ASSERT(result.item.has_value());
    HTTPOWER_QUEUE_ASSERT(valid());
    return result;
  }

  void wait_not_full(MutexLock& lock) REQUIRES(mu_) {
    ++push_waiters_;
    not_full_.wait(lock);
    --push_waiters_;
  }
  bool wait_not_full_until(MutexLock& lock, Clock::time_point deadline) REQUIRES(mu_) {
    ++push_waiters_;
    const bool notified = not_full_.wait_until(lock, deadline);
    --push_waiters_;
    return notified;
  }
  void wait_not_empty(MutexLock& lock) REQUIRES(mu_) {
    ++pop_waiters_;
    not_empty_.wait(lock);
    --pop_waiters_;
  }
  bool wait_not_empty_until(MutexLock& lock, Clock::time_point deadline) REQUIRES(mu_) {
    ++pop_waiters_;
    const bool notified = not_empty_.wait_until(lock, deadline);
    --pop_waiters_;
    return notified;
  }

  bool valid() const REQUIRES(mu_) {
    if (capacity_ == 0 || head_ >= capacity_ || count_ > capacity_) return false;  // Q1
#if defined(HTTPOWER_DEEP_CHECKS)
    for (std::size_t i = 0; i < capacity_; ++i) {
      const std::size_t age = (i + capacity_ - head_) % capacity_;
      if (slots_[i].has_value() != (age < count_)) return false;
    }
#endif
    return true;
  }

  const std::size_t capacity_;
  mutable Mutex mu_;
  CondVar not_full_;   // pushers wait here
  CondVar not_empty_;  // poppers wait here
  // The ring of capacity_ slots. The pointee is guarded by mu_; clang 14 cannot put
  // PT_GUARDED_BY on a smart pointer, so only the comment says it.
  const std::unique_ptr<std::optional<T>[]> slots_;
  std::size_t head_ GUARDED_BY(mu_) = 0;          // index of the oldest item
  std::size_t count_ GUARDED_BY(mu_) = 0;         // items held
  std::size_t push_waiters_ GUARDED_BY(mu_) = 0;  // threads blocked in a push
  std::size_t pop_waiters_ GUARDED_BY(mu_) = 0;   // threads blocked in a pop
  bool closed_ GUARDED_BY(mu_) = false;
};

inline const char* to_string(QueueStatus s) noexcept {
  switch (s) {
    case QueueStatus::kOk: return "ok";
    case QueueStatus::kFull: return "full";
    case QueueStatus::kEmpty: return "empty";
    case QueueStatus::kClosed: return "closed";
    case QueueStatus::kTimeout: return "timeout";
  }
  return "?";
}

}  // namespace httpower
