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
#include "listener.hpp"

namespace httpower {

namespace {

constexpr int kOpenFlags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

FileKind kind_for_errno(int e) {
  switch (e) {
    case EACCES:
    case EPERM:
      return FileKind::kForbidden;
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
  f.facts.inode = st.st_ino;
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

FileRoot::FileRoot(const std::string& root) {
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
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const long fd = syscall(SYS_openat2, root_.get(), scratch.c_str(), &how, sizeof how);
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

std::string directory_listing(int dir, std::string_view url_path, bool show_hidden) {
  std::vector<ListingEntry> entries;
  const int dup_fd = fcntl(dir, F_DUPFD_CLOEXEC, 0);
  if (dup_fd >= 0) {
    // Rewind: the fd may have been read before (it is the worker's open directory).
    (void)lseek(dup_fd, 0, SEEK_SET);
    DIR* d = fdopendir(dup_fd);
    if (d == nullptr) {
      ::close(dup_fd);
    } else {
      while (dirent* e = readdir(d)) {
        const std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        if (name.front() == '.' && !show_hidden) continue;  // hidden names (--dotfiles)
        ListingEntry en;
        en.name = e->d_name;
        struct stat st {};
        if (fstatat(dup_fd, e->d_name, &st, 0) == 0) {  // follows links: shows the target
          en.dir = S_ISDIR(st.st_mode);
          en.size = static_cast<std::uint64_t>(st.st_size);
          en.mtime = st.st_mtim.tv_sec;
        }
        entries.push_back(std::move(en));
      }
      closedir(d);  // closes dup_fd
    }
  }
  return render_listing(url_path, std::move(entries));
}

}  // namespace httpower
