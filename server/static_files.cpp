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

FileRoot::FileRoot(const std::string& root, bool dotfiles) : dotfiles_(dotfiles) {
  root_.reset(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_) {
    throw StartupError("cannot serve '" + root + "': " + std::strerror(errno));
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

struct Entry {
  std::string name;
  bool dir = false;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;
};

void append_escaped_html(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}

void append_percent_encoded(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

std::string human_size(std::uint64_t n) {
  char buf[32];
  if (n < 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else if (n < 1024ull * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024);
  } else if (n < 1024ull * 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1024.0 * 1024));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(n) / (1024.0 * 1024 * 1024));
  }
  return buf;
}

}  // namespace

namespace {

// A listing shows exactly what GET serves: each entry is opened as GET opens it (through
// FileRoot: beneath the root, T2 on the path a symlink leads to) and listed with the facts
// of what was opened, if that is a regular file or a directory. A symlink out of the root,
// a broken one, one onto a hidden name, a FIFO, socket or device, an unreadable file: left
// out, and nothing of their targets is shown.
void collect_entries(const FileRoot& root, int dir, std::string_view rel_dir, bool show_hidden,
                     std::vector<Entry>& entries) {
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
    Entry en;
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
                              std::string_view url_path, bool show_hidden) {
  std::vector<Entry> entries;
  collect_entries(root, dir, rel_dir, show_hidden, entries);
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.dir != b.dir) return a.dir;
    return a.name < b.name;
  });

  std::string out;
  out.reserve(1024 + entries.size() * 200);
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Index of ";
  append_escaped_html(out, url_path);
  out +=
      "</title>\n<style>body{font:15px/1.5 system-ui,sans-serif;margin:2em auto;max-width:56em;"
      "padding:0 1em;color:#222}h1{font-size:1.3em;word-break:break-all}table{border-collapse:"
      "collapse;width:100%}th,td{text-align:left;padding:.25em .6em;border-bottom:1px solid #eee}"
      "td.s,th.s{text-align:right;white-space:nowrap}td.d{white-space:nowrap;color:#666}"
      "a{color:#0b5cad;text-decoration:none}a:hover{text-decoration:underline}</style>\n"
      "</head><body>\n<h1>Index of ";
  append_escaped_html(out, url_path);
  out += "</h1>\n<table>\n<tr><th>Name</th><th class=\"s\">Size</th><th>Modified (UTC)</th></tr>\n";
  if (url_path != "/") out += "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n";
  HttpDateBuffer date{};
  for (const Entry& e : entries) {
    out += "<tr><td><a href=\"";
    append_percent_encoded(out, e.name);
    if (e.dir) out += '/';
    out += "\">";
    append_escaped_html(out, e.name);
    if (e.dir) out += '/';
    out += "</a></td><td class=\"s\">";
    if (!e.dir) out += human_size(e.size);
    out += "</td><td class=\"d\">";
    out += format_http_date(e.mtime, date);
    out += "</td></tr>\n";
  }
  out += "</table>\n<p><small>HTTPower</small></p>\n</body></html>\n";
  return out;
}

}  // namespace httpower
