/* test_client.c - the client object over a real child process (small shell
 * scripts stand in for the CLI here; the library itself never uses a shell):
 * frames delivered in order before the exit, the exit failing pending
 * requests with the exit code and stderr tail, a line over the limit killing
 * the session, and the shutdown ladder reaching SIGKILL for a child that
 * ignores SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cas_client.h"
#include "cas_error.h"
#include "cas_internal.h"
#include "ctest.h"

static cas_client_t *spawn_sh_opts(const char *script, size_t max_line, int defer_check) {
  const char *argv[] = {"/bin/sh", "-c", script, NULL};
  cas_client_opts_t o;
  cas_client_t *c = NULL;
  memset(&o, 0, sizeof o);
  o.argv = argv;
  o.max_buffer_size = max_line;
  o.stderr_lines = 1;
  if (cas_client_spawn(&c, &o, NULL) != CAS_OK) return NULL;
  cas__client_defer_check(c, defer_check);
  return c;
}

static cas_client_t *spawn_sh(const char *script, size_t max_line) { return spawn_sh_opts(script, max_line, 0); }

static void run_until_finished(cas_client_t *c, int max_ms) {
  int64_t end = cas_now_ms() + max_ms;
  while (!cas_client_finished(c) && cas_now_ms() < end) cas_client_pump(c, 50);
}

static void test_messages_then_exit(void) {
  /* the last frame has no newline; a non-JSON line and a blank line are skipped */
  cas_client_t *c = spawn_sh("printf '{\"type\":\"a\",\"s\":\"\\303\\251\"}\\n[debug] hi\\n\\n"
                             "{\"type\":\"b\"}\\n{bad\\n{\"type\":\"c\"}'; echo 'it failed' >&2; exit 3",
                             0);
  char id[40];
  const char *err;
  cas_item_t *it;
  const char *kinds[] = {"a", "b", NULL, "c"};
  int i;
  unsigned long blank, nonjson;
  size_t tlen;
  const char *tail;
  CHECK(c != NULL);
  if (!c) return;
  CHECK_EQ_INT(cas_client_request(c, "initialize", NULL, 60000, id), CAS_OK);
  run_until_finished(c, 5000);
  CHECK(cas_client_finished(c));
  for (i = 0; i < 4; i++) {
    it = cas_proto_pop_message(cas_client_proto(c));
    CHECK(it != NULL);
    if (!it) break;
    if (kinds[i]) {
      CHECK(it->kind == CAS_ITEM_MESSAGE);
      /* frames the protocol does not act on are queued as their line */
      CHECK(!it->json && it->text && !it->unchecked);
      if (it->text) {
        char want[32];
        snprintf(want, sizeof want, "\"type\":\"%s\"", kinds[i]);
        CHECK(strstr(it->text, want) != NULL);
      }
    } else {
      CHECK(it->kind == CAS_ITEM_DECODE_ERROR && strncmp(it->text, "{bad", 4) == 0);
    }
    cas_item_free(it);
  }
  CHECK(cas_proto_pop_message(cas_client_proto(c)) == NULL);
  CHECK_EQ_INT(cas_client_exit_code(c, NULL), 3);
  CHECK_EQ_INT(cas_proto_response(cas_client_proto(c), id, NULL, &err), CAS_EEXIT);
  CHECK(err && strstr(err, "exited with code 3") && strstr(err, "it failed"));
  tail = cas_client_stderr_tail(c, &tlen);
  CHECK(tlen == 10 && memcmp(tail, "it failed\n", 10) == 0);
  it = cas_proto_pop_stderr(cas_client_proto(c));
  CHECK(it && strcmp(it->text, "it failed") == 0);
  cas_item_free(it);
  cas_client_skipped(c, &blank, &nonjson, NULL);
  CHECK_EQ_INT(blank, 1);
  CHECK_EQ_INT(nonjson, 1);
  /* writing to the finished client is refused, not a crash */
  CHECK(cas_client_send_line(c, "{}", 2) == CAS_ECLOSED);
  cas_client_free(c);
}

/* With defer_check, frames the protocol only queues skip the scan, even a
 * malformed one (its consumer checks it); the others are scanned as before,
 * and a frame cut short by the exit is still counted as truncated. */
