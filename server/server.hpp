#pragma once
// Server: the composition of the threads in README "Design". start() binds and spawns the poller, the workers and
// the supervisor; run() is the acceptor loop (the main thread in the binary, any thread in
// tests) and returns the exit status once every thread is joined and every fd closed.
//
// Threads and ownership (C1): acceptor -> queue -> worker -> (poller -> queue -> worker)*.
// A connection is closed by its current owner, which goes through close_connection() so the
// open-connection count (--max-connections, the drain) stays exact.
//
// Shutdown (S1-S3): request_stop() is async-signal-safe (one eventfd write); in the binary a
// signalfd carries SIGINT/SIGTERM to the supervisor instead (signals blocked in every
// thread). The supervisor runs the protocol: draining_ -> the acceptor drains the listen
// backlog into the poller and closes the listener; the poller closes idle keep-alive
// connections; workers answer what they have with "Connection: close"; when no connection
// is left, or at the drain deadline, or on a second stop request (aborting_), the queue is
// closed (waking a blocked acceptor push and idle workers), the poller stops (closing what
// it holds), and every worker and the poller are joined.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "access_log.hpp"
#include "config.hpp"
#include "connection.hpp"
#include "error_log.hpp"
#include "httpower/bounded_queue.hpp"
#include "httpower/mime.hpp"
#include "httpower/negotiation.hpp"
#include "httpower/target_resolver.hpp"
#include "listener.hpp"
#include "poller.hpp"
#include "static_files.hpp"

namespace httpower {

struct ServerStats {
  std::uint64_t accepted = 0;
  std::uint64_t closed = 0;
  std::uint64_t responses = 0;
  std::uint64_t max_open = 0;  // high-water mark of open connections
};

class Server {
 public:
  // Exit status after a second stop request (documented in docs/server.md).
  static constexpr int kForcedExitStatus = 130;

  explicit Server(Config config);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  // Binds the listener, opens the root and the log, spawns every thread except the acceptor.
  // signal_fd: a signalfd the supervisor reads stop signals from (-1: none; the caller owns
  // it and keeps it open until run() returns). Throws StartupError.
  void start(int signal_fd = -1);

  // The acceptor loop; returns 0 after a graceful stop, kForcedExitStatus after a second
  // stop request. Every thread is joined and every connection closed when it returns.
  int run();

  // Async-signal-safe: the first call starts the graceful stop, the second forces it.
  void request_stop() noexcept;

  // The first listener's port and URL (one listener per -b, or per inherited socket).
  [[nodiscard]] std::uint16_t port() const noexcept { return listeners_.front().port; }
  [[nodiscard]] std::string url() const { return url_; }
  // Every URL a person can open (listener_urls of every listener, in order); url() is the
  // first.
  [[nodiscard]] std::vector<std::string> urls() const;
  // Reopens the access and error log files under their names (SIGUSR1 in the binary, after
  // logrotate renamed them); a log that cannot be reopened keeps its old file and says so
  // on the error log.
  void reopen_logs();
  [[nodiscard]] const std::string& root() const noexcept { return root_->absolute_path(); }
  [[nodiscard]] const Config& config() const noexcept { return config_; }
  [[nodiscard]] std::size_t open_connections() const noexcept { return live_.load(); }
  [[nodiscard]] ServerStats stats() const noexcept;
  // Access-log lines dropped because the sink was full or failing (L2); 0 before start().
  [[nodiscard]] std::uint64_t access_log_dropped() const noexcept {
    return log_ ? log_->dropped() : 0;
  }
  // For tests: waits (on a condition variable signalled by every close) until at most n
  // connections are open, or the deadline. Returns whether the count got there.
  [[nodiscard]] bool wait_open_connections_at_most(std::size_t n, Clock::time_point deadline)
      EXCLUDES(watch_mu_);
  // For tests: the n-th thread start() spawns (1-based; 0 = none) fails as if the system
  // refused it (std::system_error, EAGAIN), so the clean-up of a partial start is testable.
  void fail_thread_start_for_test(unsigned n) noexcept { fail_thread_at_ = n; }
  // For tests, before start(): the clock every timeout of the server and its poller reads
  // (Clock::now otherwise), so a test moves time instead of waiting for it.
  void use_clock_for_test(NowFn now) noexcept { now_ = now; }
  // For tests: the parked connections' deadlines and reasons, earliest first (none before
  // start()).
  [[nodiscard]] std::vector<std::pair<Clock::time_point, ParkReason>> parked_deadlines() const {
    return poller_ ? poller_->parked_deadlines()
                   : std::vector<std::pair<Clock::time_point, ParkReason>>{};
  }
  // For tests that moved their clock: the poller looks at its deadlines now.
  void wake_poller_for_test() noexcept {
    if (poller_) poller_->wake();
  }
  // For tests: a connected socket (one end of a socketpair) enters as if just accepted, and
  // the real workers and poller serve it (fuzz/connection_fuzzer).
  void adopt_for_test(UniqueFd fd) { admit(std::move(fd), false); }

