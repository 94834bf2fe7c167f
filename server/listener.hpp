#pragma once
// The listening socket: getaddrinfo + socket + bind + listen. IPv4 and IPv6;
// "::" binds dual stack (IPV6_V6ONLY off). SO_REUSEADDR so a restart does not wait for
// TIME_WAIT. Non-blocking and close-on-exec. TCP_NODELAY, which accepted sockets inherit.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "unique_fd.hpp"

namespace httpower {

// Start-up failures (bind, root): main prints what() on one line and exits 1.
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Listener {
  UniqueFd fd;
  std::uint16_t port = 0;  // the real port (after bind to port 0)
  bool ipv6 = false;
  std::string host;        // numeric host as bound, e.g. "127.0.0.1" or "::1"
  // Passed by the service manager (adopt_listener), which keeps its own copy: at a stop the
  // socket goes on queueing connections for the next instance, so it is never filtered.
  bool inherited = false;
};

// Throws StartupError with a one-line message.
[[nodiscard]] Listener open_listener(const std::string& bind_addr, std::uint16_t port,
                                     int backlog);

// Takes over an inherited listening socket (systemd socket activation, sd_listen_fds(3)):
// it must be a listening TCP socket; it is made non-blocking and close-on-exec, and gets
// TCP_NODELAY like open_listener's. The Listener owns fd from here on, also when this throws
// StartupError.
[[nodiscard]] Listener adopt_listener(int fd);

// "http://127.0.0.1:8080/" or "http://[::1]:8080/".
[[nodiscard]] std::string listener_url(const Listener& l);

// The URLs a person can open: for a wildcard bind ("0.0.0.0", "::") one per address of this
// machine's interfaces that are up (loopback first; IPv6 link-local ones left out, as they
// need a zone in the URL; IPv4 too for "::", which is dual stack); otherwise listener_url.
[[nodiscard]] std::vector<std::string> listener_urls(const Listener& l);

}  // namespace httpower