static void test_defer_check(void) {
  cas_client_t *c = spawn_sh_opts("printf '{\"type\":\"assistant\",\"x\":[1,2]}\n{\"type\":\"user\",bad\n"
                                  "{\"type\":\"result\",\"subtype\":\"success\"}\n{\"type\":\"a\\\\u0073\"}\n"
                                  "{\"uuid\":1,\"type\":\"stream_event\"}\n{\"type\":\"assistant\"'",
                                  0, 1);
  cas_item_t *it;
  unsigned long truncated = 0;
  CHECK(c != NULL);
  if (!c) return;
  run_until_finished(c, 5000);
  it = cas_proto_pop_message(cas_client_proto(c));
  CHECK(it && it->kind == CAS_ITEM_MESSAGE && it->unchecked && !it->json);
  CHECK(it && it->type_len == 9 && memcmp(it->text + it->type_off, "assistant", 9) == 0);
  CHECK(it && cas_item_tree(it) != NULL); /* checks by itself */
  cas_item_free(it);
  it = cas_proto_pop_message(cas_client_proto(c));
  CHECK(it && it->kind == CAS_ITEM_MESSAGE && it->unchecked); /* malformed, left to the consumer */
  CHECK(it && cas_item_tree(it) == NULL);
  cas_item_free(it);
  it = cas_proto_pop_message(cas_client_proto(c));
  CHECK(it && it->kind == CAS_ITEM_MESSAGE && it->json && !it->unchecked); /* result: the protocol's */
  cas_item_free(it);
  it = cas_proto_pop_message(cas_client_proto(c));
  CHECK(it && it->kind == CAS_ITEM_MESSAGE && !it->unchecked); /* an escaped type is scanned */
  cas_item_free(it);
  it = cas_proto_pop_message(cas_client_proto(c));
  CHECK(it && it->kind == CAS_ITEM_MESSAGE && !it->unchecked && !it->json); /* its type is not first */
  cas_item_free(it);
  CHECK(cas_proto_pop_message(cas_client_proto(c)) == NULL);
  cas_client_skipped(c, NULL, NULL, &truncated);
  CHECK_EQ_INT(truncated, 1);
  cas_client_free(c);
}

static void test_overflow_kills_session(void) {
  cas_client_t *c = spawn_sh("head -c 5000 /dev/zero | tr '\\0' x; sleep 30", 100);
  cas_item_t *it;
  int signo = 0;
  CHECK(c != NULL);
  if (!c) return;
  run_until_finished(c, 10000);
  CHECK(cas_client_finished(c));
  it = cas_proto_pop_message(cas_client_proto(c));
  CHECK(it && it->kind == CAS_ITEM_FATAL && it->code == CAS_ELINE);
  CHECK(it && strstr(it->text, "maximum buffer size of 100 bytes"));
  cas_item_free(it);
  cas_client_exit_code(c, &signo);
  CHECK_EQ_INT(signo, SIGTERM);
  cas_client_free(c);
}

static void test_ladder_reaches_sigkill(void) {
  cas_client_t *c = spawn_sh("trap '' TERM; exec sleep 30", 0);
  int64_t t0 = cas_now_ms();
  int signo = 0;
  CHECK(c != NULL);
  if (!c) return;
  cas_client_close(c, 100, 100);
  CHECK(cas_client_finished(c));
  CHECK(cas_now_ms() - t0 < 5000);
  CHECK_EQ_INT(cas_client_exit_code(c, &signo), -1);
  CHECK_EQ_INT(signo, SIGKILL);
  cas_client_free(c);
}

static void test_graceful_close(void) {
  /* reads stdin until EOF, like the CLI: closing stdin is enough */
  cas_client_t *c = spawn_sh("cat >/dev/null; exit 0", 0);
  int signo = 1;
  CHECK(c != NULL);
  if (!c) return;
  cas_client_close(c, 5000, 5000);
  CHECK_EQ_INT(cas_client_exit_code(c, &signo), 0);
  CHECK_EQ_INT(signo, 0);
  cas_client_free(c);
}

static void test_pollfds_and_timeout(void) {
  cas_client_t *c = spawn_sh("cat >/dev/null", 0);
  struct pollfd fds[4];
  char id[40];
  int n, t;
  CHECK(c != NULL);
  if (!c) return;
  n = cas_client_pollfds(c, fds, 4);
  CHECK(n >= 2); /* stdout, stderr, and the pidfd where the kernel has one */
  CHECK_EQ_INT(cas_client_timeout(c), -1);
  cas_client_request(c, "interrupt", NULL, 300, id);
  t = cas_client_timeout(c);
  CHECK(t > 0 && t <= 300);
  /* nothing answers: the deadline fails it */
  while (cas_proto_response(cas_client_proto(c), id, NULL, NULL) == CAS_REQ_PENDING) cas_client_pump(c, -1);
  CHECK_EQ_INT(cas_proto_response(cas_client_proto(c), id, NULL, NULL), CAS_ETIMEOUT);
  cas_client_free(c); /* kills and reaps */
}

static void test_spawn_errors(void) {
  const char *missing[] = {"/nonexistent/claude", NULL};
  cas_client_opts_t o;
  cas_client_t *c = NULL;
  memset(&o, 0, sizeof o);
  o.argv = missing;
  CHECK_EQ_INT(cas_client_spawn(&c, &o, NULL), CAS_ENOTFOUND);
  CHECK(c == NULL);
}

int main(void) {
  RUN(test_messages_then_exit);
  RUN(test_overflow_kills_session);
  RUN(test_defer_check);
  RUN(test_ladder_reaches_sigkill);
  RUN(test_graceful_close);
  RUN(test_pollfds_and_timeout);
  RUN(test_spawn_errors);
  return ctest_done();
}
