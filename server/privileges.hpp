#pragma once
// --user NAME: the server binds its sockets, opens the root and its logs as whoever started
// it (root, for port 80), then becomes NAME for good before it serves a request: NAME's
// supplementary groups (initgroups), its group, then its user; a process that could still
// become root again is a start-up error rather than a server running with a false promise.

#include <string>

namespace httpower {

// True when NAME is in the system's user database (the CLI checks --user with it).
[[nodiscard]] bool user_exists(const std::string& name);

// Switches the process, before it has any other thread, to NAME's uid, gid and groups.
// Throws StartupError with a one-line message on any failure (e.g. not started as root).
void drop_privileges(const std::string& name);

// "warning: running as root ..." when the process is root and no --user is given; "" if not.
[[nodiscard]] std::string root_warning(const std::string& user);

}  // namespace httpower
