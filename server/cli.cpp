#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <thread>

#include "config.hpp"

namespace httpower {

void Config::finalize() {
  if (threads == 0) {
    const unsigned cpus = std::thread::hardware_concurrency();
    threads = cpus == 0 ? 2 : cpus;
  }
  if (queue_capacity == 0) queue_capacity = 64 * static_cast<std::size_t>(threads);
  if (max_connections == 0) max_connections = connections_for_fd_limit(fd_limit(), threads);
}

namespace {

// Connections whose socket and file fit in fd_limit beside the reserve (no cap).
std::uint64_t fd_capacity(std::uint64_t fd_limit, unsigned threads) {
  const std::uint64_t reserve = kFdReserve + threads;
  return fd_limit > reserve ? (fd_limit - reserve) / 2 : 0;
}

}  // namespace

std::size_t connections_for_fd_limit(std::uint64_t fd_limit, unsigned threads) {
  return static_cast<std::size_t>(
      std::clamp<std::uint64_t>(fd_capacity(fd_limit, threads), 1, kMaxConnectionsCap));
}

std::uint64_t fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
  if (lim.rlim_cur == RLIM_INFINITY) return std::numeric_limits<std::uint64_t>::max();
  return lim.rlim_cur;
}

std::uint64_t raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return fd_limit();
  rlim_t want = lim.rlim_max;
  if (want == RLIM_INFINITY) {  // the kernel refuses more than fs.nr_open
    std::ifstream nr_open("/proc/sys/fs/nr_open");
    unsigned long long n = 0;
    want = nr_open >> n && n > 0 ? static_cast<rlim_t>(n) : lim.rlim_cur;
  }
  if (want > lim.rlim_cur) {
    lim.rlim_cur = want;
    (void)setrlimit(RLIMIT_NOFILE, &lim);  // on failure the old limit stays, and is reported
  }
  return fd_limit();
}

std::string fd_limit_warning(const Config& c, std::uint64_t fd_limit) {
  const std::uint64_t fits = std::max<std::uint64_t>(fd_capacity(fd_limit, c.threads), 1);
  if (c.max_connections <= fits) return {};
  return "warning: --max-connections " + std::to_string(c.max_connections) +
         " exceeds the " + std::to_string(fits) + " that the descriptor limit (" +
         std::to_string(fd_limit) + ") allows; beyond that new clients get 503";
}

std::string usage_text() {
  return "usage: httpower [OPTIONS] [ROOT]\n"
         "Serve the directory ROOT (default: the current directory) over HTTP/1.1.\n"
         "\n"
         "  -p, --port PORT          port to listen on (default 8080; 0 = pick a free port)\n"
         "  -b, --bind ADDR          address to bind (default 127.0.0.1; '::' = all, dual stack)\n"
         "  -t, --threads N          worker threads (default: number of CPUs)\n"
         "  -q, --queue N            ready-queue capacity (default: 64 per worker)\n"
         "      --listing            HTML directory listings (default off: 403)\n"
         "      --dotfiles           serve and list names beginning with '.' (default: 404,\n"
         "                           except /.well-known/)\n"
         "      --access-log FILE|-  Combined Log Format access log (default '-' = stdout)\n"
         "      --quiet              no access log\n"
         "      --header-timeout S   request head deadline from its first byte (default 10)\n"
         "      --idle-timeout S     keep-alive idle limit (default 15)\n"
         "      --send-timeout S     limit without send progress (default 30)\n"
         "      --drain-timeout S    graceful-stop drain limit (default 5)\n"
         "      --max-connections N  open connections limit (default: what the descriptor\n"
         "                           limit allows, (NOFILE - 32 - threads) / 2, at most 10000;\n"
         "                           the start-up line shows it)\n"
         "      --max-requests N     requests per connection (default 1000; 0 = unlimited)\n"
         "  -h, --help               this text\n"
         "      --version            print the version\n";
}

