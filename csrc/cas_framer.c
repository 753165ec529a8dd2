/* cas_framer.c - bytes in, complete lines out (see cas_framer.h).
 *
 * One buffer holds everything not yet returned: [start, len) is pending,
 * [scan, len) has not been searched for '\n' yet, so each byte is looked at by
 * memchr once however the reads are sized.  Lines are handed out as pointers
 * into the buffer and NUL-terminated in place; nothing moves until the caller
 * asks for space again, which is the only place the pending tail is moved to
 * the front (and only when the free room at the end is too small).
 *
 * The buffer always keeps one byte beyond `len` (cap > len once allocated),
 * so an unterminated tail handed out at EOF, or a TEXT tail flushed at the
 * limit, can be NUL-terminated without writing over anything.
 *
 * JSON lines are returned trimmed of surrounding whitespace, so they start with
 * '{'.  TEXT lines keep their leading whitespace and lose the trailing one.  In
 * TEXT mode nothing is an error: a complete line longer than max_line is
 * returned whole (it is already in memory), and an unterminated tail longer
 * than max_line is flushed whole as a line, which may cut a UTF-8 character at
 * the read boundary; stderr is diagnostics and its memory must stay bounded.
 */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE, posix_memalign */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cas_error.h"
#include "cas_framer.h"

#define CAS_FRAMER_DEFAULT_MAX ((size_t)64 * 1024 * 1024)
/* An idle buffer larger than this is given back, so one huge frame does not
 * pin its memory for the rest of a long session. */
#define CAS_FRAMER_KEEP ((size_t)1024 * 1024)

/* Past this size the buffer holds a long line (a big tool result, an image)
 * and moves to memory aligned for transparent huge pages, with the kernel
 * asked for them.  Reading a 5 MB frame into fresh 4 KiB pages costs over a
 * thousand page faults, as long as the copy itself or longer; in 2 MiB pages,
 * three.  Where the kernel says no (THP off), nothing is lost but the hint.
 * Such a buffer is still plain malloc memory: free() releases it, so it can
 * be detached like any other. */
#define CAS_FRAMER_HUGE ((size_t)1024 * 1024)
#define CAS_HUGE_PAGE ((size_t)2 * 1024 * 1024)

/* Ask for huge pages on the 2 MiB-aligned part of [p, p + n). */
static void cas__framer_advise_huge(char *p, size_t n) {
#ifdef MADV_HUGEPAGE
  uintptr_t a = ((uintptr_t)p + CAS_HUGE_PAGE - 1) & ~(uintptr_t)(CAS_HUGE_PAGE - 1);
  uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)(CAS_HUGE_PAGE - 1);
  if (e > a) (void)madvise((void *)a, (size_t)(e - a), MADV_HUGEPAGE);
#else
  (void)p;
  (void)n;
#endif
}

/* Grow b to hold need bytes for a long line: the first time into aligned
 * memory (copying what there is, under 1 MiB), later by realloc, which moves
 * a block this large without copying.  CAS_ENOMEM leaves b as it was. */
static int cas__framer_grow_huge(cas_buf_t *b, size_t need) {
  size_t cap = 4 * CAS_HUGE_PAGE; /* one step for a frame of a few MB */
  void *p;
  if (b->cap > CAS_FRAMER_HUGE) {
    if (cas_buf_reserve(b, need - b->len) < 0) return CAS_ENOMEM;
    cas__framer_advise_huge(b->data, b->cap);
    return CAS_OK;
  }
  while (cap < need) {
    if (cap > SIZE_MAX / 2) return CAS_ENOMEM;
    cap *= 2;
  }
  if (posix_memalign(&p, CAS_HUGE_PAGE, cap) != 0) return CAS_ENOMEM;
  cas__framer_advise_huge((char *)p, cap);
  if (b->len) memcpy(p, b->data, b->len);
  free(b->data);
  b->data = (char *)p;
  b->cap = cap;
  return CAS_OK;
}

void cas_framer_init(cas_framer_t *f, int mode, size_t max_line) {
  cas_buf_init(&f->buf);
  f->start = 0;
  f->scan = 0;
  f->max_line = max_line ? max_line : CAS_FRAMER_DEFAULT_MAX;
  f->mode = mode == CAS_FRAMER_TEXT ? CAS_FRAMER_TEXT : CAS_FRAMER_JSON;
  f->eof = 0;
  f->err = 0;
  f->lines = 0;
  f->blank = 0;
  f->nonjson = 0;
}

void cas_framer_free(cas_framer_t *f) {
  cas_buf_free(&f->buf);
  f->start = 0;
  f->scan = 0;
}

