// httpower: the command line around Server (docs/server.md).
//
// Signals (S1): SIGINT and SIGTERM are blocked in the main thread before any thread starts,
// so every thread inherits the mask and none is ever interrupted; a signalfd delivers them
// to the supervisor thread as ordinary reads. No code runs in signal context at all. SIGUSR1
// (reopen the log files) travels the same way.

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "config.hpp"
#include "httpower/version.hpp"
#include "privileges.hpp"
#include "server.hpp"
#include "systemd.hpp"

int main(int argc, char** argv) {
  using namespace httpower;
  std::vector<std::string> args(argv + 1, argv + argc);
  CliResult cli = parse_args(args);
  switch (cli.action) {
    case CliAction::kHelp:
      std::fputs(usage_text().c_str(), stdout);
      return 0;
    case CliAction::kVersion:
      std::printf("httpower %.*s\n", static_cast<int>(version().size()), version().data());
      return 0;
    case CliAction::kUsageError:
      std::fprintf(stderr, "httpower: %s (try 'httpower --help')\n", cli.error.c_str());
      return 2;
    case CliAction::kRun:
      break;
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGUSR1);
  if (pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
    std::fprintf(stderr, "httpower: cannot block signals\n");
    return 1;
  }
  UniqueFd sfd(signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!sfd) {
    std::perror("httpower: signalfd");
    return 1;
  }
  // Before the Server exists: its default --max-connections comes from this limit.
  const std::uint64_t fds = raise_fd_limit();
  try {
    cli.config.announce = true;
    cli.config.inherited_listeners = inherited_listen_fds();
    if (const char* notify = std::getenv("NOTIFY_SOCKET")) cli.config.notify_socket = notify;
    Server server(cli.config);
    server.start(sfd.get());
    const std::string warning = fd_limit_warning(server.config(), fds);
    if (!warning.empty()) std::fprintf(stderr, "httpower: %s\n", warning.c_str());
    // After start: a failed start-up is one line, and by now --user has taken effect.
    const std::string root_note = root_warning(server.config().user);
    if (!root_note.empty()) std::fprintf(stderr, "httpower: %s\n", root_note.c_str());
    const std::vector<std::string> urls = server.urls();
    std::printf("httpower: serving %s on %s (%u workers, at most %zu connections%s); Ctrl-C stops\n",
                server.root().c_str(), urls.front().c_str(), server.config().threads,
                server.config().max_connections,
                server.config().listing ? "" : ", listings off: --listing turns them on");
    for (std::size_t i = 1; i < urls.size(); ++i) {
      std::printf("httpower: also on %s\n", urls[i].c_str());
    }
    std::fflush(stdout);
    return server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "httpower: %s\n", e.what());
    return 1;
  }
}
