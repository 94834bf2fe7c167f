#pragma once
// /proc probes of a process (our own or a child server): open descriptors (C3, the
// end-of-test fd check), resident memory and CPU time. Linux only.
#include <dirent.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace httpower::testsupport {

// Open descriptors of pid (not counting the one this probe uses in our own process); -1 if
// pid does not exist.
inline int fd_count(pid_t pid = ::getpid()) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return pid == ::getpid() ? n - 1 : n;  // our own DIR fd
}

// VmRSS in KiB; -1 if unknown.
inline long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// utime + stime of every thread of pid, in seconds; -1 if unknown.
inline double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t rp = s.rfind(')');
  if (rp == std::string::npos) return -1;
  // Fields after ")": 3 state ... 14 utime 15 stime (1-based over the whole line).
  std::vector<std::string> f;
  std::size_t p = rp + 2;
  while (p < s.size() && f.size() < 13) {
    const std::size_t sp = s.find(' ', p);
    f.push_back(s.substr(p, sp - p));
    p = sp == std::string::npos ? s.size() : sp + 1;
  }
  if (f.size() < 13) return -1;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::atof(f[11].c_str()) + std::atof(f[12].c_str())) / ticks;
}

}  // namespace httpower::testsupport
