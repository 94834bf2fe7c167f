#include "handoff.hpp"

#if defined(HTTPOWER_HANDOFF_CHECKS)

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "httpower/thread_annotations.hpp"

namespace httpower::handoff {

namespace {

thread_local Role t_self = Role::kNone;

struct Record {
  std::uint64_t seq;
  std::uint64_t conn;
  Role thread;
  Event event;
};

// Event names, as proofs/models/lifecycle_reference.py reads them.
constexpr const char* kEventNames[] = {
    "accept", "push", "refused", "held", "pop", "park", "park_refused", "arm_failed", "wake",
    "expire", "sweep", "stop_close", "close", "stop_request", "drain_begin", "poller_drain",
    "acceptor_stopped", "drain_over", "drain_forced", "abort", "queue_close", "poller_stop",
    "worker_exit", "poller_exit", "joined"};
static_assert(sizeof kEventNames / sizeof kEventNames[0] ==
              static_cast<std::size_t>(Event::kJoined) + 1);

std::string role_name(Role r) {
  switch (r) {
    case Role::kNone: return "NONE";
    case Role::kAcceptor: return "ACC";
    case Role::kQueue: return "QUE";
    case Role::kPoller: return "POL";
    case Role::kClosed: return "CLOSED";
    case Role::kSupervisor: return "SUP";
    case Role::kWorker0: break;
  }
  const auto v = static_cast<std::uint32_t>(r);
  if (v >= static_cast<std::uint32_t>(Role::kWorker0)) {
    return "WK" + std::to_string(v - static_cast<std::uint32_t>(Role::kWorker0));
  }
  return "?" + std::to_string(v);
}

std::atomic<std::uint64_t> g_next_id{0};
std::atomic<std::uint64_t> g_seq{0};
std::atomic<unsigned> g_traces_written{0};

// Buffers outlive their threads (the file is written after the joins); a thread registers
// its own once, when it takes its role, before any connection exists for it to touch.
Mutex g_registry_mu;
std::vector<std::unique_ptr<std::vector<Record>>> g_buffers GUARDED_BY(g_registry_mu);
std::string g_path GUARDED_BY(g_registry_mu);
thread_local std::vector<Record>* t_buffer = nullptr;

std::vector<Record>* own_buffer() {
  if (t_buffer == nullptr) {
    MutexLock lock(g_registry_mu);
    g_buffers.push_back(std::make_unique<std::vector<Record>>());
    t_buffer = g_buffers.back().get();
  }
  return t_buffer;
}

}  // namespace

std::atomic<bool> g_tracing{false};

void set_self(Role r) noexcept {
  t_self = r;
  if (g_tracing.load(std::memory_order_relaxed)) (void)own_buffer();
}

Role self() noexcept { return t_self; }

std::string violation_message(const Tag& t, Role expected, const char* where) {
  const auto actual = static_cast<Role>(t.owner.load(std::memory_order_relaxed));
  return "httpower: C1 violated in " + std::string(where) + ": connection " +
         std::to_string(t.id) + " is owned by " + role_name(actual) + ", expected " +
         role_name(expected) + " (thread " + role_name(t_self) + ")\n";
}

void owner_violation(const Tag& t, Role expected, const char* where) noexcept {
  try {
    std::fputs(violation_message(t, expected, where).c_str(), stderr);
  } catch (...) {
    std::fputs("httpower: C1 violated\n", stderr);
  }
  std::fflush(stderr);
  std::abort();
}

void accepted(Tag& t) noexcept {
  t.id = g_next_id.fetch_add(1, std::memory_order_relaxed) + 1;
  take(t, Role::kNone, "accept");
  record(Event::kAccept, t.id);
}

void record_slow(Event e, std::uint64_t conn) noexcept {
  try {
    own_buffer()->push_back(
        Record{g_seq.fetch_add(1, std::memory_order_relaxed), conn, t_self, e});
  } catch (...) {
    std::fprintf(stderr, "httpower: trace: out of memory\n");
    std::abort();
  }
}

void start_trace() {
  const char* path = std::getenv("HTTPOWER_TRACE");
  MutexLock lock(g_registry_mu);
  for (auto& b : g_buffers) b->clear();
  g_path = path != nullptr ? path : "";
  g_tracing.store(!g_path.empty());
}

void finish_trace() {
  if (!g_tracing.load()) return;
  std::vector<Record> all;
  std::string path;
  {
    MutexLock lock(g_registry_mu);
    for (auto& b : g_buffers) {
      all.insert(all.end(), b->begin(), b->end());
      b->clear();
    }
    path = g_path;
  }
  std::sort(all.begin(), all.end(),
            [](const Record& a, const Record& b) { return a.seq < b.seq; });
  if (const auto at = path.find("%p"); at != std::string::npos) {
    path.replace(at, 2, std::to_string(::getpid()) + "-" +
                            std::to_string(g_traces_written.fetch_add(1)));
  }
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    std::fprintf(stderr, "httpower: cannot write the trace to %s\n", path.c_str());
    std::abort();  // a test asked for it: a missing trace must not pass as a clean one
  }
  std::fprintf(f, "# httpower hand-off trace: seq thread event conn\n");
  for (const Record& r : all) {
    std::fprintf(f, "%llu %s %s %llu\n", static_cast<unsigned long long>(r.seq),
                 role_name(r.thread).c_str(), kEventNames[static_cast<std::size_t>(r.event)],
                 static_cast<unsigned long long>(r.conn));
  }
  std::fprintf(f, "# end\n");
  if (std::fclose(f) != 0) std::abort();
}

}  // namespace httpower::handoff

#endif
