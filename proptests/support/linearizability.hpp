#pragma once
// A linearizability checker for BoundedQueue histories (invariant Q8).
//
// A history is a set of operations, each with the thread that ran it, what it was (kind and
// argument), what it returned, and two timestamps from one global atomic counter: `invoke`,
// taken just before the call, and `response`, taken just after it returned (kPending if it
// never returned). Operation a precedes b in real time iff a.response < b.invoke.
//
// The history is linearizable iff there is a total order of its operations that (1) extends
// real-time precedence and (2) is a legal run of the sequential model below, each operation
// returning exactly what it returned in the history. Pending operations may be left out, or
// placed anywhere after their invocation with whatever result the model gives them (the
// standard completion rule: a pending pop may have taken an item before the history ended).
//
// Search: Wing & Gong's depth-first search over "minimal" operations (not yet linearized, and
// invoked before every not-yet-linearized completed operation responded), with Lowe's
// memoization: a (set of linearized operations, model state) pair already explored is never
// explored again. The set is a 64-bit mask, hence at most 64 operations per history.
//
// The sequential model (what BoundedQueue promises, see bounded_queue.hpp):
//   state: a FIFO of at most `capacity` values and a closed flag.
//   push/try_push/timed push: closed -> kClosed; not full -> kOk, append;
//       full and open -> try_push kFull, timed push kTimeout, blocking push: not enabled (a
//       push that returned kOk linearizes at a moment the queue was not full).
//   pop/try_pop/timed pop: not empty -> kOk with the head (closed or not); empty and closed
//       -> kClosed; empty and open -> try_pop kEmpty, timed pop kTimeout, blocking pop: not
//       enabled.
//   close: closed = true (idempotent), result kOk.   size: returns the item count.
// The model is deterministic, so "legal" means the model's result equals the recorded one.
//
// Header-only, so that both the properties and proptests/linearizability_test.cpp (a plain
// gtest executable that does not link proptests/support/*.cpp) can use it.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "httpower/bounded_queue.hpp"

namespace httpower::lin {

enum class OpKind : std::uint8_t {
  kPush,       // push(): blocks while full and open
  kTryPush,    // try_push()
  kTimedPush,  // push_for / push_until
  kPop,        // pop(): blocks while empty and open
  kTryPop,     // try_pop()
  kTimedPop,   // pop_for / pop_until
  kClose,      // close()
  kSize,       // size()
};

inline const char* to_string(OpKind k) noexcept {
  switch (k) {
    case OpKind::kPush: return "push";
    case OpKind::kTryPush: return "try_push";
    case OpKind::kTimedPush: return "push_until";
    case OpKind::kPop: return "pop";
    case OpKind::kTryPop: return "try_pop";
    case OpKind::kTimedPop: return "pop_until";
    case OpKind::kClose: return "close";
    case OpKind::kSize: return "size";
  }
  return "?";
}

inline constexpr std::uint64_t kPending = std::numeric_limits<std::uint64_t>::max();
inline constexpr std::size_t kMaxOps = 64;

struct Operation {
  int thread = 0;
  OpKind kind = OpKind::kPush;
  int value = 0;                          // push: the argument; pop returning kOk: the value
  QueueStatus status = QueueStatus::kOk;  // the result (close: kOk; ignored when pending)
  std::size_t size = 0;                   // size(): the result
  std::uint64_t invoke = 0;
  std::uint64_t response = kPending;
  bool pending() const noexcept { return response == kPending; }
};

using History = std::vector<Operation>;

// The global timestamp source of one run: invoke and response stamps of every thread come
// from one counter, so that a.response < b.invoke means a returned before b was called
// (the seq_cst read-modify-write orders the two stamps, and with them the calls).
class Timestamps {
 public:
  std::uint64_t next() noexcept { return next_.fetch_add(1, std::memory_order_seq_cst); }

 private:
  std::atomic<std::uint64_t> next_{0};
};

struct CheckResult {
  bool linearizable = false;
  std::vector<std::size_t> order;  // a witness when linearizable: indices, in order
  std::uint64_t states_explored = 0;
  std::string error;  // non-empty when the history itself is malformed
};

inline bool is_push(OpKind k) noexcept {
  return k == OpKind::kPush || k == OpKind::kTryPush || k == OpKind::kTimedPush;
}
inline bool is_pop(OpKind k) noexcept {
  return k == OpKind::kPop || k == OpKind::kTryPop || k == OpKind::kTimedPop;
}

// One state of the sequential model.
struct QueueModel {
  std::vector<int> items;  // head first
  bool closed = false;
  std::size_t capacity = 1;

