#include "server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <system_error>

#include "httpower/field_syntax.hpp"
#include "httpower/target_resolver.hpp"
#include "httpower/version.hpp"
#include "privileges.hpp"
#include "systemd.hpp"

namespace httpower {

namespace {

constexpr std::uint64_t kPrereadMax = 64 * 1024;  // file bodies up to this go out with the head
constexpr std::size_t kSendfileChunk = 4u << 20;  // re-check the abort flag between chunks
// A worker hands a response back to the poller (to the queue's tail) after this many bytes
// in one turn when other connections wait in the ready queue: a fast reader's socket may
// never block, and one download must not hold a worker to its last byte.
constexpr std::uint64_t kTurnBudget = kSendfileChunk;
constexpr int kAcceptBatch = 64;
constexpr int kBacklog = 4096;
constexpr int kBacklogDrainMax = 4096;
constexpr std::string_view kServerName = "HTTPower/0.1.0";
// At exit a worker waits at most this long for a slow access-log reader, then drops (L2).
constexpr std::chrono::milliseconds kLogExitWait{500};

void notify(int efd) noexcept {
  const std::uint64_t one = 1;
  (void)!::write(efd, &one, sizeof one);  // async-signal-safe
}

void drain_eventfd(int efd) noexcept {
  std::uint64_t v = 0;
  (void)!::read(efd, &v, sizeof v);
}

// The MIME layers over the built-in table: the mime.types file, then the user's --mime.
MimeTypes load_mime_types(const Config& config) {
  MimeTypes types;
  if (!config.mime_types_file.empty()) {
    std::ifstream in(config.mime_types_file, std::ios::binary);
    if (in) {
      std::ostringstream text;
      text << in.rdbuf();
      (void)types.add_mime_types_text(text.str());
    } else if (config.mime_types_file_given) {
      throw StartupError("cannot read MIME types file '" + config.mime_types_file +
                         "': " + std::strerror(errno));
    }
  }
  for (const auto& [ext, type] : config.mime_overrides) (void)types.add(ext, type);
  return types;
}

// Errors that are the client's doing, not the server's: not worth an error-log line.
bool client_went_away(int err) {
  return err == ECONNRESET || err == EPIPE || err == ETIMEDOUT || err == ENOTCONN;
}

std::string count_text(std::uint64_t n, std::string_view noun) {
  std::string s = std::to_string(n) + " ";
  s += noun;
  if (n != 1) s += 's';
  return s;
}

std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

Config finalized(Config c) {
  c.finalize();
  return c;
}

std::string_view field(const RequestHead& head, std::string_view name) {
  for (const HeaderField& f : head.headers) {
    if (iequals_ascii(f.name, name)) return f.value;
  }
  return {};
}

// Every field `name` of the request, joined with ", " into buf (RFC 9110 §5.3); false when
// there is none.
bool joined_field(const RequestHead& head, std::string_view name, std::string& buf) {
  bool present = false;
  buf.clear();
  for (const HeaderField& f : head.headers) {
    if (!iequals_ascii(f.name, name)) continue;
    if (present) buf += ", ";
    buf += f.value;
    present = true;
  }
  return present;
}

// A path --spa never answers for: its last segment has an extension (a '.' in it: "app.js")
// so it names a file, or a segment is a dotfile (".env", ".well-known"): a missing ACME
// challenge or a config file must be 404, not the app.
bool names_a_file(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return last.find('.') != std::string_view::npos || path.starts_with('.') ||
         path.find("/.") != std::string_view::npos;
}

bool not_older(const FileFacts& variant, const FileFacts& original) {
  if (variant.mtime_sec != original.mtime_sec) return variant.mtime_sec > original.mtime_sec;
  return variant.mtime_nsec >= original.mtime_nsec;
}

}  // namespace

struct Server::Worker {
  explicit Worker(AccessLog* access_log) : log(access_log) { target_buf.reserve(64 * 1024); }
  LogBuffer log;
  std::array<HeaderField, RequestParser::kMaxHeaderFields> slots{};
  std::array<HeaderField, RequestParser::kMaxHeaderFields> probe_slots{};  // drain look-ahead
  std::string target_buf;    // resolve_target's buffer; reserved so views stay put
  std::string path_scratch;  // C string for openat2
  std::string variant_path;  // NAME.br and the like (--precompressed)
  std::string joined;        // a request field given several times, joined
  std::string fields;        // the response's operator fields with a CORS preflight's
  PendingLine pending;       // the access-log line of the response being sent ...
  bool has_pending = false;  // ... until it ends or parks (then it moves to the connection)
};

Server::Server(Config config)
    : config_(finalized(std::move(config))),
      limits_{config_.header_timeout, config_.idle_timeout, config_.send_timeout,
              config_.linger_timeout},
      queue_(config_.queue_capacity) {}

Server::~Server() {
  if (supervisor_.joinable()) {  // start() without run(): stop now, at once
    request_stop();
    request_stop();
    (void)run();
  }
}

void Server::start(int signal_fd) {
#if defined(HTTPOWER_HANDOFF_CHECKS)
  handoff::start_trace();  // before any thread of this server runs
#endif
  errors_ = std::make_unique<ErrorLog>(config_.error_log);
  root_ = std::make_unique<FileRoot>(config_.root, config_.dotfiles);
  log_ = std::make_unique<AccessLog>(config_.access_log, *errors_);
  mime_ = load_mime_types(config_);
  resolve_operator_files();
  open_listeners();
  url_ = urls().front();
  // Everything that needs the starting user's rights is open; no thread exists yet, so the
  // switch covers the whole process.
  if (!config_.user.empty()) drop_privileges(config_.user);
  stop_fd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  accept_fd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  reserve_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!stop_fd_ || !accept_fd_) throw StartupError(std::string("eventfd: ") + std::strerror(errno));
  poller_ = std::make_unique<Poller>(
      queue_, [this](ConnPtr c) { close_connection(std::move(c)); }, *errors_,
      config_.send_timeout, config_.linger_timeout, now_);
  signal_fd_ = signal_fd;
  // A peer that resets the connection must not kill the process: sendmsg uses MSG_NOSIGNAL,
  // but sendfile has no such flag.
  std::signal(SIGPIPE, SIG_IGN);

