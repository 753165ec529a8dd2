/* ctest.h - a tiny TAP test harness for the C-only tests.
 *
 * Each test file defines test functions and a main() that calls RUN(fn) for
 * each and returns ctest_done().  CHECK(cond) records a failure (file:line and
 * the expression) without stopping the test; a test passes when it recorded no
 * failure.  Output is TAP ("ok 1 - name" / "not ok 2 - name"), which the test
 * runner counts.
 */
#ifndef CTEST_H
#define CTEST_H

#include <stdio.h>

static int ctest_n, ctest_failed_tests, ctest_cur_failed;

#define CHECK(cond)                                                                                                    \
  do {                                                                                                                 \
    if (!(cond)) {                                                                                                     \
      ctest_cur_failed++;                                                                                              \
      printf("#   %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                              \
    }                                                                                                                  \
  } while (0)

#define CHECK_EQ_INT(a, b)                                                                                             \
  do {                                                                                                                 \
    long long ctest_a = (long long)(a), ctest_b = (long long)(b);                                                      \
    if (ctest_a != ctest_b) {                                                                                          \
      ctest_cur_failed++;                                                                                              \
      printf("#   %s:%d: %s == %s failed: %lld vs %lld\n", __FILE__, __LINE__, #a, #b, ctest_a, ctest_b);              \
    }                                                                                                                  \
  } while (0)

#define RUN(fn)                                                                                                        \
  do {                                                                                                                 \
    ctest_cur_failed = 0;                                                                                              \
    fn();                                                                                                              \
    ctest_n++;                                                                                                         \
    if (ctest_cur_failed) ctest_failed_tests++;                                                                        \
    printf("%s %d - %s\n", ctest_cur_failed ? "not ok" : "ok", ctest_n, #fn);                                          \
    fflush(stdout);                                                                                                    \
  } while (0)

static int ctest_done(void) {
  printf("1..%d\n", ctest_n);
  return ctest_failed_tests ? 1 : 0;
}

#endif
