// What the server reveals about the file system and what a connection keeps between requests:
// listings show only what GET serves (no symlink out of the root, T1), T2 holds for the file
// a symlink leads to, non-regular files (FIFO, Unix socket) are 403, and the buffers of a
// connection shrink after each response and are released while it idles (M1).

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "connection.hpp"
#include "test_support.hpp"

namespace httpower::test {
namespace {

class FilePolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    baseline_ = fd_count();
    root_ = std::make_unique<TempDir>();
    root_->write("notes.txt", "plain text\n");
    root_->write("blob.bin", random_bytes(300 * 1024, 2));
    root_->write("sub/page.html", "<p>sub</p>\n");
  }
  void TearDown() override {
    harness_.reset();
    root_.reset();
    EXPECT_EQ(fd_count(), baseline_) << "C3: fd leak";
  }
  ServerHarness& start(bool listing, bool dotfiles = false) {
    Config c = test_config(root_->path());
    c.listing = listing;
    c.dotfiles = dotfiles;
    harness_.reset();
    harness_ = std::make_unique<ServerHarness>(std::move(c));
    harness_->start();
    return *harness_;
  }
  void link(const std::string& target, const std::string& rel) {
    ASSERT_EQ(symlink(target.c_str(), root_->file(rel).c_str()), 0) << rel;
  }

  int baseline_ = 0;
  std::unique_ptr<TempDir> root_;
  std::unique_ptr<ServerHarness> harness_;
};

// T1 for listings: an entry is listed only if GET would serve it, and with the facts of what
// GET opens. Nothing of a symlink's target outside the root (name, size, date) is shown.
TEST_F(FilePolicy, T1_ListingShowsOnlyWhatGetServes) {
  root_->write("dir/kept.txt", "kept\n");
  link("/etc/passwd", "dir/outlink");
  link("/etc", "dir/outdir");
  link("nowhere", "dir/broken");
  link("../blob.bin", "dir/inlink");
  link("../sub", "dir/insub");
  ASSERT_EQ(mkfifo(root_->file("dir/pipe").c_str(), 0644), 0);
  auto& s = start(true);
  auto l = s.get("/dir/");
  ASSERT_TRUE(l);
  ASSERT_EQ(l->status, 200);
  for (const std::string name : {"outlink", "outdir", "broken", "pipe"}) {
    EXPECT_EQ(l->body.find(name), std::string::npos) << name << " is listed:\n" << l->body;
    auto r = s.get("/dir/" + name);
    ASSERT_TRUE(r) << name;
    EXPECT_TRUE(r->status == 404 || r->status == 403) << name << ": " << r->status;
  }
  EXPECT_NE(l->body.find("href=\"kept.txt\">kept.txt</a></td><td class=\"s\" title=\"5 bytes\">5 B<"),
            std::string::npos) << l->body;
  // A symlink that stays beneath the root is served, so it is listed with its target's facts.
  EXPECT_NE(l->body.find("href=\"inlink\">inlink</a></td><td class=\"s\" title=\"307200 bytes\">300.0 KiB<"),
            std::string::npos) << l->body;
  EXPECT_NE(l->body.find("href=\"insub/\">insub/</a>"), std::string::npos) << l->body;
  EXPECT_EQ(s.get("/dir/inlink")->status, 200);
}