  // A thread the system refuses (EAGAIN: RLIMIT_NPROC, address space, pids.max) must not
  // leave joinable threads behind (std::terminate): those already running are stopped and
  // joined, and start() fails like any other start-up error.
  const unsigned total = config_.threads + 2;
  unsigned spawned = 0;
  auto spawn = [&](auto body) {
    if (++spawned == fail_thread_at_) {
      throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
    }
    return std::thread(std::move(body));
  };
  try {
    poller_thread_ = spawn([this] { poller_->run(); });
    for (unsigned i = 0; i < config_.threads; ++i) {
      workers_.push_back(spawn([this, i] { worker_main(i); }));
    }
    supervisor_ = spawn([this] { supervise(); });
  } catch (const std::system_error& e) {
    stop_started_threads();
    throw StartupError("cannot start thread " + std::to_string(spawned) + " of " +
                       std::to_string(total) + ": " + e.code().message());
  }
  started_ = true;
}

void Server::open_listeners() {
  if (!config_.inherited_listeners.empty()) {
    for (const int fd : config_.inherited_listeners) listeners_.push_back(adopt_listener(fd));
    return;
  }
  for (const std::string& addr : config_.bind) {
    listeners_.push_back(open_listener(addr, config_.port, kBacklog));
  }
}

std::vector<std::string> Server::urls() const {
  std::vector<std::string> all;
  for (const Listener& l : listeners_) {
    for (std::string& u : listener_urls(l)) {
      if (std::find(all.begin(), all.end(), u) == all.end()) all.push_back(std::move(u));
    }
  }
  return all;
}

void Server::reopen_logs() {
  for (const std::string& why : {errors_->reopen(), log_->reopen()}) {
    if (!why.empty()) errors_->report_always(why);
  }
  announce("SIGUSR1: log files reopened");
}

// --cors and --header become lines every response carries; --spa must name a regular file
// beneath the root (a start-up error otherwise); --error-page files may be missing (the
// built-in page is sent then) and are looked up per response.
void Server::resolve_operator_files() {
  extra_fields_.clear();
  if (config_.cors) extra_fields_ += "Access-Control-Allow-Origin: *\r\n";
  for (const auto& [name, value] : config_.extra_headers) {
    extra_fields_ += name + ": " + value + "\r\n";
  }
  const auto beneath_root = [](const std::string& file, std::string& buf) {
    return resolve_target(file.starts_with('/') ? file : "/" + file, buf);
  };
  if (!config_.spa.empty()) {
    spa_target_ = beneath_root(config_.spa, spa_buf_);
    std::string scratch;
    if (!spa_target_.ok() || spa_target_.has_query ||
        root_->open(spa_target_.path, scratch).facts.kind != FileKind::kRegular) {
      throw StartupError("--spa " + config_.spa + ": not a regular file beneath " +
                         root_->absolute_path());
    }
  }
  error_pages_.clear();
  for (const auto& [status, file] : config_.error_pages) {
    std::string buf;
    const ResolvedTarget t = beneath_root(file, buf);
    if (!t.ok() || t.has_query || t.path.empty()) {
      throw StartupError("--error-page " + file + ": not a file path beneath the root");
    }
    error_pages_.emplace_back(status, std::string(t.path));
  }
}

// Only the poller and workers can be running (the supervisor is the last thread started):
// the same wake-ups as the end of the shutdown, with no connection open yet.
void Server::stop_started_threads() noexcept {
  aborting_.store(true);
  HTTPOWER_TRACE(kAbort);
  queue_.close();
  HTTPOWER_TRACE(kQueueClose);
  poller_->stop();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  if (poller_thread_.joinable()) poller_thread_.join();
}

void Server::request_stop() noexcept {
  stop_requests_.fetch_add(1);
  if (stop_fd_) notify(stop_fd_.get());
}

ServerStats Server::stats() const noexcept {
  return ServerStats{accepted_.load(), closed_.load(), responses_.load(), max_open_.load()};
}

// ---------------------------------------------------------------------------------------
// Acceptor (the thread that calls run()).

int Server::run() {
  if (!started_) return 1;
  HTTPOWER_SET_SELF(handoff::Role::kAcceptor);
  // Every listener, then the acceptor's eventfd.
  std::vector<pollfd> fds;
  for (const Listener& l : listeners_) fds.push_back({l.fd.get(), POLLIN, 0});
  fds.push_back({accept_fd_.get(), POLLIN, 0});
  const std::size_t wake = listeners_.size();
  if (!notify_service_manager(config_.notify_socket, "READY=1")) {
    errors_->report("notify socket: READY=1", errno);
  }
  while (!draining_.load()) {
    bool at_limit = false;
    if (live_.load() >= config_.max_connections) {
      // Dekker pair with close_connection(): flag first, then re-check the count.
      acceptor_waiting_.store(true);
      at_limit = live_.load() >= config_.max_connections;
      if (!at_limit) acceptor_waiting_.store(false);
    }
    if (!reserve_fd_) {
      // The spare's slot is lent to a refused connection: every close wakes the acceptor
      // (same Dekker pair) until it has taken a slot back, so the next EMFILE finds it.
      acceptor_waiting_.store(true);
      reserve_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      if (reserve_fd_ && !at_limit) acceptor_waiting_.store(false);
    }
    for (std::size_t i = 0; i < wake; ++i) fds[i].events = at_limit ? 0 : POLLIN;
    const int n = ::poll(fds.data(), fds.size(), -1);
    if (n < 0) {  // EINTR cannot happen (signals blocked), but is harmless
      if (errno != EINTR) errors_->report("acceptor poll", errno);
      continue;
    }
    if (fds[wake].revents & POLLIN) {
      drain_eventfd(accept_fd_.get());
      acceptor_waiting_.store(false);
    }
    if (draining_.load()) break;
    for (std::size_t i = 0; i < wake && !at_limit; ++i) {
      if (fds[i].revents & POLLIN) accept_batch(fds[i].fd);
    }
  }
  // S2 step 1: take what the kernel already accepted (they get an answer or an orderly
  // close), then close the listener: new connects are refused.
  drain_backlog();
  for (Listener& l : listeners_) l.fd.reset();
  HTTPOWER_TRACE(kAcceptorStopped);
  // The drain is not over before this point: connections taken from the backlog above count.
  listener_closed_.store(true);
  notify(stop_fd_.get());
  supervisor_.join();
  started_ = false;
#if defined(HTTPOWER_HANDOFF_CHECKS)
  handoff::finish_trace();  // every thread of this server is joined
  HTTPOWER_SET_SELF(handoff::Role::kNone);
#endif
  report_at_exit();
  return forced_.load() ? kForcedExitStatus : 0;
}

