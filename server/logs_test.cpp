// The access log and the error log: every access-log line is whole and parses as Combined
// Log Format whatever the sink (L1); no sink stalls serving or stopping, and the poller never
// waits for queue space (L2); the error log reports failures, rate-limited.

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "access_log.hpp"
#include "error_log.hpp"
#include "poller.hpp"
#include "test_support.hpp"

namespace httpower::test {
namespace {

// ---------------------------------------------------------------------------------------
// A strict Combined Log Format parser:
//   host - - [dd/Mon/yyyy:hh:mm:ss +0000] "request" status bytes "referer" "user-agent"
// Quoted fields hold printable ASCII with only \" \\ and \xHH escapes; the request is "-" or
// "METHOD TARGET HTTP/1.x".

struct ClfLine {
  std::string host, request, referer, agent;
  int status = 0;
};

bool quoted(std::string_view l, std::size_t& p, std::string& out) {
  if (p >= l.size() || l[p] != '"') return false;
  for (++p; p < l.size(); ++p) {
    const char c = l[p];
    if (c == '"') {
      ++p;
      return true;
    }
    if (c < 0x20 || c > 0x7e) return false;
    if (c == '\\') {
      if (p + 1 >= l.size()) return false;
      const char e = l[p + 1];
      if (e == '"' || e == '\\') {
        out += l.substr(p, 2);
        ++p;
        continue;
      }
      if (e != 'x' || p + 3 >= l.size() || !std::isxdigit(static_cast<unsigned char>(l[p + 2])) ||
          !std::isxdigit(static_cast<unsigned char>(l[p + 3]))) {
        return false;
      }
      out += l.substr(p, 4);
      p += 3;
      continue;
    }
    out += c;
  }
  return false;
}

bool literal(std::string_view l, std::size_t& p, std::string_view lit) {
  if (l.substr(p, lit.size()) != lit) return false;
  p += lit.size();
  return true;
}

bool digits(std::string_view l, std::size_t& p, std::size_t min, std::size_t max) {
  std::size_t n = 0;
  while (p < l.size() && n < max && std::isdigit(static_cast<unsigned char>(l[p]))) ++p, ++n;
  return n >= min;
}

bool timestamp(std::string_view l, std::size_t& p) {
  static const std::vector<std::string_view> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (!literal(l, p, "[") || !digits(l, p, 2, 2) || !literal(l, p, "/")) return false;
  if (std::find(kMonths.begin(), kMonths.end(), l.substr(p, 3)) == kMonths.end()) return false;
  p += 3;
  return literal(l, p, "/") && digits(l, p, 4, 4) && literal(l, p, ":") && digits(l, p, 2, 2) &&
         literal(l, p, ":") && digits(l, p, 2, 2) && literal(l, p, ":") && digits(l, p, 2, 2) &&
         literal(l, p, " +0000]");
}

bool valid_request(const std::string& r) {
  if (r == "-") return true;
  const std::size_t a = r.find(' ');
  const std::size_t b = r.rfind(' ');
  if (a == std::string::npos || a == b || a == 0) return false;
  const std::string version = r.substr(b + 1);
  return (version == "HTTP/1.1" || version == "HTTP/1.0") && b > a + 1;
}

std::optional<ClfLine> parse_clf(std::string_view l) {
  ClfLine out;
  std::size_t p = l.find(' ');
  if (p == std::string_view::npos || p == 0) return std::nullopt;
  out.host = std::string(l.substr(0, p));
  for (char c : out.host) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '.' && c != ':' && c != '-') {
      return std::nullopt;
    }
  }
  if (!literal(l, p, " - - ") || !timestamp(l, p) || !literal(l, p, " ")) return std::nullopt;
  if (!quoted(l, p, out.request) || !valid_request(out.request)) return std::nullopt;
  const std::size_t status_at = p + 1;
  if (!literal(l, p, " ") || !digits(l, p, 3, 3)) return std::nullopt;
  out.status = std::atoi(std::string(l.substr(status_at, 3)).c_str());
  if (!literal(l, p, " ") || !digits(l, p, 1, 20) || !literal(l, p, " ")) return std::nullopt;
  if (!quoted(l, p, out.referer) || !literal(l, p, " ") || !quoted(l, p, out.agent)) {
    return std::nullopt;
  }
  if (p != l.size()) return std::nullopt;
  return out;
}