// T2 holds for the file opened, not only for the path requested: a plain name that links
// onto a hidden one is as absent as the hidden name itself, and is not listed.
TEST_F(FilePolicy, T2_SymlinkOntoAHiddenNameIsNotServedOrListed) {
  root_->write(".git/config", "[core] SECRET\n");
  root_->write(".env", "SECRET=1\n");
  root_->write(".well-known/security.txt", "Contact: x\n");
  link(".git", "gitlink");
  link(".env", "envlink");
  link(".git/config", "cfglink");
  link("../.git", "sub/deeplink");
  link(".well-known", "wk");
  {
    auto& s = start(true);
    for (const char* path : {"/gitlink/config", "/gitlink/", "/gitlink", "/envlink", "/cfglink",
                             "/sub/deeplink/config", "/sub/deeplink/"}) {
      for (const char* method : {"GET", "HEAD"}) {
        auto r = s.get(path, "", method);
        ASSERT_TRUE(r) << method << ' ' << path;
        EXPECT_EQ(r->status, 404) << method << ' ' << path;
        EXPECT_EQ(r->body.find("SECRET"), std::string::npos) << path;
        EXPECT_EQ(r->field("location"), "") << method << ' ' << path;
      }
    }
    auto wk = s.get("/wk/security.txt");
    ASSERT_TRUE(wk);
    EXPECT_EQ(wk->status, 200) << ".well-known is not hidden, through a link either";
    auto top = s.get("/");
    ASSERT_TRUE(top);
    EXPECT_EQ(top->status, 200);
    for (const char* name : {"gitlink", "envlink", "cfglink"}) {
      EXPECT_EQ(top->body.find(name), std::string::npos) << name << " is listed:\n" << top->body;
    }
    EXPECT_NE(top->body.find("href=\"wk/\""), std::string::npos) << top->body;
    auto sub = s.get("/sub/");
    ASSERT_TRUE(sub);
    EXPECT_EQ(sub->body.find("deeplink"), std::string::npos) << sub->body;
  }
  auto& s = start(true, true);  // --dotfiles: served and listed
  auto cfg = s.get("/gitlink/config");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->status, 200);
  EXPECT_EQ(cfg->body, "[core] SECRET\n");
  auto top = s.get("/");
  ASSERT_TRUE(top);
  EXPECT_NE(top->body.find("href=\"gitlink/\""), std::string::npos) << top->body;
}

// docs/server.md: a FIFO, socket or device is 403. A Unix socket's open() fails (ENXIO)
// instead of returning a descriptor, and that must be 403 too, not 404. Not listed either.
TEST_F(FilePolicy, UnixSocketFileIs403AndNotListed) {
  const int sfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sfd, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  const std::string path = root_->file("sock");
  ASSERT_LT(path.size(), sizeof a.sun_path);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(sfd, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
  {
    auto& s = start(true);
    for (const char* method : {"GET", "HEAD"}) {
      auto r = s.get("/sock", "", method);
      ASSERT_TRUE(r) << method;
      EXPECT_EQ(r->status, 403) << method;
    }
    auto l = s.get("/");
    ASSERT_TRUE(l);
    EXPECT_EQ(l->body.find("sock"), std::string::npos) << l->body;
    EXPECT_EQ(s.get("/notes.txt")->status, 200);
  }
  ::close(sfd);
}

// M1 on the Connection itself: after a response, no read-ahead and the plan's buffers at
// most their reserve (a 600 KB listing does not stay); parked idle, no heap buffer at all.
TEST(ConnectionMemory, M1_BuffersShrinkAfterAResponseAndAreReleasedWhileIdle) {
  Connection c;
  EXPECT_FALSE(c.in) << "the input buffer is taken on the first read, not at accept";
  c.take_input();
  ASSERT_TRUE(c.in);
  RequestHead head;
  head.method = Method::kGet;
  PlanContext ctx;
  ctx.now = 1'700'000'000;
  const std::string listing(600 * 1024, 'x');
  plan_generated(head, "text/html; charset=utf-8", listing, ctx, c.plan);
  c.file_bytes.resize(64 * 1024);
  c.preread_at.assign(33, 0);
  EXPECT_GT(c.heap_bytes(), 600u * 1024);
  c.end_response();
  EXPECT_LE(c.heap_bytes(), Connection::after_response_max());
  EXPECT_TRUE(c.in) << "a response may be followed by pipelined bytes";
  c.release_idle_memory();
  EXPECT_EQ(c.heap_bytes(), Connection::kIdleHeapMax);
  EXPECT_FALSE(c.in);
  // Taken again when needed, and the next plan is complete.
  c.take_input();
  plan_generated(head, "text/html; charset=utf-8", "<p>x</p>", ctx, c.plan);
  EXPECT_EQ(c.plan.status(), 200);
  EXPECT_EQ(c.plan.body_length(), 8u);
  // Bytes of a next request are kept while idle (a partial head waits for the rest).
  c.in_end = 5;
  c.release_idle_memory();
  EXPECT_TRUE(c.in);
  EXPECT_EQ(c.buffered(), 5u);
}

}  // namespace
}  // namespace httpower::test
