#pragma once
// Iteration counts scale with the environment, so that sanitizer builds stay within their
// time limits. The presets set HTTPOWER_TEST_SCALE (1; asan 0.5, tsan 0.3);
// HTTPOWER_STRESS_SCALE, when set, takes precedence for the stress programs.
#include <cstdlib>
#include <initializer_list>

namespace httpower::testsupport {

// The first of `names` that is set to a positive number, else 1.
inline double env_scale(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (const char* s = std::getenv(name)) {
      const double v = std::atof(s);
      if (v > 0) return v;
    }
  }
  return 1.0;
}

// GoogleTest tests and properties.
inline double test_scale() { return env_scale({"HTTPOWER_TEST_SCALE"}); }

// Stress programs: HTTPOWER_STRESS_SCALE if set, else HTTPOWER_TEST_SCALE, else 1.
inline double stress_scale() { return env_scale({"HTTPOWER_STRESS_SCALE", "HTTPOWER_TEST_SCALE"}); }

// n * scale, truncated, never below `min` (a scaled-down run still checks something).
inline int scaled(double n, int min = 1, double scale = test_scale()) {
  const int v = static_cast<int>(n * scale);
  return v < min ? min : v;
}

}  // namespace httpower::testsupport
