/* test_framer.c - the byte buffer and the line framer, under ASan + UBSan.
 *
 * The framer is fed the way pipes deliver data: split anywhere (inside a
 * UTF-8 character too), several lines at once, CRLF, blank and non-JSON
 * lines, lines over the limit, a last line without newline, a 5 MB line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cas_buf.h"
#include "cas_error.h"
#include "cas_framer.h"
#include "cas_json.h"
#include "ctest.h"

/* Collected lines, separated by '|' so one string comparison checks both the
 * content and the order. */
typedef struct {
  char text[4096];
  size_t len;
  int n;
  int rc; /* the last non-positive return of cas_framer_next */
} lines_t;

static void drain(cas_framer_t *f, lines_t *out) {
  const char *line;
  size_t len;
  int rc;

  while ((rc = cas_framer_next(f, &line, &len)) == 1) {
    /* Every line is NUL-terminated in place. */
    CHECK(line[len] == '\0');
    if (out->len + len + 1 < sizeof out->text) {
      if (out->n) out->text[out->len++] = '|';
      memcpy(out->text + out->len, line, len);
      out->len += len;
      out->text[out->len] = '\0';
    }
    out->n++;
  }
  out->rc = rc;
}

static void lines_init(lines_t *l) { memset(l, 0, sizeof *l); }

/* --- cas_buf ------------------------------------------------------------ */

static void test_buf_basics(void) {
  cas_buf_t b;
  size_t i;

  cas_buf_init(&b);
  CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
  CHECK_EQ_INT(cas_buf_append(&b, NULL, 0), CAS_OK);
  CHECK_EQ_INT(b.len, 0);
  CHECK_EQ_INT(cas_buf_append(&b, "hello ", 6), CAS_OK);
  CHECK_EQ_INT(cas_buf_append(&b, "world", 5), CAS_OK);
  CHECK_EQ_INT(b.len, 11);
  CHECK(memcmp(b.data, "hello world", 11) == 0);
  cas_buf_consume(&b, 6);
  CHECK_EQ_INT(b.len, 5);
  CHECK(memcmp(b.data, "world", 5) == 0);
  cas_buf_consume(&b, 0);
  CHECK_EQ_INT(b.len, 5);
  cas_buf_consume(&b, 5);
  CHECK_EQ_INT(b.len, 0);
  /* Growth doubles: 100000 one-byte appends must not be quadratic nor fail. */
  for (i = 0; i < 100000; i++) CHECK_EQ_INT(cas_buf_append(&b, "x", 1), CAS_OK);
  CHECK_EQ_INT(b.len, 100000);
  CHECK(b.cap >= 100000 && b.cap < 400000);
  cas_buf_clear(&b);
  CHECK_EQ_INT(b.len, 0);
  CHECK(b.cap >= 100000);
  CHECK_EQ_INT(cas_buf_reserve(&b, 10), CAS_OK);
  cas_buf_free(&b);
  CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
}

static void test_buf_overflow(void) {
  cas_buf_t b;
  char *data;
  size_t cap;

  cas_buf_init(&b);
  CHECK_EQ_INT(cas_buf_append(&b, "abc", 3), CAS_OK);
  data = b.data;
  cap = b.cap;
  /* len + extra wraps around: refused before any allocation is tried, and
   * the buffer is left exactly as it was. */
  CHECK_EQ_INT(cas_buf_reserve(&b, SIZE_MAX), CAS_ENOMEM);
  CHECK_EQ_INT(cas_buf_reserve(&b, SIZE_MAX - 2), CAS_ENOMEM);
  CHECK_EQ_INT(cas_buf_append(&b, "x", SIZE_MAX), CAS_ENOMEM);
  CHECK(b.data == data && b.cap == cap && b.len == 3);
  CHECK(memcmp(b.data, "abc", 3) == 0);
  cas_buf_free(&b);
}

/* --- framing ------------------------------------------------------------ */