TEST(ClfParser, AcceptsCombinedLinesAndRejectsSplicedOnes) {
  const std::string good =
      "127.0.0.1 - - [26/Nov/2026:13:06:20 +0000] \"GET /a.txt HTTP/1.1\" 200 6 \"-\" "
      "\"curl/7.88 \\\"x\\\" \\x0a\"";
  ASSERT_TRUE(parse_clf(good));
  EXPECT_EQ(parse_clf(good)->status, 200);
  EXPECT_TRUE(parse_clf("::1 - - [01/Jan/2026:00:00:00 +0000] \"-\" 400 0 \"-\" \"-\""));
  EXPECT_FALSE(parse_clf(good.substr(0, good.size() - 1)));
  EXPECT_FALSE(parse_clf("xyz" + good));
  EXPECT_FALSE(parse_clf(good + good));
  EXPECT_FALSE(parse_clf("127.0.0.1 - - [26/Nov/2026:13:06:20 +0000] \"GET /a\" 200 6 \"-\" \"-\""));
  EXPECT_FALSE(parse_clf("127.0.0.1 - - [26/Nov/2026:13:06:20 +0000] \"GET /\"a HTTP/1.1\" 200 6 \"-\" \"-\""));
}

// L1. A byte counts against its field's cap at its escaped size (a quote or backslash 2, a
// control byte 4, a printable byte 1): a long field of one kind keeps exactly as many whole
// escapes as fit the cap, then the marker.
TEST(AccessLog, L1_EscapesCountAtTheirEscapedSizeAgainstTheFieldCap) {
  const std::pair<char, std::string_view> kinds[] = {
      {'"', "\\\""}, {'\\', "\\\\"}, {'\x01', "\\x01"}, {'a', "a"}};
  for (const auto& [c, escaped] : kinds) {
    const std::string agent(2 * LogBuffer::kMaxUserAgent, c);
    LogRecord r;
    r.peer = "127.0.0.1";
    r.method = "GET";
    r.target = "/";
    r.status = 200;
    r.user_agent = agent;
    LogBuffer b(nullptr);
    PendingLine p;
    b.format_pending(r, 0, p);
    std::string want;
    for (std::size_t i = 0; i < LogBuffer::kMaxUserAgent / escaped.size(); ++i) want += escaped;
    want += LogBuffer::kTruncated;
    const std::string tail = "\"" + want + "\"\n";
    ASSERT_GE(p.text.size(), tail.size());
    EXPECT_EQ(p.text.substr(p.text.size() - tail.size()), tail) << "byte " << int(c);
    EXPECT_EQ(p.text.substr(p.text.size() - tail.size() - 4, 4), "\"-\" ") << "byte " << int(c);
  }
}

