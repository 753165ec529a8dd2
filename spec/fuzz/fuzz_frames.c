/* fuzz_frames.c - libFuzzer target for everything the CLI's output reaches.
 *
 * One input is one CLI session's stdout (and, the same bytes, its stderr).
 * It goes through the path cas_client.c takes, without a process:
 *   bytes -> cas_framer_t (JSON mode, and TEXT mode over the same bytes) in
 *   chunks of fuzzer-chosen sizes, through cas_framer_feed and through the
 *   zero-copy cas_framer_space/commit -> cas_json_parse -> cas_frame_classify
 *   -> cas_proto_on_frame / on_decode_error / on_fatal / on_stderr / on_exit,
 *   and each parsed tree written out again with the writers (cas_json_write_*),
 *   with three of our own control requests pending so control_response lines
 *   can match them, and every queued item popped and freed.
 *
 * Input layout: byte 0 picks the JSON framer's chunk sizes (bits 0-2), the
 * line limit (bits 3-4), whether deadlines expire as lines go by (bit 5),
 * whether the process exits at the end (bit 6) and whether inbound requests
 * are answered at once or left open for a cancel (bit 7); byte 1 seeds the
 * generator behind the chunk sizes and the feed-or-space choice.  The rest is
 * the stream.  "@@1", "@@2" and "@@3" in it are replaced by the ids of our
 * pending requests (their 8 hex digits are salted per run, so the fuzzer could
 * not learn them; their length is fixed, so runs stay reproducible).
 *
 * Nothing here trusts the code under test: every result is checked against a
 * reference written here for the purpose (a framer that splits the whole input
 * at once, a UTF-8 decoder, a recursive RFC 8259 validator with the same depth
 * rule, a model of the protocol state), and a mismatch traps after printing
 * the line of the failed CHECK.  Everything is freed, so LeakSanitizer sees
 * every leak.
 *
 * Build and run: make fuzz (long) or make fuzz-ci (bounded); see README.md.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas_error.h"
#include "cas_framer.h"
#include "cas_internal.h"
#include "cas_json.h"
#include "cas_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                                       \
  do {                                                                                                                 \
    if (!(c)) {                                                                                                        \
      fprintf(stderr, "fuzz_frames.c:%d: CHECK failed: %s\n", __LINE__, #c);                                           \
      __builtin_trap();                                                                                                \
    }                                                                                                                  \
  } while (0)

#define NREQ 3
#define JSON_DEPTH 64
#define DECODE_HEAD 200 /* cas_proto.c keeps this much of a bad line */

/* --- small helpers ------------------------------------------------------- */

typedef struct {
  uint32_t s;
} rng_t;

static uint32_t rng_next(rng_t *r) { /* xorshift32 */
  uint32_t x = r->s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return r->s = x;
}

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  CHECK(d != NULL);
  memcpy(d, s, n);
  return d;
}

