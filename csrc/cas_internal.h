/* cas_internal.h - the core's private side, shared by its own files, the Lua
 * binding and the tests; never installed (make install leaves it out), and
 * nothing here is exported from libclaude_agent_sdk.so (no CAS_EXTERN).
 *
 * What lives here is the unchecked fast path: the client can queue the frames
 * the protocol never acts on (assistant, user, stream_event) as their raw
 * lines, and a consumer that checks as it decodes (the binding's typed walk)
 * checks each piece with the cas__json_*_end() functions instead of scanning
 * the line first.  A C program gets only checked items, through the public
 * headers; the item's fields are here for the same reason.
 */
#ifndef CAS_INTERNAL_H
#define CAS_INTERNAL_H

#include <stddef.h>
#include <cjson/cJSON.h>
#include "cas_client.h"
#include "cas_json.h"
#include "cas_proto.h"

/* --- an item's fields (cas_item_get_*() are the public view) ---------------- */

struct cas_item {
  struct cas_item *next;
  int kind;
  int code;
  cJSON *json;
  char *text;
  size_t text_len;
  size_t type_off, type_len;
  char *block; /* when set, the allocation text lies in (freed instead of text) */
  int unchecked; /* the line was queued without a scan: see
                    cas__proto_on_line_unchecked() */
  size_t room; /* > 0: text lies in the item's own allocation, which has
                    room for this many bytes (see cas_proto_recycle) */
};

/* --- checking as one decodes ------------------------------------------------ */

/* The check in pieces, for a decoder that checks a line as it decodes it
 * instead of scanning it first (an item with unchecked set).  Each accepts exactly
 * what cas_json_scan() accepts in that place, returning a pointer just past
 * the piece, or NULL where the scan would fail; end bounds the line.  A
 * decoder built on them, with the same structure checks and nothing after the
 * value but whitespace, accepts no line the scan rejects.  When one says NULL,
 * cas_json_scan() of the line gives the error to report (its precedence, such
 * as invalid UTF-8 anywhere first, is the line's, not the piece's).
 *   string_end: body is just past the opening quote; *escaped says whether
 *               the string has escapes (cas__json_unescape_copy decodes it);
 *   number_end: a number at s;
 *   value_end:  any value at s (whitespace before it allowed), with at most
 *               depth_left levels of containers (0: scalars only). */
const char *cas__json_string_end(const char *body, const char *end, int *escaped);
const char *cas__json_number_end(const char *s, const char *end);
const char *cas__json_value_end(const char *s, const char *end, int depth_left);

/* Decode the string whose body starts at s (just past its opening quote) in a
 * line that cas__json_string_end() accepted there; end bounds the line.  A
 * string with no escape is its own bytes (*out = s), one with escapes is
 * decoded into buf (*out = buf), which must hold end - s bytes (the result is
 * never longer than the escaped text): lone UTF-16 surrogate escapes become
 * U+FFFD and \u0000 a NUL byte.  *len is the decoded length.  Returns the
 * position just past the closing quote, or NULL if none is found before end.
 * The line is left as it is. */
const char *cas__json_unescape_copy(const char *s, const char *end, char *buf, const char **out, size_t *len);

/* Queue a line that has not been checked at all, whose "type" the caller read
 * as text[type_off .. + type_len) and cas_proto_takes_type() accepted: a
 * MESSAGE item with unchecked = 1.  Whoever pops it must check
 * it before trusting it, with cas_json_scan() (an error there is the line's
 * decode error: code and at most CAS_DECODE_HEAD bytes of it) or with a
 * decoder built on the cas__json_*_end() pieces; cas_item_tree() checks by
 * itself.  With block (a malloc'd allocation holding the line,
 * NUL-terminated) the item owns it; else the line is copied.  For a client
 * whose consumer decodes as it checks (cas__client_defer_check). */
int cas__proto_on_line_unchecked(cas_proto_t *p, char *block, const char *line, size_t len, size_t type_off,
                                 size_t type_len);

/* Have the client queue the frames the protocol does not act on unchecked
 * (cas__proto_on_line_unchecked), for a consumer that checks as it decodes.
 * Call it right after cas_client_spawn(), before the first pump. */
void cas__client_defer_check(cas_client_t *c, int on);

#endif
