/* cas_buf.c - the growable byte buffer behind the framer and the writers.
 *
 * Capacity doubles so that appends are amortised O(1).  Every size is checked
 * for overflow before it is used, and a failed allocation leaves the buffer
 * exactly as it was: the caller gets CAS_ENOMEM and keeps its data, so it can
 * report the failure instead of dying.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cas_buf.h"
#include "cas_error.h"

/* Small enough not to matter for a buffer that is rarely used, large enough
 * that a typical frame does not go through several reallocations. */
#define CAS_BUF_MIN_CAP 256

void cas_buf_init(cas_buf_t *b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void cas_buf_free(cas_buf_t *b) {
  free(b->data);
  cas_buf_init(b);
}

int cas_buf_reserve(cas_buf_t *b, size_t extra) {
  size_t need, cap;
  char *p;

  if (b->cap - b->len >= extra) return CAS_OK;
  if (extra > SIZE_MAX - b->len) return CAS_ENOMEM;
  need = b->len + extra;
  cap = b->cap ? b->cap : CAS_BUF_MIN_CAP;
  while (cap < need) {
    /* Past half the address space doubling would wrap; ask for the exact
     * size instead and let the allocator say no. */
    if (cap > SIZE_MAX / 2) {
      cap = need;
      break;
    }
    cap *= 2;
  }
  p = realloc(b->data, cap);
  if (!p) return CAS_ENOMEM;
  b->data = p;
  b->cap = cap;
  return CAS_OK;
}

int cas_buf_append(cas_buf_t *b, const void *p, size_t n) {
  int rc;

  /* n == 0 is allowed with p == NULL; memcpy is not. */
  if (n == 0) return CAS_OK;
  rc = cas_buf_reserve(b, n);
  if (rc < 0) return rc;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return CAS_OK;
}

void cas_buf_consume(cas_buf_t *b, size_t n) {
  assert(n <= b->len);
  if (n >= b->len) {
    b->len = 0;
    return;
  }
  if (n == 0) return;
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
}

void cas_buf_clear(cas_buf_t *b) { b->len = 0; }