static int is_sp(unsigned char c) { /* the framer's whitespace ('\n' aside) */
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* --- reference UTF-8: decode each code point, then judge it ----------------- */

static int ref_utf8(const unsigned char *s, size_t n) {
  size_t i = 0, k, len;
  uint32_t cp, min;

  while (i < n) {
    unsigned c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    if ((c & 0xE0) == 0xC0)
      len = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
      len = 3, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
      len = 4, cp = c & 0x07, min = 0x10000;
    else
      return 0;
    if (n - i < len) return 0;
    for (k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = cp << 6 | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    i += len;
  }
  return 1;
}

/* --- reference JSON: recursive descent, strict RFC 8259 ------------------------ */

typedef struct {
  const unsigned char *p, *end;
  int limit, maxdepth;
} rj_t;

static void rj_ws(rj_t *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int rj_hex(unsigned c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static int rj_string(rj_t *j) { /* at the opening quote; UTF-8 already checked */
  j->p++;
  for (;;) {
    unsigned c;
    if (j->p >= j->end) return CAS_EJSON;
    c = *j->p;
    if (c == '"') {
      j->p++;
      return 0;
    }
    if (c < 0x20) return CAS_EJSON;
    if (c != '\\') {
      j->p++;
      continue;
    }
    if (j->end - j->p < 2) return CAS_EJSON;
    c = j->p[1];
    if (c == 'u') {
      int k;
      if (j->end - j->p < 6) return CAS_EJSON;
      for (k = 2; k < 6; k++)
        if (!rj_hex(j->p[k])) return CAS_EJSON;
      j->p += 6;
    } else if (strchr("\"\\/bfnrt", (int)c) && c) {
      j->p += 2;
    } else {
      return CAS_EJSON;
    }
  }
}

static int rj_digits(rj_t *j) {
  const unsigned char *s = j->p;
  while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
  return j->p > s;
}

static int rj_number(rj_t *j) {
  const unsigned char *start = j->p;
  if (*j->p == '-') j->p++;
  if (j->p < j->end && *j->p == '0')
    j->p++;
  else if (!(j->p < j->end && *j->p >= '1' && *j->p <= '9') || !rj_digits(j))
    return CAS_EJSON;
  if (j->p < j->end && *j->p == '.') {
    j->p++;
    if (!rj_digits(j)) return CAS_EJSON;
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
    if (!rj_digits(j)) return CAS_EJSON;
  }
  return j->p - start > 63 ? CAS_EJSON : 0; /* cJSON reads at most 63 */
}

static int rj_word(rj_t *j, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0) return CAS_EJSON;
  j->p += n;
  return 0;
}

/* A value whose containers would be at nesting `depth` (0 at the top). */
static int rj_value(rj_t *j, int depth) {
  int rc, obj;
  rj_ws(j);
  if (j->p >= j->end) return CAS_EJSON;
  switch (*j->p) {
    case '{':
    case '[':
      if (depth >= j->limit) return CAS_EDEPTH;
      if (depth + 1 > j->maxdepth) j->maxdepth = depth + 1;
      obj = *j->p == '{';
      j->p++;
      rj_ws(j);
      if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
        j->p++;
        return 0;
      }
      for (;;) {
        if (obj) {
          if (j->p >= j->end || *j->p != '"') return CAS_EJSON;
          if ((rc = rj_string(j)) != 0) return rc;
          rj_ws(j);
          if (j->p >= j->end || *j->p != ':') return CAS_EJSON;
          j->p++;
        }
        if ((rc = rj_value(j, depth + 1)) != 0) return rc;
        rj_ws(j);
        if (j->p >= j->end) return CAS_EJSON;
        if (*j->p == ',') {
          j->p++;
          if (obj) rj_ws(j);
          continue;
        }
        if (*j->p != (obj ? '}' : ']')) return CAS_EJSON;
        j->p++;
        return 0;
      }
    case '"': return rj_string(j);
    case 't': return rj_word(j, "true");
    case 'f': return rj_word(j, "false");
    case 'n': return rj_word(j, "null");
    default:
      if (*j->p != '-' && (*j->p < '0' || *j->p > '9')) return CAS_EJSON;
      return rj_number(j);
  }
}

/* What cas_json_parse must return for s[0..n) and max_depth. */
static int ref_json(const char *s, size_t n, int max_depth, int *maxdepth) {
  rj_t j;
  int rc;
  if (!ref_utf8((const unsigned char *)s, n)) return CAS_EUTF8;
  j.p = (const unsigned char *)s;
  j.end = j.p + n;
  j.limit = max_depth == 0 ? CAS_JSON_MAX_DEPTH : max_depth > 1000 ? 1000 : max_depth;
  j.maxdepth = 0;
  rc = rj_value(&j, 0);
  if (rc == 0) {
    rj_ws(&j);
    if (j.p != j.end) rc = CAS_EJSON;
  }
  *maxdepth = j.maxdepth;
  return rc;
}

static int tree_depth(const cJSON *t) {
  const cJSON *c;
  int d = 0, cd;
  if (!cJSON_IsArray(t) && !cJSON_IsObject(t)) return 0;
  for (c = t->child; c; c = c->next)
    if ((cd = tree_depth(c)) > d) d = cd;
  return d + 1;
}

/* Same shape, keys in the same order (cJSON_Compare looks keys up by name,
 * so it calls {"a":1,"a":2} different from itself).  b may be a printed and
 * parsed again: a number too big for a double prints as null, and cJSON
 * prints 15 digits when they read back within DBL_EPSILON. */
static int tree_equal(const cJSON *a, const cJSON *b) {
  const cJSON *x, *y;
  if (cJSON_IsNumber(a) && isinf(a->valuedouble) && cJSON_IsNull(b)) return 1;
  if ((a->type & 0xFF) != (b->type & 0xFF)) return 0;
  if (cJSON_IsNumber(a)) {
    double na = a->valuedouble, nb = b->valuedouble;
    double big = fabs(na) > fabs(nb) ? fabs(na) : fabs(nb);
    return na == nb || fabs(na - nb) <= big * DBL_EPSILON;
  }
  if (cJSON_IsString(a)) return strcmp(a->valuestring, b->valuestring) == 0;
  if (!cJSON_IsArray(a) && !cJSON_IsObject(a)) return 1;
  for (x = a->child, y = b->child; x && y; x = x->next, y = y->next) {
    if (cJSON_IsObject(a) && strcmp(x->string, y->string) != 0) return 0;
    if (!tree_equal(x, y)) return 0;
  }
  return !x && !y;
}

/* The writers (cas_json_write_*), on whatever the parse produced: the tree
 * written with them must parse back to the same tree, every number exactly
 * (an infinity, from a number too big for a double, is written as null). */
static void write_tree(cas_buf_t *b, const cJSON *v) {
  const cJSON *ch;
  if (cJSON_IsNumber(v)) {
    if (isinf(v->valuedouble)) {
      CHECK(cas_json_write_double(b, v->valuedouble) == CAS_EINVAL);
      CHECK(cas_buf_append(b, "null", 4) == CAS_OK);
    } else {
      size_t at = b->len;
      char tmp[64];
      CHECK(cas_json_write_double(b, v->valuedouble) == CAS_OK);
      CHECK(b->len - at < sizeof tmp);
      memcpy(tmp, b->data + at, b->len - at);
      tmp[b->len - at] = '\0';
      CHECK(strtod(tmp, NULL) == v->valuedouble);
      CHECK(strpbrk(tmp, ".e") != NULL);
    }
  } else if (cJSON_IsString(v)) {
    CHECK(cas_json_write_string(b, v->valuestring, strlen(v->valuestring), 0) == CAS_OK);
  } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
    CHECK(cas_buf_append(b, cJSON_IsArray(v) ? "[" : "{", 1) == CAS_OK);
    for (ch = v->child; ch; ch = ch->next) {
      if (ch != v->child) CHECK(cas_buf_append(b, ",", 1) == CAS_OK);
      if (cJSON_IsObject(v)) {
        CHECK(cas_json_write_string(b, ch->string, strlen(ch->string), 0) == CAS_OK);
        CHECK(cas_buf_append(b, ":", 1) == CAS_OK);
      }
      write_tree(b, ch);
    }
    CHECK(cas_buf_append(b, cJSON_IsArray(v) ? "]" : "}", 1) == CAS_OK);
  } else {
    const char *lit = cJSON_IsTrue(v) ? "true" : cJSON_IsFalse(v) ? "false" : "null";
    CHECK(cas_buf_append(b, lit, strlen(lit)) == CAS_OK);
  }
}

static void write_checked(const cJSON *t) {
  cas_buf_t b;
  cJSON *again = NULL;
  cas_buf_init(&b);
  write_tree(&b, t);
  CHECK(b.len > 0 && !memchr(b.data, '\n', b.len));
  CHECK(cas_json_parse(b.data, b.len, 1000, &again) == CAS_OK);
  CHECK(tree_equal(t, again));
  cJSON_Delete(again);
  cas_buf_free(&b);
}

static void scan_checked(const char *line, size_t len, int max_depth, int want, const cJSON *t) {
  cas_json_shape_t sh;
  const char *type;
  int rc;

  rc = cas_json_scan(line, len, max_depth, &sh);
  CHECK(rc == want);
  if (max_depth >= 0) {
    /* The check in pieces (cas__json_value_end, which a decoder of unchecked
     * lines builds on) accepts the line exactly when the scan does. */
    const char *q = cas__json_value_end(line, line + len, cas_json_depth_limit(max_depth));
    while (q && q < line + len && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')) q++;
    CHECK((q == line + len) == (rc == CAS_OK));
  }
  if (rc == CAS_OK && t) {
    /* The type bytes are cJSON's "type" string when they hold no escape. */
    type = cas_json_get_string(t, "type");
    if (!sh.type_escaped) {
      if (sh.type)
        CHECK(type && strlen(type) == sh.type_len && memcmp(type, sh.type, sh.type_len) == 0);
      else
        CHECK(type == NULL);
    }
  }
}

/* Parse one line and hold the result against the references.  Returns the
 * code and the tree (the caller's) on success. */
static int parse_checked(const char *line, size_t len, int max_depth, cJSON **out) {
  cJSON *t = NULL, *again = NULL;
  int want, maxdepth, rc;
  char *s;

  CHECK(cas_utf8_valid(line, len) == ref_utf8((const unsigned char *)line, len));
  want = ref_json(line, len, max_depth, &maxdepth);
  rc = cas_json_parse(line, len, max_depth, &t);
  if (rc != want)
    fprintf(stderr, "cas_json_parse: %d (%s), reference: %d, depth limit %d\n", rc, cas_err_name(rc), want, max_depth);
  CHECK(rc == want);
  scan_checked(line, len, max_depth, want, t);
  *out = t;
  if (rc != CAS_OK) {
    CHECK(t == NULL);
    return rc;
  }
  CHECK(t != NULL);
  CHECK(tree_depth(t) == maxdepth);
  /* What cJSON prints from the tree must come back the same. */
  s = cJSON_PrintUnformatted(t);
  CHECK(s != NULL);
  CHECK(cas_json_parse(s, strlen(s), 1000, &again) == CAS_OK);
  CHECK(tree_equal(t, again));
  cJSON_Delete(again);
  cJSON_free(s);
  write_checked(t);
  return rc;
}

/* --- reference framer: the whole input split at once ---------------------------- */

typedef struct {
  size_t off, len;
} span_t;

typedef struct {
  span_t *v;
  size_t n, cap;
  unsigned long blank, nonjson;
  int over; /* a line is over the limit: JSON fails there; TEXT output
             * depends on the read boundaries from there on */
} ref_lines_t;

static void ref_frame(const char *s, size_t n, int mode, size_t max_line, ref_lines_t *r) {
  size_t pos = 0;
  memset(r, 0, sizeof *r);
  while (pos < n) {
    const char *nl = memchr(s + pos, '\n', n - pos);
    size_t end = nl ? (size_t)(nl - s) : n, e = end, p, q;
    if (e > pos && s[e - 1] == '\r') e--;
    if (e - pos > max_line) {
      r->over = 1;
      return;
    }
    q = e;
    while (q > pos && is_sp((unsigned char)s[q - 1])) q--;
    p = pos;
    pos = nl ? end + 1 : n;
    if (q == p) {
      r->blank++;
      continue;
    }
    if (mode == CAS_FRAMER_JSON) {
      while (is_sp((unsigned char)s[p])) p++;
      if (s[p] != '{') {
        r->nonjson++;
        continue;
      }
    }
    if (r->n == r->cap) {
      r->cap = r->cap ? 2 * r->cap : 16;
      r->v = realloc(r->v, r->cap * sizeof *r->v);
      CHECK(r->v != NULL);
    }
    r->v[r->n].off = p;
    r->v[r->n].len = q - p;
    r->n++;
  }
}

/* --- the protocol model ------------------------------------------------------------ */

typedef struct {
  char id[40];
  int state; /* CAS_REQ_PENDING, CAS_REQ_DONE or a negative code */
  int64_t deadline;
  cJSON *result; /* DONE: the expected payload */
  char *error; /* failed: the expected sentence */
} mreq_t;

typedef struct { /* a multiset of names */
  char **v;
  size_t n, cap;
} names_t;

typedef struct {
  cas_proto_t *p;
  mreq_t req[NREQ + 2];
  size_t nreq;
  names_t open; /* inbound requests the proto must still let us answer */
  names_t tasks; /* background tasks in flight */
  names_t answer; /* inbound requests popped and left for the end */
  unsigned long unmatched, results, clock;
  int last_error; /* the latest message is a result with is_error true */
  int dead, dead_code;
  char dead_msg[96];
  int expire, respond_now;
  unsigned answered;
} model_t;

static void names_add(names_t *s, const char *name) {
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 8;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
    CHECK(s->v != NULL);
  }
  s->v[s->n++] = xstrdup(name);
}

static int names_remove(names_t *s, const char *name) {
  size_t i;
  for (i = 0; i < s->n; i++) {
    if (strcmp(s->v[i], name) == 0) {
      free(s->v[i]);
      s->v[i] = s->v[--s->n];
      return 1;
    }
  }
  return 0;
}

static void names_clear(names_t *s) {
  while (s->n) free(s->v[--s->n]);
  free(s->v);
  s->v = NULL;
  s->cap = 0;
}

static const char *str_member(const cJSON *o, const char *key) {
  const cJSON *m = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
  return cJSON_IsString(m) ? m->valuestring : NULL;
}

static void mreq_fail(mreq_t *r, int code, const char *msg) {
  r->state = code;
  free(r->error);
  r->error = xstrdup(msg);
}

static void model_fail_all(model_t *m, int code, const char *msg) {
  size_t i;
  for (i = 0; i < m->nreq; i++)
    if (m->req[i].state == CAS_REQ_PENDING) mreq_fail(&m->req[i], code, msg);
  if (!m->dead) {
    m->dead = 1;
    m->dead_code = code;
    snprintf(m->dead_msg, sizeof m->dead_msg, "%s", msg);
  }
}

/* Every line in the proto's out buffer is a frame of kind `kind`; the buffer
 * is cleared, as the client clears it once written.  Returns the line count. */
static int check_out(model_t *m, cas_frame_kind kind, const char *id) {
  cas_buf_t *out = cas_proto_out(m->p);
  size_t pos = 0;
  int n = 0;
  while (pos < out->len) {
    const char *nl = memchr(out->data + pos, '\n', out->len - pos);
    cJSON *t = NULL;
    const char *rid;
    CHECK(nl != NULL);
    CHECK(parse_checked(out->data + pos, (size_t)(nl - out->data) - pos, 0, &t) == CAS_OK);
    CHECK(cas_frame_classify(t) == kind);
    if (kind == CAS_FRAME_CONTROL_REQUEST)
      rid = str_member(t, "request_id");
    else
      rid = str_member(cJSON_GetObjectItemCaseSensitive(t, "response"), "request_id");
    CHECK(rid != NULL && (!id || strcmp(rid, id) == 0));
    cJSON_Delete(t);
    pos = (size_t)(nl - out->data) + 1;
    n++;
  }
  cas_buf_clear(out);
  return n;
}

static void model_request(model_t *m, const char *subtype, cJSON *fields, int64_t deadline) {
  mreq_t *r = &m->req[m->nreq++];
  CHECK(cas_proto_request(m->p, subtype, fields, deadline, r->id) == CAS_OK);
  r->deadline = deadline;
  if (m->dead) {
    /* a dead stream is never written to */
    r->state = m->dead_code;
    r->error = xstrdup(m->dead_msg);
    CHECK(cas_proto_out(m->p)->len == 0);
  } else {
    r->state = CAS_REQ_PENDING;
    CHECK(check_out(m, CAS_FRAME_CONTROL_REQUEST, r->id) == 1);
  }
}

static void model_check(model_t *m) {
  size_t i, pending = 0;
  int64_t next = -1;
  for (i = 0; i < m->nreq; i++) {
    mreq_t *r = &m->req[i];
    const cJSON *res = NULL;
    const char *err = NULL;
    int st = cas_proto_response(m->p, r->id, &res, &err);
    CHECK(st == r->state);
    if (st == CAS_REQ_DONE)
      CHECK(res != NULL && tree_equal(res, r->result));
    else
      CHECK(res == NULL);
    if (st < 0)
      CHECK(err != NULL && strcmp(err, r->error) == 0);
    else
      CHECK(err == NULL);
    if (st == CAS_REQ_PENDING) {
      pending++;
      if (r->deadline >= 0 && (next < 0 || r->deadline < next)) next = r->deadline;
    }
  }
  CHECK(cas_proto_pending_count(m->p) == pending);
  CHECK(cas_proto_next_deadline(m->p) == next);
  CHECK(cas_proto_unmatched_responses(m->p) == m->unmatched);
  CHECK(cas_proto_results_seen(m->p) == m->results);
  CHECK(cas_proto_tasks_in_flight(m->p) == m->tasks.n);
  CHECK((cas_proto_last_error_result(m->p) != NULL) == m->last_error);
  CHECK(cas_proto_out(m->p)->len == 0);
}

/* Answer an inbound request; the proto must agree on whether it is open. */
static void model_respond(model_t *m, const char *id) {
  int open = names_remove(&m->open, id), rc;
  if (m->answered++ % 2) {
    rc = cas_proto_respond(m->p, id, NULL, "denied by the fuzzer");
  } else {
    cJSON *resp = cJSON_CreateObject();
    CHECK(resp && cJSON_AddStringToObject(resp, "behavior", "allow"));
    rc = cas_proto_respond(m->p, id, resp, NULL);
  }
  CHECK(rc == (open ? CAS_OK : 1));
  CHECK(check_out(m, CAS_FRAME_CONTROL_RESPONSE, id) == (open ? 1 : 0));
}

static void model_tick(model_t *m) {
  size_t i;
  int n = 0;
  m->clock += 100;
  if (!m->expire) return;
  for (i = 0; i < m->nreq; i++) {
    mreq_t *r = &m->req[i];
    if (r->state == CAS_REQ_PENDING && r->deadline >= 0 && r->deadline <= (int64_t)m->clock) {
      mreq_fail(r, CAS_ETIMEOUT, "control request timed out");
      n++;
    }
  }
  CHECK(cas_proto_expire(m->p, (int64_t)m->clock) == n);
}

/* The expectations for frame t, worked out before the proto owns it. */
typedef struct {
  int msg_kind, req_kind, code; /* item kinds expected in each queue, 0: none */
  const char *text; /* CANCEL / DECODE_ERROR / FATAL text */
  size_t text_len; /* its length (a line may hold a NUL byte) */
  cJSON *json; /* MESSAGE / REQUEST: this very tree */
  char *req_id; /* REQUEST: its id (copied) */
} expect_t;

static void model_control_response(model_t *m, const cJSON *t) {
  const cJSON *resp = cJSON_GetObjectItemCaseSensitive(t, "response");
  const char *id = str_member(resp, "request_id"), *sub = str_member(resp, "subtype");
  size_t i;
  for (i = 0; id && i < m->nreq; i++) {
    mreq_t *r = &m->req[i];
    if (strcmp(r->id, id) != 0 || r->state != CAS_REQ_PENDING) continue;
    if (sub && strcmp(sub, "error") == 0) {
      const char *e = str_member(resp, "error");
      mreq_fail(r, CAS_EREMOTE, e ? e : "control request failed");
    } else {
      const cJSON *pl = cJSON_GetObjectItemCaseSensitive(resp, "response");
      r->result = cJSON_IsObject(pl) ? cJSON_Duplicate(pl, 1) : cJSON_CreateObject();
      CHECK(r->result != NULL);
      r->state = CAS_REQ_DONE;
    }
    return;
  }
  m->unmatched++;
}

static void model_message(model_t *m, const cJSON *t) {
  const char *type = str_member(t, "type");
  int state_change = 0;
  if (type && strcmp(type, "result") == 0) {
    m->results++;
    m->last_error = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "is_error"));
  } else if (type && strcmp(type, "system") == 0) {
    const char *sub = str_member(t, "subtype"), *task = str_member(t, "task_id");
    if (sub) state_change = strcmp(sub, "session_state_changed") == 0;
    if (sub && task) {
      if (strcmp(sub, "task_started") == 0) {
        const char *tt = str_member(t, "task_type");
        if (tt && (strcmp(tt, "local_agent") == 0 || strcmp(tt, "local_workflow") == 0)) names_add(&m->tasks, task);
      } else if (strcmp(sub, "task_notification") == 0) {
        names_remove(&m->tasks, task);
      } else if (strcmp(sub, "task_updated") == 0) {
        const char *st = str_member(cJSON_GetObjectItemCaseSensitive(t, "patch"), "status");
        if (st && (strcmp(st, "completed") == 0 || strcmp(st, "failed") == 0 || strcmp(st, "stopped") == 0 ||
                   strcmp(st, "killed") == 0))
          names_remove(&m->tasks, task);
      }
    }
  }
  if (type && strcmp(type, "result") != 0 && !state_change) m->last_error = 0;
}

