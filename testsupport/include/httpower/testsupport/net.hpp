#pragma once
// TCP connects for test clients: an IPv4 or IPv6 literal (a ':' means IPv6) and a port.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace httpower::testsupport {

struct ConnectOptions {
  bool nonblocking = false;  // connect() may return EINPROGRESS: the caller waits for POLLOUT
  bool nodelay = false;      // TCP_NODELAY
  int rcvbuf = 0;            // SO_RCVBUF when > 0 (a slow reader's small window)
};

// A close-on-exec TCP socket connected (or, non-blocking, connecting) to host:port; -1 with
// *err set on failure.
inline int tcp_connect(const std::string& host, std::uint16_t port, const ConnectOptions& o, int* err) {
  const bool v6 = host.find(':') != std::string::npos;
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (o.nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  if (o.rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o.rcvbuf, sizeof o.rcvbuf);
  if (o.nodelay) {
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v6) {
    auto& a = reinterpret_cast<sockaddr_in6&>(ss);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    inet_pton(AF_INET6, host.c_str(), &a.sin6_addr);
    len = sizeof a;
  } else {
    auto& a = reinterpret_cast<sockaddr_in&>(ss);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    len = sizeof a;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && !(o.nonblocking && errno == EINPROGRESS)) {
    *err = errno;
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace httpower::testsupport
