#include "listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <memory>

namespace httpower {

namespace {

std::string numeric_host(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
  }
  return buf;
}

// Fills l's address from the bound socket; false (errno set) when it has none of ours.
bool describe(int fd, Listener& l) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return false;
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
    errno = EAFNOSUPPORT;
    return false;
  }
  l.ipv6 = ss.ss_family == AF_INET6;
  l.port = ntohs(l.ipv6 ? reinterpret_cast<sockaddr_in6&>(ss).sin6_port
                        : reinterpret_cast<sockaddr_in&>(ss).sin_port);
  l.host = numeric_host(ss);
  return true;
}

}  // namespace

Listener open_listener(const std::string& bind_addr, std::uint16_t port, int backlog) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  const int gai = getaddrinfo(bind_addr.c_str(), service.c_str(), &hints, &res);
  if (gai != 0) {
    throw StartupError("cannot resolve bind address '" + bind_addr + "': " + gai_strerror(gai));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, &freeaddrinfo);
  std::string last_error = "no usable address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                       ai->ai_protocol));
    if (!fd) {
      last_error = std::strerror(errno);
      continue;
    }
    const int one = 1;
    const int zero = 0;
    (void)setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // Responses are written whole (head and small body in one sendmsg, MSG_MORE before
    // sendfile), so Nagle would only add delayed-ACK stalls between keep-alive responses.
    // Set once here: Linux makes each accepted socket a clone of the listener, options
    // included, which saves a setsockopt per connection (Listener.AcceptedSockets* checks).
    (void)setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (ai->ai_family == AF_INET6) {
      // '::' serves IPv4 too (dual stack); a specific v6 address is unaffected.
      (void)setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    if (bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      last_error = std::strerror(errno);
      if (errno == EADDRINUSE) {
        last_error += " (another server has this port: choose another with -p, or -p 0 for a free one)";
      }
      continue;
    }
    if (listen(fd.get(), backlog) != 0) {
      last_error = std::strerror(errno);
      continue;
    }
    Listener l;
    if (!describe(fd.get(), l)) {
      last_error = std::strerror(errno);
      continue;
    }
    l.fd = std::move(fd);
    return l;
  }
  throw StartupError("cannot listen on " + bind_addr + " port " + service + ": " + last_error);
}

Listener adopt_listener(int fd) {
  UniqueFd owned(fd);
  int listening = 0;
  int type = 0;
  socklen_t len = sizeof listening;
  const bool is_socket = getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0;
  len = sizeof type;
  Listener l;
  if (!is_socket || listening == 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
      type != SOCK_STREAM || !describe(fd, l)) {
    throw StartupError("inherited descriptor " + std::to_string(fd) +
                       " (LISTEN_FDS) is not a listening TCP socket");
  }
  // The acceptor polls and must never block in accept4; a child must not inherit it.
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
    throw StartupError("inherited descriptor " + std::to_string(fd) + ": " + std::strerror(errno));
  }
  const int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as open_listener does
  l.inherited = true;
  l.fd = std::move(owned);
  return l;
}

std::string listener_url(const Listener& l) {
  std::string host = l.ipv6 ? "[" + l.host + "]" : l.host;
  return "http://" + host + ":" + std::to_string(l.port) + "/";
}

std::vector<std::string> listener_urls(const Listener& l) {
  const bool any4 = !l.ipv6 && l.host == "0.0.0.0";
  const bool any6 = l.ipv6 && l.host == "::";
  if (!any4 && !any6) return {listener_url(l)};
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {listener_url(l)};
  std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> guard(list, &freeifaddrs);
  std::vector<std::pair<bool, std::string>> found;  // (not loopback, url): loopback sorts first
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || (i->ifa_flags & IFF_UP) == 0) continue;
    const int family = i->ifa_addr->sa_family;
    if (family != AF_INET && !(any6 && family == AF_INET6)) continue;
    if (family == AF_INET6 &&
        IN6_IS_ADDR_LINKLOCAL(&reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr)) {
      continue;
    }
    sockaddr_storage ss{};
    std::memcpy(&ss, i->ifa_addr, family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
    Listener one;
    one.ipv6 = family == AF_INET6;
    one.host = numeric_host(ss);
    one.port = l.port;
    const std::string url = listener_url(one);
    const bool loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
    if (std::none_of(found.begin(), found.end(), [&](const auto& f) { return f.second == url; })) {
      found.emplace_back(!loopback, url);
    }
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> urls;
  for (auto& f : found) urls.push_back(std::move(f.second));
  if (urls.empty()) urls.push_back(listener_url(l));
  return urls;
}

}  // namespace httpower