// L1. A socket takes part of a write: the sink keeps the rest and sends it before anything
// else, once. A reader that reads a little at a time receives exactly the lines the sink
// accepted, in order, each once.
TEST(LogSinkSocket, L1_APartialWriteIsFinishedOnceBeforeTheNextLine) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd writer(sv[0]), reader(sv[1]);
  const int small = 4096;
  ASSERT_EQ(::setsockopt(writer.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  LogSink sink("-", writer.get(), "test log");
  ASSERT_EQ(sink.kind(), LogSink::Kind::kSocket);
  std::string sent, got;
  char buf[1000];
  auto read_some = [&] {
    const ssize_t n = ::recv(reader.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
    return n > 0;
  };
  // Chunks of 4095 bytes (five lines, as LogBuffer::flush sends them): a Unix socket takes
  // such a write in two buffers, and with the first in and no room for the second, in part.
  int blocked_rounds = 0;
  for (int i = 0; i < 200; ++i) {
    std::string chunk;
    for (int k = 0; k < 5; ++k) {
      chunk += std::to_string(10000 + 5 * i + k) + std::string(813, static_cast<char>('a' + k)) + "\n";
    }
    for (int tries = 0; tries < 1000; ++tries) {
      const LogSink::Write w = sink.write(chunk);
      ASSERT_NE(w, LogSink::Write::kFailed) << std::strerror(errno);
      if (w == LogSink::Write::kOk) {
        sent += chunk;
        break;
      }
      ++blocked_rounds;
      read_some();
    }
    if (i % 3 == 0) read_some();
  }
  for (int i = 0; i < 2000 && got.size() < sent.size(); ++i) {  // at most about 20 s
    (void)sink.write("");  // sends what is left of a part first
    if (!read_some()) (void)sink.wait_writable(std::chrono::steady_clock::now() + 10ms);
  }
  EXPECT_GT(blocked_rounds, 0) << "the socket never filled: nothing was tested";
  EXPECT_EQ(got.size(), sent.size());
  EXPECT_TRUE(got == sent) << "lines duplicated, lost or out of order";
}

// L2. A full pipe whose reader has gone is never writable again: wait_writable says so at
// once (poll reports an error without POLLOUT) instead of claiming room.
TEST(LogSinkPipe, L2_AFullPipeWithoutAReaderIsNotWritable) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd read_end(p[0]), write_end(p[1]);
  LogSink sink("-", write_end.get(), "test log");
  ASSERT_EQ(sink.kind(), LogSink::Kind::kStream);
  const std::string line(4000, 'x');
  int accepted = 0;
  while (accepted < 100 && sink.write(line) == LogSink::Write::kOk) ++accepted;
  ASSERT_LT(accepted, 100) << "the pipe never filled";
  read_end.reset();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(sink.wait_writable(t0 + 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s) << "waited for the deadline";
}

// "stopped; access log: N lines dropped in all" on the error log, or 0 when absent.
std::uint64_t dropped_in_all(const std::string& err) {
  const std::string key = "access log: ";
  const std::size_t end = err.find(" lines dropped in all");
  if (end == std::string::npos) return 0;
  const std::size_t start = err.rfind(key, end);
  if (start == std::string::npos) return 0;
  return std::stoull(err.substr(start + key.size(), end - start - key.size()));
}

std::string random_text(std::mt19937& rng, std::size_t n, std::string_view alphabet) {
  std::string s(n, ' ');
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  for (char& c : s) c = alphabet[pick(rng)];
  return s;
}

// L1. Eight workers log to a pipe (stdout, the default) that the test reads slowly, while six
// clients send requests with 8000-character targets and long, quote-laden User-Agent and
// Referer fields. Every line read must be whole and parse as CLF, long fields must be
// truncated with the marker, and lines read + lines dropped must equal requests answered.
TEST(AccessLog, L1_EveryLineParsesAsClfWithManyWorkersAndASlowPipeReader) {
  TempDir root;
  root.write("a.txt", "A\n");
  ChildServer c({root.path(), "-p", "0", "-t", "8"});
  auto port = c.wait_ready();
  ASSERT_TRUE(port);
  const unsigned seed = std::random_device{}();
  std::printf("seed=%u\n", seed);
  constexpr int kClients = 6;
  const int per_client = scaled(60, 10);
  std::vector<std::string> lines;
  std::thread reader([&] {
    // The reader lags behind the writers on purpose (pacing, not synchronisation), so the
    // pipe is full at times; it stops at EOF, when the server has exited.
    while (auto l = c.read_line(60s)) {
      lines.push_back(std::move(*l));
      std::this_thread::sleep_for(1ms);
    }
  });
  std::atomic<int> answered{0};
  std::vector<std::string> targets(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      std::mt19937 rng(seed + static_cast<unsigned>(i));
      targets[static_cast<std::size_t>(i)] = "/a.txt?" + std::to_string(i) + "-" +
          random_text(rng, 8000, "abcdefghijklmnopqrstuvwxyz0123456789-_.%");
      const std::string agent = random_text(rng, 3000, "ab\"\\ c\xe9");
      const std::string request =
          get_request(targets[static_cast<std::size_t>(i)],
                      "User-Agent: " + agent + "\r\nReferer: http://r/" + std::string(3000, 'r') +
                          "\r\n");
      Client k("127.0.0.1", *port, 60s);
      for (int n = 0; n < per_client; ++n) {
        if (!k.send_all(request)) return;
        auto r = k.read_response();
        if (!r) return;
        ++answered;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(answered.load(), kClients * per_client);
  c.signal(SIGINT);
  EXPECT_EQ(c.wait_exit(30s), 0);
  reader.join();
  const std::string tail = c.take_unread_stdout();
  EXPECT_TRUE(tail.empty()) << "an unterminated last line of " << tail.size() << " bytes";
  const std::string err = c.read_stderr();
  std::size_t bad = 0, too_long = 0, unmarked = 0, forged = 0;
  for (const std::string& l : lines) {
    const auto p = parse_clf(l);
    if (!p || p->status != 200) {
      if (++bad <= 3) ADD_FAILURE() << "not CLF (" << l.size() << " bytes): " << l.substr(0, 160);
      continue;
    }
    if (l.size() + 1 > LogBuffer::kMaxLineBytes) ++too_long;
    const std::string_view target(p->request.data() + 4, p->request.size() - 4 - 9);
    const std::string_view mark = LogBuffer::kTruncated;
    const bool marked = target.size() > mark.size() && target.substr(target.size() - mark.size()) == mark;
    if (!marked) ++unmarked;
    const std::string_view kept = marked ? target.substr(0, target.size() - mark.size()) : target;
    if (std::none_of(targets.begin(), targets.end(),
                     [&](const std::string& t) { return t.compare(0, kept.size(), kept) == 0; })) {
      ++forged;
    }
  }
  EXPECT_EQ(bad, 0u) << bad << " of " << lines.size() << " lines are not CLF";
  EXPECT_EQ(too_long, 0u) << "lines longer than " << LogBuffer::kMaxLineBytes << " bytes";
  EXPECT_EQ(unmarked, 0u) << "8000-character targets logged without the truncation marker";
  EXPECT_EQ(forged, 0u) << "targets nobody sent";
  const std::uint64_t dropped = dropped_in_all(err);
  std::printf("%d requests answered, %zu lines read, %llu dropped\n", answered.load(),
              lines.size(), static_cast<unsigned long long>(dropped));
  EXPECT_EQ(lines.size() + dropped, static_cast<std::size_t>(answered.load()))
      << lines.size() << " lines, " << dropped << " dropped; stderr: " << err;
}

// L2. The access log on a pipe nobody reads (stdout, never read after the start-up line):
// every request is still answered, SIGINT still stops the server within the drain timeout,
// and the lines that could not be written are counted and reported.
TEST(AccessLog, L2_APipeNobodyReadsStallsNeitherServingNorStopping) {
  TempDir root;
  root.write("a.txt", "A\n");
  ChildServer c({root.path(), "-p", "0", "-t", "2", "--drain-timeout", "5"});
  auto port = c.wait_ready();
  ASSERT_TRUE(port);
  const int n = scaled(400, 100);
  const std::string target = "/a.txt?" + std::string(2000, 'x');
  int answered = 0;
  for (int i = 0; i < n; ++i) {
    Client k("127.0.0.1", *port, 10s);
    ASSERT_TRUE(k.send_all(get_request(target)));
    auto r = k.read_response();
    ASSERT_TRUE(r) << "request " << i << " unanswered within 10 s: the log stalls the server";
    ASSERT_EQ(r->status, 200);
    ++answered;
  }
  c.signal(SIGINT);
  ASSERT_EQ(c.wait_exit(15s), 0) << "SIGINT did not stop the server within the drain timeout";
  const std::string err = c.read_stderr();
  std::size_t lines = 0;
  while (auto l = c.read_line(10s)) {
    EXPECT_TRUE(parse_clf(*l)) << *l;
    ++lines;
  }
  const std::uint64_t dropped = dropped_in_all(err);
  std::printf("%d requests answered, %zu lines in the pipe, %llu dropped\n", answered,
              lines, static_cast<unsigned long long>(dropped));
  EXPECT_GT(dropped, 0u) << "a 64 KiB pipe cannot hold " << n << " lines of 2 KiB; stderr: " << err;
  EXPECT_EQ(lines + dropped, static_cast<std::uint64_t>(answered)) << err;
  EXPECT_NE(err.find("lines dropped so far"), std::string::npos) << "no runtime report: " << err;
}

// ---------------------------------------------------------------------------------------
// The poller with a full queue and no worker (L2): it goes on enforcing deadlines, keeps the
// connections that found the queue full in readiness order, and stop() closes them.

class ClosedSet {
 public:
  void add(Connection* c) {
    MutexLock lock(mu_);
    closed_.push_back(c);
    cv_.notify_all();
  }
  bool wait_for(Connection* c, std::chrono::milliseconds limit) {
    const auto deadline = TestClock::now() + limit;
    MutexLock lock(mu_);
    while (std::find(closed_.begin(), closed_.end(), c) == closed_.end()) {
      if (!cv_.wait_until(lock, deadline) &&
          std::find(closed_.begin(), closed_.end(), c) == closed_.end()) {
        return false;
      }
    }
    return true;
  }
  bool has(Connection* c) {
    MutexLock lock(mu_);
    return std::find(closed_.begin(), closed_.end(), c) != closed_.end();
  }

 private:
  Mutex mu_;
  CondVar cv_;
  std::vector<Connection*> closed_;
};

// A real Poller in front of a queue of one that no worker pops. TearDown stops and joins it,
// so a failed assertion never leaves the thread joinable.
class PollerWithAFullQueue : public ::testing::Test {
 protected:
  void SetUp() override {
    thread_ = std::thread([this] { poller_.run(); });
  }
  void TearDown() override { stop(); }
  // Closes the queue, stops the poller and joins it (once).
  void stop() {
    if (!thread_.joinable()) return;
    queue_.close();
    poller_.stop();
    thread_.join();
  }
  // Parks a connection over a fresh socket pair; `readable`: its peer has sent a byte.
  Connection* park(Clock::time_point deadline, bool readable) {
    pairs_.push_back(socket_pair());
    if (readable) {
      EXPECT_EQ(::send(pairs_.back().peer.get(), "x", 1, 0), 1);
    }
    ConnPtr c = std::make_unique<Connection>();
    c->fd = std::move(pairs_.back().ours);
    Connection* raw = c.get();
    poller_.park(std::move(c), ParkReason::kRead, deadline);
    return raw;
  }
  // n connections readable at once, in readiness order.
  std::vector<Connection*> park_readable(int n) {
    std::vector<Connection*> ready;
    for (int i = 0; i < n; ++i) ready.push_back(park(Clock::now() + 60s, true));
    return ready;
  }

  TempDir dir_;
  ErrorLog errors_{dir_.path() + "/error.log"};
  BoundedQueue<ConnPtr> queue_{1};
  ClosedSet closed_;
  Poller poller_{queue_, [this](ConnPtr c) { closed_.add(c.get()); }, errors_,
                 std::chrono::seconds(30), std::chrono::seconds(2)};
  std::thread thread_;
  std::vector<Pair> pairs_;
};

TEST_F(PollerWithAFullQueue, L2_AFullQueueStopsNeitherDeadlinesNorStop) {
  // Readable at once: one fills the queue, two find it full and are held.
  const std::vector<Connection*> ready = park_readable(3);
  Connection* quiet = park(Clock::now() + 100ms, false);
  EXPECT_TRUE(closed_.wait_for(quiet, 10s))
      << "the poller stopped enforcing deadlines while the queue was full";
  // The worker's side: each pop makes room and tells the poller; order is readiness order.
  for (Connection* expected : ready) {
    PopResult<ConnPtr> r = queue_.pop_for(10s);
    ASSERT_TRUE(r.ok()) << "a held connection never reached the queue";
    EXPECT_EQ(r.item->get(), expected);
    poller_.queue_space();
  }
}

TEST_F(PollerWithAFullQueue, StopClosesConnectionsHeldForAFullQueue) {
  const std::vector<Connection*> ready = park_readable(3);
  // One fills the queue; the other two are held (observed, bounded).
  const auto deadline = TestClock::now() + 10s;
  while (poller_.held() < 2 && TestClock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(poller_.held(), 2u);
  stop();
  EXPECT_TRUE(closed_.has(ready[1]) && closed_.has(ready[2])) << "held connections not closed";
}

// ---------------------------------------------------------------------------------------
// The error log.

TEST(ErrorLog, RateLimiterTakesABurstThenTheRate) {
  using C = RateLimiter::Clock;
  RateLimiter limiter(10, 20);
  const C::time_point t0{};
  int admitted = 0;
  for (int i = 0; i < 1000; ++i) admitted += limiter.admit(t0) ? 1 : 0;
  EXPECT_EQ(admitted, 20) << "a flood at one instant gets the burst, no more";
  admitted = 0;
  for (int i = 0; i < 1000; ++i) admitted += limiter.admit(t0 + 1s) ? 1 : 0;
  EXPECT_EQ(admitted, 10) << "one second later: the rate";
  admitted = 0;
  for (int ms = 1000; ms <= 11'000; ms += 10) {  // 10 s of a steady flood, every 10 ms
    admitted += limiter.admit(t0 + std::chrono::milliseconds(ms)) ? 1 : 0;
  }
  EXPECT_GE(admitted, 99);
  EXPECT_LE(admitted, 101);
  admitted = 0;
  for (int i = 0; i < 1000; ++i) admitted += limiter.admit(t0 + 1h) ? 1 : 0;
  EXPECT_EQ(admitted, 20) << "after a quiet hour: the burst, not more";
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(ErrorLog, OneLinePerEventWithTheErrnoTextAndAFloodIsCapped) {
  TempDir dir;
  const std::string path = dir.path() + "/error.log";
  ErrorLog log(path);
  const ErrorLog::Clock::time_point t0{};
  log.report_at(t0, "accept4", EMFILE);
  for (int i = 0; i < 10'000; ++i) log.report_at(t0, "sendfile: connection closed", EIO);
  log.report_at(t0 + 10s, "epoll_ctl", ENOMEM);
  log.finish();
  const std::vector<std::string> lines = read_lines(path);
  ASSERT_EQ(lines.size(), ErrorLog::kBurst + 2) << "the burst, one summary, the late line";
  EXPECT_EQ(lines[0].rfind("httpower: [", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("] accept4: Too many open files"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("sendfile: connection closed: Input/output error"), std::string::npos);
  const std::string& summary = lines[lines.size() - 2];
  EXPECT_NE(summary.find(std::to_string(10'001 - static_cast<int>(ErrorLog::kBurst)) +
                         " error-log lines suppressed"),
            std::string::npos)
      << summary;
  EXPECT_NE(lines.back().find("epoll_ctl: Cannot allocate memory"), std::string::npos);
  EXPECT_EQ(log.written(), lines.size());
}

TEST(ErrorLog, AStderrPipeNobodyReadsDoesNotBlock) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  UniqueFd read_end(p[0]), write_end(p[1]);
  const int saved = dup(STDERR_FILENO);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(dup2(write_end.get(), STDERR_FILENO), STDERR_FILENO);
  std::uint64_t written = 0, suppressed = 0;
  {
    ErrorLog log("-");
    const ErrorLog::Clock::time_point t0{};
    // 100,000 lines at 10 a second: far more than a 64 KiB pipe holds. Never blocks.
    for (int s = 0; s < 10'000; ++s) {
      for (int i = 0; i < 10; ++i) {
        log.report_at(t0 + std::chrono::seconds(s), std::string(200, 'e'), EIO);
      }
    }
    written = log.written();
    suppressed = log.suppressed();
  }
  dup2(saved, STDERR_FILENO);
  ::close(saved);
  EXPECT_GT(suppressed, 0u);
  EXPECT_LT(written, 100'000u);
  EXPECT_GE(written + suppressed, 100'000u) << "every line written, summarised or counted";
  EXPECT_EQ(fcntl(STDERR_FILENO, F_GETFL) & O_NONBLOCK, 0) << "O_NONBLOCK leaked to stderr";
}

TEST(Cli, ErrorLogBadPathFailsAtStartUpWithOneLine) {
  TempDir root;
  ChildServer c({root.path(), "-p", "0", "--quiet", "--error-log", "/nonexistent/dir/error.log"});
  EXPECT_EQ(c.wait_exit(), 1);
  const std::string err = c.read_stderr();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("cannot open error log '/nonexistent/dir/error.log'"), std::string::npos) << err;
}

// An error that cuts a response is logged: the file shrinks under a sendfile download.
TEST(ErrorLog, AFileThatShrinksUnderADownloadIsLogged) {
  TempDir root;
  ASSERT_TRUE(root.write_sparse("big.bin", 64u << 20));
  const std::string log = root.path() + "-error.log";
  ChildServer c({root.path(), "-p", "0", "--quiet", "-t", "1", "--error-log", log});
  auto port = c.wait_ready();
  ASSERT_TRUE(port);
  Client k;
  ASSERT_TRUE(k.connect_to("127.0.0.1", *port, 30s, 4096));
  ASSERT_TRUE(k.send_all(get_request("/big.bin")));
  ASSERT_GT(k.fill(1024), 0);  // the response is under way
  std::filesystem::resize_file(root.path() + "/big.bin", 0);
  EXPECT_TRUE(k.read_to_eof()) << "the cut response ends with a close";
  c.signal(SIGINT);
  EXPECT_EQ(c.wait_exit(10s), 0);
  const std::vector<std::string> lines = read_lines(log);
  ::unlink(log.c_str());
  // The event, then the stop's own two lines (announced on the error log by the binary).
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("sendfile: the file shrank under a response; connection closed"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find("stopping: "), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("stopped: 1 response; exit status 0"), std::string::npos) << lines[2];
}

}  // namespace
}  // namespace httpower::test
