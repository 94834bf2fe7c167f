#include "static_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "httpower/http_date.hpp"
#include "httpower/listing.hpp"
#include "httpower/target_resolver.hpp"
#include "listener.hpp"

namespace httpower {

namespace {

constexpr int kOpenFlags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

FileKind kind_for_errno(int e) {
  switch (e) {
    case EACCES:
    case EPERM:
      return FileKind::kForbidden;
    case ENXIO:  // open(2) of a Unix socket (or a device with no driver): not a file, 403
      return FileKind::kOther;
    default:  // ENOENT, ENOTDIR, ENAMETOOLONG, EXDEV (escapes the root), ELOOP, ...
      return FileKind::kMissing;
  }
}

OpenedFile facts_of(UniqueFd fd) {
  OpenedFile f;
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    f.facts.kind = FileKind::kForbidden;
    return f;
  }
  f.facts.size = static_cast<std::uint64_t>(st.st_size);
  f.facts.mtime_sec = st.st_mtim.tv_sec;
  f.facts.mtime_nsec = static_cast<std::uint32_t>(st.st_mtim.tv_nsec);
  if (S_ISREG(st.st_mode)) {
    f.facts.kind = FileKind::kRegular;
  } else if (S_ISDIR(st.st_mode)) {
    f.facts.kind = FileKind::kDirectory;
  } else {
    f.facts.kind = FileKind::kOther;  // FIFO, socket, device: 403, fd closed here
    return f;
  }
  f.fd = std::move(fd);
  return f;
}

}  // namespace

bool OpenedFile::resource_error() const noexcept {
  return error == EMFILE || error == ENFILE || error == ENOMEM || error == ENOBUFS;
}

FileRoot::FileRoot(const std::string& root, bool dotfiles) : dotfiles_(dotfiles) {
  root_.reset(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_) {
    throw StartupError("cannot serve '" + root + "': " + std::strerror(errno));
  }
  // A root that can be read but not searched (mode r-- for us) opens fine and then fails
  // every request with 403: refuse it now, in one line.
  if (faccessat(root_.get(), ".", X_OK, AT_EACCESS) != 0) {
    throw StartupError("cannot serve '" + root + "': the directory is not searchable (" +
                       std::strerror(errno) + "; it needs the x permission)");
  }
  char buf[PATH_MAX];
  if (realpath(root.c_str(), buf) == nullptr) {
    throw StartupError("cannot resolve '" + root + "': " + std::strerror(errno));
  }
  abs_ = buf;
}

OpenedFile FileRoot::open(std::string_view rel, std::string& scratch) const {
  scratch.assign(rel.empty() ? std::string_view(".") : rel);
  if (have_openat2_.load(std::memory_order_relaxed)) {
    open_how how{};
    how.flags = kOpenFlags;
    // Without --dotfiles, T2 must hold for the file actually opened: a path with no symlink
    // (the common case, one call) is the requested path, which plan_get has checked; a path
    // through a symlink (ELOOP here) is opened again, following it, and then checked.
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (dotfiles_ ? 0 : RESOLVE_NO_SYMLINKS);
    long fd = syscall(SYS_openat2, root_.get(), scratch.c_str(), &how, sizeof how);
    if (fd < 0 && errno == ELOOP && !dotfiles_) {
      how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
      fd = syscall(SYS_openat2, root_.get(), scratch.c_str(), &how, sizeof how);
      if (fd >= 0) {
        UniqueFd file(static_cast<int>(fd));
        if (lands_on_hidden(file.get())) {  // as if absent, like a hidden request path
          OpenedFile f;
          f.error = ENOENT;
          return f;
        }
        return facts_of(std::move(file));
      }
    }
    if (fd >= 0) return facts_of(UniqueFd(static_cast<int>(fd)));
    if (errno != ENOSYS) {
      OpenedFile f;
      f.error = errno;
      f.facts.kind = kind_for_errno(errno);
      return f;
    }
    have_openat2_.store(false, std::memory_order_relaxed);
  }
  return open_walk(scratch.c_str());
}

