// FileRoot: opening beneath the root (T1 in the file system), with openat2 and with the
// O_NOFOLLOW fallback walk used on kernels without it.

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "static_files.hpp"
#include "test_support.hpp"

namespace httpower::test {
namespace {

class FileRootTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    baseline_ = fd_count();
    dir_.write("a.txt", "abc");
    dir_.write("sub/b.txt", "b");
    outside_ = dir_.path() + "-out";
    std::filesystem::create_directories(outside_);
    std::ofstream(outside_ + "/secret") << "s";
    ASSERT_EQ(symlink("../a.txt", dir_.file("sub/up-link").c_str()), 0);
    ASSERT_EQ(symlink((outside_ + "/secret").c_str(), dir_.file("out-link").c_str()), 0);
    ASSERT_EQ(mkfifo(dir_.file("fifo").c_str(), 0644), 0);
    dir_.write(".git/config", "c");
    ASSERT_EQ(symlink(".git", dir_.file("gitlink").c_str()), 0);
    root_ = std::make_unique<FileRoot>(dir_.path());
    if (!GetParam()) root_->use_component_walk_for_testing();
  }
  void TearDown() override {
    root_.reset();
    std::filesystem::remove_all(outside_);
    EXPECT_EQ(fd_count(), baseline_);
  }
  FileKind kind(const std::string& rel) { return root_->open(rel, scratch_).facts.kind; }

  TempDir dir_;
  std::string outside_;
  std::unique_ptr<FileRoot> root_;
  std::string scratch_;
  int baseline_ = 0;
};

TEST_P(FileRootTest, RegularDirectoryMissingAndFifo) {
  OpenedFile f = root_->open("a.txt", scratch_);
  EXPECT_EQ(f.facts.kind, FileKind::kRegular);
  EXPECT_EQ(f.facts.size, 3u);
  EXPECT_TRUE(f.fd.valid());
  EXPECT_EQ(kind(""), FileKind::kDirectory);
  EXPECT_EQ(kind("sub"), FileKind::kDirectory);
  EXPECT_EQ(kind("sub/b.txt"), FileKind::kRegular);
  EXPECT_EQ(kind("nope"), FileKind::kMissing);
  EXPECT_EQ(kind("a.txt/x"), FileKind::kMissing);
  OpenedFile fifo = root_->open("fifo", scratch_);  // O_NONBLOCK: returns at once
  EXPECT_EQ(fifo.facts.kind, FileKind::kOther);
  EXPECT_FALSE(fifo.fd.valid()) << "a FIFO is never handed out";
}

TEST_P(FileRootTest, T1_SymlinkOutOfTheRootIsMissing) {
  EXPECT_EQ(kind("out-link"), FileKind::kMissing);
}

TEST_P(FileRootTest, SymlinkInsideTheRootFollowedOnlyWithOpenat2) {
  // Documented policy: openat2 follows links that stay beneath the root; the fallback walk
  // refuses every symlink.
  EXPECT_EQ(kind("sub/up-link"), GetParam() ? FileKind::kRegular : FileKind::kMissing);
}

TEST_P(FileRootTest, UnixSocketIsOtherNotMissing) {
  const int sfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(sfd, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  const std::string path = dir_.file("sock");
  ASSERT_LT(path.size(), sizeof a.sun_path);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(sfd, reinterpret_cast<const sockaddr*>(&a), sizeof a), 0);
  OpenedFile f = root_->open("sock", scratch_);
  EXPECT_EQ(f.facts.kind, FileKind::kOther) << "open: " << std::strerror(f.error);
  EXPECT_FALSE(f.fd.valid());
  ::close(sfd);
}

TEST_P(FileRootTest, T2_SymlinkOntoAHiddenNameIsMissing) {
  EXPECT_EQ(kind("gitlink/config"), FileKind::kMissing);
  EXPECT_EQ(kind("gitlink"), FileKind::kMissing);
  EXPECT_EQ(kind(".git/config"), FileKind::kRegular) << "plan_get refuses the requested path";
  FileRoot with_dotfiles(dir_.path(), true);
  if (!GetParam()) with_dotfiles.use_component_walk_for_testing();
  EXPECT_EQ(with_dotfiles.open("gitlink/config", scratch_).facts.kind,
            GetParam() ? FileKind::kRegular : FileKind::kMissing);
}

INSTANTIATE_TEST_SUITE_P(Openat2AndWalk, FileRootTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "openat2" : "walk"; });

}  // namespace
}  // namespace httpower::test