// The exit summary: lines the access log lost and error-log lines suppressed are reported
// whatever the rate limit (nothing is written when there are none).
void Server::report_at_exit() {
  if (log_->dropped() > 0) {
    errors_->report_always("stopped; access log: " + std::to_string(log_->dropped()) +
                           " lines dropped in all (the sink was full or failing)");
  }
  std::string last = "stopped: " + count_text(responses_.load(), "response");
  if (cut_.load() > 0) last += ", " + std::to_string(cut_.load()) + " of them cut short";
  last += forced_.load() ? "; exit status 130 (forced)" : "; exit status 0";
  announce(last);
  errors_->finish();
}

// The few lines a person at the terminal needs about a stop (the binary sets
// config.announce; the in-process tests leave it off). Not rate-limited.
void Server::announce(const std::string& line) {
  if (config_.announce) errors_->report_always(line);
}

void Server::accept_batch(int listen_fd) {
  // The spare descriptor first: after a refusal its slot holds the refused connection, and
  // it takes a slot back before any new connection can.
  if (!reserve_fd_) reserve_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  for (int i = 0; i < kAcceptBatch && !draining_.load(); ++i) {
    if (live_.load() >= config_.max_connections) return;
    const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      admit(UniqueFd(fd), false);
      continue;
    }
    switch (errno) {
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
        continue;
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM:
        errors_->report("accept4: a pending connection is closed unanswered", errno);
        handle_fd_exhaustion(listen_fd);
        return;
      case EAGAIN:  // backlog empty
        return;
      default:
        errors_->report("accept4", errno);
        return;
    }
  }
}

// Out of descriptors: the listener must survive and the loop must not spin (poll would
// report the listener readable again at once). The spare descriptor's slot takes the
// pending connection, which gets a 503 rather than hanging in the backlog
// (refuse_unavailable); then, if we hold connections, wait for one of them to close (an
// event, with a 1 s cap in case the descriptors are held by someone else).
void Server::handle_fd_exhaustion(int listen_fd) {
  if (!reserve_fd_) reserve_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (reserve_fd_) {
    reserve_fd_.reset();
    const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) refuse_unavailable(UniqueFd(fd));
    // Fails while the refused connection lingers in the slot; accept_batch retries.
    reserve_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (reserve_fd_ && live_.load() == 0) return;
  }
  acceptor_waiting_.store(true);
  pollfd p{accept_fd_.get(), POLLIN, 0};
  (void)::poll(&p, 1, 1000);
  drain_eventfd(accept_fd_.get());
  acceptor_waiting_.store(false);
}

void Server::drain_backlog() {
  for (const Listener& l : listeners_) {
    if (l.fd) drain_listener(l);
  }
}

void Server::drain_listener(const Listener& l) {
  const int listen_fd = l.fd.get();
  // First make the listener drop every new SYN (a socket filter that accepts nothing): then
  // no handshake can complete between the last accept below and the close, where the kernel
  // would reset it. A dropped SYN is retried by the client after ~1 s and then refused.
  // An inherited socket is left unfiltered: the service manager's copy of it outlives this
  // process, and what arrives after the last accept below waits there for the next instance
  // (a restart loses no connection).
  sock_filter drop_all = BPF_STMT(BPF_RET | BPF_K, 0);
  sock_fprog prog{1, &drop_all};
  if (!l.inherited) {
    (void)setsockopt(listen_fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
  }
  for (int i = 0; i < kBacklogDrainMax; ++i) {
    const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // Out of descriptors: refuse with 503 (or wait for a close) rather than leave the
      // backlog to the listener's close, which resets it; bounded by the drain deadline.
      if ((errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) &&
          !aborting_.load()) {
        handle_fd_exhaustion(listen_fd);
        continue;
      }
      return;
    }
    admit(UniqueFd(fd), true);
  }
}

void Server::count_accepted() noexcept {
  const std::uint64_t open_now = live_.fetch_add(1) + 1;
  accepted_.fetch_add(1);
  std::uint64_t seen = max_open_.load(std::memory_order_relaxed);
  while (open_now > seen && !max_open_.compare_exchange_weak(seen, open_now)) {
  }
}

// A connection in the spare descriptor's slot, refused for lack of descriptors: one 503
// with "Connection: close" (it fits an empty socket buffer, so one non-blocking send), then
// the lingering close of every closing error (C2): closing over the client's unread request
// would answer it with a reset, which can destroy the 503 before the client reads it. The
// poller reads and discards until the client closes, or the linger deadline.
void Server::refuse_unavailable(UniqueFd fd) {
  count_accepted();
  ConnPtr c = std::make_unique<Connection>();
  HTTPOWER_ACCEPTED(*c);
  c->fd = std::move(fd);
  PlanContext ctx;
  ctx.now = std::time(nullptr);
  ctx.closing = true;
  ctx.server = kServerName;
  plan_parse_error(503, ctx, refusal_);
  std::array<iovec, 4> iov{};
  std::size_t n_iov = 0;
  iov[n_iov++] = {const_cast<char*>(refusal_.head().data()), refusal_.head().size()};
  for (const BodySegment& s : refusal_.body()) {
    const std::string_view bytes = refusal_.inline_bytes(s);
    if (n_iov < iov.size()) iov[n_iov++] = {const_cast<char*>(bytes.data()), bytes.size()};
  }
  msghdr m{};
  m.msg_iov = iov.data();
  m.msg_iovlen = n_iov;
  const std::size_t total = refusal_.head().size() + refusal_.body_length();
  if (::sendmsg(c->fd.get(), &m, MSG_NOSIGNAL | MSG_DONTWAIT) != static_cast<ssize_t>(total)) {
    close_connection(std::move(c));  // the client is gone already
    return;
  }
  responses_.fetch_add(1);
  (void)::shutdown(c->fd.get(), SHUT_WR);
  const Clock::time_point now = now_();
  c->times.accepted(now);
  poller_->park(std::move(c), ParkReason::kLinger, linger_deadline(now, limits_));
}