static void check_queues(model_t *m, const expect_t *x) {
  cas_item_t *it;
  CHECK(cas_proto_messages_queued(m->p) == (x->msg_kind ? 1u : 0u));
  CHECK(cas_proto_requests_queued(m->p) == (x->req_kind ? 1u : 0u));
  if ((it = cas_proto_pop_message(m->p)) != NULL) {
    CHECK(it->kind == x->msg_kind && it->code == x->code);
    if (it->kind == CAS_ITEM_MESSAGE) {
      CHECK(it->json == x->json && it->text == NULL);
    } else {
      size_t n = x->text_len;
      if (it->kind == CAS_ITEM_DECODE_ERROR && n > DECODE_HEAD) n = DECODE_HEAD;
      CHECK(it->json == NULL && it->text_len == n && memcmp(it->text, x->text, n) == 0 && it->text[n] == '\0');
    }
    cas_item_free(it);
  }
  if ((it = cas_proto_pop_request(m->p)) != NULL) {
    CHECK(it->kind == x->req_kind);
    if (it->kind == CAS_ITEM_REQUEST) {
      CHECK(it->json == x->json && it->text == NULL);
    } else {
      CHECK(it->json == NULL && it->text_len == x->text_len && strcmp(it->text, x->text) == 0);
    }
    cas_item_free(it);
  }
}

