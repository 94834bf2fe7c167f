#pragma once
// Scales RapidCheck's test-case count with HTTPOWER_TEST_SCALE (1 in the default preset, 0.5
// under ASan): max_success = kBase * scale, at least 20. An explicit RC_PARAMS (for example
// RC_PARAMS="seed=N" to replay a failure) wins and is left alone. RapidCheck reads RC_PARAMS
// lazily, when the first property runs, so setting it during static initialisation works;
// the "Using configuration: seed=N max_success=M" line it prints shows the result.
#include <algorithm>
#include <cstdlib>
#include <string>

namespace httpower::proptest {

inline constexpr int kBaseCases = 1000;

inline const bool kRapidCheckScaled = [] {
  if (std::getenv("RC_PARAMS") != nullptr) return false;
  double scale = 1.0;
  if (const char* s = std::getenv("HTTPOWER_TEST_SCALE")) scale = std::atof(s);
  if (!(scale > 0)) scale = 1.0;
  const int n = std::max(20, static_cast<int>(kBaseCases * scale));
  return setenv("RC_PARAMS", ("max_success=" + std::to_string(n)).c_str(), 0) == 0;
}();

}  // namespace httpower::proptest
