#pragma once
// File access beneath the document root (T1, T2).
//
// Policy
//   - Every file is opened relative to the root directory fd with
//     openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): the kernel refuses any path, symlink
//     included, that would leave the root. Symlinks that stay beneath the root are followed.
//     A symlink that points out of the root (EXDEV) or a symlink loop (ELOOP) is reported as
//     missing (404): the server does not reveal what lies outside the root, nor does a
//     listing (directory_listing opens each entry the same way).
//   - Without --dotfiles, T2 holds for the file opened, not only the path requested: a path
//     through a symlink (`gitlink -> .git`) whose target, relative to the root, has a hidden
//     segment is missing (404). Paths without symlinks cost one openat2; through one, two
//     and a readlink of /proc/self/fd.
//   - Without openat2 (ENOSYS, kernels before 5.6), the path is walked one component at a
//     time with openat(O_NOFOLLOW): every symlink is then refused (404), inside or out.
//   - Files are opened O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, then fstat'ed: only
//     regular files and directories are usable; a FIFO, socket or device is 403 at once
//     (O_NONBLOCK: opening a FIFO never blocks a worker; a Unix socket fails with ENXIO,
//     also 403).
//   - EACCES / EPERM -> 403. ENOENT / ENOTDIR / ENAMETOOLONG -> 404. EMFILE / ENFILE /
//     ENOMEM (the server is out of resources, not the file) -> 503, see resource_error().

#include <atomic>
#include <string>
#include <string_view>

#include "httpower/listing.hpp"
#include "httpower/response_planner.hpp"
#include "unique_fd.hpp"

namespace httpower {

struct OpenedFile {
  UniqueFd fd;      // open iff facts.kind is kRegular or kDirectory
  FileFacts facts;
  int error = 0;    // the errno of a failed open (0 on success)
  // Out of descriptors or memory: the file may well exist; the answer is 503, never 404.
  [[nodiscard]] bool resource_error() const noexcept;
};

class FileRoot {
 public:
  // Throws StartupError when root is not an accessible directory. Without `dotfiles`, a
  // path that leads through a symlink onto a hidden name (T2) is missing.
  explicit FileRoot(const std::string& root, bool dotfiles = false);

  // rel: a resolved target path ("" = the root itself). scratch: reused C-string buffer.
  [[nodiscard]] OpenedFile open(std::string_view rel, std::string& scratch) const;

  [[nodiscard]] const std::string& absolute_path() const noexcept { return abs_; }
  [[nodiscard]] int fd() const noexcept { return root_.get(); }
  // Tests: behave as on a kernel without openat2 (the O_NOFOLLOW component walk).
  void use_component_walk_for_testing() noexcept { have_openat2_.store(false); }

 private:
  OpenedFile open_walk(const char* rel) const;  // the ENOSYS fallback
  [[nodiscard]] bool lands_on_hidden(int fd) const;
  UniqueFd root_;
  std::string abs_;
  bool dotfiles_ = false;
  mutable std::atomic<bool> have_openat2_{true};  // false after the first ENOSYS
};

// The HTML directory listing for `dir` (an open directory fd, not consumed) at `rel_dir`
// (its resolved path beneath `root`, "" for the root): entries sorted (directories first,
// then by name), names HTML-escaped and percent-encoded in links, sizes and modification
// dates. An entry is listed only if GET would serve it: opened through `root` as GET opens
// it, it is a regular file or a directory (no symlink out of the root, broken, or onto a
// hidden name; no FIFO, socket or device), and its size and date are those of what was
// opened. Names beginning with '.' are listed only with `show_hidden` (--dotfiles).
// `url_path` is the raw request path (ending in '/'), shown in the title after escaping.
// `order`: from the request's query (parse_listing_query).
[[nodiscard]] std::string directory_listing(const FileRoot& root, int dir, std::string_view rel_dir,
                                            std::string_view url_path, bool show_hidden = false,
                                            ListingOrder order = {});

}  // namespace httpower