static void test_default_limit(void) {
  cas_framer_t f;

  cas_framer_init(&f, CAS_FRAMER_JSON, 0);
  CHECK_EQ_INT(f.max_line, (size_t)64 * 1024 * 1024);
  CHECK_EQ_INT(cas_framer_pending(&f), 0);
  cas_framer_free(&f);
  cas_framer_init(&f, CAS_FRAMER_TEXT, 100);
  CHECK_EQ_INT(f.max_line, 100);
  CHECK_EQ_INT(f.mode, CAS_FRAMER_TEXT);
  cas_framer_free(&f);
}

static void test_one_line(void) {
  cas_framer_t f;
  const char *line;
  size_t len;

  cas_framer_init(&f, CAS_FRAMER_JSON, 0);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 0);
  CHECK_EQ_INT(cas_framer_feed(&f, "{\"a\":1}", 7), CAS_OK);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 0);
  CHECK_EQ_INT(cas_framer_pending(&f), 7);
  CHECK_EQ_INT(cas_framer_feed(&f, "\n", 1), CAS_OK);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 1);
  CHECK_EQ_INT(len, 7);
  CHECK(strcmp(line, "{\"a\":1}") == 0);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 0);
  CHECK_EQ_INT(cas_framer_pending(&f), 0);
  CHECK_EQ_INT(f.lines, 1);
  cas_framer_free(&f);
}

/* 2-, 3- and 4-byte characters (é, 中, 😀) and an ASCII run long enough to
 * cross the 8-byte fast paths. */
static const char utf8_frame[] = "{\"type\":\"assistant\",\"text\":\"caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 "
                                 "\xF0\x9F\x98\x80 end\",\"x\":\"\xC3\xBC\xF0\x9F\x91\x8D\"}\n";

static void check_utf8_line(const lines_t *l) {
  cJSON *root = NULL;
  size_t want = sizeof utf8_frame - 2; /* without NUL and '\n' */

  CHECK_EQ_INT(l->n, 1);
  CHECK_EQ_INT(l->rc, 0);
  CHECK_EQ_INT(l->len, want);
  CHECK(memcmp(l->text, utf8_frame, want) == 0);
  CHECK_EQ_INT(cas_json_parse(l->text, l->len, 0, &root), CAS_OK);
  CHECK(strcmp(cas_json_get_string(root, "text"), "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 end") == 0);
  cJSON_Delete(root);
}

static void test_utf8_split_everywhere(void) {
  size_t n = sizeof utf8_frame - 1, k, i;
  int bad = 0;

  for (k = 0; k <= n; k++) {
    cas_framer_t f;
    lines_t l;

    cas_framer_init(&f, CAS_FRAMER_JSON, 0);
    lines_init(&l);
    CHECK_EQ_INT(cas_framer_feed(&f, utf8_frame, k), CAS_OK);
    drain(&f, &l);
    if (k < n && l.n != 0) bad++;
    CHECK_EQ_INT(cas_framer_feed(&f, utf8_frame + k, n - k), CAS_OK);
    drain(&f, &l);
    check_utf8_line(&l);
    cas_framer_free(&f);
  }
  CHECK_EQ_INT(bad, 0);

  /* Byte by byte through feed, then through space/commit. */
  {
    cas_framer_t f;
    lines_t l;

    cas_framer_init(&f, CAS_FRAMER_JSON, 0);
    lines_init(&l);
    for (i = 0; i < n; i++) {
      CHECK_EQ_INT(cas_framer_feed(&f, utf8_frame + i, 1), CAS_OK);
      drain(&f, &l);
    }
    check_utf8_line(&l);
    cas_framer_free(&f);

    cas_framer_init(&f, CAS_FRAMER_JSON, 0);
    lines_init(&l);
    for (i = 0; i < n; i++) {
      size_t avail;
      char *p = cas_framer_space(&f, 1, &avail);
      CHECK(p != NULL && avail >= 1);
      if (!p) break;
      *p = utf8_frame[i];
      CHECK_EQ_INT(cas_framer_commit(&f, 1), CAS_OK);
      drain(&f, &l);
    }
    check_utf8_line(&l);
    cas_framer_free(&f);
  }
}