void Server::admit(UniqueFd fd, bool during_drain) {
  count_accepted();
  // TCP_NODELAY comes from the listener (open_listener).
  ConnPtr c = std::make_unique<Connection>();
  HTTPOWER_ACCEPTED(*c);
  c->fd = std::move(fd);
  if (log_->enabled()) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getpeername(c->fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      if (ss.ss_family == AF_INET6) {
        const auto& a6 = reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
          inet_ntop(AF_INET, &a6.s6_addr[12], c->peer, sizeof c->peer);
        } else {
          inet_ntop(AF_INET6, &a6, c->peer, sizeof c->peer);
        }
      } else {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, c->peer,
                  sizeof c->peer);
      }
    }
  }
  c->times.accepted(now_());
  if (during_drain) {
    // The queue may be full and the acceptor must not block now: the poller hands the
    // connection to a worker once its request arrives (or closes it at the deadline).
    const Clock::time_point deadline = read_deadline(c->times, true, limits_);
    poller_->park(std::move(c), ParkReason::kRead, deadline);
    return;
  }
  // Blocking push: a full queue holds the acceptor, and backpressure goes to the backlog.
  const QueueStatus st =
      hand_to_queue(c, [this](ConnPtr&& x) { return queue_.push(std::move(x)); });
  if (st != QueueStatus::kOk) close_connection(std::move(c));
}

void Server::close_connection(ConnPtr c) noexcept {
  if (!c) return;
  HTTPOWER_OWNED(*c);  // C1: only the owner closes
  HTTPOWER_TRACE_CONN(kClose, *c);
#if defined(HTTPOWER_HANDOFF_CHECKS)
  c->handoff.owner.store(static_cast<std::uint32_t>(handoff::Role::kClosed),
                         std::memory_order_relaxed);
#endif
  if (c->sending && aborting_.load()) cut_.fetch_add(1);  // the drain deadline or a 2nd stop
  if (!c->log_line.empty()) {  // a parked response ends here: log what it sent
    try {
      std::string line;
      c->log_line.complete(c->body_bytes_sent(), line);
      log_->write_now(line);
    } catch (const std::bad_alloc&) {
      log_->count_dropped(1, LogSink::Write::kFailed, ENOMEM);
    }
  }
  c.reset();  // closes the socket and any file
  closed_.fetch_add(1);
  const std::size_t left = live_.fetch_sub(1) - 1;
  if (acceptor_waiting_.load()) notify(accept_fd_.get());
  if (left == 0 && draining_.load()) notify(stop_fd_.get());
  if (watchers_.load() > 0) {
    MutexLock lock(watch_mu_);
    watch_cv_.notify_all();
  }
}

bool Server::wait_open_connections_at_most(std::size_t n, Clock::time_point deadline) {
  watchers_.fetch_add(1);
  bool ok = true;
  {
    MutexLock lock(watch_mu_);
    while (live_.load() > n) {
      if (!watch_cv_.wait_until(lock, deadline) && live_.load() > n) {
        ok = false;
        break;
      }
    }
  }
  watchers_.fetch_sub(1);
  return ok;
}

// ---------------------------------------------------------------------------------------
// Supervisor: the shutdown protocol (README "Design", docs/server.md "Exit status and
// shutdown", S1-S3).

bool Server::wait_supervisor_event(int timeout_ms) {
  pollfd fds[2] = {{stop_fd_.get(), POLLIN, 0}, {signal_fd_, POLLIN, 0}};
  const int n = ::poll(fds, signal_fd_ >= 0 ? 2 : 1, timeout_ms);
  if (n <= 0) return false;
  if (fds[0].revents & POLLIN) drain_eventfd(stop_fd_.get());
  if (signal_fd_ >= 0 && (fds[1].revents & POLLIN)) {
    signalfd_siginfo info[8];
    const ssize_t r = ::read(signal_fd_, info, sizeof info);
    for (ssize_t i = 0; i < r / static_cast<ssize_t>(sizeof(signalfd_siginfo)); ++i) {
      if (info[i].ssi_signo == SIGUSR1) {
        reopen_logs();
      } else {
        stop_requests_.fetch_add(1);
      }
    }
  }
  return true;
}

// The drain is over when the acceptor has stopped (backlog drained, listener closed) and no
// connection is left; the queue must not close before (a push from the acceptor would be
// refused and its connection closed unanswered). True when it got there; false at the drain
// deadline or on a second stop request.
bool Server::wait_drained() {
  const Clock::time_point deadline = now_() + config_.drain_timeout;
  for (;;) {
    if (live_.load() == 0 && listener_closed_.load()) return true;
    if (stop_requests_.load() >= 2) return false;
    const Clock::time_point now = now_();
    if (deadline_reached(deadline, now)) return false;
    (void)wait_supervisor_event(wait_ms(deadline, now, std::chrono::minutes(1)));
  }
}

void Server::supervise() {
  HTTPOWER_SET_SELF(handoff::Role::kSupervisor);
  while (stop_requests_.load() == 0) (void)wait_supervisor_event(-1);
  HTTPOWER_TRACE(kStopRequest);
  // Step 1-2: stop accepting, close idle connections, answer what was received.
  draining_.store(true);
  HTTPOWER_TRACE(kDrainBegin);
  notify(accept_fd_.get());
  poller_->begin_drain();
  (void)notify_service_manager(config_.notify_socket, "STOPPING=1");
  announce("stopping: no new connections; finishing the responses of " +
           count_text(live_.load(), "open connection") + " for up to " +
           seconds_text(config_.drain_timeout) + " (Ctrl-C again stops at once)");
  if (wait_drained()) {
    HTTPOWER_TRACE(kDrainOver);
  } else {
    HTTPOWER_TRACE(kDrainForced);
  }
  if (stop_requests_.load() >= 2) {
    forced_.store(true);
    announce("second stop signal: stopping now; closing " + count_text(live_.load(), "connection") +
             ", responses under way are cut short");
  } else if (live_.load() > 0) {
    announce("drain deadline (" + seconds_text(config_.drain_timeout) + ") reached: closing " +
             count_text(live_.load(), "connection") + ", responses under way are cut short");
  }
  // Step 3-4: whatever is left is closed by its owner; every blocked thread wakes.
  aborting_.store(true);
  HTTPOWER_TRACE(kAbort);
  queue_.close();
  HTTPOWER_TRACE(kQueueClose);
  poller_->stop();
  for (std::thread& t : workers_) t.join();
  poller_thread_.join();
  HTTPOWER_TRACE(kJoined);
}

