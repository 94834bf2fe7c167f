// BoundedQueue stress: producers and consumers hammer one queue, in rounds of different shapes
// (threads, capacity, which push/pop forms), half of them with close() called while traffic
// runs. Self-checking; exits non-zero on any violation and prints one summary line.
//
//   Q1  HTTPOWER_DEEP_CHECKS: every return path asserts the full validity predicate; after
//       each accepted push, size() must not exceed the capacity the round asked for.
//   Q2  each consumer sees each producer's values in increasing sequence order.
//   Q3  exact per-value counters: every value a push accepted (kOk) is popped exactly once;
//       a value whose push was refused (kClosed) is never popped, and the producer still
//       holds it (not moved from). An instance-counting element proves nothing leaks.
//   Q4  after close() every push says kClosed and the consumers drain before seeing kClosed.
//   Q5/Q6  a watchdog aborts if the run stalls (no operation completes for a while) or
//       exceeds its deadline: a lost wake-up or a close() that wakes nobody hangs a round.
//   Q7  run under the tsan preset: any data race is reported (halt_on_error=1 in CI).
//
// HTTPOWER_STRESS_SCALE (default 1) scales the number of values per producer.
//
// Timing. The only time-based checks are the watchdog's: no operation completed for 20 s
// (kStallLimit) and the whole-program deadline. A correct queue completes operations
// continuously (a CPU hog delays a thread by milliseconds, not seconds) while a lost wake-up
// stalls forever; and no round starts after kBudget, so a slow machine runs fewer rounds
// rather than reaching the deadline.
#define HTTPOWER_DEEP_CHECKS
#include "httpower/bounded_queue.hpp"
#include "httpower/testsupport/scale.hpp"
#include "httpower/testsupport/watchdog.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using httpower::BoundedQueue;
using httpower::QueueStatus;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kStallLimit = 20s;  // no completed operation for this long: lost wake-up
// No round starts after kBudget (times the scale when above 1): a CPU hog on every core
// makes each hand-off wait for a time slice, so the same rounds can take ten times longer;
// the program then runs fewer rounds (the summary says how many) instead of failing.
constexpr auto kBudget = 60s;
constexpr auto kDeadline = 300s;  // the whole program: kBudget + the longest round, loaded

std::atomic<long> g_live{0};                // Tagged instances alive
std::atomic<std::uint64_t> g_progress{0};   // completed operations, for the stall detector
std::atomic<int> g_failures{0};

void fail(const std::string& what) {
  if (g_failures.fetch_add(1) < 10) std::fprintf(stderr, "bounded_queue_stress: FAIL %s\n", what.c_str());
}

// A tagged, instance-counted value: (producer, sequence). A moved-from instance is marked.
struct Tagged {
  static constexpr std::uint32_t kMoved = 0xffffffffu;
  std::uint32_t producer;
  std::uint32_t seq;
  Tagged(std::uint32_t p, std::uint32_t s) noexcept : producer(p), seq(s) { g_live.fetch_add(1); }
  Tagged(Tagged&& o) noexcept : producer(o.producer), seq(o.seq) {
    o.producer = kMoved;
    g_live.fetch_add(1);
  }
  Tagged& operator=(Tagged&& o) noexcept {
    producer = o.producer;
    seq = o.seq;
    o.producer = kMoved;
    return *this;
  }
  Tagged(const Tagged&) = delete;
  Tagged& operator=(const Tagged&) = delete;
  ~Tagged() { g_live.fetch_sub(1); }
};

struct Shape {
  int producers;
  int consumers;
  std::size_t capacity;
  int forms;  // 0: blocking only; 1: all forms mixed (try_ and timed too)
};

class Round {
 public:
  Round(const Shape& shape, std::uint32_t per_producer, bool close_midway)
      : shape_(shape),
        per_(per_producer),
        close_at_(close_midway ? per_producer * static_cast<std::uint32_t>(shape.producers) / 2
                               : 0),
        queue_(shape.capacity),
        accepted_(static_cast<std::size_t>(shape.producers) * per_producer),
        popped_(static_cast<std::size_t>(shape.producers) * per_producer) {}

  std::uint64_t run() {
    std::vector<std::thread> producers;
    std::vector<std::thread> consumers;
    for (int c = 0; c < shape_.consumers; ++c) consumers.emplace_back([this, c] { consume(c); });
    for (int p = 0; p < shape_.producers; ++p) producers.emplace_back([this, p] { produce(p); });
    for (auto& t : producers) t.join();
    queue_.close();  // (a second close() when one already happened midway: idempotent)
    for (auto& t : consumers) t.join();
    verify();
    return ops_.load();
  }

 private:
  void produce(int p) {
    for (std::uint32_t s = 0; s < per_; ++s) {
      Tagged item(static_cast<std::uint32_t>(p), s);
      QueueStatus st = QueueStatus::kFull;
      for (int attempt = 0;; ++attempt) {
        switch (shape_.forms == 0 ? 0 : (s + static_cast<std::uint32_t>(attempt)) % 3) {
          case 0: st = queue_.push(std::move(item)); break;
          case 1: st = queue_.try_push(std::move(item)); break;
          default: st = queue_.push_for(std::move(item), 200us); break;
        }
        if (st != QueueStatus::kFull && st != QueueStatus::kTimeout) break;
        if (item.producer != static_cast<std::uint32_t>(p) || item.seq != s) {  // NOLINT
          fail("a push that returned full/timeout moved the item");
        }
        std::this_thread::yield();
      }
      ops_.fetch_add(1, std::memory_order_relaxed);
      g_progress.fetch_add(1, std::memory_order_relaxed);
      if (st == QueueStatus::kOk) {
        accepted_[index(static_cast<std::uint32_t>(p), s)] = 1;  // only this thread writes
        if (queue_.size() > shape_.capacity) fail("Q1: size() above the capacity asked for");
        continue;
      }
      if (st != QueueStatus::kClosed) fail("push returned " + std::string(to_string(st)));
      if (item.producer != static_cast<std::uint32_t>(p) || item.seq != s) {  // NOLINT
        fail("Q4: a refused push moved the item");
      }
      if (close_at_ == 0) fail("Q4: push refused although the round closes only at the end");
      return;  // closed: every later push would be refused too
    }
  }