static void model_frame(model_t *m, cJSON *t) {
  expect_t x;
  char *cancel = NULL;
  cas_frame_kind kind = cas_frame_classify(t);
  const char *type = str_member(t, "type"), *id;

  memset(&x, 0, sizeof x);
  switch (kind) {
    case CAS_FRAME_CONTROL_REQUEST:
      CHECK(type && strcmp(type, "control_request") == 0);
      if ((id = str_member(t, "request_id")) == NULL) {
        x.msg_kind = CAS_ITEM_DECODE_ERROR;
        x.code = CAS_EJSON;
        x.text = "control_request without request_id";
        x.text_len = strlen(x.text);
      } else {
        x.req_kind = CAS_ITEM_REQUEST;
        x.json = t;
        x.req_id = xstrdup(id);
        names_add(&m->open, id);
      }
      break;
    case CAS_FRAME_CONTROL_CANCEL:
      CHECK(type && strcmp(type, "control_cancel_request") == 0);
      if ((id = str_member(t, "request_id")) != NULL && names_remove(&m->open, id)) {
        x.req_kind = CAS_ITEM_CANCEL;
        x.text = cancel = xstrdup(id);
        x.text_len = strlen(id);
      }
      break;
    case CAS_FRAME_CONTROL_RESPONSE:
      CHECK(type && strcmp(type, "control_response") == 0);
      model_control_response(m, t);
      break;
    case CAS_FRAME_KEEP_ALIVE: CHECK(type && strcmp(type, "keep_alive") == 0); break;
    case CAS_FRAME_TRANSCRIPT_MIRROR: CHECK(type && strcmp(type, "transcript_mirror") == 0); break;
    case CAS_FRAME_INVALID:
      CHECK(type == NULL);
      x.msg_kind = CAS_ITEM_MESSAGE;
      x.json = t;
      model_message(m, t);
      break;
    case CAS_FRAME_MESSAGE:
      CHECK(type != NULL);
      x.msg_kind = CAS_ITEM_MESSAGE;
      x.json = t;
      model_message(m, t);
      break;
    default: CHECK(0);
  }
  CHECK(cas_proto_on_frame(m->p, t) == CAS_OK); /* t belongs to the proto now */
  check_queues(m, &x);
  free(cancel);
  if (x.req_id) {
    if (m->respond_now)
      model_respond(m, x.req_id);
    else
      names_add(&m->answer, x.req_id);
    free(x.req_id);
  }
}