static void test_several_frames_one_read(void) {
  static const char in[] = "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n{\"n\":";
  cas_framer_t f;
  lines_t l;

  cas_framer_init(&f, CAS_FRAMER_JSON, 0);
  lines_init(&l);
  CHECK_EQ_INT(cas_framer_feed(&f, in, sizeof in - 1), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.n, 3);
  CHECK(strcmp(l.text, "{\"n\":1}|{\"n\":2}|{\"n\":3}") == 0);
  CHECK_EQ_INT(cas_framer_pending(&f), 5);
  CHECK_EQ_INT(cas_framer_feed(&f, "4}\n", 3), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.n, 4);
  CHECK(strcmp(l.text, "{\"n\":1}|{\"n\":2}|{\"n\":3}|{\"n\":4}") == 0);
  CHECK_EQ_INT(f.lines, 4);
  cas_framer_free(&f);
}

static void test_crlf(void) {
  static const char in[] = "{\"a\":1}\r\n\r\n{\"b\":2}\r";
  cas_framer_t f;
  lines_t l;

  cas_framer_init(&f, CAS_FRAMER_JSON, 0);
  lines_init(&l);
  CHECK_EQ_INT(cas_framer_feed(&f, in, sizeof in - 1), CAS_OK);
  drain(&f, &l);
  CHECK(strcmp(l.text, "{\"a\":1}") == 0);
  /* The CR of a CRLF split across reads. */
  CHECK_EQ_INT(cas_framer_feed(&f, "\n", 1), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.n, 2);
  CHECK(strcmp(l.text, "{\"a\":1}|{\"b\":2}") == 0);
  CHECK_EQ_INT(f.blank, 1);
  cas_framer_free(&f);
}

static void test_blank_and_nonjson(void) {
  static const char in[] = "\n   \n\t\r\n[SandboxDebug] starting\nplain text\n  \t{\"a\":1}  \r\n"
                           "[1,2,3]\n\"str\"\n{\"b\":2}\n";
  cas_framer_t f;
  lines_t l;

  cas_framer_init(&f, CAS_FRAMER_JSON, 0);
  lines_init(&l);
  CHECK_EQ_INT(cas_framer_feed(&f, in, sizeof in - 1), CAS_OK);
  drain(&f, &l);
  /* JSON lines come back trimmed, so they start with '{'. */
  CHECK(strcmp(l.text, "{\"a\":1}|{\"b\":2}") == 0);
  CHECK_EQ_INT(l.n, 2);
  CHECK_EQ_INT(f.blank, 3);
  CHECK_EQ_INT(f.nonjson, 4);
  CHECK_EQ_INT(f.lines, 2);
  CHECK_EQ_INT(l.rc, 0);
  cas_framer_free(&f);
}

/* A line of n 'x' inside braces: exactly n bytes long. */
static char *brace_line(size_t n) {
  char *s = malloc(n + 1);
  if (!s) return NULL;
  memset(s, 'x', n);
  s[0] = '{';
  s[n - 1] = '}';
  s[n] = '\0';
  return s;
}

