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

#include "cas_version.h"
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "cas_buf.h"

/* Depth counts open containers: a scalar is 0, [] and {} are 1, [[]] is 2; a
 * depth equal to the limit is accepted.  Limits above CJSON_NESTING_LIMIT
 * (1000) act as that limit. */
#define CAS_JSON_MAX_DEPTH 512

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, nothing
 * above U+10FFFF), else 0.  Has a fast path for ASCII. */
CAS_EXTERN int cas_utf8_valid(const char *s, size_t len);

/* Parse exactly one JSON value from s[0..len) (whitespace around it allowed,
 * nothing else).  max_depth 0 means CAS_JSON_MAX_DEPTH.  Returns 0 and *out, or
 * CAS_EUTF8, CAS_EDEPTH, CAS_EJSON or CAS_ENOMEM with *out = NULL. */
CAS_EXTERN int cas_json_parse(const char *s, size_t len, int max_depth, cJSON **out);

/* What one checking pass learns about a valid line besides its validity:
 * the raw bytes of the top-level object's first "type" member when it is a
 * string (type, NULL when the line is not an object, or that member is
 * missing or not a string), and type_escaped when those bytes hold a
 * backslash escape or a top-level key does (it might spell "type"): then only
 * a tree's answer is exact.  type points into the scanned line.  Each scan
 * overwrites it; it owns nothing. */
typedef struct {
  const char *type;
  size_t type_len;
  int type_escaped;
} cas_json_shape_t;

/* Check s[0..len) exactly as cas_json_parse() does (same grammar, same
 * errors, same depth limit) and fill *sh.  Returns 0, CAS_EUTF8, CAS_EDEPTH or
 * CAS_EJSON.  It allocates nothing. */
CAS_EXTERN int cas_json_scan(const char *s, size_t len, int max_depth, cas_json_shape_t *sh);

/* The nesting limit that max_depth (as for cas_json_scan) stands for. */
CAS_EXTERN int cas_json_depth_limit(int max_depth);

/* --- writing JSON text -------------------------------------------------------
 * For an encoder that writes JSON straight into a buffer (the Lua binding's,
 * the protocol's frames around a payload given as text) instead of building a
 * cJSON tree.  Each appends to b and returns 0, or a negative code with b as
 * it was. */
/* s[0..len) as a JSON string: quotes, backslashes and control bytes escaped
 * (NUL as \u0000), everything else as it is.  s must be UTF-8 (CAS_EUTF8
 * otherwise), unless replace_invalid: then each byte that is not part of a
 * well-formed sequence is written as U+FFFD (for text that must go out
 * whatever it holds, such as an error message). */
CAS_EXTERN int cas_json_write_string(cas_buf_t *b, const char *s, size_t len, int replace_invalid);
/* An integer, exactly (all of int64_t: no double in between). */
CAS_EXTERN int cas_json_write_int(cas_buf_t *b, int64_t v);
/* A finite double in the fewest significant digits (15 to 17) that read back
 * as the same double, always with a '.' or an exponent, so that a reader that
 * tells floats from integers reads a float (3.0, -0.0, 1e+300); written with
 * '.' whatever the process's locale.  CAS_EINVAL for NaN or an infinity. */
CAS_EXTERN int cas_json_write_double(cas_buf_t *b, double d);

/* What a parsed stdout frame is, from its "type" member. */
typedef enum {
  CAS_FRAME_MESSAGE = 0, /* user, assistant, result, system, ... anything else */
  CAS_FRAME_CONTROL_REQUEST, /* the CLI asks the SDK (can_use_tool, hook_callback, mcp_message) */
  CAS_FRAME_CONTROL_RESPONSE, /* the CLI answers one of our requests */
  CAS_FRAME_CONTROL_CANCEL, /* control_cancel_request */
  CAS_FRAME_KEEP_ALIVE, /* keep_alive: ignored */
  CAS_FRAME_TRANSCRIPT_MIRROR, /* transcript_mirror: not for users */
  CAS_FRAME_INVALID /* not an object, or no string "type" */
} cas_frame_kind;

CAS_EXTERN cas_frame_kind cas_frame_classify(const cJSON *root);
/* The same from a scanned line's "type" bytes (see cas_json_shape_t). */
CAS_EXTERN cas_frame_kind cas_frame_classify_type(const char *type, size_t len);

/* Convenience lookups that tolerate a NULL or non-object `obj`. */
CAS_EXTERN const char *cas_json_get_string(const cJSON *obj, const char *key); /* NULL unless a string */
CAS_EXTERN int cas_json_get_bool(const cJSON *obj, const char *key, int dflt);

#endif