/* One line from the JSON framer, as cas_client.c handles it. */
static void model_line(model_t *m, const char *line, size_t len, int at_eof) {
  cJSON *t = NULL;
  int rc = parse_checked(line, len, JSON_DEPTH, &t);
  if (rc == CAS_OK) {
    model_frame(m, t);
  } else if (!at_eof) { /* at EOF a bad tail is a frame cut short: dropped */
    expect_t x;
    memset(&x, 0, sizeof x);
    x.msg_kind = CAS_ITEM_DECODE_ERROR;
    x.code = rc;
    x.text = line;
    x.text_len = len;
    CHECK(cas_proto_on_decode_error(m->p, rc, line, len) == CAS_OK);
    check_queues(m, &x);
  }
  model_tick(m);
  model_check(m);
}

static void model_fatal(model_t *m) {
  expect_t x;
  const char *msg = "JSON message exceeded maximum buffer size";
  memset(&x, 0, sizeof x);
  x.msg_kind = CAS_ITEM_FATAL;
  x.code = CAS_ELINE;
  x.text = msg;
  x.text_len = strlen(msg);
  model_fail_all(m, CAS_ELINE, msg);
  CHECK(cas_proto_on_fatal(m->p, CAS_ELINE, msg) == CAS_OK);
  check_queues(m, &x);
  model_check(m);
}