static void test_line_limit(void) {
  cas_framer_t f;
  lines_t l;
  char *at = brace_line(16), *over = brace_line(17);

  /* Exactly max_line bytes, with LF and with CRLF, is fine. */
  cas_framer_init(&f, CAS_FRAMER_JSON, 16);
  lines_init(&l);
  CHECK_EQ_INT(cas_framer_feed(&f, at, 16), CAS_OK);
  CHECK_EQ_INT(cas_framer_feed(&f, "\n", 1), CAS_OK);
  CHECK_EQ_INT(cas_framer_feed(&f, at, 16), CAS_OK);
  CHECK_EQ_INT(cas_framer_feed(&f, "\r\n", 2), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.n, 2);
  CHECK_EQ_INT(l.rc, 0);

  /* One more byte is CAS_ELINE, after the good lines before it. */
  CHECK_EQ_INT(cas_framer_feed(&f, "{\"ok\":1}\n", 9), CAS_OK);
  CHECK_EQ_INT(cas_framer_feed(&f, over, 17), CAS_OK);
  CHECK_EQ_INT(cas_framer_feed(&f, "\n{\"late\":1}\n", 12), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.n, 3);
  CHECK_EQ_INT(l.rc, CAS_ELINE);
  CHECK_EQ_INT(f.err, CAS_ELINE);
  {
    /* Sticky: every later call reports it, and nothing more comes out. */
    const char *line;
    size_t len, avail;
    char *p;

    CHECK_EQ_INT(cas_framer_next(&f, &line, &len), CAS_ELINE);
    CHECK_EQ_INT(cas_framer_feed(&f, "{}\n", 3), CAS_ELINE);
    p = cas_framer_space(&f, 16, &avail);
    CHECK(p != NULL && avail >= 16);
    CHECK_EQ_INT(cas_framer_commit(&f, 3), CAS_ELINE);
    CHECK_EQ_INT(cas_framer_pending(&f), 0);
    cas_framer_eof(&f);
    CHECK_EQ_INT(cas_framer_next(&f, &line, &len), CAS_ELINE);
  }
  cas_framer_free(&f);

  /* The limit applies to skipped lines too: they are held in memory. */
  cas_framer_init(&f, CAS_FRAMER_JSON, 16);
  lines_init(&l);
  CHECK_EQ_INT(cas_framer_feed(&f, "[SandboxDebug] long text\n", 25), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.rc, CAS_ELINE);
  cas_framer_free(&f);
  free(at);
  free(over);
}

static void test_tail_limit(void) {
  cas_framer_t f;
  lines_t l;
  char *at = brace_line(16);

  /* An unterminated tail over the limit fails at once, not at its '\n'. */
  cas_framer_init(&f, CAS_FRAMER_JSON, 16);
  lines_init(&l);
  CHECK_EQ_INT(cas_framer_feed(&f, at, 16), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.rc, 0);
  CHECK_EQ_INT(cas_framer_feed(&f, "x", 1), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.rc, CAS_ELINE);
  CHECK_EQ_INT(l.n, 0);
  cas_framer_free(&f);

  /* The boundary: 16 bytes and a '\r' may still be a 16-byte CRLF line. */
  cas_framer_init(&f, CAS_FRAMER_JSON, 16);
  lines_init(&l);
  CHECK_EQ_INT(cas_framer_feed(&f, at, 16), CAS_OK);
  CHECK_EQ_INT(cas_framer_feed(&f, "\r", 1), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.rc, 0);
  CHECK_EQ_INT(cas_framer_feed(&f, "\n", 1), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.rc, 0);
  CHECK_EQ_INT(l.n, 1);
  CHECK_EQ_INT(l.len, 16);
  cas_framer_free(&f);

  /* ... but a '\r' followed by anything else is a 17-byte tail. */
  cas_framer_init(&f, CAS_FRAMER_JSON, 16);
  lines_init(&l);
  CHECK_EQ_INT(cas_framer_feed(&f, at, 16), CAS_OK);
  CHECK_EQ_INT(cas_framer_feed(&f, "\r", 1), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.rc, 0);
  CHECK_EQ_INT(cas_framer_feed(&f, "x", 1), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.rc, CAS_ELINE);
  cas_framer_free(&f);
  free(at);
}

