// The systemd protocols in process: the socket-activation environment, an inherited socket
// served and left usable for the next instance, and the notify socket's READY=1 / STOPPING=1.
// ops_test.py drives the same through systemd-socket-activate and the binary.

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "systemd.hpp"
#include "test_support.hpp"

namespace httpower::test {
namespace {

// A datagram socket standing in for systemd's notify socket.
class NotifyStub {
 public:
  explicit NotifyStub(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, path.data(), path.size());
    if (path[0] == '@') a.sun_path[0] = '\0';
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
    bound_ = ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), len) == 0;
  }
  [[nodiscard]] bool bound() const { return bound_; }
  // The next datagram, or "" after 10 s (a watchdog: the server sends at once).
  std::string next() {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, 10'000) != 1) return {};
    char buf[256];
    const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  UniqueFd fd_;
  bool bound_ = false;
};

TEST(Systemd, NotifySocketGetsReadyOnceServingAndStoppingWhenTheDrainStarts) {
  TempDir root;
  root.write("a.txt", "a\n");
  for (const std::string& path :
       {root.path() + "/notify", "@httpower-notify-test-" + std::to_string(::getpid())}) {
    NotifyStub stub(path);
    ASSERT_TRUE(stub.bound()) << path;
    Config c = test_config(root.path());
    c.notify_socket = path;
    ServerHarness h(c);
    h.start();
    EXPECT_EQ(stub.next(), "READY=1") << path;
    const auto r = h.get("/a.txt");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(h.stop(), 0);
    EXPECT_EQ(stub.next(), "STOPPING=1") << path;
  }
}

// The service manager keeps its copy of the socket across a stop; connections that arrive
// after it must queue there for the next instance, not be dropped by a filter.
TEST(Systemd, InheritedSocketIsServedAndStillQueuesConnectionsAfterTheStop) {
  TempDir root;
  root.write("a.txt", "a\n");
  const Listener manager = open_listener("127.0.0.1", 0, 16);
  Config c = test_config(root.path());
  c.inherited_listeners = {::dup(manager.fd.get())};
  c.bind = {"127.0.0.2"};  // not used: the inherited socket wins
  {
    ServerHarness h(c);
    h.start();
    EXPECT_EQ(h.port(), manager.port);
    EXPECT_EQ(h.server().url(), "http://127.0.0.1:" + std::to_string(manager.port) + "/");
    const auto r = h.get("/a.txt");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(h.stop(), 0);
  }
  testsupport::ConnectOptions o;
  o.nonblocking = true;
  int err = 0;
  UniqueFd late(testsupport::tcp_connect("127.0.0.1", manager.port, o, &err));
  ASSERT_TRUE(late) << std::strerror(err);
  pollfd p{late.get(), POLLOUT, 0};
  ASSERT_EQ(::poll(&p, 1, 10'000), 1) << "the handshake never completed: SYNs are dropped";
  int so_error = -1;
  socklen_t len = sizeof so_error;
  ASSERT_EQ(::getsockopt(late.get(), SOL_SOCKET, SO_ERROR, &so_error, &len), 0);
  EXPECT_EQ(so_error, 0) << std::strerror(so_error);
  pollfd q{manager.fd.get(), POLLIN, 0};
  EXPECT_EQ(::poll(&q, 1, 10'000), 1) << "the connection is not queued on the socket";
}

TEST(Systemd, AdoptListenerRefusesWhatIsNotAListeningTcpSocket) {
  EXPECT_THROW((void)adopt_listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)), StartupError);
  EXPECT_THROW((void)adopt_listener(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)), StartupError);
}

TEST(Systemd, ListenFdsAreOursOnlyWhenListenPidIsThisProcess) {
  const std::string me = std::to_string(::getpid());
  ::setenv("LISTEN_PID", me.c_str(), 1);
  ::setenv("LISTEN_FDS", "2", 1);
  ::setenv("LISTEN_FDNAMES", "a:b", 1);
  EXPECT_EQ(inherited_listen_fds(), (std::vector<int>{3, 4}));
  EXPECT_EQ(std::getenv("LISTEN_PID"), nullptr) << "a child would take them for its own";
  EXPECT_EQ(std::getenv("LISTEN_FDS"), nullptr);
  EXPECT_EQ(std::getenv("LISTEN_FDNAMES"), nullptr);
  ::setenv("LISTEN_PID", "1", 1);  // meant for another process
  ::setenv("LISTEN_FDS", "2", 1);
  EXPECT_TRUE(inherited_listen_fds().empty());
  EXPECT_EQ(std::getenv("LISTEN_FDS"), nullptr);
  ::setenv("LISTEN_PID", me.c_str(), 1);
  ::setenv("LISTEN_FDS", "two", 1);
  EXPECT_THROW((void)inherited_listen_fds(), StartupError);
  EXPECT_TRUE(inherited_listen_fds().empty()) << "nothing set";
}

}  // namespace
}  // namespace httpower::test
