/* cas_framer.h - bytes in, complete lines out.
 *
 * The framer accumulates what is read from a pipe and hands out complete lines.
 * It splits only on '\n' (a JSON value's own newlines are escaped), so a read
 * boundary may fall anywhere, including inside a multi-byte UTF-8 character: a
 * line is only looked at once it is complete.  A trailing '\r' is removed.
 *
 * Two modes:
 *   CAS_FRAMER_JSON  stdout of the CLI.  Lines that are empty or whitespace only
 *                    are skipped (counted in `blank`); lines whose first
 *                    non-blank byte is not '{' are skipped (counted in
 *                    `nonjson`, e.g. "[SandboxDebug] ...").  A line, or an
 *                    unterminated tail, longer than max_line bytes is an error
 *                    (CAS_ELINE) that sticks: the stream is dead after it.
 *                    Lines are returned without surrounding whitespace, so
 *                    they start with '{'.
 *   CAS_FRAMER_TEXT  stderr.  Trailing whitespace is trimmed, blank lines are
 *                    skipped, every other line is returned.  A tail longer
 *                    than max_line is returned as a line of its own (never an
 *                    error), so a flood without newlines cannot grow memory.
 *
 * Zero copy: read(2) straight into cas_framer_space() and cas_framer_commit()
 * the count, or cas_framer_feed() a copy.  A line returned by cas_framer_next()
 * points into the framer's buffer and stays valid until the next call of
 * cas_framer_space/commit/feed/eof/free.  It is NUL-terminated in place (the
 * '\n' or '\r' is overwritten), which cJSON's parser does not need but C
 * callers may like.
 */
#ifndef CAS_FRAMER_H
#define CAS_FRAMER_H

#include "cas_version.h"
#include <stddef.h>
#include "cas_buf.h"

enum { CAS_FRAMER_JSON = 0, CAS_FRAMER_TEXT = 1 };

typedef struct {
  cas_buf_t buf;
  size_t start; /* offset of the first byte not yet returned */
  size_t scan; /* offset where the search for '\n' resumes */
  size_t max_line; /* longest line accepted, in bytes, without its newline */
  int mode;
  int eof; /* no more input: the tail becomes a line */
  int err; /* sticky error (CAS_ELINE), 0 while healthy */
  unsigned long lines; /* lines returned */
  unsigned long blank; /* blank lines skipped */
  unsigned long nonjson; /* non-JSON lines skipped (JSON mode) */
} cas_framer_t;

/* max_line 0 means the default, 64 MiB. */
CAS_EXTERN void cas_framer_init(cas_framer_t *f, int mode, size_t max_line);
CAS_EXTERN void cas_framer_free(cas_framer_t *f);

/* A pointer to at least `want` writable bytes at the end of the buffer (it
 * compacts and grows as needed); *avail receives how many there are.  NULL on
 * CAS_ENOMEM. */
CAS_EXTERN char *cas_framer_space(cas_framer_t *f, size_t want, size_t *avail);
/* n bytes were written at cas_framer_space(). Returns 0 or the sticky error. */
CAS_EXTERN int cas_framer_commit(cas_framer_t *f, size_t n);
/* Give away the buffer that holds the line cas_framer_next() just returned
 * (free() it when done; the line stays where it is), the framer keeping a
 * new buffer with the bytes after it.  For a long line, this saves copying
 * it.  NULL if memory is short: nothing changed. */
CAS_EXTERN char *cas_framer_detach(cas_framer_t *f);
/* Copy n bytes in.  Returns 0, CAS_ENOMEM or the sticky error. */
CAS_EXTERN int cas_framer_feed(cas_framer_t *f, const void *data, size_t n);
/* The input ended: a final line without '\n' becomes available. */
CAS_EXTERN void cas_framer_eof(cas_framer_t *f);

/* The next line: returns 1 and sets *line and *len, 0 when no complete line is
 * buffered, or a negative error (CAS_ELINE, sticky). */
CAS_EXTERN int cas_framer_next(cas_framer_t *f, const char **line, size_t *len);
/* Bytes buffered but not yet returned as lines. */
CAS_EXTERN size_t cas_framer_pending(const cas_framer_t *f);

#endif