  // What `op` returns in this state, applied to the state; false when the operation cannot
  // take effect now (a blocking push on a full open queue, a blocking pop on an empty open
  // one). `result` receives the model's answer (status, value, size).
  bool step(const Operation& op, Operation& result) {
    result = op;
    const bool full = items.size() >= capacity;
    if (is_push(op.kind)) {
      if (closed) {
        result.status = QueueStatus::kClosed;
      } else if (!full) {
        items.push_back(op.value);
        result.status = QueueStatus::kOk;
      } else if (op.kind == OpKind::kTryPush) {
        result.status = QueueStatus::kFull;
      } else if (op.kind == OpKind::kTimedPush) {
        result.status = QueueStatus::kTimeout;
      } else {
        return false;
      }
      return true;
    }
    if (is_pop(op.kind)) {
      if (!items.empty()) {
        result.status = QueueStatus::kOk;
        result.value = items.front();
        items.erase(items.begin());
      } else if (closed) {
        result.status = QueueStatus::kClosed;
      } else if (op.kind == OpKind::kTryPop) {
        result.status = QueueStatus::kEmpty;
      } else if (op.kind == OpKind::kTimedPop) {
        result.status = QueueStatus::kTimeout;
      } else {
        return false;
      }
      return true;
    }
    if (op.kind == OpKind::kClose) {
      closed = true;
      result.status = QueueStatus::kOk;
      return true;
    }
    result.status = QueueStatus::kOk;  // kSize
    result.size = items.size();
    return true;
  }

  void append_key(std::string& key) const {
    key.push_back(closed ? 'c' : 'o');
    for (int v : items) key.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
};

// Does the model's answer agree with what the history recorded?
inline bool same_result(const Operation& recorded, const Operation& model) noexcept {
  if (recorded.status != model.status) return false;
  if (is_pop(recorded.kind) && recorded.status == QueueStatus::kOk) {
    return recorded.value == model.value;
  }
  if (recorded.kind == OpKind::kSize) return recorded.size == model.size;
  return true;
}

class LinearizabilityChecker {
 public:
  LinearizabilityChecker(const History& history, std::size_t capacity)
      : ops_(history), capacity_(capacity) {}

  CheckResult run() {
    CheckResult result;
    result.error = validate();
    if (!result.error.empty()) return result;
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if (!ops_[i].pending()) completed_ |= bit(i);
    }
    QueueModel start;
    start.capacity = capacity_;
    result.linearizable = dfs(0, start);
    result.order = order_;
    result.states_explored = explored_;
    return result;
  }

 private:
  static std::uint64_t bit(std::size_t i) noexcept { return std::uint64_t{1} << i; }

  std::string validate() const {
    if (capacity_ == 0) return "capacity 0";
    if (ops_.size() > kMaxOps) return "more than 64 operations";
    for (const Operation& op : ops_) {
      if (!op.pending() && op.response <= op.invoke) return "a response before its invocation";
    }
    return {};
  }

  bool dfs(std::uint64_t done, const QueueModel& state) {
    if ((done & completed_) == completed_) return true;  // pending ones may be left out
    std::string key(reinterpret_cast<const char*>(&done), sizeof done);
    state.append_key(key);
    if (!seen_.insert(std::move(key)).second) return false;  // Lowe: explored already
    ++explored_;
    // Minimal operations: invoked before the earliest response among the rest.
    std::uint64_t first_response = kPending;
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if ((done & bit(i)) == 0) first_response = std::min(first_response, ops_[i].response);
    }
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if ((done & bit(i)) != 0 || ops_[i].invoke >= first_response) continue;
      QueueModel next = state;
      Operation answer;
      if (!next.step(ops_[i], answer)) continue;
      if (!ops_[i].pending() && !same_result(ops_[i], answer)) continue;
      order_.push_back(i);
      if (dfs(done | bit(i), next)) return true;
      order_.pop_back();
    }
    return false;
  }

  const History& ops_;
  const std::size_t capacity_;
  std::uint64_t completed_ = 0;
  std::uint64_t explored_ = 0;
  std::vector<std::size_t> order_;
  std::unordered_set<std::string> seen_;
};

inline CheckResult check_queue_history(const History& history, std::size_t capacity) {
  return LinearizabilityChecker(history, capacity).run();
}

// One line per operation, sorted by invocation: "[invoke, response] t1 pop -> ok 7".
inline std::string format_history(const History& history) {
  std::vector<const Operation*> sorted;
  for (const Operation& op : history) sorted.push_back(&op);
  std::sort(sorted.begin(), sorted.end(),
            [](const Operation* a, const Operation* b) { return a->invoke < b->invoke; });
  std::ostringstream out;
  for (const Operation* op : sorted) {
    out << "  [" << op->invoke << ", ";
    if (op->pending()) {
      out << "pending";
    } else {
      out << op->response;
    }
    out << "] t" << op->thread << ' ' << to_string(op->kind);
    if (is_push(op->kind)) out << '(' << op->value << ')';
    if (!op->pending()) {
      out << " -> " << httpower::to_string(op->status);
      if (is_pop(op->kind) && op->status == QueueStatus::kOk) out << ' ' << op->value;
      if (op->kind == OpKind::kSize) out << ' ' << op->size;
    }
    out << '\n';
  }
  return out.str();
}

}  // namespace httpower::lin