static void test_eof_tail(void) {
  cas_framer_t f;
  lines_t l;
  const char *line;
  size_t len;

  cas_framer_init(&f, CAS_FRAMER_JSON, 0);
  lines_init(&l);
  CHECK_EQ_INT(cas_framer_feed(&f, "{\"a\":1}\n{\"b\":2}", 15), CAS_OK);
  drain(&f, &l);
  CHECK(strcmp(l.text, "{\"a\":1}") == 0);
  CHECK_EQ_INT(cas_framer_pending(&f), 7);
  cas_framer_eof(&f);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 1);
  CHECK_EQ_INT(len, 7);
  CHECK(strcmp(line, "{\"b\":2}") == 0);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 0);
  CHECK_EQ_INT(cas_framer_pending(&f), 0);
  cas_framer_free(&f);

  /* A CR-terminated tail, a whitespace tail, and no tail at all. */
  cas_framer_init(&f, CAS_FRAMER_JSON, 0);
  CHECK_EQ_INT(cas_framer_feed(&f, "{\"c\":3}\r", 8), CAS_OK);
  cas_framer_eof(&f);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 1);
  CHECK(len == 7 && strcmp(line, "{\"c\":3}") == 0);
  cas_framer_free(&f);

  cas_framer_init(&f, CAS_FRAMER_JSON, 0);
  CHECK_EQ_INT(cas_framer_feed(&f, "{}\n  \t", 6), CAS_OK);
  cas_framer_eof(&f);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 1);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 0);
  CHECK_EQ_INT(f.blank, 1);
  cas_framer_free(&f);

  cas_framer_init(&f, CAS_FRAMER_JSON, 0);
  cas_framer_eof(&f);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 0);
  cas_framer_free(&f);
}

static void test_zero_copy(void) {
  cas_framer_t f;
  const char *line;
  size_t len, avail;
  char *p;

  cas_framer_init(&f, CAS_FRAMER_JSON, 0);
  p = cas_framer_space(&f, 64, &avail);
  CHECK(p != NULL && avail >= 64);
  memcpy(p, "{\"a\":1}\n{\"b\":", 13);
  CHECK_EQ_INT(cas_framer_commit(&f, 13), CAS_OK);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 1);
  /* The line points into the buffer: no copy was made. */
  CHECK(line == p);
  CHECK(line >= f.buf.data && line + len < f.buf.data + f.buf.len);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 0);
  CHECK_EQ_INT(f.start, 8);
  CHECK_EQ_INT(f.scan, 13);

  /* Asking for more than fits moves the unreturned tail to the front. */
  p = cas_framer_space(&f, f.buf.cap, &avail);
  CHECK(p != NULL);
  CHECK_EQ_INT(f.start, 0);
  CHECK_EQ_INT(f.scan, 5);
  CHECK(memcmp(f.buf.data, "{\"b\":", 5) == 0);
  CHECK(p == f.buf.data + 5);
  memcpy(p, "2}\n", 3);
  CHECK_EQ_INT(cas_framer_commit(&f, 3), CAS_OK);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 1);
  CHECK(line == f.buf.data && strcmp(line, "{\"b\":2}") == 0);

  /* Committing more than was offered is a caller bug. */
  p = cas_framer_space(&f, 1, &avail);
  CHECK(p != NULL);
  CHECK_EQ_INT(cas_framer_commit(&f, avail + 1), CAS_EINVAL);
  CHECK_EQ_INT(cas_framer_commit(&f, 0), CAS_OK);
  CHECK_EQ_INT(f.err, 0);
  cas_framer_free(&f);
}

static void test_lines_stay_valid(void) {
  /* Several lines taken out in a row all stay readable until the next
   * space/commit/feed. */
  cas_framer_t f;
  const char *a, *b, *c;
  size_t la, lb, lc;

  cas_framer_init(&f, CAS_FRAMER_JSON, 0);
  CHECK_EQ_INT(cas_framer_feed(&f, "{\"a\":1}\n\n{\"b\":2}\r\n{\"c\":3}", 25), CAS_OK);
  cas_framer_eof(&f);
  CHECK_EQ_INT(cas_framer_next(&f, &a, &la), 1);
  CHECK_EQ_INT(cas_framer_next(&f, &b, &lb), 1);
  CHECK_EQ_INT(cas_framer_next(&f, &c, &lc), 1);
  CHECK(strcmp(a, "{\"a\":1}") == 0 && la == 7);
  CHECK(strcmp(b, "{\"b\":2}") == 0 && lb == 7);
  CHECK(strcmp(c, "{\"c\":3}") == 0 && lc == 7);
  cas_framer_free(&f);
}

/* A detached buffer keeps its line; the framer goes on with the bytes after
 * it, in a buffer of its own. */