namespace {

bool parse_uint(const std::string& s, unsigned long long max, unsigned long long& out) {
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && p == end && out <= max;
}

// Seconds with an optional fraction ("2", "0.25"); 0 < S <= one day.
bool parse_seconds(const std::string& s, std::chrono::milliseconds& out) {
  if (s.empty() || s.size() > 20) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(v) || v <= 0 || v > 86400) {
    return false;
  }
  out = std::chrono::milliseconds(static_cast<long long>(std::ceil(v * 1000)));
  return true;
}

}  // namespace

CliResult parse_args(const std::vector<std::string>& args) {
  CliResult r;
  Config& c = r.config;
  bool have_root = false;
  auto fail = [&r](std::string msg) {
    r.action = CliAction::kUsageError;
    r.error = std::move(msg);
    return r;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    std::string value;
    bool inline_value = false;
    if (a.rfind("--", 0) == 0) {
      const auto eq = a.find('=');
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        inline_value = true;
      }
    }
    auto need = [&](std::string& out) {
      if (inline_value) {
        out = value;
        return true;
      }
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    unsigned long long n = 0;
    std::string v;
    if (a == "-h" || a == "--help") {
      r.action = CliAction::kHelp;
      return r;
    } else if (a == "--version") {
      r.action = CliAction::kVersion;
      return r;
    } else if (a == "-p" || a == "--port") {
      if (!need(v) || !parse_uint(v, 65535, n)) return fail("invalid or missing port: '" + v + "'");
      c.port = static_cast<std::uint16_t>(n);
    } else if (a == "-b" || a == "--bind") {
      if (!need(v) || v.empty()) return fail("missing bind address");
      c.bind = v;
    } else if (a == "-t" || a == "--threads") {
      if (!need(v) || !parse_uint(v, 1024, n) || n == 0) {
        return fail("invalid thread count: '" + v + "' (1..1024)");
      }
      c.threads = static_cast<unsigned>(n);
    } else if (a == "-q" || a == "--queue") {
      if (!need(v) || !parse_uint(v, 1'000'000, n) || n == 0) {
        return fail("invalid queue capacity: '" + v + "' (1..1000000)");
      }
      c.queue_capacity = n;
    } else if (a == "--listing") {
      c.listing = true;
    } else if (a == "--dotfiles") {
      c.dotfiles = true;
    } else if (a == "--quiet") {
      c.access_log.clear();
    } else if (a == "--access-log") {
      if (!need(v) || v.empty()) return fail("missing access log file");
      c.access_log = v;
    } else if (a == "--header-timeout" || a == "--idle-timeout" || a == "--send-timeout" ||
               a == "--drain-timeout") {
      std::chrono::milliseconds ms{};
      if (!need(v) || !parse_seconds(v, ms)) {
        return fail("invalid " + a + " value: '" + v + "' (seconds, > 0)");
      }
      if (a == "--header-timeout") c.header_timeout = ms;
      if (a == "--idle-timeout") c.idle_timeout = ms;
      if (a == "--send-timeout") c.send_timeout = ms;
      if (a == "--drain-timeout") c.drain_timeout = ms;
    } else if (a == "--max-connections") {
      if (!need(v) || !parse_uint(v, 10'000'000, n) || n == 0) {
        return fail("invalid --max-connections: '" + v + "'");
      }
      c.max_connections = n;
    } else if (a == "--max-requests") {
      if (!need(v) || !parse_uint(v, 1'000'000'000, n)) {
        return fail("invalid --max-requests: '" + v + "'");
      }
      c.max_requests = n;
    } else if (a.size() > 1 && a[0] == '-') {
      return fail("unknown option: " + a);
    } else {
      if (have_root) return fail("more than one ROOT given: " + a);
      c.root = a;
      have_root = true;
    }
    if (inline_value && (a == "--listing" || a == "--dotfiles" || a == "--quiet")) {
      return fail("option " + a + " takes no value");
    }
  }
  return r;
}

}  // namespace httpower
