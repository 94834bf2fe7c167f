// Concurrency proofs without shims: the thread pool is never pinned by idle or slow clients
// (W1: "a worker never waits on a socket"), and --max-connections holds. Every wait
// is bounded by a watchdog or a latch deadline; no assertion depends on wall-clock ratios.

#include <sys/resource.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace httpower::test {
namespace {

// A countdown latch whose wait has a deadline (std::latch has none).
class DeadlineLatch {
 public:
  explicit DeadlineLatch(int n) : n_(n) {}
  // Arrives and waits for everyone; false if the deadline passed first.
  bool arrive_and_wait(TestClock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    if (--n_ == 0) cv_.notify_all();
    return cv_.wait_until(lock, deadline, [this] { return n_ <= 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_;
};

class Concurrency : public ::testing::Test {
 protected:
  void SetUp() override { baseline_ = fd_count(); }
  void TearDown() override { EXPECT_EQ(fd_count(), baseline_) << "C3: fd leak"; }
  int baseline_ = 0;
};

TEST_F(Concurrency, IdleKeepAliveConnectionsBeyondWorkersPlusQueueDoNotStarveANewClient) {
  TempDir root;
  root.write("a.txt", "A\n");
  const unsigned workers = 2;
  const std::size_t queue = 2;
  const int idle = scaled(40, static_cast<int>(workers + queue) * 3);
  {
    ServerHarness s(test_config(root.path(), workers, queue));
    s.start();
    std::vector<Client> held;
    for (int i = 0; i < idle; ++i) {
      held.push_back(s.client());
      if (i % 2 == 0) {  // half did a request and now idle on keep-alive, half never spoke
        ASSERT_TRUE(held.back().send_all(get_request("/a.txt")));
        ASSERT_TRUE(held.back().read_response());
      }
    }
    // W + queue capacity are far fewer than the idle connections: a thread-per-connection
    // design would hang here; the watchdog (5 s) bounds the wait.
    Client fresh = s.client(5s);
    ASSERT_TRUE(fresh.send_all(get_request("/a.txt")));
    auto r = fresh.read_response();
    ASSERT_TRUE(r) << "a new client was not served while " << idle << " idle connections were open";
    EXPECT_EQ(r->body, "A\n");
    EXPECT_EQ(s.server().open_connections(), static_cast<std::size_t>(idle) + 1);
    EXPECT_EQ(s.stop(), 0);
  }
}

TEST_F(Concurrency, FiveSlowDownloadsProgressInParallel) {
  TempDir root;
  const std::size_t size = static_cast<std::size_t>(scaled(8, 2)) << 20;
  const std::string content = random_bytes(size, 7);
  root.write("big.bin", content);
  constexpr int kClients = 5;
  {
    // Two workers for five clients: if a worker stayed with one download until it ended,
    // at most two downloads could be under way and the latches below would time out.
    ServerHarness s(test_config(root.path(), 2, 4));
    s.start();
    DeadlineLatch first_bytes(kClients), halfway(kClients);
    std::atomic<int> ok{0};
    const auto deadline = TestClock::now() + 60s;
    std::vector<std::thread> clients;
    for (int i = 0; i < kClients; ++i) {
      clients.emplace_back([&] {
        Client c;
        if (!c.connect_to("127.0.0.1", s.port(), 60s, 16 * 1024)) return;
        if (!c.send_all(get_request("/big.bin"))) return;
        bool at_first = false, at_half = false;
        std::size_t body_start = std::string::npos;
        while (true) {
          // Limited read rate: small reads, the socket buffer is small too.
          if (c.fill(16 * 1024) <= 0) break;
          if (body_start == std::string::npos) body_start = c.buffered().find("\r\n\r\n");
          const std::size_t got = body_start == std::string::npos ? 0 : c.buffered().size() - body_start - 4;
          if (!at_first && got > 0) {
            at_first = true;
            if (!first_bytes.arrive_and_wait(deadline)) return;  // all five started
          }
          if (!at_half && got >= size / 2) {
            at_half = true;
            if (!halfway.arrive_and_wait(deadline)) return;  // all five half done, none done
          }
          if (got >= size) break;
        }
        if (body_start != std::string::npos && c.buffered().compare(body_start + 4, std::string::npos, content) == 0) {
          ok.fetch_add(1);
        }
      });
    }
    for (auto& t : clients) t.join();
    EXPECT_EQ(ok.load(), kClients) << "downloads did not overlap, or bodies differ";
    EXPECT_EQ(s.stop(), 0);
  }
}

TEST_F(Concurrency, MaxConnectionsStopsAcceptingAndResumesOnClose) {
  TempDir root;
  root.write("a.txt", "A\n");
  Config c = test_config(root.path(), 2, 4);
  c.max_connections = 3;
  {
    ServerHarness s(c);
    s.start();
    std::vector<Client> held;
    for (int i = 0; i < 3; ++i) {
      held.push_back(s.client());
      ASSERT_TRUE(held.back().send_all(get_request("/a.txt")));
      ASSERT_TRUE(held.back().read_response());
    }
    Client fourth = s.client(10s);  // the kernel completes the handshake (backlog)
    ASSERT_TRUE(fourth.send_all(get_request("/a.txt")));
    held[0].close();  // one closes: the acceptor resumes
    auto r = fourth.read_response();
    ASSERT_TRUE(r) << "accepting did not resume after a close";
    EXPECT_EQ(r->status, 200);
    EXPECT_LE(s.server().stats().max_open, 3u) << "--max-connections exceeded";
    EXPECT_EQ(s.stop(), 0);
  }
}

}  // namespace
}  // namespace httpower::test
