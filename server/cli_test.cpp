// The command line, parsed in process: getopt conventions, every usage error naming the
// option, the value and what it must be. The binary's exit codes are in shutdown_test.cpp.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config.hpp"

namespace httpower {
namespace {

CliResult parse(std::vector<std::string> args) { return parse_args(args); }

TEST(CliParse, GetoptSpellingsOfAValueAllMean8081) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-p8081"}, {"-p", "8081"}, {"--port=8081"}, {"--port", "8081"}}) {
    const CliResult r = parse(args);
    ASSERT_EQ(r.action, CliAction::kRun) << args[0] << ": " << r.error;
    EXPECT_EQ(r.config.port, 8081) << args[0];
  }
}

TEST(CliParse, DoubleDashEndsOptions) {
  const CliResult r = parse({"--listing", "--", "-dir-with-dash"});
  ASSERT_EQ(r.action, CliAction::kRun) << r.error;
  EXPECT_EQ(r.config.root, "-dir-with-dash");
  EXPECT_TRUE(r.config.listing);
  EXPECT_EQ(parse({"--", "a", "b"}).action, CliAction::kUsageError);
}

TEST(CliParse, BracketedIpv6LiteralIsAccepted) {
  EXPECT_EQ(parse({"-b", "[::1]"}).config.bind, "::1");
  EXPECT_EQ(parse({"--bind=::1"}).config.bind, "::1");
  EXPECT_EQ(parse({"-b127.0.0.1"}).config.bind, "127.0.0.1");
}

// -q is quiet, as in most tools; the queue has a long option only.
TEST(CliParse, DashQIsQuietAndTheQueueIsLongOnly) {
  const CliResult q = parse({"-q"});
  ASSERT_EQ(q.action, CliAction::kRun) << q.error;
  EXPECT_TRUE(q.config.access_log.empty());
  EXPECT_EQ(parse({"--queue", "7"}).config.queue_capacity, 7u);
  EXPECT_EQ(parse({"-q", "7"}).config.root, "7");  // quiet, then ROOT "7"
}

TEST(CliParse, BundledShortFlags) {
  const CliResult r = parse({"-qp0"});
  ASSERT_EQ(r.action, CliAction::kRun) << r.error;
  EXPECT_TRUE(r.config.access_log.empty());
  EXPECT_EQ(r.config.port, 0);
  EXPECT_EQ(parse({"-qh"}).action, CliAction::kHelp);
}

// Timeouts are seconds in (0, 86400], fractions rounded up to the millisecond.
TEST(CliParse, TimeoutsRangeUpToADayInclusive) {
  const CliResult day = parse({"--idle-timeout", "86400"});
  ASSERT_EQ(day.action, CliAction::kRun) << day.error;
  EXPECT_EQ(day.config.idle_timeout, std::chrono::milliseconds(86'400'000));
  EXPECT_EQ(parse({"--header-timeout=0.0005"}).config.header_timeout, std::chrono::milliseconds(1));
  for (const char* bad : {"86400.5", "86401", "0", "inf", "nan", "1e9", "5s"}) {
    EXPECT_EQ(parse({"--idle-timeout", bad}).action, CliAction::kUsageError) << bad;
  }
}

// --queue defaults to 64 per worker (README "Options"); a value given is kept.
TEST(CliParse, QueueDefaultsToSixtyFourPerWorker) {
  Config c;
  c.threads = 3;
  c.queue_capacity = 0;
  c.finalize();
  EXPECT_EQ(c.queue_capacity, 192u);
  Config given;
  given.threads = 3;
  given.queue_capacity = 5;
  given.finalize();
  EXPECT_EQ(given.queue_capacity, 5u);
}

TEST(CliParse, RepeatedMimeAccumulates) {
  const CliResult r = parse({"--mime", "vtt=text/vtt", "--mime=glb=model/gltf-binary"});
  ASSERT_EQ(r.action, CliAction::kRun) << r.error;
  ASSERT_EQ(r.config.mime_overrides.size(), 2u);
  EXPECT_EQ(r.config.mime_overrides[1].first, "glb");
}

struct Bad {
  std::vector<std::string> args;
  std::string error;  // exact
};

TEST(CliParse, EveryUsageErrorNamesTheOptionTheValueAndTheRange) {
  const Bad cases[] = {
      {{"-p", "99999"}, "invalid value for -p: '99999' must be a whole number from 0 to 65535"},
      {{"--port=x"}, "invalid value for --port: 'x' must be a whole number from 0 to 65535"},
      {{"--max-requests"}, "missing value for --max-requests"},
      {{"-p"}, "missing value for -p"},
      {{"-t", "0"}, "invalid value for -t: '0' must be a whole number from 1 to 1024"},
      {{"--queue", "-1"}, "invalid value for --queue: '-1' must be a whole number from 1 to 1000000"},
      {{"--idle-timeout", "-1"},
       "invalid value for --idle-timeout: '-1' must be seconds, more than 0, at most 86400"},
      {{"--max-connections", "0"},
       "invalid value for --max-connections: '0' must be a whole number from 1 to 10000000"},
      {{"--bogus"}, "unknown option: --bogus"},
      {{"-x"}, "unknown option: -x"},
      {{"--dotfiles=yes"}, "option --dotfiles takes no value"},
      {{"a", "b"}, "more than one ROOT given: 'a' and 'b'"},
      {{"--mime", "vtt"}, "invalid value for --mime: 'vtt' must be EXT=TYPE, e.g. vtt=text/vtt"},
      {{"--access-log="}, "invalid value for --access-log: '' must be a file name or '-' (stdout)"},
      {{"-b", "[]"}, "invalid value for -b: '[]' must be an IPv4 or IPv6 address or a host name"},
  };
  for (const Bad& b : cases) {
    const CliResult r = parse(b.args);
    EXPECT_EQ(r.action, CliAction::kUsageError) << b.args[0];
    EXPECT_EQ(r.error, b.error) << b.args[0];
  }
}

TEST(CliParse, HelpListsEveryLongOptionAndTheExitCodes) {
  const std::string help = usage_text();
  for (const char* opt : {"--port", "--bind", "--threads", "--queue", "--listing", "--dotfiles",
                          "--access-log", "--quiet", "--mime", "--mime-types", "--header-timeout",
                          "--idle-timeout", "--send-timeout", "--drain-timeout",
                          "--max-connections", "--max-requests", "--help", "--version"}) {
    EXPECT_NE(help.find(opt), std::string::npos) << opt;
  }
  EXPECT_NE(help.find("Exit status"), std::string::npos);
  EXPECT_NE(help.find("Examples"), std::string::npos);
}

}  // namespace
}  // namespace httpower