/* Forget every other request; cas_proto_free must free the rest. */
static void model_free(model_t *m) {
  size_t i;
  for (i = 0; i < m->nreq; i++) {
    if (i % 2 == 0) {
      cas_proto_forget(m->p, m->req[i].id);
      CHECK(cas_proto_response(m->p, m->req[i].id, NULL, NULL) == CAS_EINVAL);
    }
    cJSON_Delete(m->req[i].result);
    free(m->req[i].error);
  }
  cas_proto_free(m->p);
  names_clear(&m->open);
  names_clear(&m->tasks);
  names_clear(&m->answer);
}

/* --- driving the framers ------------------------------------------------------------ */

typedef struct {
  cas_framer_t f;
  const char *in; /* the whole stream */
  size_t n, fed; /* its length, bytes given to the framer */
  size_t last_nl; /* one past the last '\n' fed, 0 if none */
  size_t max_want; /* the most space ever asked for */
  ref_lines_t ref;
  size_t got; /* lines returned */
  int err; /* the framer reported CAS_ELINE */
  int at_eof;
  model_t *m; /* JSON mode: where lines go */
  cas_proto_t *stderr_to; /* TEXT mode: where lines go */
} run_t;

static void on_line(run_t *r, const char *line, size_t len) {
  cas_framer_t *f = &r->f;
  size_t max_line = f->max_line;

  CHECK(len > 0 && line[len] == '\0');
  CHECK(memchr(line, '\n', len) == NULL);
  CHECK(!is_sp((unsigned char)line[len - 1]));
  CHECK(line >= f->buf.data && line + len < f->buf.data + f->buf.cap);
  if (f->mode == CAS_FRAMER_JSON) {
    CHECK(len <= max_line);
    CHECK(line[0] == '{');
    CHECK(r->got < r->ref.n);
  }
  if (r->got < r->ref.n) { /* before any over-long line both agree exactly */
    CHECK(len == r->ref.v[r->got].len);
    CHECK(memcmp(line, r->in + r->ref.v[r->got].off, len) == 0);
  } else {
    CHECK(f->mode == CAS_FRAMER_TEXT && r->ref.over);
  }
  r->got++;

  if (f->mode == CAS_FRAMER_JSON) {
    /* what the client would write for this line must be accepted as is */
    cas_buf_t *out = cas_proto_out(r->m->p);
    CHECK(cas_proto_send_line(r->m->p, line, len) == CAS_OK);
    CHECK(out->len == len + 1 && memcmp(out->data, line, len) == 0 && out->data[len] == '\n');
    cas_buf_clear(out);
    model_line(r->m, line, len, r->at_eof);
  } else {
    cas_item_t *it;
    cJSON *t = NULL;
    /* a stderr line is any text: give the JSON checker all of it, with a
     * depth limit from the line's length */
    static const int limits[] = {1, 2, 3, 64, 0, 2000};
    if (parse_checked(line, len, limits[len % 6], &t) == CAS_OK) {
      (void)cas_frame_classify(t);
      cJSON_Delete(t);
    }
    CHECK(cas_proto_on_stderr(r->stderr_to, line, len) == CAS_OK);
    CHECK(cas_proto_stderr_queued(r->stderr_to) == 1);
    it = cas_proto_pop_stderr(r->stderr_to);
    CHECK(it && it->kind == CAS_ITEM_STDERR && it->text_len == len);
    CHECK(memcmp(it->text, line, len) == 0 && it->text[len] == '\0');
    cas_item_free(it);
  }
}

