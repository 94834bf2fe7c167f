#include "log_sink.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "listener.hpp"

namespace httpower {

namespace {

LogSink::Kind kind_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISREG(st.st_mode)) return LogSink::Kind::kFile;
  if (S_ISSOCK(st.st_mode)) return LogSink::Kind::kSocket;
  return LogSink::Kind::kStream;
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) (void)::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

namespace {

// Targets that open for writing (root opens nearly anything) but never keep a line: files of
// the kernel's own file systems, devices other than a terminal or /dev/null (/dev/full fails
// every write), block devices. nullptr when fit.
const char* unfit_for_lines(int fd) noexcept {
  struct stat st {};
  struct statfs fs {};
  if (::fstat(fd, &st) != 0) return "cannot stat it";
  if (S_ISBLK(st.st_mode)) return "it is a block device";
  if (S_ISCHR(st.st_mode) && ::isatty(fd) == 0 &&
      !(major(st.st_rdev) == 1 && minor(st.st_rdev) == 3)) {
    return "it is a device, not a terminal or /dev/null";
  }
  if (S_ISREG(st.st_mode) && ::fstatfs(fd, &fs) == 0) {
    const auto type = static_cast<unsigned long>(fs.f_type);
    if (type == PROC_SUPER_MAGIC || type == SYSFS_MAGIC || type == DEBUGFS_MAGIC ||
        type == CGROUP_SUPER_MAGIC || type == CGROUP2_SUPER_MAGIC) {
      return "it is a kernel file (/proc, /sys), not a log file";
    }
  }
  return nullptr;
}

}  // namespace

LogSink::LogSink(const std::string& target, int std_fd, const char* what) {
  if (target.empty()) return;
  if (target == "-") {
    fd_ = std_fd;
    kind_ = kind_of(fd_);
    if (kind_ == Kind::kStream) {
      // A description of our own, so that O_NONBLOCK does not reach whoever shares std_fd.
      const std::string self = "/proc/self/fd/" + std::to_string(std_fd);
      owned_.reset(::open(self.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
      if (owned_) {
        fd_ = owned_.get();
      } else if (errno != ENXIO) {  // ENXIO: a pipe nobody reads; writes fail with EPIPE
        set_nonblocking(fd_);       // no /proc: the shared description it has to be
      }
    }
    return;
  }
  // O_NONBLOCK: a FIFO that nobody reads fails now (ENXIO) instead of hanging the start-up.
  owned_.reset(::open(target.c_str(),
                      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644));
  if (!owned_) {
    const int err = errno;
    throw StartupError(std::string("cannot open ") + what + " '" + target + "': " +
                       (err == ENXIO ? "a FIFO that nobody reads" : std::strerror(err)));
  }
  if (const char* why = unfit_for_lines(owned_.get())) {
    throw StartupError(std::string("cannot use '") + target + "' as " + what + ": " + why);
  }
  fd_ = owned_.get();
  kind_ = kind_of(fd_);
  target_ = target;
  what_ = what;
  if (kind_ == Kind::kStream) set_nonblocking(fd_);  // a FIFO or device we opened ourselves
}

std::string LogSink::reopen() {
  if (kind_ != Kind::kFile || !owned_) return {};
  const std::string head = std::string("cannot reopen ") + what_ + " '" + target_ + "': ";
  const char* tail = "; still writing to the old file";
  UniqueFd fresh(::open(target_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644));
  if (!fresh) return head + std::strerror(errno) + tail;
  if (const char* why = unfit_for_lines(fresh.get())) return head + why + tail;
  if (kind_of(fresh.get()) != Kind::kFile) return head + "it is no longer a regular file" + tail;
  if (::dup3(fresh.get(), owned_.get(), O_CLOEXEC) < 0) return head + std::strerror(errno) + tail;
  return {};
}

ssize_t LogSink::write_once(std::string_view data) const noexcept {
  for (;;) {
    const ssize_t n = kind_ == Kind::kSocket
                          ? ::send(fd_, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL)
                          : ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    return n;
  }
}

LogSink::Write LogSink::write(std::string_view data) noexcept {
  if (kind_ == Kind::kOff) return Write::kOk;
  if (kind_ == Kind::kFile) {
    while (!data.empty()) {
      const ssize_t n = write_once(data);
      if (n <= 0) return Write::kFailed;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return Write::kOk;
  }
  MutexLock lock(mu_);
  return write_stream(data);
}

LogSink::Write LogSink::write_stream(std::string_view data) noexcept {
  auto would_block = [] { return errno == EAGAIN || errno == EWOULDBLOCK; };
  if (!rest_.empty()) {
    const ssize_t n = write_once(rest_);
    if (n < 0 && !would_block()) {
      rest_.clear();
      return Write::kFailed;
    }
    if (n > 0) rest_.erase(0, static_cast<std::size_t>(n));
    if (!rest_.empty()) return Write::kWouldBlock;
  }
  const ssize_t n = write_once(data);
  if (n < 0) return would_block() ? Write::kWouldBlock : Write::kFailed;
  if (n == 0 && !data.empty()) return Write::kWouldBlock;
  const auto done = static_cast<std::size_t>(n);
  if (done < data.size()) rest_.assign(data.substr(done));  // a terminal or socket took part
  return Write::kOk;
}

bool LogSink::wait_writable(std::chrono::steady_clock::time_point deadline) const noexcept {
  if (kind_ == Kind::kFile || kind_ == Kind::kOff) return true;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLOUT, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) return (p.revents & POLLOUT) != 0;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace httpower
