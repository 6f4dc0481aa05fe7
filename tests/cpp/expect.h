// The tiny assertion helper shared by the C++ test executables: EXPECT(cond) or
// EXPECT(cond, "printf format", args...) counts a pass or prints the failure and counts it;
// main() ends with `return expect_summary();`.
#pragma once
#include <cstdio>

static int g_passed = 0, g_failed = 0;

#define EXPECT(cond, ...)                                          \
  do {                                                             \
    if (cond) {                                                    \
      ++g_passed;                                                  \
    } else {                                                       \
      ++g_failed;                                                  \
      std::printf("FAIL %s:%d: %s ", __FILE__, __LINE__, #cond);   \
      std::printf("" __VA_ARGS__);                                 \
      std::printf("\n");                                           \
    }                                                              \
  } while (0)

// Prints the counts; the process's exit status: 1 if anything failed. Flushes stdout, since a
// sanitizer run may end the process with _exit after its own report.
static inline int expect_summary() {
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  std::fflush(stdout);
  return g_failed ? 1 : 0;
}
