#pragma once
// TempDir: a fresh directory under the system temp dir (a document root, mostly), removed
// with everything in it when the object goes. Deterministic contents: write_random() is a
// function of its seed, so a checker can hold the expected bytes.
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <system_error>

namespace httpower::testsupport {

// n pseudo-random bytes, a function of the seed.
inline std::string random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

class TempDir {
 public:
  // The directory's name is prefix + "-XXXXXX" (mkdtemp).
  explicit TempDir(const std::string& prefix = "httpower-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& rel) const { return path_ + "/" + rel; }
  // Writes rel (creating its parent directories) with exactly `content`.
  void write(const std::string& rel, const std::string& content) const {
    std::filesystem::create_directories(std::filesystem::path(file(rel)).parent_path());
    std::ofstream(file(rel), std::ios::binary) << content;
  }
  void mkdir(const std::string& rel) const { std::filesystem::create_directories(file(rel)); }
  // A file of n random_bytes(n, seed); returns its content (kept by the caller for checks).
  std::string write_random(const std::string& rel, std::size_t n, std::uint32_t seed) const {
    std::string content = random_bytes(n, seed);
    write(rel, content);
    return content;
  }
  // A sparse file of n zero bytes (large downloads without writing them). False if it could
  // not be created at that size.
  bool write_sparse(const std::string& rel, std::uint64_t n) const {
    const int fd = ::open(file(rel).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    const bool sized = ::ftruncate(fd, static_cast<off_t>(n)) == 0;
    ::close(fd);
    return sized;
  }

 private:
  std::string path_;
};

}  // namespace httpower::testsupport
