#pragma once
// Server configuration and the command line. parse_args() never exits: it returns
// what main should do, so the CLI is unit-testable.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace httpower {

inline constexpr std::string_view kSystemMimeTypes = "/etc/mime.types";

struct Config {
  std::string root = ".";
  // Addresses to listen on, each its own socket (-b, repeatable); empty: 127.0.0.1.
  std::vector<std::string> bind;
  // Listening sockets inherited from the service manager (socket activation, systemd.hpp):
  // when any, they are served and bind / port are not used.
  std::vector<int> inherited_listeners;
  // The service manager's notify socket (NOTIFY_SOCKET): "READY=1" once serving,
  // "STOPPING=1" when the graceful stop begins; empty: none.
  std::string notify_socket;
  // --user: the user the server becomes once its sockets, root and logs are open; empty:
  // stay who started it.
  std::string user;
  std::uint16_t port = 8080;
  unsigned threads = 0;            // 0: number of CPUs
  std::size_t queue_capacity = 0;  // 0: 64 * threads
  bool listing = false;
  bool dotfiles = false;           // serve (and list) names beginning with '.'
  std::string access_log = "-";    // "-" = stdout; empty = off (--quiet)
  std::string error_log = "-";     // "-" = stderr; else a file (--error-log)
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{15'000};
  std::chrono::milliseconds send_timeout{30'000};
  std::chrono::milliseconds drain_timeout{5'000};
  std::chrono::milliseconds linger_timeout{2'000};  // lingering close after an error (§9.6)
  std::size_t max_connections = 0;  // 0: from the descriptor limit (connections_for_fd_limit)
  std::size_t max_requests = 1'000;  // per connection; 0 = unlimited
  std::uint64_t max_discard_body = 1 << 20;  // Content-Length bodies discarded up to this
  // MIME layers over the built-in table (mime.hpp): a mime.types file ("" = none; the default
  // is skipped silently when absent, a named one must be readable) and --mime EXT=TYPE.
  std::string mime_types_file = std::string(kSystemMimeTypes);
  bool mime_types_file_given = false;
  std::vector<std::pair<std::string, std::string>> mime_overrides;

  // What users configure on a static site (README "Running it"; docs/server.md "Operator
  // fields").
  bool precompressed = false;  // serve NAME.br / .zst / .gz for NAME when accepted
  std::string cache_control;   // Cache-Control of file responses ("" = none)
  // Per-extension Cache-Control ("css" -> value), checked before cache_control; the first
  // rule naming the extension wins.
  std::vector<std::pair<std::string, std::string>> cache_control_by_ext;
  bool cors = false;           // Access-Control-Allow-Origin: * and preflight answers
  std::vector<std::pair<std::string, std::string>> extra_headers;  // --header NAME:VALUE
  std::string spa;             // --spa FILE: served for missing extension-less paths ("" = off)
  std::vector<std::pair<int, std::string>> error_pages;  // --error-page CODE=/FILE

  // Status lines for a person on the error log (stopping, the drain deadline, the exit
  // summary); the binary turns them on, embedders and in-process tests need not.
  bool announce = false;

  // Resolved defaults: threads and queue for the CPU count, max_connections for the
  // current RLIMIT_NOFILE.
  void finalize();
};

// Descriptors kept free besides the connections' own: stdio, listener, eventfds, epoll, the
// root directory, the log, signalfd and the spare descriptor for EMFILE (12 in all), with
// room to spare.
inline constexpr std::uint64_t kFdReserve = 32;
inline constexpr std::size_t kMaxConnectionsCap = 10'000;

// The default --max-connections under a descriptor limit: each connection may hold its
// socket and a file (a download sent with sendfile), and kFdReserve plus one per worker (a
// directory's fd while its index.html is opened) stay free:
// min(10000, max(1, (fd_limit - 32 - threads) / 2)).
[[nodiscard]] std::size_t connections_for_fd_limit(std::uint64_t fd_limit, unsigned threads);

// The soft RLIMIT_NOFILE (RLIM_INFINITY reads as UINT64_MAX).
[[nodiscard]] std::uint64_t fd_limit();

// Raises the soft RLIMIT_NOFILE to the hard limit (to fs.nr_open when the hard limit is
// infinite), so that the default connection limit is not the distribution's 1024; returns
// the soft limit now in force.
std::uint64_t raise_fd_limit();

// A one-line warning (no newline) when max_connections needs more descriptors than
// fd_limit allows, so that at that point new clients get 503 instead of waiting; "" if not.
[[nodiscard]] std::string fd_limit_warning(const Config& c, std::uint64_t fd_limit);

enum class CliAction { kRun, kHelp, kVersion, kUsageError };

struct CliResult {
  CliAction action = CliAction::kRun;
  Config config;
  std::string error;  // kUsageError: one line, no trailing newline
};

[[nodiscard]] CliResult parse_args(const std::vector<std::string>& args);
[[nodiscard]] std::string usage_text();
// The long name of every option the parser knows, in table order (the help test uses it).
[[nodiscard]] std::vector<std::string> long_option_names();

}  // namespace httpower
