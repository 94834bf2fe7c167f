#pragma once
// One client connection and everything that survives between its requests.
//
// Ownership (C1): a Connection is held by exactly one std::unique_ptr at a time, and that
// pointer moves acceptor -> queue -> one worker -> (poller -> queue -> worker)* and is
// destroyed by its last owner. Nothing else keeps a pointer to it, except the poller's epoll
// registration (data.ptr), which is only dereferenced by the poller while the poller owns it.
// In test and sanitizer builds the owner is also a tag checked at every hand-off and touch
// (handoff.hpp).

#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "access_log.hpp"
#include "handoff.hpp"
#include "httpower/request_parser.hpp"
#include "httpower/response_planner.hpp"
#include "httpower/timeouts.hpp"
#include "unique_fd.hpp"

namespace httpower {

struct Connection {
  // Room for the parser's largest head (16 KiB, 431 beyond) plus pipelined bytes after it.
  static constexpr std::size_t kInputCapacity = 20 * 1024;

  UniqueFd fd;
  char peer[48] = {};  // numeric client address for the access log

  // Input: bytes [in_begin, in_end) of in are received and not yet consumed. Taken (with
  // take_input()) just before a read, released while the connection idles (M1).
  // Not zero-filled: only [in_begin, in_end) is ever read (no 20 KiB memset per take).
  std::unique_ptr<char[]> in;
  std::size_t in_begin = 0;
  std::size_t in_end = 0;
  bool maybe_readable = true;           // the last read filled the buffer / fresh readiness
  bool read_attempted = false;          // a worker has read this socket at least once
  ConnectionTimes times;                // the bases of the header and idle timeouts
  std::uint64_t discard_remaining = 0;  // Content-Length body bytes still to throw away
  std::uint64_t requests = 0;           // responses planned on this connection
  RequestParser parser;                 // resumable: keeps offsets into in + in_begin

  // Output: the plan being sent, and how far we got.
  ResponsePlan plan;
  UniqueFd file;                 // the file the plan's kFile segments refer to
  std::string file_bytes;        // small kFile segments read ahead (sent with the head)
  bool file_preread = false;     // kFile segments are served from file_bytes
  std::vector<std::uint64_t> preread_at;  // per segment: its offset in file_bytes
  bool sending = false;          // a response is under way
  std::size_t head_sent = 0;     // bytes of plan.head() sent
  std::size_t segment = 0;       // index of the body segment being sent
  std::uint64_t segment_sent = 0;
  bool close_after = false;      // close once the response is sent, after a lingering close
  // The access-log line of a response that parked before its end (completed with the bytes
  // sent when it ends, wherever that is); empty otherwise.
  PendingLine log_line;

  // Poller bookkeeping (only the poller's lock protects these while parked).
  bool in_epoll = false;
  ParkReason park_reason = ParkReason::kRead;
  Clock::time_point deadline{};
  std::uint64_t linger_drained = 0;

#if defined(HTTPOWER_HANDOFF_CHECKS)
  handoff::Tag handoff;  // C1 at run time: the id and the current owner (handoff.hpp)
#endif

  [[nodiscard]] std::size_t buffered() const noexcept { return in_end - in_begin; }
  // Part of a request is here: bytes of it buffered, or its body still being discarded.
  [[nodiscard]] bool partial_request() const noexcept {
    return buffered() != 0 || discard_remaining != 0;
  }

  // Bytes of the current response's body handed to the kernel so far.
  [[nodiscard]] std::uint64_t body_bytes_sent() const noexcept {
    if (head_sent < plan.head().size()) return 0;
    const auto segs = plan.body();
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < segment && i < segs.size(); ++i) n += segs[i].length;
    return segment < segs.size() ? n + segment_sent : n;
  }

  // M1, the memory a connection holds between requests (docs/server.md, "Memory").
  void take_input() {
    HTTPOWER_OWNED(*this);
    if (!in) in = std::make_unique_for_overwrite<char[]>(kInputCapacity);
  }
  // After each response: no read-ahead, and the plan's buffers at most their reserve (a
  // listing or a multipart plan does not stay with the connection).
  void end_response() noexcept {
    HTTPOWER_OWNED(*this);
    file.reset();
    PendingLine().text.swap(log_line.text);
    file_preread = false;
    std::string().swap(file_bytes);
    std::vector<std::uint64_t>().swap(preread_at);
    plan.trim();
  }
  // Parked for its next request with nothing buffered: no heap buffer at all. Thousands of
  // idle keep-alive connections then cost sizeof(Connection) each, not 20 KiB or more.
  void release_idle_memory() noexcept {
    HTTPOWER_OWNED(*this);
    end_response();
    plan.release();
    if (buffered() == 0) {
      in.reset();
      in_begin = in_end = 0;
    }
  }
  // Heap bytes held by the buffers above (tests check M1 with it).
  [[nodiscard]] std::size_t heap_bytes() const noexcept {
    const std::size_t read_ahead =
        file_bytes.capacity() > std::string().capacity() ? file_bytes.capacity() + 1 : 0;
    return (in ? kInputCapacity : 0) + plan.heap_bytes() + read_ahead +
           preread_at.capacity() * sizeof(std::uint64_t);
  }
  // M1's bounds: after a response, and parked idle.
  [[nodiscard]] static std::size_t after_response_max() noexcept {
    return kInputCapacity + ResponsePlan::reserved_bytes();
  }
  static constexpr std::size_t kIdleHeapMax = 0;
};

using ConnPtr = std::unique_ptr<Connection>;

}  // namespace httpower
