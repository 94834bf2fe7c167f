#pragma once
// A property check for fuzz targets: unlike assert(), it is never compiled out.
#include <cstdio>
#include <cstdlib>

#define HTTPOWER_FUZZ_CHECK(cond)                                                    \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "fuzz property violated: %s (%s:%d)\n", #cond, __FILE__, \
                   __LINE__);                                                        \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)
