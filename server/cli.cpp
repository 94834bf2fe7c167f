#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <thread>

#include "config.hpp"
#include "httpower/field_syntax.hpp"
#include "httpower/mime.hpp"
#include "privileges.hpp"
#include "httpower/negotiation.hpp"

namespace httpower {

void Config::finalize() {
  if (bind.empty()) bind.emplace_back("127.0.0.1");
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
  return "Usage: httpower [OPTIONS] [ROOT]\n"
         "Serve the directory ROOT (default: the current directory) over HTTP/1.1.\n"
         "\n"
         "  -p, --port PORT          port to listen on (default 8080; 0 = pick a free port)\n"
         "  -b, --bind ADDR          address to bind (default 127.0.0.1; '::' = all, dual stack;\n"
         "                           IPv6 literals with or without brackets: ::1, [::1]);\n"
         "                           repeatable: -b 127.0.0.1 -b ::1 listens on both\n"
         "  -t, --threads N          worker threads (default: number of CPUs)\n"
         "      --queue N            connections ready to be served that may wait for a free\n"
         "                           worker (default: 64 per worker); beyond that, new\n"
         "                           connections wait in the kernel until one is taken\n"
         "      --listing            HTML directory listings (default off: a directory\n"
         "                           without index.html is 403)\n"
         "      --dotfiles           serve and list names beginning with '.' (default: 404,\n"
         "                           except /.well-known/)\n"
         "      --access-log FILE|-  Combined Log Format access log (default '-' = stdout)\n"
         "  -q, --quiet              no access log\n"
         "      --error-log FILE     runtime errors, one line each, rate-limited (default:\n"
         "                           stderr)\n"
         "      --mime EXT=TYPE      Content-Type for files ending in .EXT (repeatable;\n"
         "                           wins over the system table and the built-in one)\n"
         "      --mime-types FILE    extension table in mime.types format (default\n"
         "                           /etc/mime.types when present; 'none' = built-in only)\n"
         "      --header-timeout S   a request's head must arrive within S seconds of its\n"
         "                           first byte, and a discarded body within S seconds of\n"
         "                           the end of its head (default 10)\n"
         "      --idle-timeout S     close a kept-alive connection after S idle seconds\n"
         "                           (default 15)\n"
         "      --send-timeout S     close a connection whose client takes no byte of the\n"
         "                           response for S seconds (default 30)\n"
         "      --drain-timeout S    on Ctrl-C or SIGTERM, responses under way get S more\n"
         "                           seconds to finish (default 5)\n"
         "      --max-connections N  open connections limit (default: what the descriptor\n"
         "                           limit allows, (NOFILE - 32 - threads) / 2, at most 10000;\n"
         "                           the start-up line shows it)\n"
         "      --max-requests N     requests per connection (default 1000; 0 = unlimited)\n"
         "      --user NAME          once the sockets, ROOT and the logs are open, switch to\n"
         "                           user NAME, its group and supplementary groups, for\n"
         "                           good (needs root; an unknown NAME is a usage error)\n"
         "      --precompressed      answer NAME from NAME.br, NAME.zst or NAME.gz when the\n"
         "                           client accepts that encoding and the variant is a\n"
         "                           regular file not older than NAME\n"
         "      --cache-control V    Cache-Control of file responses; '.css,.js=V' sets it\n"
         "                           for those extensions only (repeatable)\n"
         "      --cors               Access-Control-Allow-Origin: * on every response, and\n"
         "                           204 answers to CORS preflights (OPTIONS)\n"
         "      --header NAME:VALUE  add a field to every response (repeatable; not one the\n"
         "                           server writes, nor a hop-by-hop one)\n"
         "      --spa FILE           serve FILE (200) for missing paths without an extension\n"
         "                           whose client accepts text/html (single-page apps)\n"
         "      --error-page C=FILE  answer status C (4xx, 5xx) with FILE (repeatable);\n"
         "                           the built-in page when FILE is missing\n"
         "  -h, --help               this text\n"
         "      --version            print the version\n"
         "\n"
         "S is seconds, fractions allowed (0.5). Options may be written -p8080, -p 8080,\n"
         "--port=8080 or --port 8080; '--' ends the options.\n"
         "\n"
         "Signals: SIGINT and SIGTERM stop gracefully; SIGUSR1 reopens the access and error\n"
         "log files (after logrotate has renamed them), losing no line.\n"
         "\n"
         "Under systemd: with LISTEN_PID and LISTEN_FDS (socket activation) the sockets passed\n"
         "are served instead of -b and -p; with NOTIFY_SOCKET (Type=notify) READY=1 is sent\n"
         "once serving and STOPPING=1 when the graceful stop begins.\n"
         "\n"
         "Examples:\n"
         "  httpower                          serve the current directory on port 8080\n"
         "  httpower ~/site -p 0 --listing    any free port, with directory listings\n"
         "  httpower /srv/www -b :: -p 80     every address, IPv4 and IPv6\n"
         "\n"
         "Exit status: 0 after a graceful stop (Ctrl-C or SIGTERM), --help or --version;\n"
         "1 when serving cannot start (missing root, port in use, log not writable,\n"
         "--user without root);\n"
         "2 for a usage error; 130 when a second Ctrl-C cuts the graceful stop short.\n";
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

// Each option's effect: "" on success, else what the value must be (the caller names the
// option and quotes the value).
using Apply = std::string (*)(Config&, const std::string&);

struct Option {
  char short_name;  // '\0': long only
  std::string_view long_name;
  bool takes_value;
  Apply apply;
};

template <typename T, unsigned long long Min, unsigned long long Max>
std::string set_count(T& field, const std::string& v) {
  unsigned long long n = 0;
  if (!parse_uint(v, Max, n) || n < Min) {
    return "must be a whole number from " + std::to_string(Min) + " to " + std::to_string(Max);
  }
  field = static_cast<T>(n);
  return {};
}

std::string set_seconds(std::chrono::milliseconds& field, const std::string& v) {
  return parse_seconds(v, field) ? std::string() : "must be seconds, more than 0, at most 86400";
}

// "VALUE" (every file) or ".css,.js=VALUE" (files with those extensions).
std::string set_cache_control(Config& c, const std::string& v) {
  const std::string_view why = "must be a field value (no CR, LF or NUL), or .EXT[,.EXT...]=VALUE";
  if (v.empty() || v[0] != '.') {
    if (!is_field_value(v)) return std::string(why);
    c.cache_control = v;
    return {};
  }
  const std::size_t eq = v.find('=');
  if (eq == std::string::npos || !is_field_value(std::string_view(v).substr(eq + 1))) {
    return std::string(why);
  }
  const std::string value = v.substr(eq + 1);
  std::string_view exts = std::string_view(v).substr(0, eq);
  while (!exts.empty()) {
    const std::size_t comma = exts.find(',');
    const std::string_view e = exts.substr(0, comma);
    if (e.size() < 2 || e[0] != '.' || !is_token(e.substr(1))) return std::string(why);
    c.cache_control_by_ext.emplace_back(std::string(e.substr(1)), value);
    exts = comma == std::string_view::npos ? std::string_view{} : exts.substr(comma + 1);
  }
  return {};
}

// "404=/404.html": a 4xx or 5xx status and a file beneath the root.
std::string set_error_page(Config& c, const std::string& v) {
  const std::size_t eq = v.find('=');
  unsigned long long code = 0;
  if (eq == std::string::npos || !parse_uint(v.substr(0, eq), 599, code) || code < 400 ||
      eq + 1 == v.size()) {
    return "must be CODE=FILE with CODE from 400 to 599, e.g. 404=/404.html";
  }
  const int status = static_cast<int>(code);
  std::erase_if(c.error_pages, [&](const auto& p) { return p.first == status; });
  c.error_pages.emplace_back(status, v.substr(eq + 1));
  return {};
}

const Option kOptions[] = {
    {'p', "port", true,
     [](Config& c, const std::string& v) { return set_count<std::uint16_t, 0, 65535>(c.port, v); }},
    {'b', "bind", true,
     [](Config& c, const std::string& v) -> std::string {
       std::string host = v;
       if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
         host = host.substr(1, host.size() - 2);  // "[::1]" as in URLs
       }
       if (host.empty()) return "must be an IPv4 or IPv6 address or a host name";
       c.bind.push_back(host);
       return {};
     }},
    {'t', "threads", true,
     [](Config& c, const std::string& v) { return set_count<unsigned, 1, 1024>(c.threads, v); }},
    {'\0', "queue", true,
     [](Config& c, const std::string& v) {
       return set_count<std::size_t, 1, 1'000'000>(c.queue_capacity, v);
     }},
    {'\0', "listing", false, [](Config& c, const std::string&) { c.listing = true; return std::string(); }},
    {'\0', "dotfiles", false, [](Config& c, const std::string&) { c.dotfiles = true; return std::string(); }},
    {'q', "quiet", false, [](Config& c, const std::string&) { c.access_log.clear(); return std::string(); }},
    {'\0', "access-log", true,
     [](Config& c, const std::string& v) -> std::string {
       if (v.empty()) return "must be a file name or '-' (stdout)";
       c.access_log = v;
       return {};
     }},
    {'\0', "error-log", true,
     [](Config& c, const std::string& v) -> std::string {
       if (v.empty()) return "must be a file name";
       c.error_log = v;
       return {};
     }},
    {'\0', "mime", true,
     [](Config& c, const std::string& v) -> std::string {
       std::string ext, type;
       if (!parse_mime_override(v, ext, type)) return "must be EXT=TYPE, e.g. vtt=text/vtt";
       c.mime_overrides.emplace_back(std::move(ext), std::move(type));
       return {};
     }},
    {'\0', "mime-types", true,
     [](Config& c, const std::string& v) -> std::string {
       if (v.empty()) return "must be a file name or 'none'";
       c.mime_types_file = v == "none" ? std::string() : v;
       c.mime_types_file_given = true;
       return {};
     }},
    {'\0', "precompressed", false,
     [](Config& c, const std::string&) { c.precompressed = true; return std::string(); }},
    {'\0', "cache-control", true, set_cache_control},
    {'\0', "cors", false, [](Config& c, const std::string&) { c.cors = true; return std::string(); }},
    {'\0', "header", true,
     [](Config& c, const std::string& v) -> std::string {
       std::string name, value;
       std::string why = check_extra_header(v, name, value);
       if (why.empty()) c.extra_headers.emplace_back(std::move(name), std::move(value));
       return why;
     }},
    {'\0', "spa", true,
     [](Config& c, const std::string& v) -> std::string {
       if (v.empty()) return "must be a file beneath ROOT, e.g. /index.html";
       c.spa = v;
       return {};
     }},
    {'\0', "error-page", true, set_error_page},
    {'\0', "header-timeout", true,
     [](Config& c, const std::string& v) { return set_seconds(c.header_timeout, v); }},
    {'\0', "idle-timeout", true,
     [](Config& c, const std::string& v) { return set_seconds(c.idle_timeout, v); }},
    {'\0', "send-timeout", true,
     [](Config& c, const std::string& v) { return set_seconds(c.send_timeout, v); }},
    {'\0', "drain-timeout", true,
     [](Config& c, const std::string& v) { return set_seconds(c.drain_timeout, v); }},
    {'\0', "max-connections", true,
     [](Config& c, const std::string& v) {
       return set_count<std::size_t, 1, 10'000'000>(c.max_connections, v);
     }},
    {'\0', "max-requests", true,
     [](Config& c, const std::string& v) {
       return set_count<std::size_t, 0, 1'000'000'000>(c.max_requests, v);
     }},
    {'\0', "user", true,
     [](Config& c, const std::string& v) -> std::string {
       if (!user_exists(v)) return "must be a user of this system (no such user)";
       c.user = v;
       return {};
     }},
    {'h', "help", false, nullptr},
    {'\0', "version", false, nullptr},
};

const Option* find_long(std::string_view name) {
  for (const Option& o : kOptions) {
    if (o.long_name == name) return &o;
  }
  return nullptr;
}

const Option* find_short(char name) {
  for (const Option& o : kOptions) {
    if (o.short_name != '\0' && o.short_name == name) return &o;
  }
  return nullptr;
}

// A value as the one-line error shows it: control bytes (a CR or LF in --header) escaped.
std::string printable(const std::string& v) {
  std::string out;
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      constexpr std::string_view kHex = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

// Walks argv in getopt_long's conventions (without permutation of what follows "--").
class ArgParser {
 public:
  explicit ArgParser(const std::vector<std::string>& args) : args_(args) {}

  CliResult run() {
    bool options_done = false;
    for (i_ = 0; i_ < args_.size() && r_.action == CliAction::kRun; ++i_) {
      const std::string& a = args_[i_];
      if (options_done || a == "-" || a.empty() || a[0] != '-') {
        root(a);
      } else if (a == "--") {
        options_done = true;
      } else if (a.rfind("--", 0) == 0) {
        long_option(a);
      } else {
        short_options(a);
      }
    }
    return std::move(r_);
  }

 private:
  void fail(std::string msg) {
    if (r_.action != CliAction::kRun) return;
    r_.action = CliAction::kUsageError;
    r_.error = std::move(msg);
  }

  void root(const std::string& a) {
    if (have_root_) return fail("more than one ROOT given: '" + r_.config.root + "' and '" + a + "'");
    r_.config.root = a;
    have_root_ = true;
  }

  void apply(const Option& o, const std::string& shown, const std::string* value) {
    if (o.apply == nullptr) {
      r_.action = o.long_name == "help" ? CliAction::kHelp : CliAction::kVersion;
      return;
    }
    if (!o.takes_value) {
      (void)o.apply(r_.config, {});
      return;
    }
    if (value == nullptr) {
      if (i_ + 1 >= args_.size()) return fail("missing value for " + shown);
      value = &args_[++i_];
    }
    const std::string why = o.apply(r_.config, *value);
    if (!why.empty()) fail("invalid value for " + shown + ": '" + printable(*value) + "' " + why);
  }

  void long_option(const std::string& a) {
    const std::size_t eq = a.find('=');
    const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const Option* o = find_long(name);
    if (o == nullptr) return fail("unknown option: --" + name);
    if (eq == std::string::npos) return apply(*o, "--" + name, nullptr);
    if (!o->takes_value) return fail("option --" + name + " takes no value");
    const std::string value = a.substr(eq + 1);
    apply(*o, "--" + name, &value);
  }

  // "-p8080", "-p 8080", "-qh": flags may be bundled; a value takes the rest of the word.
  void short_options(const std::string& a) {
    for (std::size_t k = 1; k < a.size() && r_.action == CliAction::kRun; ++k) {
      const Option* o = find_short(a[k]);
      if (o == nullptr) return fail(std::string("unknown option: -") + a[k]);
      const std::string shown = std::string("-") + a[k];
      if (o->takes_value && k + 1 < a.size()) {
        const std::string value = a.substr(k + 1);
        return apply(*o, shown, &value);
      }
      apply(*o, shown, nullptr);
    }
  }

  const std::vector<std::string>& args_;
  std::size_t i_ = 0;
  bool have_root_ = false;
  CliResult r_;
};

}  // namespace

CliResult parse_args(const std::vector<std::string>& args) {
  CliResult r = ArgParser(args).run();
  if (r.action != CliAction::kRun || !r.config.cors) return r;
  // --cors writes Access-Control-Allow-Origin itself: a second one would make browsers
  // refuse the response.
  for (const auto& [name, value] : r.config.extra_headers) {
    constexpr std::string_view kCors = "access-control-";
    if (name.size() >= kCors.size() &&
        iequals_ascii(std::string_view(name).substr(0, kCors.size()), kCors)) {
      r.action = CliAction::kUsageError;
      r.error = "--header " + name + " conflicts with --cors, which writes the CORS fields";
      break;
    }
  }
  return r;
}

std::vector<std::string> long_option_names() {
  std::vector<std::string> names;
  for (const Option& o : kOptions) names.emplace_back(o.long_name);
  return names;
}

}  // namespace httpower
