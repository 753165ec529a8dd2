/* cas_buf.h - a growable byte buffer.
 *
 * The buffer owns `data` (malloc'd).  `len` bytes are in use; `cap` is the
 * allocation.  Growth doubles, so appends are amortised O(1).  A failed
 * allocation leaves the buffer as it was and returns CAS_ENOMEM.
 */
#ifndef CAS_BUF_H
#define CAS_BUF_H

#include "cas_version.h"
#include <stddef.h>

typedef struct {
  char *data;
  size_t len;
  size_t cap;
} cas_buf_t;

CAS_EXTERN void cas_buf_init(cas_buf_t *b);
CAS_EXTERN void cas_buf_free(cas_buf_t *b);
/* Make room so that cap - len >= extra. */
CAS_EXTERN int cas_buf_reserve(cas_buf_t *b, size_t extra);
CAS_EXTERN int cas_buf_append(cas_buf_t *b, const void *p, size_t n);
/* Drop the first n bytes (n <= len), moving the rest to the front. */
CAS_EXTERN void cas_buf_consume(cas_buf_t *b, size_t n);
/* Keep the allocation, forget the contents. */
CAS_EXTERN void cas_buf_clear(cas_buf_t *b);

#endif