char *cas_framer_space(cas_framer_t *f, size_t want, size_t *avail) {
  cas_buf_t *b = &f->buf;
  size_t room;

  if (want == 0) want = 1;
  if (f->err || f->start == b->len) {
    /* Nothing worth keeping: a dead stream's bytes will never be returned,
     * and an empty one can restart at offset 0 without moving anything. */
    b->len = 0;
    f->start = 0;
    f->scan = 0;
    if (b->cap > CAS_FRAMER_KEEP && want < CAS_FRAMER_KEEP) cas_buf_free(b);
  }
  room = b->cap > b->len ? b->cap - b->len - 1 : 0;
  if (room < want && f->start > 0) {
    size_t keep = b->len - f->start;
    memmove(b->data, b->data + f->start, keep);
    b->len = keep;
    f->scan -= f->start;
    f->start = 0;
    room = b->cap - b->len - 1;
  }
  if (room < want) {
    int rc = want == SIZE_MAX || b->len > SIZE_MAX - want - 1 ? CAS_ENOMEM
             : b->len + want + 1 > CAS_FRAMER_HUGE            ? cas__framer_grow_huge(b, b->len + want + 1)
                                                              : cas_buf_reserve(b, want + 1);
    if (rc < 0) {
      if (avail) *avail = 0;
      return NULL;
    }
    room = b->cap - b->len - 1;
  }
  if (avail) *avail = room;
  return b->data + b->len;
}

char *cas_framer_detach(cas_framer_t *f) {
  cas_buf_t fresh;
  size_t rest = f->buf.len - f->start;
  char *data = f->buf.data;

  cas_buf_init(&fresh);
  if (cas_buf_reserve(&fresh, rest + 1) < 0) return NULL;
  if (rest) memcpy(fresh.data, data + f->start, rest);
  fresh.len = rest;
  f->scan -= f->start;
  f->start = 0;
  f->buf = fresh;
  return data;
}

int cas_framer_commit(cas_framer_t *f, size_t n) {
  cas_buf_t *b = &f->buf;

  if (f->err) return f->err;
  if (n == 0) return CAS_OK;
  /* More than cas_framer_space() offered would break the spare-byte rule. */
  if (b->cap <= b->len || n > b->cap - b->len - 1) return CAS_EINVAL;
  b->len += n;
  return CAS_OK;
}

int cas_framer_feed(cas_framer_t *f, const void *data, size_t n) {
  char *p;

  if (f->err) return f->err;
  if (n == 0) return CAS_OK;
  if (!data) return CAS_EINVAL;
  p = cas_framer_space(f, n, NULL);
  if (!p) return CAS_ENOMEM;
  memcpy(p, data, n);
  return cas_framer_commit(f, n);
}

void cas_framer_eof(cas_framer_t *f) { f->eof = 1; }

static int cas__framer_is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Is a tail of n bytes without a newline already too long?  A final '\r' may
 * be the first half of a CRLF and would not count, so allow for it. */
static int cas__framer_tail_over(const cas_framer_t *f, size_t n) {
  if (n <= f->max_line) return 0;
  return n - f->max_line > 1 || f->buf.data[f->buf.len - 1] != '\r';
}

int cas_framer_next(cas_framer_t *f, const char **line, size_t *len) {
  if (f->err) return f->err;
  for (;;) {
    char *d = f->buf.data;
    size_t end = f->buf.len, s = f->start, e, next, p, q;
    char *nl = NULL;

    if (s >= end) return 0;
    if (f->scan < end) nl = memchr(d + f->scan, '\n', end - f->scan);
    if (nl) {
      e = (size_t)(nl - d);
      next = e + 1;
      if (e > s && d[e - 1] == '\r') e--;
    } else {
      f->scan = end;
      if (f->eof) {
        e = end;
        if (e > s && d[e - 1] == '\r') e--;
      } else if (cas__framer_tail_over(f, end - s)) {
        if (f->mode == CAS_FRAMER_JSON) return f->err = CAS_ELINE;
        e = end;
      } else {
        return 0;
      }
      next = end;
    }
    if (f->mode == CAS_FRAMER_JSON && e - s > f->max_line) return f->err = CAS_ELINE;
    f->start = f->scan = next;

    /* [s, e) is the line; d[e] is its '\r', its '\n' or the spare byte, so
     * writing the terminator at or before e never touches another line. */
    q = e;
    while (q > s && cas__framer_is_space((unsigned char)d[q - 1])) q--;
    if (q == s) {
      f->blank++;
      continue;
    }
    p = s;
    if (f->mode == CAS_FRAMER_JSON) {
      while (cas__framer_is_space((unsigned char)d[p])) p++;
      if (d[p] != '{') {
        f->nonjson++;
        continue;
      }
    }
    d[q] = '\0';
    f->lines++;
    *line = d + p;
    *len = q - p;
    return 1;
  }
}

size_t cas_framer_pending(const cas_framer_t *f) { return f->buf.len - f->start; }