// ---------------------------------------------------------------------------------------
// Workers.

void Server::worker_main(unsigned id) {
  (void)id;
  HTTPOWER_SET_SELF(handoff::worker_role(id));
  Worker w(log_.get());
  for (;;) {
    PopResult<ConnPtr> r = queue_.try_pop();
    while (r.status == QueueStatus::kEmpty || r.status == QueueStatus::kTimeout) {
      // About to wait for work: write the lines we hold. A full sink keeps them, and the
      // worker retries every kRetry instead of waiting on the sink (L2).
      w.log.flush();
      r = w.log.holding() ? queue_.pop_for(LogBuffer::kRetry) : queue_.pop();
    }
    if (!r.ok()) break;  // closed and drained
    HTTPOWER_TAKE(**r.item, kQueue);
    HTTPOWER_TRACE_CONN(kPop, **r.item);
    poller_->queue_space();  // the poller may hold connections that found the queue full
    serve(w, std::move(*r.item));
  }
  HTTPOWER_TRACE(kWorkerExit);
  w.log.finish(Clock::now() + kLogExitWait);
}

void Server::serve(Worker& w, ConnPtr c) {
  if (aborting_.load()) {
    close_connection(std::move(c));
    return;
  }
  for (;;) {
    HTTPOWER_OWNED(*c);
    if (c->sending) {
      if (!send_turn(w, c)) return;  // parked or closed: c is no longer ours (C1)
      continue;
    }
    if (plan_buffered(w, *c)) continue;  // a response is planned: send it
    if (c->in_begin == c->in_end) c->in_begin = c->in_end = 0;
    if (!c->maybe_readable) {
      park_for_read(std::move(c));
      return;
    }
    if (c->in_begin > 0) {  // keep the current request's bytes at the front
      std::memmove(c->in.get(), c->in.get() + c->in_begin, c->buffered());
      c->in_end -= c->in_begin;
      c->in_begin = 0;
    }
    const std::size_t space = Connection::kInputCapacity - c->in_end;
    if (space == 0) {  // unreachable while the parser's head limit is below the capacity
      ParseResult too_big;
      too_big.status = ParseStatus::kError;
      too_big.error_status = 431;
      handle_parse_error(w, *c, too_big);
      continue;
    }
    c->take_input();
    const ssize_t n = ::recv(c->fd.get(), c->in.get() + c->in_end, space, 0);
    c->read_attempted = true;
    if (n > 0) {
      c->times.received(now_(), c->partial_request());
      c->in_end += static_cast<std::size_t>(n);
      c->maybe_readable = static_cast<std::size_t>(n) == space;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c->maybe_readable = false;
      park_for_read(std::move(c));
      return;
    }
    if (n < 0 && !client_went_away(errno)) errors_->report("recv: connection closed", errno);
    close_connection(std::move(c));  // EOF or a reset: nothing to answer
    return;
  }
}

// One turn of sending the response under way. True when the response is done and the
// connection stays with this worker; false when it was parked (the socket is full, or the
// turn's budget is spent) or closed.
bool Server::send_turn(Worker& w, ConnPtr& c) {
  HTTPOWER_OWNED(*c);
  const SendResult r = send_some(*c);
  if (r == SendResult::kBlocked) {
    if (w.has_pending) {  // the access-log line waits with the response
      std::swap(c->log_line, w.pending);
      w.has_pending = false;
    }
    const Clock::time_point deadline = send_deadline(now_(), limits_);
    poller_->park(std::move(c), ParkReason::kWrite, deadline);
    return false;  // C1: parked; c is no longer ours
  }
  log_response(w, *c);  // complete, or cut short (kError): the bytes sent say which
  if (r == SendResult::kError) {
    close_connection(std::move(c));
    return false;
  }
  finish_response(*c);
  if (c->close_after) {
    close_or_linger(std::move(c));
    return false;
  }
  return true;
}

// Consumes what is buffered: discards body bytes, then plans the response to the next
// complete request (or to a parse error). True when a response was planned.
bool Server::plan_buffered(Worker& w, Connection& c) {
  HTTPOWER_OWNED(c);
  if (c.discard_remaining > 0 && c.buffered() > 0) {
    const std::uint64_t n = std::min<std::uint64_t>(c.discard_remaining, c.buffered());
    c.in_begin += static_cast<std::size_t>(n);
    c.discard_remaining -= n;
    // The body's deadline runs from the end of its head (handle_request) and body bytes do
    // not extend it; the next request's head gets its own from here.
    if (c.discard_remaining == 0) c.times.body_discarded(now_());
  }
  if (c.discard_remaining != 0 || c.buffered() == 0) return false;
  RequestHead head;
  const ParseResult r =
      c.parser.parse(std::string_view(c.in.get() + c.in_begin, c.buffered()), w.slots, head);
  if (r.status == ParseStatus::kComplete) {
    handle_request(w, c, head, r.consumed);
    return true;
  }
  if (r.status == ParseStatus::kError) {
    handle_parse_error(w, c, r);
    return true;
  }
  return false;
}

void Server::park_for_read(ConnPtr c) {
  HTTPOWER_OWNED(*c);
  const Clock::time_point deadline =
      read_deadline(c->times, c->partial_request() || c->requests == 0, limits_);
  c->release_idle_memory();  // M1: an idle connection holds no buffer
  poller_->park(std::move(c), ParkReason::kRead, deadline);  // C1: the last touch
}

