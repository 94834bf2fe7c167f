// The server at the edges of what the system grants it: threads that cannot be started, and
// the descriptor limit (the default --max-connections derived from it, and the 503 for a
// connection the acceptor has no descriptor for). Child processes get their own rlimits
// (ChildServer's max_fds, or prlimit for soft != hard and RLIMIT_AS); every wait is bounded.

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "httpower/testsupport/sanitizers.hpp"
#include "httpower/testsupport/watchdog.hpp"
#include "test_support.hpp"

namespace httpower::test {
namespace {

using testsupport::kSanitized;

constexpr const char* kPrlimit = "/usr/bin/prlimit";  // util-linux (essential on Debian)

std::vector<std::string> args(const std::string& root, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {root, "-p", "0", "--quiet"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

// The binary under prlimit (limits prlimit cannot pass through ChildServer: a soft limit
// below the hard one, RLIMIT_AS). prlimit sets them on itself and execs the server.
testsupport::ChildServer under_prlimit(const std::string& limit, std::vector<std::string> server_args) {
  testsupport::ChildOptions o;
  o.binary = kPrlimit;
  o.capture_stderr = true;
  o.timeout = 20s;
  std::vector<std::string> a = {limit, HTTPOWER_BINARY};
  a.insert(a.end(), server_args.begin(), server_args.end());
  return testsupport::ChildServer(o, std::move(a));
}

// Descriptors of pid numbered below limit: the ones that count against RLIMIT_NOFILE when
// the next is allocated (an fd inherited above the limit stays open but takes no slot).
int fds_below(pid_t pid, rlim_t limit) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    if (std::stoul(e.path().filename().string()) < limit) ++n;
  }
  return n;
}

std::size_t newlines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

// ---------------------------------------------------------------------------------------
// Threads the system refuses.

// The n-th thread start() spawns fails (test hook, as EAGAIN from pthread_create would):
// start() throws StartupError naming it, the threads already running are stopped and
// joined (a joinable std::thread destroyed would call std::terminate and abort the test
// binary), and every descriptor is closed.
TEST(Limits, ThreadThatFailsToStartIsAStartupErrorAndStartedThreadsAreJoined) {
  TempDir root;
  const int fds_before = fd_count();
  // Spawn order: the poller (1), workers (2..4), the supervisor (5).
  for (unsigned n : {2u, 4u, 5u, 1u}) {
    testsupport::Watchdog dog("ThreadThatFailsToStart n=" + std::to_string(n), 30s);
    Config c = test_config(root.path(), 3);
    c.port = 0;
    Server s(c);
    s.fail_thread_start_for_test(n);
    std::string error;
    try {
      s.start();
    } catch (const StartupError& e) {
      error = e.what();
    }
    EXPECT_EQ(error, "cannot start thread " + std::to_string(n) +
                         " of 5: Resource temporarily unavailable");
    EXPECT_EQ(s.run(), 1) << "run() after a failed start";
  }
  EXPECT_EQ(fd_count(), fds_before) << "descriptors left open by a failed start";
}

// The binary, where the system really refuses threads: 1 GB of address space holds about a
// hundred thread stacks and -t 1024 asks for 1026 threads. One line on stderr, exit 1, no
// "terminate called without an active exception" (abort, 134).
TEST(Limits, CliThreadsTheSystemRefusesExitOneWithOneLine) {
  if (kSanitized) GTEST_SKIP() << "sanitizers reserve terabytes of address space";
  if (::access(kPrlimit, X_OK) != 0) GTEST_SKIP() << "no " << kPrlimit;
  TempDir root;
  auto c = under_prlimit("--as=1000000000", args(root.path(), {"-t", "1024"}));
  EXPECT_EQ(c.wait_exit(), 1);
  const std::string err = c.read_stderr();
  EXPECT_EQ(newlines(err), 1u) << err;
  EXPECT_EQ(err.rfind("httpower: cannot start thread ", 0), 0u) << err;
  EXPECT_EQ(err.find("terminate"), std::string::npos) << err;
}

// ---------------------------------------------------------------------------------------
// The descriptor limit.

TEST(Limits, ConnectionsForFdLimitLeavesTwoDescriptorsPerConnectionAndAReserve) {
  EXPECT_EQ(connections_for_fd_limit(1024, 2), 495u);  // (1024 - 32 - 2) / 2
  EXPECT_EQ(connections_for_fd_limit(64, 1), 15u);
  EXPECT_EQ(connections_for_fd_limit(1u << 20, 8), 10'000u);
  EXPECT_EQ(connections_for_fd_limit(std::numeric_limits<std::uint64_t>::max(), 1024), 10'000u);
  EXPECT_EQ(connections_for_fd_limit(24, 1), 1u);
  EXPECT_EQ(connections_for_fd_limit(0, 1), 1u);
  Config c;
  c.threads = 2;
  c.max_connections = 495;
  EXPECT_EQ(fd_limit_warning(c, 1024), "");
  c.max_connections = 496;
  EXPECT_NE(fd_limit_warning(c, 1024).find("--max-connections 496 exceeds the 495"),
            std::string::npos);
  c.max_connections = 20'000;  // above the default's cap, within what the descriptors allow
  EXPECT_EQ(fd_limit_warning(c, 1u << 20), "");
  EXPECT_EQ(fd_limit_warning(c, std::numeric_limits<std::uint64_t>::max()), "");
  EXPECT_NE(fd_limit_warning(c, 40'000), "");
}

// The start-up line states the effective limit; the soft RLIMIT_NOFILE is raised to the hard
// one first; a --max-connections above what the limit allows runs, with a one-line warning.
TEST(Limits, DefaultMaxConnectionsFollowsTheDescriptorLimit) {
  TempDir root;
  {
    ChildServer c(args(root.path(), {"-t", "2"}), true, 1024);
    std::string line;
    ASSERT_TRUE(c.wait_ready(&line));
    EXPECT_NE(line.find("/ (2 workers, at most 495 connections, "), std::string::npos) << line;
    c.signal(SIGINT);
    EXPECT_EQ(c.wait_exit(), 0);
    EXPECT_EQ(without_root_warning(c.read_stderr()).find("warning"), std::string::npos)
        << "no warning at the default";
  }
  if (::access(kPrlimit, X_OK) == 0) {
    auto c = under_prlimit("--nofile=64:1024", args(root.path(), {"-t", "2"}));
    std::string line;
    ASSERT_TRUE(c.wait_ready(&line));
    EXPECT_NE(line.find("/ (2 workers, at most 495 connections, "), std::string::npos)
        << "soft limit 64 not raised to the hard 1024: " << line;
    c.signal(SIGINT);
    EXPECT_EQ(c.wait_exit(), 0);
  }
  {
    ChildServer c(args(root.path(), {"-t", "2", "--max-connections", "2000"}), true, 1024);
    std::string line;
    ASSERT_TRUE(c.wait_ready(&line));
    EXPECT_NE(line.find("/ (2 workers, at most 2000 connections, "), std::string::npos) << line;
    c.signal(SIGINT);
    EXPECT_EQ(c.wait_exit(), 0);
    const std::string err = without_root_warning(c.read_stderr());
    // The warning, then the stop's two status lines.
    EXPECT_EQ(newlines(err), 3u) << err;
    EXPECT_EQ(err.rfind("httpower: warning: --max-connections 2000 exceeds the 495", 0), 0u) << err;
  }
}

// Reads a response head (not the body) within the client's deadline; 0 if none.
int read_status(Client& c) {
  while (c.buffered().find("\r\n\r\n") == std::string::npos) {
    if (c.fill() <= 0) return 0;
  }
  if (c.buffered().compare(0, 9, "HTTP/1.1 ") != 0) return -1;
  return std::atoi(c.buffered().c_str() + 9);
}

// With the default limit, downloads that each hold a socket and a file never run the
// server out of descriptors: twice as many clients as the limit all get 200, the later ones
// once earlier ones close, where a limit above what the descriptors allow answered 503 to
// the requests that found no descriptor for their file.
TEST(Limits, DefaultLimitLeavesADescriptorForEachConnectionsFile) {
  TempDir root;
  ASSERT_TRUE(root.write_sparse("big.bin", 64 << 20));
  constexpr rlim_t kFds = 64;
  const std::size_t limit = connections_for_fd_limit(kFds, 1);
  ChildServer c(args(root.path(), {"-t", "1", "--send-timeout", "120"}), true, kFds);
  ASSERT_TRUE(c.wait_ready());
  std::vector<Client> downloads(2 * limit);
  for (Client& d : downloads) {
    ASSERT_TRUE(d.connect_to("127.0.0.1", c.port(), 30s, 4096));
    ASSERT_TRUE(d.send_all(get_request("/big.bin")));
  }
  // The first `limit` are served at once and stall (their receive windows fill); each one
  // closed lets exactly one more in.
  for (std::size_t i = 0; i < downloads.size(); ++i) {
    if (i >= limit) downloads[i - limit].close();
    EXPECT_EQ(read_status(downloads[i]), 200) << "download " << i << " of " << downloads.size()
                                              << " (limit " << limit << ")";
  }
  downloads.clear();
  c.signal(SIGINT);
  EXPECT_EQ(c.wait_exit(), 0);
}

// C2 at the descriptor limit: a client the acceptor has no descriptor for is accepted in the
// spare descriptor's slot and reads a complete 503 with "Connection: close" and then EOF,
// never ECONNRESET (closing over its unread request would reset it). The server's fd count
// is observed to be exactly at the limit first, so that the next accept fails with EMFILE.
class AtTheFdLimit : public ::testing::Test {
 protected:
  static constexpr rlim_t kFds = 24;
  void SetUp() override {
    root_.write("a.txt", "A\n");
    // --max-connections above what 24 descriptors allow: the descriptor limit comes first.
    server_ = std::make_unique<ChildServer>(
        args(root_.path(), {"-t", "1", "--max-connections", "10000", "--header-timeout", "60",
                            "--idle-timeout", "60"}),
        true, kFds);
    ASSERT_TRUE(server_->wait_ready());
    baseline_ = fds_below(server_->pid(), kFds);
    // Connections answered with 204 (OPTIONS opens no file) hold one descriptor each; each
    // is seen in the server's /proc before the next, so exactly the free slots are filled.
    // Once the last slot is taken the acceptor's next accept4 fails with EMFILE even with an
    // empty backlog, and it lends out its spare descriptor for a moment (one fewer in /proc):
    // counting once could add a holder too many, which would be refused.
    ASSERT_LT(baseline_, static_cast<int>(kFds));
    for (int held = baseline_; held < static_cast<int>(kFds); ++held) {
      holders_.emplace_back("127.0.0.1", server_->port(), 10s);
      ASSERT_TRUE(holders_.back().send_all("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"));
      auto r = holders_.back().read_response();
      ASSERT_TRUE(r) << "holder " << holders_.size();
      ASSERT_EQ(r->status, 204) << "holder " << holders_.size();
      ASSERT_TRUE(server_fds_become(held + 1)) << "holder " << holders_.size() << " not seen";
    }
    ASSERT_TRUE(back_at_the_limit()) << "the limit was not reached";
  }

  // One client: GET /a.txt; a complete 503 then EOF is "refused", 200 is "served"; anything
  // else (a reset, EOF without a response, a hang) is a failure, described in `what`.
  enum class Outcome { kRefused, kServed, kBad };
  Outcome request(std::string& what) {
    Client k("127.0.0.1", server_->port(), 20s);
    if (!k.connected()) {
      what = "connect failed";
      return Outcome::kBad;
    }
    if (!k.send_all(get_request("/a.txt"))) {
      what = "send failed";
      return Outcome::kBad;
    }
    auto r = k.read_response();
    if (!r) {
      what = k.last_errno() == ECONNRESET ? "ECONNRESET before a response"
             : k.buffered().empty()       ? "closed or timed out without a response"
                                          : "truncated response: " + k.buffered();
      return Outcome::kBad;
    }
    if (r->status == 200 && r->body == "A\n") return Outcome::kServed;
    if (r->status != 503 || r->field("connection") != "close") {
      what = "unexpected response: " + r->head;
      return Outcome::kBad;
    }
    if (!k.read_to_eof()) {
      what = k.last_errno() == ECONNRESET ? "ECONNRESET after the 503" : "no EOF after the 503";
      return Outcome::kBad;
    }
    return Outcome::kRefused;
  }

  // True once the server holds exactly n descriptors below the limit, probed in /proc until
  // the deadline.
  bool server_fds_become(int n) {
    const auto deadline = TestClock::now() + 20s;
    while (fds_below(server_->pid(), kFds) != n) {
      if (TestClock::now() >= deadline) return false;
      ::poll(nullptr, 0, 10);  // paces the probing; the deadline is the bound
    }
    return true;
  }
  // Every slot below the limit taken again: the refused connection closed and the spare
  // descriptor taken back.
  bool back_at_the_limit() { return server_fds_become(static_cast<int>(kFds)); }

  TempDir root_;
  std::unique_ptr<ChildServer> server_;
  std::vector<Client> holders_;
  int baseline_ = -1;  // the server's descriptors with no connection
};

TEST_F(AtTheFdLimit, C2_RefusedClientsReadA503NeverAReset) {
  for (int i = 0; i < 5; ++i) {
    std::string what;
    EXPECT_EQ(request(what), Outcome::kRefused) << "client " << i << ": " << what;
    // The next client must find the spare again, with no new connection to prompt it.
    EXPECT_TRUE(back_at_the_limit()) << "the spare descriptor was not taken back after client " << i;
  }
  // Fourteen at once: each is refused in turn as the previous refusal ends, or served when
  // it finds the descriptor a finished refusal freed (the holders keep the rest).
  constexpr int kClients = 14;
  std::vector<std::string> what(kClients);
  std::vector<Outcome> got(kClients, Outcome::kBad);
  {
    testsupport::Watchdog dog("C2_RefusedClientsReadA503NeverAReset", 120s);
    std::vector<std::thread> clients;
    for (int i = 0; i < kClients; ++i) {
      clients.emplace_back([&, i] { got[static_cast<std::size_t>(i)] = request(what[static_cast<std::size_t>(i)]); });
    }
    for (std::thread& t : clients) t.join();
  }
  for (int i = 0; i < kClients; ++i) {
    EXPECT_NE(got[static_cast<std::size_t>(i)], Outcome::kBad)
        << "concurrent client " << i << ": " << what[static_cast<std::size_t>(i)];
  }
  EXPECT_GE(std::count(got.begin(), got.end(), Outcome::kRefused), 1);
  // Descriptors free again (the server has read every holder's EOF and closed it, observed
  // in /proc): service resumes.
  holders_.clear();
  ASSERT_TRUE(server_fds_become(baseline_)) << "the holders' descriptors were not released";
  std::string w;
  EXPECT_EQ(request(w), Outcome::kServed) << w;
  server_->signal(SIGINT);
  EXPECT_EQ(server_->wait_exit(10s), 0);
}

// The stop at the descriptor limit: clients still in the listen backlog when SIGINT arrives
// are taken during the drain (a 503 from the spare slot, or a 200 once the drain has closed
// the idle holders and freed descriptors), never reset by the listener's close.
TEST_F(AtTheFdLimit, C2_ClientsInTheBacklogAtTheStopAreAnsweredNotReset) {
  // The first is refused at once and its 503 lingers in the spare slot (its client reads
  // nothing yet), so the acceptor has no descriptor for the others: they stay in the backlog.
  std::vector<Client> waiting;
  for (int i = 0; i < 3; ++i) {
    waiting.emplace_back("127.0.0.1", server_->port(), 20s);
    ASSERT_TRUE(waiting.back().send_all(get_request("/a.txt")));
  }
  ASSERT_GT(waiting[0].fill(), 0) << "the first client is not refused";
  server_->signal(SIGINT);
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    auto r = waiting[i].read_response();
    ASSERT_TRUE(r) << "client " << i << ": "
                   << (waiting[i].last_errno() == ECONNRESET ? "ECONNRESET" : "no response");
    EXPECT_TRUE(r->status == 200 || r->status == 503) << r->head;
    EXPECT_EQ(r->field("connection"), "close") << r->head;
    EXPECT_TRUE(waiting[i].read_to_eof()) << "client " << i << ": no EOF after the response";
    waiting[i].close();  // ends the lingering close at once
  }
  EXPECT_EQ(server_->wait_exit(10s), 0);
}

}  // namespace
}  // namespace httpower::test