 private:
  struct Worker;
  // kBlocked: park for writing, either because the socket would block or because the turn's
  // send budget is spent while other connections wait in the ready queue (fairness, W1).
  enum class SendResult { kDone, kBlocked, kError };

  void open_listeners();
  void accept_batch(int listen_fd);
  void handle_fd_exhaustion(int listen_fd);
  void refuse_unavailable(UniqueFd fd);
  void count_accepted() noexcept;
  void stop_started_threads() noexcept;
  void drain_backlog();
  void drain_listener(const Listener& l);
  void admit(UniqueFd fd, bool during_drain);
  void supervise();
  [[nodiscard]] bool wait_drained();
  [[nodiscard]] bool wait_supervisor_event(int timeout_ms);
  void worker_main(unsigned id);
  void serve(Worker& w, ConnPtr c);
  [[nodiscard]] bool send_turn(Worker& w, ConnPtr& c);
  [[nodiscard]] bool plan_buffered(Worker& w, Connection& c);
  void handle_request(Worker& w, Connection& c, const RequestHead& head, std::size_t consumed);
  void handle_parse_error(Worker& w, Connection& c, const ParseResult& r);
  [[nodiscard]] bool request_follows(Worker& w, const Connection& c, std::size_t consumed,
                                     std::uint64_t discard) const;
  void plan_get(Worker& w, Connection& c, const RequestHead& head, const ResolvedTarget& t,
                const PlanContext& ctx);
  void serve_file(Worker& w, Connection& c, const RequestHead& head, const ResolvedTarget& t,
                  OpenedFile f, const PlanContext& ctx);
  [[nodiscard]] Coding find_variant(Worker& w, const RequestHead& head, std::string_view path,
                                    const FileFacts& original, OpenedFile& variant) const;
  [[nodiscard]] bool spa_applies(const RequestHead& head, const ResolvedTarget& t,
                                 const OpenedFile& f) const;
  [[nodiscard]] std::string_view cache_control_for(std::string_view path) const;
  [[nodiscard]] std::string_view request_fields(Worker& w, const RequestHead& head,
                                                const ResolvedTarget& t) const;
  void apply_error_page(Worker& w, Connection& c, const RequestHead& head, const PlanContext& ctx);
  void resolve_operator_files();
  void prepare_body(Connection& c, UniqueFd file);
  void sniff_text(std::string_view path, OpenedFile& f) const;
  SendResult send_some(Connection& c);
  SendResult send_failed(const char* call);
  void report_at_exit();
  void announce(const std::string& line);
  void log_response(Worker& w, Connection& c);
  void finish_response(Connection& c);
  void park_for_read(ConnPtr c);
  void close_or_linger(ConnPtr c);

 public:  // used by the poller's closer and tests
  void close_connection(ConnPtr c) noexcept;

 private:
  Config config_;
  Timeouts limits_;            // from config_
  NowFn now_ = &Clock::now;    // every timeout's "now" (timeouts.hpp)
  std::unique_ptr<ErrorLog> errors_;
  std::unique_ptr<FileRoot> root_;
  std::unique_ptr<AccessLog> log_;
  MimeTypes mime_;
  // Resolved at start-up from the operator's options (docs/server.md "Operator fields").
  std::string extra_fields_;      // --cors and --header lines, on every response
  std::string spa_buf_;           // --spa's resolved target lives here
  ResolvedTarget spa_target_;
  std::vector<std::pair<int, std::string>> error_pages_;  // status -> path beneath the root
  std::vector<Listener> listeners_;
  std::string url_;
  BoundedQueue<ConnPtr> queue_;
  std::unique_ptr<Poller> poller_;
  UniqueFd stop_fd_;    // eventfd: stop requests and "last connection closed" (supervisor)
  UniqueFd accept_fd_;  // eventfd: "a connection closed" / "stop" (acceptor)
  UniqueFd reserve_fd_; // spare descriptor for EMFILE (its slot takes a connection refused with 503)
  ResponsePlan refusal_;  // the acceptor's 503 for a connection refused for lack of descriptors
  int signal_fd_ = -1;

  std::atomic<std::size_t> live_{0};
  std::atomic<bool> acceptor_waiting_{false};
  std::atomic<bool> draining_{false};
  std::atomic<bool> listener_closed_{false};  // the acceptor is done (backlog drained)
  std::atomic<bool> aborting_{false};
  std::atomic<unsigned> stop_requests_{0};
  std::atomic<bool> forced_{false};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> closed_{0};
  std::atomic<std::uint64_t> responses_{0};
  std::atomic<std::uint64_t> cut_{0};  // responses cut short by the drain deadline / 2nd stop
  std::atomic<std::uint64_t> max_open_{0};

  std::atomic<int> watchers_{0};
  Mutex watch_mu_;
  CondVar watch_cv_;

  std::vector<std::thread> workers_;
  std::thread poller_thread_;
  std::thread supervisor_;
  bool started_ = false;
  unsigned fail_thread_at_ = 0;
};

}  // namespace httpower