static void test_detach(void) {
  cas_framer_t f;
  const char *a, *b;
  char *block;
  size_t la, lb;

  cas_framer_init(&f, CAS_FRAMER_JSON, 0);
  CHECK_EQ_INT(cas_framer_feed(&f, "{\"a\":1}\n{\"b\"", 12), CAS_OK);
  CHECK_EQ_INT(cas_framer_next(&f, &a, &la), 1);
  block = cas_framer_detach(&f);
  CHECK(block != NULL && a >= block && f.buf.data != block);
  CHECK_EQ_INT(cas_framer_pending(&f), 4);
  CHECK_EQ_INT(cas_framer_feed(&f, ":2}\n", 4), CAS_OK);
  CHECK_EQ_INT(cas_framer_next(&f, &b, &lb), 1);
  CHECK(strcmp(a, "{\"a\":1}") == 0 && la == 7); /* still there */
  CHECK(strcmp(b, "{\"b\":2}") == 0 && lb == 7);
  free(block);
  /* nothing after the line: the new buffer starts empty */
  CHECK_EQ_INT(cas_framer_feed(&f, "{\"c\":3}\n", 8), CAS_OK);
  CHECK_EQ_INT(cas_framer_next(&f, &a, &la), 1);
  block = cas_framer_detach(&f);
  CHECK(block != NULL && cas_framer_pending(&f) == 0 && strcmp(a, "{\"c\":3}") == 0);
  free(block);
  CHECK_EQ_INT(cas_framer_next(&f, &a, &la), 0);
  cas_framer_free(&f);
}

static void test_text_mode(void) {
  static const char in[] = "  hello  \r\n\n \t \nworld\t\n{\"json\":true}\n";
  cas_framer_t f;
  lines_t l;
  const char *line;
  size_t len;

  cas_framer_init(&f, CAS_FRAMER_TEXT, 0);
  lines_init(&l);
  CHECK_EQ_INT(cas_framer_feed(&f, in, sizeof in - 1), CAS_OK);
  drain(&f, &l);
  /* Leading whitespace stays, trailing goes; blank lines are skipped. */
  CHECK(strcmp(l.text, "  hello|world|{\"json\":true}") == 0);
  CHECK_EQ_INT(f.blank, 2);
  CHECK_EQ_INT(f.nonjson, 0);
  CHECK_EQ_INT(cas_framer_feed(&f, "last words  ", 12), CAS_OK);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 0);
  cas_framer_eof(&f);
  CHECK_EQ_INT(cas_framer_next(&f, &line, &len), 1);
  CHECK(len == 10 && strcmp(line, "last words") == 0);
  cas_framer_free(&f);

  /* Over the limit nothing is an error: a tail is flushed as a line of its
   * own, a complete long line comes back whole. */
  cas_framer_init(&f, CAS_FRAMER_TEXT, 8);
  lines_init(&l);
  CHECK_EQ_INT(cas_framer_feed(&f, "abcdefgh", 8), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.n, 0);
  CHECK_EQ_INT(cas_framer_feed(&f, "ij", 2), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.n, 1);
  CHECK(strcmp(l.text, "abcdefghij") == 0);
  CHECK_EQ_INT(cas_framer_pending(&f), 0);
  CHECK_EQ_INT(cas_framer_feed(&f, "kl\n0123456789abc\n", 17), CAS_OK);
  drain(&f, &l);
  CHECK(strcmp(l.text, "abcdefghij|kl|0123456789abc") == 0);
  CHECK_EQ_INT(l.rc, 0);
  CHECK_EQ_INT(f.err, 0);
  /* A flood of spaces without newline is flushed and found blank. */
  CHECK_EQ_INT(cas_framer_feed(&f, "                ", 16), CAS_OK);
  drain(&f, &l);
  CHECK_EQ_INT(l.n, 3);
  CHECK_EQ_INT(cas_framer_pending(&f), 0);
  CHECK_EQ_INT(f.blank, 1);
  cas_framer_free(&f);
}