// Every closing response lingers (C2): the client may send more at any moment, also after
// we decided to close, and a close() over unread bytes resets the connection, discarding
// the part of the response still in our send buffer.
void Server::close_or_linger(ConnPtr c) {
  HTTPOWER_OWNED(*c);
  if (!aborting_.load()) {
    // RFC 9112 §9.6: half-close, then let the poller read and discard until the client
    // closes (or the linger deadline), so it reads our response rather than a reset.
    (void)::shutdown(c->fd.get(), SHUT_WR);
    const Clock::time_point now = now_();
    c->times.linger_began(now, unacked_bytes(c->fd.get()));
    poller_->park(std::move(c), ParkReason::kLinger, linger_deadline(now, limits_));
    return;
  }
  close_connection(std::move(c));
}

// During the drain every request already received is answered (docs/server.md), pipelined
// ones included: the drain closes after the LAST request received, not the first.
// True when the bytes after this request (and its body) hold a complete head or one the
// parser already rejects (either way the next loop iteration answers it), or when the
// socket holds more bytes than our input buffer: received requests that did not fit in it.
// An incomplete tail with nothing more received is not waited for.
bool Server::request_follows(Worker& w, const Connection& c, std::size_t consumed,
                             std::uint64_t discard) const {
  const std::size_t buffered = c.buffered();
  if (consumed <= buffered && discard <= buffered - consumed) {
    const std::size_t after = consumed + static_cast<std::size_t>(discard);
    if (after < buffered) {
      RequestParser probe(c.parser.limits());
      RequestHead next;
      const std::string_view rest(c.in.get() + c.in_begin + after, buffered - after);
      if (probe.parse(rest, w.probe_slots, next).status != ParseStatus::kIncomplete) return true;
    }
  }
  char byte;
  return ::recv(c.fd.get(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

void Server::handle_request(Worker& w, Connection& c, const RequestHead& head,
                            std::size_t consumed) {
  HTTPOWER_OWNED(c);
  bool closing = !head.keep_alive;
  std::uint64_t discard = 0;
  if (head.body == BodyFraming::kChunked) closing = true;  // never parsed: respond and close
  if (head.body == BodyFraming::kContentLength) {
    if (head.content_length > config_.max_discard_body) {
      closing = true;
    } else {
      discard = head.content_length;
    }
  }
  // Expect: 100-continue: we answer without a 100, so the client may never send the body we
  // would be waiting to discard (RFC 9110 §10.1.1): close instead of guessing.
  if (head.body != BodyFraming::kNone && !field(head, "expect").empty()) closing = true;
  if (config_.max_requests != 0 && c.requests + 1 >= config_.max_requests) closing = true;
  if (!closing && draining_.load() && !request_follows(w, c, consumed, discard)) closing = true;
  PlanContext ctx;
  ctx.now = std::time(nullptr);
  ctx.closing = closing;
  ctx.server = kServerName;
  ctx.types = &mime_;

  const ResolvedTarget t = resolve_target(head.path, w.target_buf);
  ctx.extra_fields = request_fields(w, head, t);
  if (needs_file(head, t)) {
    plan_get(w, c, head, t, ctx);
  } else {
    plan_response(head, t, FileFacts{}, ctx, c.plan);
    prepare_body(c, UniqueFd());
  }
  apply_error_page(w, c, head, ctx);
  if (w.log.enabled()) {
    LogRecord rec;
    rec.peer = c.peer;
    rec.method = head.method_name;
    rec.target = head.target;
    rec.minor_version = head.minor_version;
    rec.status = c.plan.status();
    rec.referer = field(head, "referer");
    rec.user_agent = field(head, "user-agent");
    w.log.format_pending(rec, static_cast<std::time_t>(ctx.now), w.pending);
    w.has_pending = true;
  }
  // The head's views are dead from here on.
  c.parser.reset();
  c.in_begin += consumed;
  c.discard_remaining = discard;
  c.times.head_parsed(now_());
  ++c.requests;
  responses_.fetch_add(1);
  c.close_after = !c.plan.keep_alive();
  if (c.close_after) {
    // Bytes after a closing response are never parsed (no smuggling).
    c.in_begin = c.in_end = 0;
    c.discard_remaining = 0;
  }
}

void Server::handle_parse_error(Worker& w, Connection& c, const ParseResult& r) {
  HTTPOWER_OWNED(c);
  PlanContext ctx;
  ctx.now = std::time(nullptr);
  ctx.closing = true;
  ctx.server = kServerName;
  plan_parse_error(r.error_status, ctx, c.plan);
  prepare_body(c, UniqueFd());
  if (w.log.enabled()) {
    LogRecord rec;
    rec.peer = c.peer;
    rec.minor_version = -1;
    rec.status = c.plan.status();
    w.log.format_pending(rec, static_cast<std::time_t>(ctx.now), w.pending);
    w.has_pending = true;
  }
  ++c.requests;
  responses_.fetch_add(1);
  c.parser.reset();
  c.in_begin = c.in_end = 0;  // the framing is lost: nothing after this is parsed
  c.discard_remaining = 0;
  c.close_after = true;
}

void Server::plan_get(Worker& w, Connection& c, const RequestHead& head,
                      const ResolvedTarget& t, const PlanContext& ctx) {
  // Hidden names (.git, .env, ...) are not served unless --dotfiles: 404, as if absent, and
  // decided before anything is opened (docs/server.md, "Policies").
  if (!config_.dotfiles && is_hidden_path(t.path)) {
    plan_error(head, 404, ctx, c.plan);
    prepare_body(c, UniqueFd());
    return;
  }
  OpenedFile f = root_->open(t.path, w.path_scratch);
  if (f.resource_error()) {  // EMFILE & co: the file may exist; 503 (closes), never 404
    errors_->report("open: answered 503", f.error);
    plan_error(head, 503, ctx, c.plan);
    prepare_body(c, UniqueFd());
    return;
  }
  if (f.facts.kind == FileKind::kDirectory && t.trailing_slash) {
    std::string shown = "/";
    shown += t.path;
    if (!t.path.empty()) shown += '/';
    const ResolvedTarget index = with_index_file(t, w.target_buf);
    OpenedFile idx = root_->open(index.path, w.path_scratch);
    if (idx.resource_error()) {
      errors_->report("open: answered 503", idx.error);
      plan_error(head, 503, ctx, c.plan);
      prepare_body(c, UniqueFd());
      return;
    }
    if (idx.facts.kind == FileKind::kRegular) return serve_file(w, c, head, index, std::move(idx), ctx);
    if (config_.listing) {
      const std::string_view rel = std::string_view(shown).substr(1, t.path.size());
      const std::string html =
          directory_listing(*root_, f.fd.get(), rel, shown, config_.dotfiles,
                            parse_listing_query(t.query));
      plan_generated(head, "text/html; charset=utf-8", html, ctx, c.plan);
      prepare_body(c, UniqueFd());
      return;
    }
  }
  if (spa_applies(head, t, f)) {
    OpenedFile app = root_->open(spa_target_.path, w.path_scratch);
    if (app.facts.kind == FileKind::kRegular) return serve_file(w, c, head, spa_target_, std::move(app), ctx);
  }
  serve_file(w, c, head, t, std::move(f), ctx);
}

// --spa: a GET or HEAD of a missing path that names no file (names_a_file) from a client
// that accepts text/html.
bool Server::spa_applies(const RequestHead& head, const ResolvedTarget& t,
                         const OpenedFile& f) const {
  if (config_.spa.empty() || f.facts.kind != FileKind::kMissing || names_a_file(t.path)) {
    return false;
  }
  std::string_view accept;
  bool present = false;
  for (const HeaderField& h : head.headers) {
    if (!iequals_ascii(h.name, "accept")) continue;
    accept = h.value;  // one field: a client sends one, and a second changes nothing here
    present = true;
    break;
  }
  return accepts_html(accept, present);
}

// A file (or what stands for it: 403, 404) planned with the operator's fields, from its
// precompressed variant when one is acceptable.
void Server::serve_file(Worker& w, Connection& c, const RequestHead& head,
                        const ResolvedTarget& t, OpenedFile f, const PlanContext& ctx) {
  sniff_text(t.path, f);
  PlanContext fc = ctx;
  if (f.facts.kind == FileKind::kRegular && !t.trailing_slash) {
    fc.cache_control = cache_control_for(t.path);
    if (config_.precompressed) {
      // Every file response varies with Accept-Encoding once variants may be served: a
      // cache must not hand the identity bytes to a client that asked for br, nor the reverse.
      fc.vary_accept_encoding = true;
      OpenedFile variant;
      const Coding coding = find_variant(w, head, t.path, f.facts, variant);
      if (coding != Coding::kIdentity) {
        variant.facts.utf8_text = f.facts.utf8_text;  // the original's Content-Type
        fc.content_encoding = coding_name(coding);
        f = std::move(variant);
      }
    }
  }
  plan_response(head, t, f.facts, fc, c.plan);
  prepare_body(c, std::move(f.fd));
}

// The best acceptable variant of `path` that is a regular file not older than the original
// (an older one is stale: it was compressed from an earlier version).
Coding Server::find_variant(Worker& w, const RequestHead& head, std::string_view path,
                            const FileFacts& original, OpenedFile& variant) const {
  const bool present = joined_field(head, "accept-encoding", w.joined);
  std::array<Coding, 3> order{};
  const std::size_t n = candidate_codings(parse_accept_encoding(w.joined, present), order);
  for (std::size_t i = 0; i < n; ++i) {
    w.variant_path.assign(path);
    w.variant_path += coding_suffix(order[i]);
    variant = root_->open(w.variant_path, w.path_scratch);
    if (variant.facts.kind == FileKind::kRegular && not_older(variant.facts, original)) {
      return order[i];
    }
  }
  variant = OpenedFile{};
  return Coding::kIdentity;
}

std::string_view Server::cache_control_for(std::string_view path) const {
  const std::size_t slash = path.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const std::size_t dot = last.rfind('.');
  if (dot != std::string_view::npos) {
    for (const auto& [ext, value] : config_.cache_control_by_ext) {
      if (iequals_ascii(ext, last.substr(dot + 1))) return value;
    }
  }
  return config_.cache_control;
}

// The operator's lines, and with --cors the preflight's fields for an OPTIONS that asks
// with Access-Control-Request-Method (the Fetch standard's CORS preflight).
//
// With --spa, what a GET or HEAD of a path that names no file gets depends on the request's
// Accept (the app, or the 404): such responses say "Vary: Accept", so that a cache never
// hands the app's HTML to a JSON client or the 404 to a browser.
std::string_view Server::request_fields(Worker& w, const RequestHead& head,
                                        const ResolvedTarget& t) const {
  const bool preflight = config_.cors && head.method == Method::kOptions &&
                         !field(head, "access-control-request-method").empty();
  const bool spa_route = !config_.spa.empty() && needs_file(head, t) && !names_a_file(t.path);
  if (!preflight && !spa_route) return extra_fields_;
  w.fields = extra_fields_;
  if (preflight) append_cors_preflight(w.fields, field(head, "access-control-request-headers"));
  if (spa_route) w.fields += "Vary: Accept\r\n";
  return w.fields;
}

// --error-page: an error status the operator has a page for is answered with that page's
// bytes and the same status; a page that cannot be opened leaves the built-in one. 416 keeps
// the built-in page, whose Content-Range a range client needs.
void Server::apply_error_page(Worker& w, Connection& c, const RequestHead& head,
                              const PlanContext& ctx) {
  const int status = c.plan.status();
  if (error_pages_.empty() || status < 400 || status == 416) return;
  for (const auto& [code, path] : error_pages_) {
    if (code != status) continue;
    OpenedFile page = root_->open(path, w.path_scratch);
    if (page.facts.kind != FileKind::kRegular) return;
    sniff_text(path, page);
    plan_error_file(head, status, path, page.facts, ctx, c.plan);
    prepare_body(c, std::move(page.fd));
    return;
  }
}

// A file whose extension no MIME layer knows is text/plain when its first bytes are UTF-8
// text (mime.hpp): one pread, for such files only.
void Server::sniff_text(std::string_view path, OpenedFile& f) const {
  if (f.facts.kind != FileKind::kRegular || !mime_.find(path).empty()) return;
  std::array<char, kTextSniffBytes> head;
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(f.facts.size, head.size()));
  ssize_t n = -1;
  do {
    n = ::pread(f.fd.get(), head.data(), want, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return;
  const auto got = static_cast<std::size_t>(n);
  f.facts.utf8_text = looks_like_utf8_text(std::string_view(head.data(), got), got >= f.facts.size);
}

// Small file bodies are read now and leave with the head in one sendmsg; large ones keep
// the file open for sendfile.
void Server::prepare_body(Connection& c, UniqueFd file) {
  HTTPOWER_OWNED(c);
  c.sending = true;
  c.head_sent = 0;
  c.segment = 0;
  c.segment_sent = 0;
  c.file_preread = false;
  c.file.reset();
  if (!c.plan.uses_file()) return;
  const auto segs = c.plan.body();
  std::uint64_t file_total = 0;
  for (const BodySegment& s : segs) {
    if (s.kind == BodySegment::Kind::kFile) file_total += s.length;
  }
  if (file_total > kPrereadMax) {
    c.file = std::move(file);
    return;
  }
  c.file_bytes.resize(static_cast<std::size_t>(file_total));
  c.preread_at.assign(segs.size(), 0);
  std::size_t at = 0;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].kind != BodySegment::Kind::kFile) continue;
    c.preread_at[i] = at;
    std::uint64_t got = 0;
    while (got < segs[i].length) {
      const ssize_t n = ::pread(file.get(), c.file_bytes.data() + at + got,
                                static_cast<std::size_t>(segs[i].length - got),
                                static_cast<off_t>(segs[i].offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) errors_->report("pread", errno);
      if (n <= 0) break;
      got += static_cast<std::uint64_t>(n);
    }
    if (got < segs[i].length) {
      // The file shrank under us: Content-Length cannot be honoured (R3). Send nothing of
      // the body from memory; sendfile will hit the end and the connection is closed.
      c.file = std::move(file);
      return;
    }
    at += static_cast<std::size_t>(segs[i].length);
  }
  c.file_preread = true;
}

// EAGAIN parks the connection; any other error closes it, and is logged unless it is the
// client's doing (a reset, a closed connection).
Server::SendResult Server::send_failed(const char* call) {
  if (errno == EAGAIN || errno == EWOULDBLOCK) return SendResult::kBlocked;
  if (!client_went_away(errno)) errors_->report(std::string(call) + ": connection closed", errno);
  return SendResult::kError;
}

namespace {

void advance(Connection& c, std::uint64_t n) {
  const std::size_t head_left = c.plan.head().size() - c.head_sent;
  const std::size_t h = static_cast<std::size_t>(std::min<std::uint64_t>(n, head_left));
  c.head_sent += h;
  n -= h;
  const auto segs = c.plan.body();
  while (c.segment < segs.size()) {
    const std::uint64_t left = segs[c.segment].length - c.segment_sent;
    if (n < left) {
      c.segment_sent += n;
      return;
    }
    n -= left;
    ++c.segment;
    c.segment_sent = 0;
  }
}

}  // namespace

Server::SendResult Server::send_some(Connection& c) {
  HTTPOWER_OWNED(c);
  const auto segs = c.plan.body();
  const std::string_view head = c.plan.head();
  std::uint64_t sent_this_turn = 0;
  for (;;) {
    if (aborting_.load(std::memory_order_relaxed)) return SendResult::kError;
    if (c.head_sent == head.size()) advance(c, 0);  // skip empty segments
    std::array<iovec, 16> iov{};
    std::size_t n_iov = 0;
    if (c.head_sent < head.size()) {
      iov[n_iov++] = {const_cast<char*>(head.data() + c.head_sent), head.size() - c.head_sent};
    }
    std::size_t si = c.segment;
    std::uint64_t skip = c.segment_sent;
    while (si < segs.size() && n_iov < iov.size()) {
      const BodySegment& s = segs[si];
      const char* base = nullptr;
      if (s.kind == BodySegment::Kind::kInline) {
        base = c.plan.inline_bytes(s).data();
      } else if (c.file_preread) {
        base = c.file_bytes.data() + c.preread_at[si];
      } else {
        break;
      }
      iov[n_iov++] = {const_cast<char*>(base + skip), static_cast<std::size_t>(s.length - skip)};
      ++si;
      skip = 0;
    }
    if (n_iov > 0) {
      msghdr m{};
      m.msg_iov = iov.data();
      m.msg_iovlen = n_iov;
      const int more = si < segs.size() ? MSG_MORE : 0;  // a sendfile range follows
      const ssize_t r = ::sendmsg(c.fd.get(), &m, MSG_NOSIGNAL | more);
      if (r < 0) {
        if (errno == EINTR) continue;
        return send_failed("sendmsg");
      }
      advance(c, static_cast<std::uint64_t>(r));
      continue;
    }
    if (c.segment >= segs.size()) return SendResult::kDone;
    const BodySegment& s = segs[c.segment];
    off_t off = static_cast<off_t>(s.offset + c.segment_sent);
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(s.length - c.segment_sent, kSendfileChunk));
    const ssize_t r = ::sendfile(c.fd.get(), c.file.get(), &off, want);
    if (r < 0) {
      if (errno == EINTR) continue;
      return send_failed("sendfile");
    }
    if (r == 0) {  // the file shrank: R3 cannot hold, close
      errors_->report("sendfile: the file shrank under a response; connection closed");
      return SendResult::kError;
    }
    advance(c, static_cast<std::uint64_t>(r));
    sent_this_turn += static_cast<std::uint64_t>(r);
    if (sent_this_turn >= kTurnBudget && c.segment < segs.size() && queue_.size() > 0) {
      return SendResult::kBlocked;  // others wait: the poller re-queues us at the tail
    }
  }
}

// The response ended in this worker: its access-log line gets the body bytes sent (all of
// them, unless it was cut short).
void Server::log_response(Worker& w, Connection& c) {
  HTTPOWER_OWNED(c);
  const PendingLine* line = w.has_pending ? &w.pending : &c.log_line;
  w.has_pending = false;
  if (line->empty()) return;
  w.log.append_completed(*line, c.body_bytes_sent());
  PendingLine().text.swap(c.log_line.text);
}

void Server::finish_response(Connection& c) {
  HTTPOWER_OWNED(c);
  c.sending = false;
  c.end_response();  // M1: no listing or read-ahead stays with the connection
  c.times.response_sent(now_());
}

}  // namespace httpower
