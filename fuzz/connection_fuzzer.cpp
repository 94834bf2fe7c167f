// Fuzzes one connection's whole serving loop: a real Server (two workers, the poller) serves
// one end of a socketpair (Server::adopt_for_test, as if accepted), and this thread is the
// client on the other end: it writes the request bytes in chunks, reads the responses in
// chunks, and ends the connection as the input says. The document root is a small fixed
// site made at start-up (small and large files, a directory with and one without
// index.html, extensionless text and binary files, dotfiles).
//
// Input: byte 0 the client's behaviour (bits 0-1 how it ends: half-close after the bytes
// and read to the end; read every expected response, then half-close (or, when the last one
// closes, wait for the server's FIN); read half of them, then close; close at once without
// reading. Bit 2: the server's socket gets the smallest
// send buffer, so responses park for writing. Bits 3-5: the read chunk size for the first
// kSlowBytes); byte 1 seeds the write split points, byte 2 bounds the write chunk size
// (255: one write); the rest is the request bytes.
//
// Properties, against a sequential reference that parses the same bytes with the core
// parser and plans each request with the core planner on the same files:
//  - the responses are those of the complete requests, in order, each once: head equal to
//    the reference's (but Date and Server), body equal, for every status; nothing follows
//    a closing response (Connection: close, or an error that closes) and the server then
//    closes; an incomplete request at the end is not answered;
//  - when the client closes early, every complete response received is the expected one;
//  - the server closes the connection, and this process holds as many descriptors after an
//    input as before; every input ends within kInputSeconds (else it aborts, a hang).
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "httpower/mime.hpp"
#include "httpower/request_parser.hpp"
#include "httpower/response_planner.hpp"
#include "httpower/target_resolver.hpp"
#include "httpower/testsupport/proc.hpp"
#include "httpower/testsupport/temp_dir.hpp"
#include "server.hpp"

