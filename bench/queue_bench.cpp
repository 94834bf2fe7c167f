// Hand-off benchmarks for BoundedQueue, side by side with moodycamel::BlockingConcurrentQueue
// (when HTTPOWER_HAVE_MOODYCAMEL; bench/CMakeLists.txt defines it if the header is found) and
// with a naive queue: one mutex, ONE condition variable for both sides, notify_all on every
// operation (what BoundedQueue's two variables and waiter counts are meant to beat).
//
//   BM_Handoff<Q>/P/C   P producers and C consumers move kItems values through one queue of
//                       capacity kCapacity; items/s is the throughput. Each value carries its
//                       push time, so the consumers also report the time each value spent
//                       between push and pop (mean, p50, p99 over a 1-in-16 sample): queueing
//                       delay included, so at saturation it is about capacity / throughput.
//   BM_PingPong<Q>      two threads, two queues, one value bouncing: the time of one round
//                       trip (two hand-offs, each waking a blocked thread) is the latency.
//
// moodycamel's queue is unbounded (no backpressure): its producers never wait, ours do.
// Thread start-up is inside the timed region of BM_Handoff (a few tens of microseconds against
// tens of milliseconds per iteration).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "httpower/bounded_queue.hpp"

#if defined(HTTPOWER_HAVE_MOODYCAMEL)
#include <concurrentqueue/blockingconcurrentqueue.h>
#endif

namespace {

constexpr std::size_t kCapacity = 1024;
constexpr std::uint64_t kItems = 1u << 17;  // per iteration; divisible by 1, 2 and 4
constexpr std::uint64_t kSampleEvery = 16;

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// ------------------------------------------------------------------ the three queues

struct HttpowerQueue {
  explicit HttpowerQueue(std::size_t capacity) : q(capacity) {}
  void push(std::uint64_t v) {
    if (q.push(std::move(v)) != httpower::QueueStatus::kOk) std::abort();
  }
  std::uint64_t pop() { return *q.pop().item; }
  httpower::BoundedQueue<std::uint64_t> q;
};

// The naive queue: one condition variable, notify_all after every push and every pop.
struct NaiveQueue {
  explicit NaiveQueue(std::size_t capacity) : capacity_(capacity) {}
  void push(std::uint64_t v) {
    std::unique_lock<std::mutex> lock(mu_);
    while (items_.size() >= capacity_) cv_.wait(lock);
    items_.push_back(v);
    cv_.notify_all();
  }
  std::uint64_t pop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (items_.empty()) cv_.wait(lock);
    const std::uint64_t v = items_.front();
    items_.pop_front();
    cv_.notify_all();
    return v;
  }

 private:
  const std::size_t capacity_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::uint64_t> items_;
};

#if defined(HTTPOWER_HAVE_MOODYCAMEL)
struct MoodycamelQueue {
  explicit MoodycamelQueue(std::size_t capacity) : q(capacity) {}  // initial size; unbounded
  void push(std::uint64_t v) {
    if (!q.enqueue(v)) std::abort();
  }
  std::uint64_t pop() {
    std::uint64_t v = 0;
    q.wait_dequeue(v);
    return v;
  }
  moodycamel::BlockingConcurrentQueue<std::uint64_t> q;
};
#endif

// ------------------------------------------------------------------ benchmarks

template <typename Q>
void BM_Handoff(benchmark::State& state) {
  const auto producers = static_cast<std::uint64_t>(state.range(0));
  const auto consumers = static_cast<std::uint64_t>(state.range(1));
  std::vector<std::uint64_t> samples;
  double latency_sum = 0;
  std::uint64_t latency_n = 0;
  for (auto _ : state) {
    Q q(kCapacity);
    std::vector<std::vector<std::uint64_t>> per_consumer(consumers);
    std::vector<double> sums(consumers, 0.0);
    std::vector<std::thread> threads;
    for (std::uint64_t p = 0; p < producers; ++p) {
      threads.emplace_back([&q, producers] {
        for (std::uint64_t i = 0; i < kItems / producers; ++i) q.push(now_ns());
      });
    }
    for (std::uint64_t c = 0; c < consumers; ++c) {
      threads.emplace_back([&q, &per_consumer, &sums, consumers, c] {
        auto& mine = per_consumer[c];
        mine.reserve(kItems / consumers / kSampleEvery + 1);
        double sum = 0;
        for (std::uint64_t i = 0; i < kItems / consumers; ++i) {
          const std::uint64_t sent = q.pop();
          const std::uint64_t lat = now_ns() - sent;
          sum += static_cast<double>(lat);
          if (i % kSampleEvery == 0) mine.push_back(lat);
        }
        sums[c] = sum;
      });
    }
    for (auto& t : threads) t.join();
    for (std::uint64_t c = 0; c < consumers; ++c) {
      samples.insert(samples.end(), per_consumer[c].begin(), per_consumer[c].end());
      latency_sum += sums[c];
    }
    latency_n += kItems;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kItems));
  if (!samples.empty()) {
    std::sort(samples.begin(), samples.end());
    state.counters["lat_mean_us"] = latency_sum / static_cast<double>(latency_n) / 1000.0;
    state.counters["lat_p50_us"] = static_cast<double>(samples[samples.size() / 2]) / 1000.0;
    state.counters["lat_p99_us"] = static_cast<double>(samples[samples.size() * 99 / 100]) / 1000.0;
  }
}

template <typename Q>
void BM_PingPong(benchmark::State& state) {
  Q ping(kCapacity);
  Q pong(kCapacity);
  std::thread echo([&] {
    for (;;) {
      const std::uint64_t v = ping.pop();
      pong.push(v);
      if (v == 0) return;  // 0 ends the echo thread
    }
  });
  for (auto _ : state) {
    ping.push(1);
    benchmark::DoNotOptimize(pong.pop());
  }
  ping.push(0);
  (void)pong.pop();
  echo.join();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

#define HANDOFF_ARGS ->Args({1, 1})->Args({2, 2})->Args({4, 4})->UseRealTime()->Unit(benchmark::kMillisecond)

BENCHMARK_TEMPLATE(BM_Handoff, HttpowerQueue) HANDOFF_ARGS;
BENCHMARK_TEMPLATE(BM_Handoff, NaiveQueue) HANDOFF_ARGS;
#if defined(HTTPOWER_HAVE_MOODYCAMEL)
BENCHMARK_TEMPLATE(BM_Handoff, MoodycamelQueue) HANDOFF_ARGS;
#endif

BENCHMARK_TEMPLATE(BM_PingPong, HttpowerQueue)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_PingPong, NaiveQueue)->UseRealTime()->Unit(benchmark::kMicrosecond);
#if defined(HTTPOWER_HAVE_MOODYCAMEL)
BENCHMARK_TEMPLATE(BM_PingPong, MoodycamelQueue)->UseRealTime()->Unit(benchmark::kMicrosecond);
#endif

}  // namespace

BENCHMARK_MAIN();