// The opened file's path, relative to the root, has a hidden segment (T2). Read from
// /proc/self/fd; when that fails, or the file is no longer beneath the root's path (the root
// was moved), the answer is "hidden": the check fails closed.
bool FileRoot::lands_on_hidden(int fd) const {
  char link[32];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char buf[PATH_MAX];
  const ssize_t n = readlink(link, buf, sizeof buf);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) return true;
  std::string_view real(buf, static_cast<std::size_t>(n));
  const std::string_view base = abs_ == "/" ? std::string_view() : std::string_view(abs_);
  if (real == base) return false;  // the root itself
  if (!real.starts_with(base) || real.size() <= base.size() || real[base.size()] != '/') {
    return true;
  }
  real.remove_prefix(base.size() + 1);
  return is_hidden_path(real);
}

// Fallback: one openat(O_NOFOLLOW) per component, so no symlink is ever followed.
OpenedFile FileRoot::open_walk(const char* rel) const {
  UniqueFd dir;
  int at = root_.get();
  const char* p = rel;
  std::string comp;
  for (;;) {
    const char* slash = std::strchr(p, '/');
    comp.assign(p, slash == nullptr ? std::strlen(p) : static_cast<std::size_t>(slash - p));
    const bool last = slash == nullptr;
    const int flags = last ? kOpenFlags | O_NOFOLLOW : O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    UniqueFd next(openat(at, comp.c_str(), flags));
    if (!next) {
      OpenedFile f;
      f.error = errno;
      f.facts.kind = kind_for_errno(errno);
      return f;
    }
    if (last) return facts_of(std::move(next));
    dir = std::move(next);
    at = dir.get();
    p = slash + 1;
  }
}

namespace {

// A listing shows exactly what GET serves: each entry is opened as GET opens it (through
// FileRoot: beneath the root, T2 on the path a symlink leads to) and listed with the facts
// of what was opened, if that is a regular file or a directory. A symlink out of the root,
// a broken one, one onto a hidden name, a FIFO, socket or device, an unreadable file: left
// out, and nothing of their targets is shown.
void collect_entries(const FileRoot& root, int dir, std::string_view rel_dir, bool show_hidden,
                     std::vector<ListingEntry>& entries) {
  const int dup_fd = fcntl(dir, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return;
  // Rewind: the fd may have been read before (it is the worker's open directory).
  (void)lseek(dup_fd, 0, SEEK_SET);
  DIR* d = fdopendir(dup_fd);
  if (d == nullptr) {
    ::close(dup_fd);
    return;
  }
  std::string rel;
  std::string scratch;
  while (dirent* e = readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    if (name.front() == '.' && !show_hidden) continue;  // hidden names (--dotfiles)
    unsigned char type = e->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st {};
      if (fstatat(dup_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      type = S_ISREG(st.st_mode)   ? DT_REG
             : S_ISDIR(st.st_mode) ? DT_DIR
             : S_ISLNK(st.st_mode) ? DT_LNK
                                   : DT_UNKNOWN;
    }
    // A FIFO, socket or device is 403 for GET: not listed, and not opened here either.
    if (type != DT_REG && type != DT_DIR && type != DT_LNK) continue;
    rel.assign(rel_dir);
    if (!rel.empty()) rel += '/';
    rel += name;
    const OpenedFile f = root.open(rel, scratch);
    if (f.facts.kind != FileKind::kRegular && f.facts.kind != FileKind::kDirectory) continue;
    ListingEntry en;
    en.name = name;
    en.dir = f.facts.kind == FileKind::kDirectory;
    en.size = f.facts.size;
    en.mtime = f.facts.mtime_sec;
    entries.push_back(std::move(en));
  }
  closedir(d);  // closes dup_fd
}

}  // namespace

std::string directory_listing(const FileRoot& root, int dir, std::string_view rel_dir,
                              std::string_view url_path, bool show_hidden, ListingOrder order) {
  std::vector<ListingEntry> entries;
  collect_entries(root, dir, rel_dir, show_hidden, entries);
  return render_listing(url_path, std::move(entries), order);
}

}  // namespace httpower
