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
  using Binds = std::vector<std::string>;
  EXPECT_EQ(parse({"-b", "[::1]"}).config.bind, Binds{"::1"});
  EXPECT_EQ(parse({"--bind=::1"}).config.bind, Binds{"::1"});
  EXPECT_EQ(parse({"-b127.0.0.1"}).config.bind, Binds{"127.0.0.1"});
}

// -b is repeatable, each address a listener of its own, in the order given; none: loopback.
TEST(CliParse, BindIsRepeatableAndDefaultsToLoopback) {
  using Binds = std::vector<std::string>;
  EXPECT_EQ(parse({"-b", "127.0.0.1", "--bind", "[::1]"}).config.bind, (Binds{"127.0.0.1", "::1"}));
  Config c = parse({}).config;
  EXPECT_TRUE(c.bind.empty());
  c.finalize();
  EXPECT_EQ(c.bind, Binds{"127.0.0.1"});
}

// --user takes a user of this system (checked while parsing, so a typo is a usage error,
// exit 2, before anything is bound).
TEST(CliParse, UserMustExist) {
  const CliResult r = parse({"--user", "root"});
  ASSERT_EQ(r.action, CliAction::kRun) << r.error;
  EXPECT_EQ(r.config.user, "root");
  const CliResult bad = parse({"--user", "no-such-user-httpower"});
  EXPECT_EQ(bad.action, CliAction::kUsageError);
  EXPECT_EQ(bad.error,
            "invalid value for --user: 'no-such-user-httpower' must be a user of this system "
            "(no such user)");
  EXPECT_EQ(parse({"--user="}).action, CliAction::kUsageError);
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
  ASSERT_GE(long_option_names().size(), 20u);
  for (const std::string& name : long_option_names()) {  // every row of the option table
    EXPECT_NE(help.find("--" + name + " "), std::string::npos) << name;
  }
  EXPECT_NE(help.find("Exit status"), std::string::npos);
  EXPECT_NE(help.find("Examples"), std::string::npos);
}

// The static-site options: each parsed into the Config the server applies.
TEST(CliParse, StaticSiteOptions) {
  const CliResult r = parse({"--precompressed", "--cors", "--cache-control", "no-cache",
                             "--cache-control=.css,.JS=max-age=31536000, immutable",
                             "--header", "X-Frame-Options: DENY", "--header=Referrer-Policy:no-referrer",
                             "--spa", "/index.html", "--error-page", "404=/404.html",
                             "--error-page=500=errors/500.html", "--error-page", "404=/nf.html"});
  ASSERT_EQ(r.action, CliAction::kRun) << r.error;
  const Config& c = r.config;
  EXPECT_TRUE(c.precompressed);
  EXPECT_TRUE(c.cors);
  EXPECT_EQ(c.cache_control, "no-cache");
  ASSERT_EQ(c.cache_control_by_ext.size(), 2u);
  EXPECT_EQ(c.cache_control_by_ext[0], (std::pair<std::string, std::string>{"css", "max-age=31536000, immutable"}));
  EXPECT_EQ(c.cache_control_by_ext[1].first, "JS");
  ASSERT_EQ(c.extra_headers.size(), 2u);
  EXPECT_EQ(c.extra_headers[0], (std::pair<std::string, std::string>{"X-Frame-Options", "DENY"}));
  EXPECT_EQ(c.extra_headers[1], (std::pair<std::string, std::string>{"Referrer-Policy", "no-referrer"}));
  EXPECT_EQ(c.spa, "/index.html");
  ASSERT_EQ(c.error_pages.size(), 2u) << "a code given twice: the last page";
  EXPECT_EQ(c.error_pages[0], (std::pair<int, std::string>{500, "errors/500.html"}));
  EXPECT_EQ(c.error_pages[1], (std::pair<int, std::string>{404, "/nf.html"}));
  const Config d = parse({}).config;
  EXPECT_FALSE(d.precompressed || d.cors);
  EXPECT_TRUE(d.cache_control.empty() && d.extra_headers.empty() && d.spa.empty() && d.error_pages.empty());
}

