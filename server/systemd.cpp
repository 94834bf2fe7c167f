#include "systemd.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "listener.hpp"

namespace httpower {

namespace {

constexpr int kListenFdsStart = 3;  // SD_LISTEN_FDS_START

bool parse_positive(const char* s, long long& out) {
  if (s == nullptr || *s == '\0') return false;
  const char* end = s + std::strlen(s);
  auto [p, ec] = std::from_chars(s, end, out);
  return ec == std::errc() && p == end && out > 0;
}

}  // namespace

std::vector<int> inherited_listen_fds() {
  const char* pid_text = std::getenv("LISTEN_PID");
  const char* fds_text = std::getenv("LISTEN_FDS");
  long long pid = 0;
  long long n = 0;
  const bool ours = parse_positive(pid_text, pid) && pid == static_cast<long long>(::getpid());
  const bool fds_ok = parse_positive(fds_text, n) && n <= 1024;
  const std::string fds_copy = fds_text == nullptr ? "" : fds_text;
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  if (!ours) return {};
  if (!fds_ok) {
    throw StartupError("LISTEN_FDS='" + fds_copy +
                       "' from the service manager is not a count of descriptors (1 to 1024)");
  }
  std::vector<int> fds;
  for (long long i = 0; i < n; ++i) fds.push_back(kListenFdsStart + static_cast<int>(i));
  return fds;
}

bool notify_service_manager(const std::string& path, std::string_view state) noexcept {
  if (path.empty()) return true;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path || (path[0] != '/' && path[0] != '@')) {
    errno = EINVAL;
    return false;
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';  // the abstract namespace
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  const ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr*>(&addr), len);
  const int err = errno;
  ::close(fd);
  errno = err;
  return sent == static_cast<ssize_t>(state.size());
}

}  // namespace httpower
