// Q8: BoundedQueue is linearizable against the sequential bounded FIFO with close().
//
// Each round runs a small random program (2-4 threads, 3-6 operations each, capacity 1-3,
// blocking, non-blocking and timed operations, sometimes a close()) on a fresh queue, threads
// released together by a barrier, records the history (proptests/support/linearizability.hpp)
// and checks it. At least 1000 histories per run, whatever HTTPOWER_TEST_SCALE says.
//
// A program may leave threads blocked for good (a pop that no push will ever serve). The
// harness sees that state exactly (every live thread is inside a blocking operation of one
// kind, and the queue is empty, or full) and then (1) checks the history so far, with the
// blocked operations pending, and (2) calls close() itself, recorded as one more operation, so
// that the blocked threads return; the completed history is checked as well.
//
// Seed: printed at start; rerun the same programs with HTTPOWER_LIN_SEED=N (the thread
// interleavings, of course, differ from run to run).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "httpower/testsupport/scale.hpp"
#include "httpower/testsupport/watchdog.hpp"
#include "support/linearizability.hpp"

namespace httpower::lin {
namespace {

using namespace std::chrono_literals;

constexpr int kBaseHistories = 10000;  // at HTTPOWER_TEST_SCALE=1
constexpr int kMinHistories = 1000;   // the floor: never fewer per run

int history_count() { return testsupport::scaled(kBaseHistories, kMinHistories); }

std::uint64_t seed_from_env() {
  if (const char* env = std::getenv("HTTPOWER_LIN_SEED")) return std::strtoull(env, nullptr, 10);
  return (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
}

// Aborts the process unless destroyed before the deadline (a lost wake-up hangs a run).
using testsupport::Watchdog;

// ------------------------------------------------------------------ programs

struct PlannedOp {
  OpKind kind = OpKind::kPush;
  int value = 0;                         // pushes: a value unique in the history
  std::chrono::microseconds timeout{0};  // timed operations
};

struct Program {
  std::size_t capacity = 1;
  std::vector<std::vector<PlannedOp>> threads;
};

Program make_program(std::mt19937_64& rng) {
  auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Program p;
  p.capacity = static_cast<std::size_t>(pick(1, 3));
  p.threads.resize(static_cast<std::size_t>(pick(2, 4)));
  // Weights: blocking, non-blocking and timed forms of both sides, and size().
  static constexpr OpKind kKinds[] = {OpKind::kPush,    OpKind::kPush,      OpKind::kTryPush,
                                      OpKind::kTimedPush, OpKind::kPop,     OpKind::kPop,
                                      OpKind::kTryPop,  OpKind::kTimedPop, OpKind::kSize};
  static constexpr std::chrono::microseconds kTimeouts[] = {0us, 0us, 50us, 300us};
  for (std::size_t t = 0; t < p.threads.size(); ++t) {
    const int n = pick(3, 6);
    for (int i = 0; i < n; ++i) {
      PlannedOp op;
      op.kind = kKinds[pick(0, std::size(kKinds) - 1)];
      op.value = static_cast<int>(t * 100 + static_cast<std::size_t>(i) + 1);
      op.timeout = kTimeouts[pick(0, std::size(kTimeouts) - 1)];
      p.threads[t].push_back(op);
    }
  }
  for (int closes = pick(0, 9) < 3 ? 1 : 0; closes > 0; --closes) {  // ~30% of programs
    auto& ops = p.threads[static_cast<std::size_t>(pick(0, static_cast<int>(p.threads.size()) - 1))];
    ops[static_cast<std::size_t>(pick(0, static_cast<int>(ops.size()) - 1))].kind = OpKind::kClose;
    if (pick(0, 9) == 0) ++closes;  // now and then a second close (idempotence)
  }
  return p;
}

std::string format_program(const Program& p) {
  std::ostringstream out;
  out << "  capacity " << p.capacity << '\n';
  for (std::size_t t = 0; t < p.threads.size(); ++t) {
    out << "  t" << t << ':';
    for (const PlannedOp& op : p.threads[t]) {
      out << ' ' << to_string(op.kind);
      if (is_push(op.kind)) out << '(' << op.value << ')';
      if (op.kind == OpKind::kTimedPush || op.kind == OpKind::kTimedPop) {
        out << '[' << op.timeout.count() << "us]";
      }
    }
    out << '\n';
  }
  return out.str();
}

// ------------------------------------------------------------------ one run

enum Phase : int { kRunning, kInBlockingPush, kInBlockingPop, kDone };

// A history of at most 24 tiny operations that makes no progress for this long, while it is not
// in a legal stall, has lost a wake-up.
constexpr auto kNoProgressLimit = 20s;

// Each thread's records, under its own mutex. Both timestamps of an operation are taken with
// that mutex held, so a snapshot taken with every recorder locked is a consistent cut.
struct Recorder {
  std::mutex mu;
  History ops;
};

struct RunResult {
  History full;                    // every operation, completed
  std::optional<History> stalled;  // the history when every live thread was blocked for good
};

class HistoryRun {
 public:
  explicit HistoryRun(const Program& program)
      : program_(program),
        queue_(program.capacity),
        recorders_(program.threads.size() + 1),  // + the harness's own close()
        phases_(program.threads.size()),
        start_(static_cast<std::ptrdiff_t>(program.threads.size())) {}

  RunResult run() {
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < program_.threads.size(); ++t) {
      threads.emplace_back([this, t] { worker(t); });
    }
    RunResult result;
    supervise(result);
    for (auto& th : threads) th.join();
    for (auto& r : recorders_) result.full.insert(result.full.end(), r.ops.begin(), r.ops.end());
    return result;
  }

 private:
  void worker(std::size_t t) {
    start_.arrive_and_wait();
    for (const PlannedOp& planned : program_.threads[t]) {
      const Phase phase = planned.kind == OpKind::kPush  ? kInBlockingPush
                          : planned.kind == OpKind::kPop ? kInBlockingPop
                                                         : kRunning;
      phases_[t].store(phase, std::memory_order_release);
      bump();
      execute(t, planned);
      phases_[t].store(kRunning, std::memory_order_release);
      bump();
    }
    phases_[t].store(kDone, std::memory_order_release);
    bump();
  }

  void execute(std::size_t t, const PlannedOp& planned) {
    Operation op;
    op.thread = static_cast<int>(t);
    op.kind = planned.kind;
    op.value = planned.value;
    Recorder& rec = recorders_[t];
    std::size_t index = 0;
    {
      std::lock_guard<std::mutex> lock(rec.mu);
      op.invoke = clock_.next();
      rec.ops.push_back(op);
      index = rec.ops.size() - 1;
    }
    int value = planned.value;
    switch (planned.kind) {
      case OpKind::kPush: op.status = queue_.push(std::move(value)); break;
      case OpKind::kTryPush: op.status = queue_.try_push(std::move(value)); break;
      case OpKind::kTimedPush: op.status = queue_.push_for(std::move(value), planned.timeout); break;
      case OpKind::kPop: take(queue_.pop(), op); break;
      case OpKind::kTryPop: take(queue_.try_pop(), op); break;
      case OpKind::kTimedPop: take(queue_.pop_for(planned.timeout), op); break;
      case OpKind::kClose: queue_.close(); op.status = QueueStatus::kOk; break;
      case OpKind::kSize: op.size = queue_.size(); op.status = QueueStatus::kOk; break;
    }
    std::lock_guard<std::mutex> lock(rec.mu);
    op.response = clock_.next();
    rec.ops[index] = op;
  }

  static void take(PopResult<int>&& r, Operation& op) {
    op.status = r.status;
    op.value = r.item.value_or(0);
  }

  void bump() {
    {
      std::lock_guard<std::mutex> lock(progress_mu_);
      ++version_;
    }
    progress_cv_.notify_one();
  }

  // Every live thread is inside a blocking operation that nothing can complete: all in pop()
  // on an empty open queue, or all in push() on a full open one. (A thread that has just
  // taken the last item may still look "in pop"; the close() that follows is then merely
  // unnecessary, and still a legal operation of the history.)
  bool stalled() const {
    int pushers = 0;
    int poppers = 0;
    for (const auto& ph : phases_) {
      switch (ph.load(std::memory_order_acquire)) {
        case kRunning: return false;
        case kInBlockingPush: ++pushers; break;
        case kInBlockingPop: ++poppers; break;
        default: break;
      }
    }
    if (pushers + poppers == 0 || (pushers > 0 && poppers > 0) || queue_.closed()) return false;
    return poppers > 0 ? queue_.size() == 0 : queue_.size() == queue_.capacity();
  }

  void supervise(RunResult& result) {
    std::unique_lock<std::mutex> lock(progress_mu_);
    std::uint64_t seen = 0;
    bool closed_by_harness = false;
    for (;;) {
      if (!progress_cv_.wait_for(lock, kNoProgressLimit, [&] { return version_ != seen; })) {
        lock.unlock();
        report_no_progress();  // does not return
      }
      seen = version_;
      const bool all_done = std::all_of(phases_.begin(), phases_.end(), [](const auto& ph) {
        return ph.load(std::memory_order_acquire) == kDone;
      });
      if (all_done) return;
      if (!closed_by_harness && stalled()) {
        lock.unlock();
        result.stalled = snapshot();
        harness_close();
        closed_by_harness = true;
        lock.lock();
      }
    }
  }

  // Threads are blocked although the queue would let one of them go on (a lost wake-up, Q6,
  // or a close() that woke nobody, Q5): they can never be joined, so print what happened and
  // abort.
  [[noreturn]] void report_no_progress() {
    std::fprintf(stderr,
                 "Q5/Q6: no operation completed for %llds although the queue could serve a "
                 "blocked thread (lost wake-up, or a close() that woke nobody?)\nprogram:\n"
                 "%shistory so far:\n%s",
                 static_cast<long long>(kNoProgressLimit.count()), format_program(program_).c_str(),
                 format_history(snapshot()).c_str());
    std::abort();
  }

  History snapshot() {
    std::vector<std::unique_lock<std::mutex>> locks;
    for (auto& r : recorders_) locks.emplace_back(r.mu);
    History h;
    for (auto& r : recorders_) h.insert(h.end(), r.ops.begin(), r.ops.end());
    return h;
  }

  void harness_close() {
    Recorder& rec = recorders_.back();
    Operation op;
    op.thread = static_cast<int>(program_.threads.size());
    op.kind = OpKind::kClose;
    {
      std::lock_guard<std::mutex> lock(rec.mu);
      op.invoke = clock_.next();
    }
    queue_.close();
    std::lock_guard<std::mutex> lock(rec.mu);
    op.response = clock_.next();
    rec.ops.push_back(op);
  }

  const Program& program_;
  BoundedQueue<int> queue_;
  Timestamps clock_;
  std::vector<Recorder> recorders_;
  std::vector<std::atomic<int>> phases_;
  std::barrier<> start_;
  std::mutex progress_mu_;
  std::condition_variable progress_cv_;
  std::uint64_t version_ = 0;  // guarded by progress_mu_
};

bool check_or_report(const History& h, const Program& program, std::uint64_t seed, int round,
                     const char* which, std::uint64_t& explored) {
  const CheckResult r = check_queue_history(h, program.capacity);
  explored += r.states_explored;
  if (r.error.empty() && r.linearizable) return true;
  ADD_FAILURE() << "Q8: " << which << " history " << round << " (seed " << seed
                << ") is not linearizable" << (r.error.empty() ? "" : ": " + r.error)
                << "\nprogram:\n"
                << format_program(program) << "history:\n"
                << format_history(h);
  return false;
}

TEST(QueueLinearizability, Q8_RandomConcurrentHistoriesAreLinearizable) {
  const std::uint64_t seed = seed_from_env();
  const int histories = history_count();
  std::printf("queue_linearizability: seed=%llu histories=%d (rerun: HTTPOWER_LIN_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), histories,
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  Watchdog watchdog("queue linearizability seed " + std::to_string(seed), 240s);
  std::mt19937_64 rng(seed);
  int stalled = 0;
  int with_close = 0;
  std::size_t ops = 0;
  std::uint64_t explored = 0;
  for (int round = 0; round < histories; ++round) {
    const Program program = make_program(rng);
    const RunResult r = HistoryRun(program).run();
    ops += r.full.size();
    with_close += std::any_of(r.full.begin(), r.full.end(),
                              [](const Operation& op) { return op.kind == OpKind::kClose; });
    if (r.stalled) {
      ++stalled;
      if (!check_or_report(*r.stalled, program, seed, round, "stalled", explored)) return;
    }
    if (!check_or_report(r.full, program, seed, round, "full", explored)) return;
  }
  std::printf("queue_linearizability: %d histories, %zu operations, %d with a close (%d closed "
              "by the harness after a stall), %llu search states\n",
              histories, ops, with_close, stalled, static_cast<unsigned long long>(explored));
}

}  // namespace
}  // namespace httpower::lin