TEST(CliParse, StaticSiteOptionErrors) {
  const Bad cases[] = {
      {{"--header", "X-A:a\rb"},
       "invalid value for --header: 'X-A:a\\rb' must have a value without CR, LF, NUL or control bytes"},
      {{"--header", "X-A:a\nSet-Cookie: x"},
       "invalid value for --header: 'X-A:a\\nSet-Cookie: x' must have a value without CR, LF, NUL or "
       "control bytes"},
      {{"--header", "Content-Length:1"},
       "invalid value for --header: 'Content-Length:1' names a field the server writes itself or a "
       "hop-by-hop field"},
      {{"--header", "Connection:close"},
       "invalid value for --header: 'Connection:close' names a field the server writes itself or a "
       "hop-by-hop field"},
      {{"--header", "Bad Name:x"},
       "invalid value for --header: 'Bad Name:x' must be NAME:VALUE with NAME a field name (letters, "
       "digits, -)"},
      {{"--header", "nocolon"},
       "invalid value for --header: 'nocolon' must be NAME:VALUE, e.g. X-Frame-Options:DENY"},
      {{"--cache-control", ""},
       "invalid value for --cache-control: '' must be a field value (no CR, LF or NUL), or "
       ".EXT[,.EXT...]=VALUE"},
      {{"--cache-control", "max-age=1\r\nX: y"},
       "invalid value for --cache-control: 'max-age=1\\r\\nX: y' must be a field value (no CR, LF or "
       "NUL), or .EXT[,.EXT...]=VALUE"},
      {{"--cache-control", ".css"},
       "invalid value for --cache-control: '.css' must be a field value (no CR, LF or NUL), or "
       ".EXT[,.EXT...]=VALUE"},
      {{"--cache-control", ".css,,.js=x"},
       "invalid value for --cache-control: '.css,,.js=x' must be a field value (no CR, LF or NUL), "
       "or .EXT[,.EXT...]=VALUE"},
      {{"--error-page", "200=/ok.html"},
       "invalid value for --error-page: '200=/ok.html' must be CODE=FILE with CODE from 400 to 599, "
       "e.g. 404=/404.html"},
      {{"--error-page", "404"},
       "invalid value for --error-page: '404' must be CODE=FILE with CODE from 400 to 599, e.g. "
       "404=/404.html"},
      {{"--error-page", "404="},
       "invalid value for --error-page: '404=' must be CODE=FILE with CODE from 400 to 599, e.g. "
       "404=/404.html"},
      {{"--spa="}, "invalid value for --spa: '' must be a file beneath ROOT, e.g. /index.html"},
      {{"--cors=yes"}, "option --cors takes no value"},
      {{"--precompressed=1"}, "option --precompressed takes no value"},
      {{"--cors", "--header", "Access-Control-Allow-Origin:https://a.example"},
       "--header Access-Control-Allow-Origin conflicts with --cors, which writes the CORS fields"},
  };
  for (const Bad& b : cases) {
    const CliResult r = parse(b.args);
    EXPECT_EQ(r.action, CliAction::kUsageError) << b.args[0];
    EXPECT_EQ(r.error, b.error) << b.args[0];
    EXPECT_EQ(r.error.find_first_of("\r\n"), std::string::npos) << "one line: " << r.error;
  }
  EXPECT_EQ(parse({"--header", std::string("X-A:a\0b", 7)}).error,
            "invalid value for --header: 'X-A:a\\x00b' must have a value without CR, LF, NUL or "
            "control bytes");
  EXPECT_EQ(parse({"--header", "Access-Control-Allow-Origin:https://a.example"}).action, CliAction::kRun)
      << "without --cors the operator may write it";
  const std::string help = usage_text();
  for (const char* opt : {"--precompressed", "--cache-control V", "--cors", "--header NAME:VALUE",
                          "--spa FILE", "--error-page C=FILE"}) {
    EXPECT_NE(help.find(opt), std::string::npos) << opt;
  }
}

}  // namespace
}  // namespace httpower