static void test_5mb_line(void) {
  size_t n = 5 * 1024 * 1024, off = 0, chunk = 65536;
  char *frame = malloc(n + 1);
  cas_framer_t f;
  const char *line = NULL;
  size_t len = 0, cap_before;
  int rc = 0, early = 0;
  cJSON *root = NULL;

  CHECK(frame != NULL);
  if (!frame) return;
  memcpy(frame, "{\"type\":\"user\",\"data\":\"", 23);
  memset(frame + 23, 'x', n - 23 - 2);
  memcpy(frame + n - 2, "\"}", 2);
  frame[n] = '\n';

  cas_framer_init(&f, CAS_FRAMER_JSON, 0);
  while (off < n + 1) {
    size_t avail, take;
    char *p = cas_framer_space(&f, chunk, &avail);
    CHECK(p != NULL);
    if (!p) break;
    take = n + 1 - off < chunk ? n + 1 - off : chunk;
    memcpy(p, frame + off, take);
    off += take;
    CHECK_EQ_INT(cas_framer_commit(&f, take), CAS_OK);
    rc = cas_framer_next(&f, &line, &len);
    if (rc != 0) break;
    /* Each read is searched once: nothing before `scan` is looked at again. */
    if (f.scan != f.buf.len) early++;
  }
  CHECK_EQ_INT(early, 0);
  CHECK_EQ_INT(off, n + 1);
  CHECK_EQ_INT(rc, 1);
  CHECK_EQ_INT(len, n);
  CHECK(line && memcmp(line, frame, n) == 0);
  CHECK_EQ_INT(cas_json_parse(line, len, 0, &root), CAS_OK);
  CHECK_EQ_INT(cas_frame_classify(root), CAS_FRAME_MESSAGE);
  cJSON_Delete(root);

  /* Once idle, the big buffer is given back. */
  cap_before = f.buf.cap;
  CHECK(cap_before >= n);
  CHECK(cas_framer_space(&f, chunk, NULL) != NULL);
  CHECK(f.buf.cap < cap_before);
  CHECK(f.buf.cap <= 4 * chunk);
  cas_framer_free(&f);
  free(frame);
}

static void test_many_lines(void) {
  /* 10000 lines in reads of an awkward size: all arrive, in order. */
  char line[64];
  cas_framer_t f;
  unsigned long i, seen = 0, bad = 0;
  const char *out;
  size_t len;
  cas_buf_t all;

  cas_buf_init(&all);
  for (i = 0; i < 10000; i++) {
    int n = snprintf(line, sizeof line, "{\"seq\":%lu}\n", i);
    CHECK_EQ_INT(cas_buf_append(&all, line, (size_t)n), CAS_OK);
  }
  cas_framer_init(&f, CAS_FRAMER_JSON, 0);
  for (i = 0; i < all.len; i += 777) {
    size_t take = all.len - i < 777 ? all.len - i : 777;
    CHECK_EQ_INT(cas_framer_feed(&f, all.data + i, take), CAS_OK);
    while (cas_framer_next(&f, &out, &len) == 1) {
      snprintf(line, sizeof line, "{\"seq\":%lu}", seen);
      if (strlen(line) != len || memcmp(line, out, len) != 0) bad++;
      seen++;
    }
  }
  CHECK_EQ_INT(seen, 10000);
  CHECK_EQ_INT(bad, 0);
  CHECK_EQ_INT(f.lines, 10000);
  cas_framer_free(&f);
  cas_buf_free(&all);
}

int main(void) {
  RUN(test_buf_basics);
  RUN(test_buf_overflow);
  RUN(test_default_limit);
  RUN(test_one_line);
  RUN(test_utf8_split_everywhere);
  RUN(test_several_frames_one_read);
  RUN(test_crlf);
  RUN(test_blank_and_nonjson);
  RUN(test_line_limit);
  RUN(test_tail_limit);
  RUN(test_eof_tail);
  RUN(test_zero_copy);
  RUN(test_lines_stay_valid);
  RUN(test_detach);
  RUN(test_text_mode);
  RUN(test_5mb_line);
  RUN(test_many_lines);
  return ctest_done();
}
