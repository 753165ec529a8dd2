/* cas_json.h - one line of JSON to a cJSON tree, and what kind of frame it is.
 *
 * Parsing uses cJSON (Debian's libcjson-dev).  Before a tree is trusted the
 * line must be valid UTF-8 (the CLI writes raw UTF-8; an invalid sequence is a
 * typed error, never passed on to Lua), and nesting must stay within a depth
 * limit, so neither the parser nor anything walking the tree recursively can
 * run the C stack out.
 *
 * Trees belong to the caller: free them with cJSON_Delete().
 */
#ifndef CAS_JSON_H
#define CAS_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* Depth counts open containers: a scalar is 0, [] and {} are 1, [[]] is 2; a
 * depth equal to the limit is accepted.  Limits above CJSON_NESTING_LIMIT
 * (1000) act as that limit. */
#define CAS_JSON_MAX_DEPTH 512

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, nothing
 * above U+10FFFF), else 0.  Has a fast path for ASCII. */
int cas_utf8_valid(const char *s, size_t len);

/* Parse exactly one JSON value from s[0..len) (whitespace around it allowed,
 * nothing else).  max_depth 0 means CAS_JSON_MAX_DEPTH.  Returns 0 and *out, or
 * CAS_EUTF8, CAS_EDEPTH, CAS_EJSON or CAS_ENOMEM with *out = NULL. */
int cas_json_parse(const char *s, size_t len, int max_depth, cJSON **out);

/* What one checking pass learns about a valid line, so that it can be turned
 * into another representation later (Lua tables, in the binding) in a single
 * trusting pass with no tree in between and every container presized:
 *   counts   the number of children of each array and object, in the order
 *            their opening brackets appear in the line;
 *   type     the raw bytes of the top-level object's first "type" member when
 *            it is a string (NULL when the line is not an object, or that
 *            member is missing or not a string), and type_escaped when those
 *            bytes hold a backslash escape or a top-level key does (it might
 *            spell "type"): then only a tree's answer is exact.
 * A shape is reusable: each scan overwrites it, keeping the counts array. */
typedef struct {
  uint32_t *counts;
  size_t ncounts, cap;
  const char *type;
  size_t type_len;
  int type_escaped;
} cas_json_shape_t;

void cas_json_shape_init(cas_json_shape_t *sh);
void cas_json_shape_free(cas_json_shape_t *sh);

/* Check s[0..len) exactly as cas_json_parse() does (same grammar, same
 * errors, same depth limit) and fill *sh.  Returns 0, CAS_EUTF8, CAS_EDEPTH,
 * CAS_EJSON or CAS_ENOMEM.  A decoder walking a line that passed may rely on
 * it being valid: strings end at the first unescaped quote, escapes are
 * well-formed, and nesting is within max_depth. */
int cas_json_scan(const char *s, size_t len, int max_depth, cas_json_shape_t *sh);

/* The nesting limit that max_depth (as for cas_json_scan) stands for. */
int cas_json_depth_limit(int max_depth);

/* The check in pieces, for a decoder that checks a line as it decodes it
 * instead of scanning it first (cas_item_t.unchecked).  Each accepts exactly
 * what cas_json_scan() accepts in that place, returning a pointer just past
 * the piece, or NULL where the scan would fail; end bounds the line.  A
 * decoder built on them, with the same structure checks and nothing after the
 * value but whitespace, accepts no line the scan rejects.  When one says NULL,
 * cas_json_scan() of the line gives the error to report (its precedence, such
 * as invalid UTF-8 anywhere first, is the line's, not the piece's).
 *   string_end: body is just past the opening quote; *escaped says whether
 *               the string has escapes (cas_json_unescape_copy decodes it);
 *   number_end: a number at s;
 *   value_end:  any value at s (whitespace before it allowed), with at most
 *               depth_left levels of containers (0: scalars only). */
const char *cas_json_string_end(const char *body, const char *end, int *escaped);
const char *cas_json_number_end(const char *s, const char *end);
const char *cas_json_value_end(const char *s, const char *end, int depth_left);

/* Decode, in place, the string whose body starts at s (just past its opening
 * quote) in a line that cas_json_scan() accepted; end bounds the line.  The
 * result is never longer than the escaped text: s[0..*len) holds it, lone
 * UTF-16 surrogate escapes become U+FFFD and \u0000 a NUL byte.  Returns the
 * position just past the closing quote, or NULL if none is found before end
 * (the line was not scanned). */
char *cas_json_unescape(char *s, char *end, size_t *len);
/* The same decoding, leaving the line as it is: a string with no escape is
 * its own bytes (*out = s), one with escapes is decoded into buf (*out =
 * buf), which must hold end - s bytes.  *len is the decoded length.  Returns
 * the position just past the closing quote, or NULL. */
const char *cas_json_unescape_copy(const char *s, const char *end, char *buf, const char **out, size_t *len);

/* What a parsed stdout frame is, from its "type" member. */
typedef enum {
  CAS_FRAME_MESSAGE = 0,        /* user, assistant, result, system, ... anything else */
  CAS_FRAME_CONTROL_REQUEST,    /* the CLI asks the SDK (can_use_tool, hook_callback, mcp_message) */
  CAS_FRAME_CONTROL_RESPONSE,   /* the CLI answers one of our requests */
  CAS_FRAME_CONTROL_CANCEL,     /* control_cancel_request */
  CAS_FRAME_KEEP_ALIVE,         /* keep_alive: ignored */
  CAS_FRAME_TRANSCRIPT_MIRROR,  /* transcript_mirror: not for users */
  CAS_FRAME_INVALID             /* not an object, or no string "type" */
} cas_frame_kind;

cas_frame_kind cas_frame_classify(const cJSON *root);
/* The same from a scanned line's "type" bytes (see cas_json_shape_t). */
cas_frame_kind cas_frame_classify_type(const char *type, size_t len);

/* Convenience lookups that tolerate a NULL or non-object `obj`. */
const char *cas_json_get_string(const cJSON *obj, const char *key); /* NULL unless a string */
int cas_json_get_bool(const cJSON *obj, const char *key, int dflt);

#endif