static void drain(run_t *r) {
  cas_framer_t *f = &r->f;
  const char *line;
  size_t len;
  int rc;

  while ((rc = cas_framer_next(f, &line, &len)) == 1) on_line(r, line, len);
  if (rc < 0) {
    CHECK(rc == CAS_ELINE && f->mode == CAS_FRAMER_JSON && r->ref.over);
    CHECK(cas_framer_next(f, &line, &len) == CAS_ELINE); /* sticky */
    if (!r->err) {
      r->err = 1;
      CHECK(r->got == r->ref.n);
      model_fatal(r->m);
    }
    return;
  }
  CHECK(rc == 0);
  CHECK(f->lines == r->got);
  /* what is left is the unfinished line, and it is bounded */
  if (r->at_eof)
    CHECK(cas_framer_pending(f) == 0);
  else if (f->mode == CAS_FRAMER_JSON || !r->ref.over)
    CHECK(cas_framer_pending(f) == r->fed - r->last_nl);
  CHECK(cas_framer_pending(f) <= f->max_line + 1);
  CHECK(f->buf.cap <= 256 || f->buf.cap < 2 * (f->max_line + 3 + r->max_want));
}

static size_t chunk_size(int cls, rng_t *g) {
  switch (cls & 7) {
    case 0: return 1;
    case 1: return 1 + rng_next(g) % 7;
    case 2: return 1 + rng_next(g) % 64;
    case 3: return 1 + rng_next(g) % 512;
    case 4: return 4095 + rng_next(g) % 4; /* around the default line limit */
    case 5: return SIZE_MAX; /* all at once */
    case 6: return 1 + rng_next(g) % 8192;
    default: return 1 + (rng_next(g) % 2 ? rng_next(g) % 16 : rng_next(g) % 70000);
  }
}

static void run_framer(run_t *r, int mode, size_t max_line, int cls, rng_t *g) {
  cas_framer_t *f = &r->f;

  cas_framer_init(f, mode, max_line);
  ref_frame(r->in, r->n, mode, max_line, &r->ref);
  while (r->fed < r->n) {
    size_t k = chunk_size(cls, g), left = r->n - r->fed;
    const char *nl;
    int rc;
    if (k > left) k = left;
    if (rng_next(g) % 2) {
      /* zero copy: ask for some room (maybe less or more than k), fill part */
      size_t want, avail = 0;
      char *space;
      switch (rng_next(g) % 4) {
        case 0: want = k; break;
        case 1: want = 0; break;
        case 2: want = k / 2 + 1; break;
        default: want = 2 * k; break;
      }
      if (want > r->max_want) r->max_want = want;
      space = cas_framer_space(f, want, &avail);
      CHECK(space != NULL && avail >= (want ? want : 1));
      if (k > avail) k = avail;
      memcpy(space, r->in + r->fed, k);
      /* more than offered is refused and changes nothing */
      if (rng_next(g) % 8 == 0) {
        size_t pend = cas_framer_pending(f);
        CHECK(cas_framer_commit(f, avail + 1) != CAS_OK);
        CHECK(cas_framer_pending(f) == pend);
      }
      rc = cas_framer_commit(f, k);
    } else {
      if (k > r->max_want) r->max_want = k;
      rc = cas_framer_feed(f, r->in + r->fed, k);
    }
    CHECK(rc == (r->err ? CAS_ELINE : CAS_OK));
    if ((nl = memchr(r->in + r->fed, '\n', k)) != NULL) {
      const char *last = nl;
      while ((nl = memchr(last + 1, '\n', (size_t)(r->in + r->fed + k - last - 1))) != NULL) last = nl;
      r->last_nl = (size_t)(last - r->in) + 1;
    }
    r->fed += k;
    drain(r);
  }
  cas_framer_eof(f);
  r->at_eof = 1;
  drain(r);

  /* the whole stream was seen: it agrees with the reference */
  if (mode == CAS_FRAMER_JSON) {
    CHECK(r->err == r->ref.over);
    CHECK(r->got == r->ref.n);
  }
  if (!r->ref.over) {
    CHECK(r->got == r->ref.n);
    CHECK(f->blank == r->ref.blank && f->nonjson == r->ref.nonjson);
  }
  cas_framer_free(f);
  free(r->ref.v);
}

