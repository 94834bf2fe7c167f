#include "privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "listener.hpp"

namespace httpower {

namespace {

// getpwnam_r with a buffer that grows (large NSS entries); false when there is no such user.
bool lookup(const std::string& name, passwd& pw, std::vector<char>& buf) {
  buf.resize(4096);
  for (int tries = 0; tries < 8; ++tries) {
    passwd* found = nullptr;
    const int err = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found);
    if (err == ERANGE) {
      buf.resize(buf.size() * 2);
      continue;
    }
    return err == 0 && found != nullptr;
  }
  return false;
}

[[noreturn]] void fail(const std::string& name, const char* step) {
  const int err = errno;  // before the message's allocations
  throw StartupError("cannot switch to user '" + name + "': " + step + ": " +
                     std::strerror(err) + (::geteuid() != 0 ? " (--user needs root)" : ""));
}

}  // namespace

bool user_exists(const std::string& name) {
  passwd pw{};
  std::vector<char> buf;
  return !name.empty() && lookup(name, pw, buf);
}

void drop_privileges(const std::string& name) {
  passwd pw{};
  std::vector<char> buf;
  errno = ENOENT;
  if (!lookup(name, pw, buf)) fail(name, "no such user");
  // Groups first: once the uid is not 0 the process may no longer change them.
  if (::initgroups(pw.pw_name, pw.pw_gid) != 0) fail(name, "initgroups");
  if (::setgid(pw.pw_gid) != 0) fail(name, "setgid");
  if (::setuid(pw.pw_uid) != 0) fail(name, "setuid");
  // setuid from root sets the real, effective and saved uid alike; a way back to root means
  // one of them did not change.
  if (pw.pw_uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0)) {
    errno = EPERM;
    fail(name, "root could be regained");
  }
}

std::string root_warning(const std::string& user) {
  if (::geteuid() != 0 || !user.empty()) return {};
  return "warning: running as root, which every request is served as; --user NAME switches "
         "to NAME once the sockets, the root and the logs are open";
}

}  // namespace httpower