namespace {

using namespace httpower;
using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kMaxRequests = 6;         // per connection: the 6th response closes
constexpr std::uint64_t kMaxDiscardBody = 64;   // larger Content-Length bodies close
constexpr std::size_t kSlowBytes = 8 * 1024;    // read in the input's chunk size up to here
constexpr auto kInputSeconds = std::chrono::seconds(8);
// Longer than an input may last: no server timer fires during one, so the responses are a
// function of the bytes alone.
constexpr std::chrono::milliseconds kServerTimeout{60'000};

// The document root and what each file holds.
struct Site {
  testsupport::TempDir dir{"httpower-connfuzz"};
  std::map<std::string, std::string> files;

  Site() {
    put("index.html", "<!doctype html><title>home</title>\n");
    put("a.txt", "hello, world\n");
    put("empty.txt", "");
    put("style.css", std::string(20'000, 'c'));  // read ahead and sent with the head
    put("big.bin", testsupport::random_bytes(100'000, 7));  // sendfile (over 64 KiB)
    put("README", "plain text without an extension\n");
    put("blob", std::string("\x00\x01\x02\xff binary", 11));
    put("dir/index.html", "<p>dir</p>\n");
    put("dir/x.js", "let x = 1;\n");
    put("dir/.env", "SECRET=1\n");
    put("nodir/f.txt", "in a directory without index.html\n");
    put(".hidden", "hidden\n");
  }
  void put(const std::string& rel, const std::string& content) {
    dir.write(rel, content);
    files[rel] = content;
  }
};

struct Harness {
  Site site;  // declared first: the server stops before the root goes
  std::unique_ptr<Server> server;

  Harness() {
    Config c;
    c.root = site.dir.path();
    c.port = 0;
    c.threads = 2;
    c.access_log = "/dev/null";  // formatted and written, not kept
    c.mime_types_file.clear();  // the built-in table, as the reference's
    c.max_requests = kMaxRequests;
    c.max_discard_body = kMaxDiscardBody;
    c.header_timeout = c.idle_timeout = c.send_timeout = kServerTimeout;
    c.linger_timeout = c.drain_timeout = kServerTimeout;
    server = std::make_unique<Server>(c);
    server->start();
  }
};

Harness& harness() {
  static Harness h;
  return h;
}

// ---------------------------------------------------------------------------------------
// The sequential reference.

struct Expected {
  std::string heads[2];  // planned at the time before and after the exchange, sans Date/Server
  std::string body;
  bool is_head = false;  // a HEAD request: the response has no body whatever its length
  bool closing = false;  // the connection ends after this response
};

// The head without its Date and Server lines (the only ones that may differ).
std::string comparable(std::string_view head) {
  std::string out;
  std::size_t at = 0;
  while (at < head.size()) {
    std::size_t end = head.find("\r\n", at);
    end = end == std::string_view::npos ? head.size() : end + 2;
    const std::string_view line = head.substr(at, end - at);
    if (!line.starts_with("Date: ") && !line.starts_with("Server: ")) out += line;
    at = end;
  }
  return out;
}

FileFacts facts_of(const Site& site, std::string_view rel) {
  FileFacts f;
  struct stat st{};
  if (::stat(site.dir.file(std::string(rel)).c_str(), &st) != 0) return f;  // kMissing
  f.kind = S_ISREG(st.st_mode) ? FileKind::kRegular
           : S_ISDIR(st.st_mode) ? FileKind::kDirectory
                                 : FileKind::kOther;
  f.size = static_cast<std::uint64_t>(st.st_size);
  f.mtime_sec = st.st_mtim.tv_sec;
  f.mtime_nsec = static_cast<std::uint32_t>(st.st_mtim.tv_nsec);
  static const MimeTypes types;  // the built-in table, as the server's (no mime.types file)
  const auto it = site.files.find(std::string(rel));
  if (f.kind == FileKind::kRegular && types.find(rel).empty() && it != site.files.end()) {
    const std::string_view bytes = it->second;
    f.utf8_text = looks_like_utf8_text(bytes.substr(0, kTextSniffBytes),
                                       bytes.size() <= kTextSniffBytes);
  }
  return f;
}

// What the server answers to one request on this site (README "Design": hidden names are
// 404, a directory with a trailing slash serves its index.html, listing is off). Returns
// the file the plan's kFile segments read ("" for none).
std::string plan_on_site(const Site& site, const RequestHead& head, const PlanContext& ctx,
                         ResponsePlan& plan) {
  std::string buf, index_buf;
  const ResolvedTarget t = resolve_target(head.path, buf);
  if (!needs_file(head, t)) {
    plan_response(head, t, FileFacts{}, ctx, plan);
    return {};
  }
  if (is_hidden_path(t.path)) {
    plan_error(head, 404, ctx, plan);
    return {};
  }
  const FileFacts f = facts_of(site, t.path);
  if (f.kind == FileKind::kDirectory && t.trailing_slash) {
    // with_index_file extends the buffer its target views: a second one keeps t intact.
    const ResolvedTarget index = with_index_file(resolve_target(head.path, index_buf), index_buf);
    const FileFacts fi = facts_of(site, index.path);
    if (fi.kind == FileKind::kRegular) {
      plan_response(head, index, fi, ctx, plan);
      return std::string(index.path);
    }
  }
  plan_response(head, t, f, ctx, plan);
  return std::string(t.path);
}

std::string body_of(const Site& site, const ResponsePlan& plan, const std::string& file) {
  std::string body;
  for (const BodySegment& s : plan.body()) {
    if (s.kind == BodySegment::Kind::kInline) {
      body += plan.inline_bytes(s);
    } else {
      body += site.files.at(file).substr(s.offset, s.length);
    }
  }
  return body;
}

// A field with a non-empty value (an empty Expect is as good as none).
bool has_value(const RequestHead& head, std::string_view lower_name) {
  return std::any_of(head.headers.begin(), head.headers.end(), [&](const HeaderField& f) {
    return !f.value.empty() &&
           std::equal(f.name.begin(), f.name.end(), lower_name.begin(), lower_name.end(),
                      [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a + 32 : a) == b; });
  });
}

// The connection-level rules: a response closes when the request says so, when its body is
// chunked or too large to discard, when it expects a 100-continue with a body, at the
// per-connection request limit, and when the planner decides to.
bool request_closes(const RequestHead& head, std::size_t requests_before) {
  if (!head.keep_alive || head.body == BodyFraming::kChunked) return true;
  if (head.body == BodyFraming::kContentLength && head.content_length > kMaxDiscardBody) {
    return true;
  }
  if (head.body != BodyFraming::kNone && has_value(head, "expect")) return true;
  return requests_before + 1 >= kMaxRequests;
}

// The responses a server that has received `bytes` (and then the end of the stream) gives.
std::vector<Expected> reference(const Site& site, std::string_view bytes, std::int64_t now) {
  std::vector<Expected> out;
  std::array<HeaderField, RequestParser::kMaxHeaderFields> slots{};
  std::size_t at = 0;
  while (at < bytes.size()) {
    RequestParser parser;
    RequestHead head;
    const ParseResult r = parser.parse(bytes.substr(at), slots, head);
    if (r.status == ParseStatus::kIncomplete) break;
    Expected e;
    ResponsePlan plan;
    PlanContext ctx;
    ctx.now = now;
    ctx.closing = r.status == ParseStatus::kError || request_closes(head, out.size());
    std::string file;
    if (r.status == ParseStatus::kError) {
      plan_parse_error(r.error_status, ctx, plan);
    } else {
      file = plan_on_site(site, head, ctx, plan);
      e.is_head = head.method == Method::kHead;
    }
    e.heads[0] = e.heads[1] = comparable(plan.head());
    e.body = body_of(site, plan, file);
    e.closing = !plan.keep_alive();
    out.push_back(std::move(e));
    if (out.back().closing) break;
    at += r.consumed;
    if (head.body == BodyFraming::kContentLength) {
      if (head.content_length > bytes.size() - at) break;  // the body never ends
      at += static_cast<std::size_t>(head.content_length);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The client.

enum class End : std::uint8_t { kHalfClose, kReadAllThenHalfClose, kReadHalfThenClose, kCloseAtOnce };

struct Behaviour {
  End end = End::kHalfClose;
  bool small_send_buffer = false;
  std::size_t read_chunk = 1;
  std::uint32_t split_state = 1;
  std::size_t split_max = 1;
};

Behaviour decode(const std::uint8_t* data) {
  static constexpr std::size_t kReadChunks[8] = {1, 3, 17, 256, 1000, 4096, 16384, 65536};
  Behaviour b;
  b.end = static_cast<End>(data[0] & 3);
  b.small_send_buffer = (data[0] & 4) != 0;
  b.read_chunk = kReadChunks[(data[0] >> 3) & 7];
  b.split_state = 0x9e3779b9u ^ data[1];
  b.split_max = data[2] == 255 ? SIZE_MAX : std::size_t{data[2]} + 1;
  return b;
}

std::size_t next_split(Behaviour& b) {
  if (b.split_max == SIZE_MAX) return SIZE_MAX;
  b.split_state ^= b.split_state << 13;
  b.split_state ^= b.split_state >> 17;
  b.split_state ^= b.split_state << 5;
  return 1 + b.split_state % b.split_max;
}

// The complete responses at the front of the received bytes, framed as they arrive: HEAD
// requests and 204/304 have no body; every other response of this server has a
// Content-Length.
struct Framing {
  struct Response {
    std::size_t head_at, body_at, end;
  };
  std::vector<Response> responses;
  std::size_t used = 0;  // bytes framed so far

  void advance(std::string_view got, const std::vector<Expected>& want) {
    for (;;) {
      const std::size_t end = got.find("\r\n\r\n", used);
      if (end == std::string_view::npos) return;
      const std::string_view head = got.substr(used, end + 4 - used);
      std::uint64_t length = 0;
      const std::size_t cl = head.find("\r\nContent-Length: ");
      const bool bodiless = responses.size() < want.size() && want[responses.size()].is_head;
      if (cl != std::string_view::npos && !bodiless) {
        length = std::strtoull(std::string(head.substr(cl + 18)).c_str(), nullptr, 10);
      }
      if (length > got.size() - (end + 4)) return;
      responses.push_back({used, end + 4, end + 4 + static_cast<std::size_t>(length)});
      used = responses.back().end;
    }
  }
};

struct Exchange {
  std::string got;
  Framing framing;
  bool eof = false;        // the server ended its side
  bool reset = false;      // a read or write failed (the server closed over our bytes)
  bool timed_out = false;
};

int ms_left(SteadyClock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return static_cast<int>(std::max<long long>(left.count(), 0));
}

// True once the client is done reading (it half-closes or closes according to `b`). After
// a closing response the client that reads everything waits for the server's FIN instead:
// the server must end the stream by itself (C2).
bool read_enough(const Behaviour& b, const Exchange& x, const std::vector<Expected>& want) {
  const std::size_t n = x.framing.responses.size();
  if (b.end == End::kReadAllThenHalfClose) {
    return n >= want.size() && (want.empty() || !want.back().closing);
  }
  return n >= want.size() / 2;
}

// Runs the client side; returns when the server has ended the stream, the client closed
// early, or the input's deadline passed.
Exchange run_client(int fd, std::string_view bytes, Behaviour b, const std::vector<Expected>& want,
                    SteadyClock::time_point deadline) {
  Exchange x;
  std::size_t sent = 0, chunk_left = std::min(next_split(b), bytes.size());
  bool shut = false;
  std::vector<char> buf(65536);
  for (;;) {
    const bool writing = sent < bytes.size() && !shut;
    if (!writing && b.end == End::kCloseAtOnce) return x;
    if (!writing && !shut && b.end != End::kHalfClose && read_enough(b, x, want)) {
      if (b.end == End::kReadHalfThenClose) return x;
      shut = true;
      ::shutdown(fd, SHUT_WR);
    }
    if (!writing && !shut && b.end == End::kHalfClose) {
      shut = true;
      ::shutdown(fd, SHUT_WR);
    }
    pollfd p{fd, static_cast<short>(POLLIN | (writing ? POLLOUT : 0)), 0};
    const int n = ::poll(&p, 1, ms_left(deadline));
    if (n == 0 || SteadyClock::now() >= deadline) {
      x.timed_out = true;
      return x;
    }
    if (n < 0) continue;  // EINTR
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      const std::size_t chunk = x.got.size() < kSlowBytes ? b.read_chunk : buf.size();
      const ssize_t r = ::recv(fd, buf.data(), std::min(chunk, buf.size()), MSG_DONTWAIT);
      if (r > 0) {
        x.got.append(buf.data(), static_cast<std::size_t>(r));
        x.framing.advance(x.got, want);
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        x.eof = r == 0;
        x.reset = r < 0;
        return x;
      }
    }
    if (writing && (p.revents & POLLOUT)) {
      const ssize_t w = ::send(fd, bytes.data() + sent, chunk_left, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        x.reset = true;
        return x;
      }
      if (w > 0) {
        sent += static_cast<std::size_t>(w);
        chunk_left -= static_cast<std::size_t>(w);
        if (chunk_left == 0) chunk_left = std::min(next_split(b), bytes.size() - sent);
      }
    }
  }
}

// The history check: the received responses are the reference's, in order, each once.
void check_history(const Exchange& x, const Behaviour& b, const std::vector<Expected>& want) {
  const std::vector<Framing::Response>& got = x.framing.responses;
  const bool whole = b.end == End::kHalfClose || b.end == End::kReadAllThenHalfClose;
  if (whole && (got.size() != want.size() || x.framing.used != x.got.size())) {
    std::fprintf(stderr, "expected %zu responses, received %zu (%zu of %zu bytes framed)\n",
                 want.size(), got.size(), x.framing.used, x.got.size());
  }
  HTTPOWER_FUZZ_CHECK(got.size() <= want.size());  // nothing after a closing response
  const std::string_view all = x.got;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const std::string head = comparable(all.substr(got[i].head_at, got[i].body_at - got[i].head_at));
    const std::string_view body = all.substr(got[i].body_at, got[i].end - got[i].body_at);
    const bool same =
        (head == want[i].heads[0] || head == want[i].heads[1]) && body == want[i].body;
    if (!same) {
      std::fprintf(stderr, "response %zu differs from the reference\n--- expected head:\n%s\n"
                   "--- received head:\n%s\n--- body sizes: expected %zu, received %zu\n",
                   i, want[i].heads[0].c_str(), head.c_str(), want[i].body.size(), body.size());
    }
    HTTPOWER_FUZZ_CHECK(same);
  }
  if (!whole) return;
  HTTPOWER_FUZZ_CHECK(!x.timed_out);
  HTTPOWER_FUZZ_CHECK(x.eof && !x.reset);  // the server ends the stream in order
  HTTPOWER_FUZZ_CHECK(got.size() == want.size() && x.framing.used == x.got.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  Harness& h = harness();
  const Behaviour b = decode(data);
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 3, size - 3);
  const SteadyClock::time_point deadline = SteadyClock::now() + kInputSeconds;
  const int fds_before = testsupport::fd_count();
  const std::uint64_t responses_before = h.server->stats().responses;

  const std::int64_t before = std::time(nullptr);
  std::vector<Expected> want = reference(h.site, bytes, before);

  int sv[2];
  HTTPOWER_FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  if (b.small_send_buffer) {
    const int tiny = 1;  // the kernel rounds it up to its minimum
    (void)::setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &tiny, sizeof tiny);
  }
  HTTPOWER_FUZZ_CHECK(::fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
  h.server->adopt_for_test(UniqueFd(sv[1]));
  const Exchange x = run_client(sv[0], bytes, b, want, deadline);
  ::close(sv[0]);
  if (x.timed_out) std::fprintf(stderr, "the exchange did not end in %lld s\n",
                                static_cast<long long>(kInputSeconds.count()));
  HTTPOWER_FUZZ_CHECK(!x.timed_out);
  HTTPOWER_FUZZ_CHECK(h.server->wait_open_connections_at_most(0, deadline));
  // The planner's clock shows in Date and in the date validators: when a second boundary
  // passed during the exchange, the heads planned at the later time are as good.
  const std::int64_t after = std::time(nullptr);
  if (after != before) {
    const std::vector<Expected> later = reference(h.site, bytes, after);
    for (std::size_t i = 0; i < want.size() && i < later.size(); ++i) {
      want[i].heads[1] = later[i].heads[0];
    }
  }
  check_history(x, b, want);
  if (b.end == End::kHalfClose || b.end == End::kReadAllThenHalfClose) {
    HTTPOWER_FUZZ_CHECK(h.server->stats().responses - responses_before == want.size());
  }
  HTTPOWER_FUZZ_CHECK(testsupport::fd_count() == fds_before);
  return 0;
}