  void consume(int c) {
    std::vector<std::int64_t> last(static_cast<std::size_t>(shape_.producers), -1);
    for (std::uint32_t n = static_cast<std::uint32_t>(c);; ++n) {
      httpower::PopResult<Tagged> r{QueueStatus::kEmpty, std::nullopt};
      switch (shape_.forms == 0 ? 0 : n % 3) {
        case 0: r = queue_.pop(); break;
        case 1: r = queue_.try_pop(); break;
        default: r = queue_.pop_for(200us); break;
      }
      if (r.status == QueueStatus::kEmpty || r.status == QueueStatus::kTimeout) {
        std::this_thread::yield();
        continue;
      }
      ops_.fetch_add(1, std::memory_order_relaxed);
      g_progress.fetch_add(1, std::memory_order_relaxed);
      if (r.status == QueueStatus::kClosed) {
        if (r.item) fail("Q4: kClosed with an item");
        if (queue_.size() != 0) fail("Q4: pop said closed while items remain");
        return;
      }
      if (!r.ok() || !r.item) {
        fail("pop returned " + std::string(to_string(r.status)) + " without an item");
        continue;
      }
      const Tagged& t = *r.item;
      if (t.producer >= static_cast<std::uint32_t>(shape_.producers) || t.seq >= per_) {
        fail("Q3: popped a value never pushed");
        continue;
      }
      if (popped_[index(t.producer, t.seq)].fetch_add(1) != 0) fail("Q3: a value popped twice");
      auto& l = last[t.producer];
      if (static_cast<std::int64_t>(t.seq) <= l) fail("Q2: per-producer order broken");
      l = t.seq;
      if (close_at_ != 0 && popped_total_.fetch_add(1) + 1 == close_at_) {
        queue_.close();  // Q4/Q5 under traffic: producers may be blocked in push right now
      }
    }
  }

  std::size_t index(std::uint32_t p, std::uint32_t s) const {
    return static_cast<std::size_t>(p) * per_ + s;
  }

  void verify() {
    if (!queue_.check_invariants()) fail("Q1: check_invariants() false at the end");
    if (queue_.size() != 0) fail("Q4: items left after the consumers saw kClosed");
    std::uint64_t lost = 0;
    std::uint64_t phantom = 0;
    for (std::size_t i = 0; i < accepted_.size(); ++i) {
      const int got = popped_[i].load();
      if (accepted_[i] != 0 && got != 1) ++lost;
      if (accepted_[i] == 0 && got != 0) ++phantom;
    }
    if (lost != 0) fail("Q3: " + std::to_string(lost) + " accepted values not popped exactly once");
    if (phantom != 0) fail("Q3: " + std::to_string(phantom) + " refused values were popped");
  }

  const Shape shape_;
  const std::uint32_t per_;
  const std::uint32_t close_at_;  // pops after which a consumer closes the queue; 0: at the end
  BoundedQueue<Tagged> queue_;
  std::vector<std::uint8_t> accepted_;        // [producer * per_ + seq]: push said kOk
  std::vector<std::atomic<int>> popped_;      // [producer * per_ + seq]: times popped
  std::atomic<std::uint32_t> popped_total_{0};
  std::atomic<std::uint64_t> ops_{0};
};

}  // namespace

int main() {
  // HTTPOWER_STRESS_SCALE only: the presets' HTTPOWER_TEST_SCALE does not shrink this run.
  const double scale = httpower::testsupport::env_scale({"HTTPOWER_STRESS_SCALE"});
  const auto start = Clock::now();
  // Q5/Q6: no completed operation for kStallLimit is a lost wake-up or a close() that woke
  // nobody; kDeadline bounds the whole program.
  httpower::testsupport::Watchdog watchdog("bounded_queue_stress", kDeadline, g_progress, kStallLimit);
  static constexpr Shape kShapes[] = {
      {1, 1, 1, 0}, {2, 2, 1, 0}, {4, 4, 1, 0}, {3, 3, 2, 1}, {4, 2, 3, 0},
      {2, 4, 3, 1}, {1, 4, 8, 0}, {4, 1, 8, 1}, {3, 3, 64, 0}, {4, 4, 5, 1},
  };
  const auto per_producer = static_cast<std::uint32_t>(httpower::testsupport::scaled(10000, 10, scale));
  const auto budget_end = start + std::chrono::duration_cast<Clock::duration>(kBudget * std::max(1.0, scale));
  const int planned = static_cast<int>(std::size(kShapes)) * 2;
  std::uint64_t ops = 0;
  int rounds = 0;
  for (const Shape& shape : kShapes) {
    for (const bool close_midway : {false, true}) {
      if (Clock::now() >= budget_end) break;
      {
        Round round(shape, per_producer, close_midway);
        ops += round.run();
      }
      ++rounds;
      if (g_live.load() != 0) fail("Q3: " + std::to_string(g_live.load()) + " items leaked");
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("bounded_queue_stress: ops=%llu seconds=%.2f failures=%d (rounds=%d of %d scale=%g)\n",
              static_cast<unsigned long long>(ops), seconds, g_failures.load(), rounds, planned, scale);
  return g_failures.load() == 0 ? 0 : 1;
}
