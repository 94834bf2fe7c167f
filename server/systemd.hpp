#pragma once
// The two systemd protocols a service needs, without libsystemd (both are a few lines of
// environment and one datagram, documented in sd_listen_fds(3) and sd_notify(3)):
//
//   - socket activation: systemd (or systemd-socket-activate) binds the sockets and passes
//     them as descriptors 3 .. 3 + LISTEN_FDS - 1, with LISTEN_PID naming the process they
//     are meant for; the server serves them instead of binding its own;
//   - readiness: with Type=notify, systemd waits for "READY=1" on the datagram socket named
//     by NOTIFY_SOCKET before it counts the service as started, and "STOPPING=1" tells it
//     the graceful stop has begun.

#include <string>
#include <string_view>
#include <vector>

namespace httpower {

// The descriptors passed by socket activation, or none when LISTEN_PID is absent or names
// another process (a variable inherited from an activated parent). Unsets LISTEN_PID,
// LISTEN_FDS and LISTEN_FDNAMES so that no child takes them for its own. A malformed
// LISTEN_FDS is a start-up error (StartupError).
[[nodiscard]] std::vector<int> inherited_listen_fds();

// Sends state ("READY=1", "STOPPING=1") to the notify socket at `path` ("@name" = abstract
// namespace). Empty path: nothing to do (true). Never blocks; false when the datagram was
// not sent (errno set): the service manager then times the start out, which is its call.
bool notify_service_manager(const std::string& path, std::string_view state) noexcept;

}  // namespace httpower
