#pragma once
// Scales RapidCheck's test-case count with HTTPOWER_TEST_SCALE (1 in the default preset, 0.5
// under ASan): max_success = kBase * scale, at least 20. An RC_PARAMS given by the user keeps
// its settings; max_success is added to it only when it names none, so that
// RC_PARAMS="seed=N" (the seed a failing run printed) replays the same number of cases.
// RapidCheck reads RC_PARAMS lazily, when the first property runs, so setting it during
// static initialisation works; the "Using configuration: ... max_success=M seed=N" line it
// prints shows the result.
#include <algorithm>
#include <cstdlib>
#include <string>

namespace httpower::proptest {

inline constexpr int kBaseCases = 1000;

inline const bool kRapidCheckScaled = [] {
  const char* given = std::getenv("RC_PARAMS");
  std::string params = given != nullptr ? given : "";
  if (params.find("max_success") != std::string::npos) return false;
  double scale = 1.0;
  if (const char* s = std::getenv("HTTPOWER_TEST_SCALE")) scale = std::atof(s);
  if (!(scale > 0)) scale = 1.0;
  const int n = std::max(20, static_cast<int>(kBaseCases * scale));
  params += (params.empty() ? "" : " ") + ("max_success=" + std::to_string(n));
  return setenv("RC_PARAMS", params.c_str(), 1) == 0;
}();

}  // namespace httpower::proptest