/* --- the session ------------------------------------------------------------------ */

/* The stream with "@@1".."@@3" replaced by our request ids (malloc'd). */
static char *substitute(const char *in, size_t n, const model_t *m, size_t *out_n) {
  size_t i, cap = n + 1, len = 0;
  char *out;
  for (i = 0; i + 2 < n; i++)
    if (in[i] == '@' && in[i + 1] == '@' && in[i + 2] >= '1' && in[i + 2] <= '0' + NREQ) cap += 40;
  out = malloc(cap);
  CHECK(out != NULL);
  for (i = 0; i < n; i++) {
    if (i + 2 < n && in[i] == '@' && in[i + 1] == '@' && in[i + 2] >= '1' && in[i + 2] <= '0' + NREQ) {
      const char *id = m->req[in[i + 2] - '1'].id;
      size_t k = strlen(id);
      memcpy(out + len, id, k);
      len += k;
      i += 2;
    } else {
      out[len++] = in[i];
    }
  }
  *out_n = len;
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const size_t max_lines[] = {4096, 4096, 64, 512};
  uint8_t cfg = size > 0 ? data[0] : 0;
  rng_t g;
  model_t m;
  run_t json, text;
  cJSON *fields;
  char *in;
  size_t n, i;

  g.s = 0x9E3779B9u ^ (uint32_t)(size > 1 ? data[1] : 0) * 0x01000193u;
  if (size >= 2)
    data += 2, size -= 2;
  else
    size = 0;

  memset(&m, 0, sizeof m);
  CHECK(cas_proto_new(&m.p) == CAS_OK);
  m.expire = cfg >> 5 & 1;
  m.respond_now = cfg >> 7 & 1;
  fields = cJSON_CreateObject();
  CHECK(fields && cJSON_AddNullToObject(fields, "hooks"));
  model_request(&m, "initialize", fields, 500);
  model_request(&m, "mcp_status", NULL, -1);
  fields = cJSON_CreateObject();
  CHECK(fields && cJSON_AddStringToObject(fields, "subtype", "replaced"));
  model_request(&m, "interrupt", fields, 1500);
  /* fields that are not an object are refused, and freed */
  CHECK(cas_proto_request(m.p, "x", cJSON_CreateArray(), -1, m.req[NREQ].id) == CAS_EINVAL);
  CHECK(m.req[NREQ].id[0] == '\0' && cas_proto_out(m.p)->len == 0);
  model_check(&m);

  in = substitute((const char *)data, size, &m, &n);

  /* UTF-8 at arbitrary offsets and lengths (the 8-byte fast path) */
  for (i = 0; i < 4 && n; i++) {
    size_t off = rng_next(&g) % n, len = rng_next(&g) % (n - off + 1);
    CHECK(cas_utf8_valid(in + off, len) == ref_utf8((const unsigned char *)in + off, len));
  }

  memset(&json, 0, sizeof json);
  json.in = in;
  json.n = n;
  json.m = &m;
  run_framer(&json, CAS_FRAMER_JSON, max_lines[cfg >> 3 & 3], cfg & 7, &g);

  memset(&text, 0, sizeof text);
  text.in = in;
  text.n = n;
  text.stderr_to = m.p;
  run_framer(&text, CAS_FRAMER_TEXT, max_lines[cfg >> 3 & 3], (int)(rng_next(&g) & 7), &g);

  /* the end of the session */
  if (cfg >> 6 & 1) {
    const char *msg = "the process exited with code 1";
    model_fail_all(&m, CAS_EEXIT, msg);
    names_clear(&m.open);
    cas_proto_on_exit(m.p, msg);
    model_check(&m);
  }
  for (i = 0; i < m.answer.n; i++) model_respond(&m, m.answer.v[i]);
  model_request(&m, "interrupt", NULL, -1); /* fails at once when dead */
  model_check(&m);
  CHECK(cas_proto_messages_queued(m.p) == 0 && cas_proto_requests_queued(m.p) == 0 &&
        cas_proto_stderr_queued(m.p) == 0);

  model_free(&m);
  free(in);
  return 0;
}
