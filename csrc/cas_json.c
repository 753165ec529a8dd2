/* cas_json.c - one line of JSON to a cJSON tree, and what kind of frame it is;
 * and the pieces that write JSON text into a buffer.
 *
 * A line is checked in one pass before cJSON sees it: strict UTF-8, strict
 * RFC 8259 syntax and the nesting depth, without recursion, so a line of 100000
 * '[' costs a linear scan and nothing else.  Checking first has three uses:
 * cJSON is lenient (it takes "01", "+1", ".5", raw control characters and bad
 * \u escapes, and any byte <= 32 as whitespace) and we want one strict
 * grammar; its own nesting limit (CJSON_NESTING_LIMIT, 1000) is never reached
 * by a depth we allow; and once a line is known to be valid, a NULL from cJSON
 * can only mean that an allocation failed, which becomes CAS_ENOMEM instead of
 * a misleading CAS_EJSON.
 *
 * Error precedence: invalid UTF-8 anywhere in the line is CAS_EUTF8; otherwise
 * the first problem from the left decides between CAS_EJSON and CAS_EDEPTH.
 *
 * Depth counts open containers: a scalar is depth 0, [] and {} are 1, [[]]
 * is 2.  A line is accepted when its depth is <= the limit.  Limits above
 * CJSON_NESTING_LIMIT are lowered to it, since cJSON cannot go further.
 *
 * Two cJSON limits are handled here rather than passed on:
 *   - numbers longer than 63 characters are rejected as CAS_EJSON (cJSON reads
 *     at most 63; JSON.stringify never writes more than about 25);
 *   - a lone UTF-16 surrogate escape (\ud83d without its pair, which
 *     JSON.stringify writes when a string was cut inside an emoji) makes
 *     cJSON fail, yet JSON.parse and Python accept it.  Such escapes are
 *     rewritten to \ufffd in a private copy of the line, so the frame arrives
 *     with U+FFFD in place of the broken character instead of being lost.
 * A \u0000 escape is accepted, but cJSON's NUL-terminated strings end there.
 */
#include <float.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas_error.h"
#include "cas_internal.h"
#include "cas_json.h"

/* Strings are most of a frame's bytes, so their scan gets 16 bytes per step
 * where SSE2 is part of the ABI (every x86-64), 8 bytes elsewhere.  Define
 * CAS_JSON_NO_SIMD to test the portable path. */
#if defined(__SSE2__) && !defined(CAS_JSON_NO_SIMD)
#include <emmintrin.h>
#define CAS_JSON_SSE2 1
#endif
/* With a little-endian load the lowest flagged byte is the first one in
 * memory, so the scan can jump straight to it. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CAS_JSON_CTZ64(x) ((size_t)__builtin_ctzll(x))
#endif

#define CAS_ONES UINT64_C(0x0101010101010101)
#define CAS_HIGHS UINT64_C(0x8080808080808080)
/* parse_number() in cJSON copies a number into a 64-byte buffer. */
#define CAS_JSON_MAX_NUMBER 63

/* Length of the well-formed UTF-8 sequence at p (whose first byte is >= 0x80),
 * or 0.  The ranges are those of Unicode's table of well-formed sequences,
 * which excludes overlongs, surrogates and code points above U+10FFFF. */
static size_t cas__utf8_seq(const unsigned char *p, const unsigned char *end) {
  size_t n = (size_t)(end - p);
  unsigned c = p[0], lo = 0x80, hi = 0xBF;

  if (c < 0xC2) return 0; /* continuation byte, or overlong C0/C1 lead */
  if (c < 0xE0) return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c < 0xF0) {
    if (c == 0xE0)
      lo = 0xA0; /* below would be overlong */
    else if (c == 0xED)
      hi = 0x9F; /* above would be a surrogate */
    return n >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
  }
  if (c < 0xF5) {
    if (c == 0xF0)
      lo = 0x90; /* below would be overlong */
    else if (c == 0xF4)
      hi = 0x8F; /* above would pass U+10FFFF */
    return n >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80 ? 4 : 0;
  }
  return 0;
}

int cas_utf8_valid(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s, *end;
  size_t n;

  if (len == 0) return 1;
  end = p + len;
  while (p < end) {
    if (*p < 0x80) {
      /* Frames are mostly ASCII: test eight bytes per step.  memcpy keeps
       * the load legal at any alignment and compiles to one instruction. */
      while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        if (w & CAS_HIGHS) break;
        p += 8;
      }
      while (p < end && *p < 0x80) p++;
      continue;
    }
    n = cas__utf8_seq(p, end);
    if (!n) return 0;
    p += n;
  }
  return 1;
}

/* Nonzero when one of the eight bytes in w needs a look inside a string: a
 * quote, a backslash, a control character or a non-ASCII byte.  The zero-byte
 * tests can flag a byte wrongly only above a byte rightly flagged, so the
 * lowest flag is exact. */
static uint64_t cas__json_special8(uint64_t w) {
  uint64_t q = w ^ (CAS_ONES * '"'), b = w ^ (CAS_ONES * '\\');
  return (w & CAS_HIGHS) | ((q - CAS_ONES) & ~q & CAS_HIGHS) | ((b - CAS_ONES) & ~b & CAS_HIGHS) |
         ((w - CAS_ONES * 0x20) & ~w & CAS_HIGHS);
}

static int cas__json_hex4(const unsigned char *p, unsigned *out) {
  unsigned v = 0, i, c;

  for (i = 0; i < 4; i++) {
    c = p[i];
    if (c >= '0' && c <= '9')
      c -= '0';
    else if (c >= 'a' && c <= 'f')
      c -= 'a' - 10;
    else if (c >= 'A' && c <= 'F')
      c -= 'A' - 10;
    else
      return 0;
    v = v << 4 | c;
  }
  *out = v;
  return 1;
}

/* Is p (with at least 12 bytes left) a high surrogate escape followed by a
 * low one?  The caller has already read the high half. */
static int cas__json_pair_follows(const unsigned char *p, const unsigned char *end) {
  unsigned lo;

  return end - p >= 12 && p[6] == '\\' && p[7] == 'u' && cas__json_hex4(p + 8, &lo) && lo >= 0xDC00 && lo <= 0xDFFF;
}

#ifdef CAS_JSON_SSE2
/* Past the plain ASCII at p, 16 bytes per step: the first quote, backslash,
 * control or non-ASCII byte (*found = 1), or, when there is none, where
 * fewer than 16 bytes are left (*found = 0). */
static const unsigned char *cas__json_plain16(const unsigned char *p, const unsigned char *end, int *found) {
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (end - p >= 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* A signed compare flags both controls (< 0x20) and bytes >= 0x80. */
    int m = _mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)), _mm_cmplt_epi8(x, space)));
    if (m) {
      *found = 1;
      return p + __builtin_ctz((unsigned)m);
    }
    p += 16;
  }
  *found = 0;
  return p;
}
#endif

/* The body of a string; *pp is just past the opening quote, and is left just
 * past the closing one, or at the offending byte on error.  Lone surrogate
 * escapes are counted in *lone, escapes of any kind in *esc (when not NULL). */
static int cas__json_string(const unsigned char **pp, const unsigned char *end, size_t *lone, size_t *esc) {
  const unsigned char *p = *pp;
  unsigned c, code;
  size_t n;

  for (;;) {
#ifdef CAS_JSON_SSE2
    int found;
    p = cas__json_plain16(p, end, &found);
    if (found) goto look;
#endif
    while (end - p >= 8) {
      uint64_t w, m;
      memcpy(&w, p, 8);
      m = cas__json_special8(w);
      if (m) {
#ifdef CAS_JSON_CTZ64
        p += CAS_JSON_CTZ64(m) / 8;
#endif
        break;
      }
      p += 8;
    }
#ifdef CAS_JSON_SSE2
  look:
#endif
    if (p == end) break;
    c = *p;
    if (c == '"') {
      *pp = p + 1;
      return CAS_OK;
    }
    if (c >= 0x80) {
      n = cas__utf8_seq(p, end);
      if (!n) {
        *pp = p;
        return CAS_EUTF8;
      }
      p += n;
    } else if (c == '\\') {
      if (end - p < 2) break;
      if (esc) (*esc)++;
      switch (p[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't': p += 2; break;
        case 'u':
          if (end - p < 6 || !cas__json_hex4(p + 2, &code)) goto bad;
          if (code >= 0xD800 && code <= 0xDBFF && cas__json_pair_follows(p, end)) {
            p += 12;
          } else {
            if (code >= 0xD800 && code <= 0xDFFF) (*lone)++;
            p += 6;
          }
          break;
        default: goto bad;
      }
    } else if (c < 0x20) {
      break;
    } else {
      p++;
    }
  }
bad:
  *pp = p;
  return CAS_EJSON;
}

/* A number per RFC 8259; *pp is left past it, or at the offending byte. */
static int cas__json_number(const unsigned char **pp, const unsigned char *end) {
  const unsigned char *p = *pp, *start = p;

#define CAS_DIGIT(p) ((p) < end && *(p) >= '0' && *(p) <= '9')
  if (*p == '-') p++;
  if (p < end && *p == '0') {
    p++;
  } else if (CAS_DIGIT(p)) {
    while (CAS_DIGIT(p)) p++;
  } else {
    goto bad;
  }
  if (p < end && *p == '.') {
    p++;
    if (!CAS_DIGIT(p)) goto bad;
    while (CAS_DIGIT(p)) p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    if (!CAS_DIGIT(p)) goto bad;
    while (CAS_DIGIT(p)) p++;
  }
#undef CAS_DIGIT
  if (p - start > CAS_JSON_MAX_NUMBER) goto bad;
  *pp = p;
  return CAS_OK;
bad:
  *pp = p;
  return CAS_EJSON;
}

static const unsigned char *cas__json_ws(const unsigned char *p, const unsigned char *end) {
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  return p;
}

static int cas__json_literal(const unsigned char **pp, const unsigned char *end, const char *word, size_t n) {
  if ((size_t)(end - *pp) < n || memcmp(*pp, word, n) != 0) return CAS_EJSON;
  *pp += n;
  return CAS_OK;
}

/* Is the innermost of `depth` open containers an object? */
static int cas__json_in_object(const unsigned char *stack, int depth) {
  return (stack[(depth - 1) / 8] >> ((depth - 1) % 8)) & 1;
}

/* The one-pass check of a whole line.  On success *vend is where the value
 * ends (before trailing whitespace), to be compared with cJSON's idea of it.
 * With sh, the pass also finds the top-level "type" (see cas_json_shape_t). */
static int cas__json_check(const unsigned char *s, size_t len, int limit, size_t *lone, const unsigned char **vend,
                           cas_json_shape_t *sh, int whole) {
  /* One bit per open container, set for an object: limit <= 1000, so this
   * is 125 bytes instead of a recursion. */
  unsigned char stack[(CJSON_NESTING_LIMIT + 7) / 8];
  const unsigned char *p = s, *end = s + len, *str;
  int depth = 0, rc = CAS_EJSON, obj, type_next = 0, type_seen = 0, is_type;

value:
  p = cas__json_ws(p, end);
  if (p == end) goto fail;
  is_type = type_next;
  type_next = 0;
  switch (*p) {
    case '{':
    case '[':
      if (depth >= limit) {
        rc = CAS_EDEPTH;
        goto fail;
      }
      obj = *p == '{';
      if (obj)
        stack[depth / 8] |= (unsigned char)(1u << (depth % 8));
      else
        stack[depth / 8] &= (unsigned char)~(1u << (depth % 8));
      depth++;
      p = cas__json_ws(p + 1, end);
      if (p < end && *p == (obj ? '}' : ']')) {
        p++;
        depth--;
        goto after;
      }
      if (obj) goto key;
      goto value;
    case '"':
      str = ++p;
      if ((rc = cas__json_string(&p, end, lone, NULL)) < 0) goto fail;
      if (is_type) {
        sh->type = (const char *)str;
        sh->type_len = (size_t)(p - 1 - str);
        if (memchr(str, '\\', sh->type_len)) sh->type_escaped = 1;
      }
      goto after;
    case 't':
      if ((rc = cas__json_literal(&p, end, "true", 4)) < 0) goto fail;
      goto after;
    case 'f':
      if ((rc = cas__json_literal(&p, end, "false", 5)) < 0) goto fail;
      goto after;
    case 'n':
      if ((rc = cas__json_literal(&p, end, "null", 4)) < 0) goto fail;
      goto after;
    default:
      if (*p != '-' && (*p < '0' || *p > '9')) goto fail;
      if ((rc = cas__json_number(&p, end)) < 0) goto fail;
      goto after;
  }

key:
  if (p == end || *p != '"') goto fail;
  str = ++p;
  if ((rc = cas__json_string(&p, end, lone, NULL)) < 0) goto fail;
  /* The value after the first top-level "type" key is the frame's type, as
   * for cJSON's lookup.  A top-level key with an escape might spell "type":
   * then the caller should not trust the scan's answer (type_escaped). */
  if (sh && depth == 1) {
    if (memchr(str, '\\', (size_t)(p - 1 - str))) {
      sh->type_escaped = 1;
    } else if (!type_seen && p - str == 5 && memcmp(str, "type", 4) == 0) {
      type_next = type_seen = 1;
    }
  }
  p = cas__json_ws(p, end);
  if (p == end || *p != ':') goto fail;
  p++;
  goto value;

after:
  if (depth == 0) {
    *vend = p;
    if (!whole) return CAS_OK;
    p = cas__json_ws(p, end);
    if (p != end) goto fail;
    return CAS_OK;
  }
  p = cas__json_ws(p, end);
  if (p == end) goto fail;
  if (cas__json_in_object(stack, depth)) {
    if (*p == ',') {
      p = cas__json_ws(p + 1, end);
      goto key;
    }
    if (*p != '}') goto fail;
  } else {
    if (*p == ',') {
      p++;
      goto value;
    }
    if (*p != ']') goto fail;
  }
  p++;
  depth--;
  goto after;

fail:
  /* Everything left of p that is not ASCII was inside a string and has been
   * checked; invalid UTF-8 to the right must still win. */
  if (rc != CAS_EUTF8 && !cas_utf8_valid((const char *)p, (size_t)(end - p))) return CAS_EUTF8;
  return rc == CAS_OK ? CAS_EJSON : rc;
}

/* The next '"' or '\\' in [p, end), or end. */
static const char *cas__json_next_qb(const char *p, const char *end) {
#ifdef CAS_JSON_SSE2
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
  while (end - p >= 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    int m = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)));
    if (m) return p + __builtin_ctz((unsigned)m);
    p += 16;
  }
#endif
  while (p < end && *p != '"' && *p != '\\') p++;
  return p;
}

/* The first '"' or '\\' of a string body from s, or NULL if there is none
 * before end.  Most strings have no escape, so this finds their end.  With
 * SSE2 one pass does it; elsewhere libc's memchr (the fastest scan there is
 * for a long text, a 5 MB frame) finds the quote and a second one proves
 * there was no backslash before it. */
static const char *cas__json_first_qb(const char *s, const char *end) {
#ifdef CAS_JSON_SSE2
  const char *q = cas__json_next_qb(s, end);
  return q < end ? q : NULL;
#else
  const char *q = memchr(s, '"', (size_t)(end - s)), *b;
  if (!q) return NULL;
  b = memchr(s, '\\', (size_t)(q - s));
  return b ? b : q;
#endif
}

static char *cas__utf8_put(char *w, unsigned cp) {
  if (cp < 0x80) {
    *w++ = (char)cp;
  } else if (cp < 0x800) {
    *w++ = (char)(0xC0 | cp >> 6);
    *w++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *w++ = (char)(0xE0 | cp >> 12);
    *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
    *w++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *w++ = (char)(0xF0 | cp >> 18);
    *w++ = (char)(0x80 | (cp >> 12 & 0x3F));
    *w++ = (char)(0x80 | (cp >> 6 & 0x3F));
    *w++ = (char)(0x80 | (cp & 0x3F));
  }
  return w;
}

/* Decode the escapes of a string from its first backslash q on, writing at w
 * (w <= q in place, or a separate buffer); end bounds the line.  Returns the
 * position just past the closing quote and sets *wend, or NULL. */
static const char *cas__json_unescape_from(const char *q, const char *end, char *w, char **wend) {
  unsigned cp, lo;

  while (q < end && *q != '"') {
    if (*q != '\\') { /* a run without escapes: move it as a block */
      const char *next = cas__json_next_qb(q, end);
      memmove(w, q, (size_t)(next - q));
      w += next - q;
      q = next;
      continue;
    }
    if (end - q < 2) return NULL;
    switch (q[1]) {
      case 'b':
        *w++ = '\b';
        q += 2;
        break;
      case 'f':
        *w++ = '\f';
        q += 2;
        break;
      case 'n':
        *w++ = '\n';
        q += 2;
        break;
      case 'r':
        *w++ = '\r';
        q += 2;
        break;
      case 't':
        *w++ = '\t';
        q += 2;
        break;
      case 'u':
        if (end - q < 6 || !cas__json_hex4((const unsigned char *)q + 2, &cp)) return NULL;
        if (cp >= 0xD800 && cp <= 0xDBFF &&
            cas__json_pair_follows((const unsigned char *)q, (const unsigned char *)end)) {
          cas__json_hex4((const unsigned char *)q + 8, &lo);
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          q += 12;
        } else {
          /* A lone surrogate (a string cut inside an emoji) becomes U+FFFD. */
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
          q += 6;
        }
        w = cas__utf8_put(w, cp);
        break;
      default: /* '"', '\\', '/' */ *w++ = q[1]; q += 2;
    }
  }
  if (q >= end) return NULL;
  *wend = w;
  return q + 1;
}

const char *cas__json_unescape_copy(const char *s, const char *end, char *buf, const char **out, size_t *len) {
  const char *q, *b;
  char *w;

  b = cas__json_first_qb(s, end);
  if (!b) return NULL;
  if (*b == '"') {
    *out = s;
    *len = (size_t)(b - s);
    return b + 1;
  }
  memcpy(buf, s, (size_t)(b - s));
  q = cas__json_unescape_from(b, end, buf + (b - s), &w);
  if (!q) return NULL;
  *out = buf;
  *len = (size_t)(w - buf);
  return q;
}

/* Rewrite each lone surrogate escape of a checked line to \ufffd.  Outside
 * strings a valid line has no backslash, so every backslash found here starts
 * an escape, and the walk needs no other state. */
static void cas__json_fix_surrogates(char *s, size_t len) {
  const unsigned char *end = (const unsigned char *)s + len;
  unsigned char *p = (unsigned char *)s;
  unsigned code;

  while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
    if (p[1] != 'u') {
      p += 2;
      continue;
    }
    cas__json_hex4(p + 2, &code);
    if (code >= 0xD800 && code <= 0xDBFF && cas__json_pair_follows(p, end)) {
      p += 12;
      continue;
    }
    if (code >= 0xD800 && code <= 0xDFFF) memcpy(p + 2, "fffd", 4);
    p += 6;
  }
}

int cas_json_depth_limit(int max_depth) {
  int limit = max_depth ? max_depth : CAS_JSON_MAX_DEPTH;
  return limit > CJSON_NESTING_LIMIT ? CJSON_NESTING_LIMIT : limit;
}

int cas_json_parse(const char *s, size_t len, int max_depth, cJSON **out) {
  const unsigned char *vend = NULL;
  const char *src = s, *pend = NULL;
  char *copy = NULL;
  size_t lone = 0;
  int limit, rc;
  cJSON *root;

  if (!out) return CAS_EINVAL;
  *out = NULL;
  if (max_depth < 0 || (!s && len)) return CAS_EINVAL;
  if (len == 0) return CAS_EJSON;
  limit = cas_json_depth_limit(max_depth);

  rc = cas__json_check((const unsigned char *)s, len, limit, &lone, &vend, NULL, 1);
  if (rc < 0) return rc;
  if (lone) {
    copy = malloc(len);
    if (!copy) return CAS_ENOMEM;
    memcpy(copy, s, len);
    cas__json_fix_surrogates(copy, len);
    src = copy;
  }
  root = cJSON_ParseWithLengthOpts(src, len, &pend, 0);
  if (!root) {
    free(copy);
    return CAS_ENOMEM;
  }
  /* Both parsers must agree where the value ends; if not, trust neither. */
  if (pend != src + (vend - (const unsigned char *)s)) {
    cJSON_Delete(root);
    free(copy);
    return CAS_EJSON;
  }
  free(copy);
  *out = root;
  return CAS_OK;
}

cas_frame_kind cas_frame_classify_type(const char *type, size_t len) {
  static const struct {
    const char *type;
    cas_frame_kind kind;
  } kinds[] = {
      {"control_request", CAS_FRAME_CONTROL_REQUEST},       {"control_response", CAS_FRAME_CONTROL_RESPONSE},
      {"control_cancel_request", CAS_FRAME_CONTROL_CANCEL}, {"keep_alive", CAS_FRAME_KEEP_ALIVE},
      {"transcript_mirror", CAS_FRAME_TRANSCRIPT_MIRROR},
  };
  size_t i;

  if (!type) return CAS_FRAME_INVALID;
  for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (strlen(kinds[i].type) == len && memcmp(type, kinds[i].type, len) == 0) return kinds[i].kind;
  return CAS_FRAME_MESSAGE;
}

cas_frame_kind cas_frame_classify(const cJSON *root) {
  const char *type = cas_json_get_string(root, "type");
  return cas_frame_classify_type(type, type ? strlen(type) : 0);
}

int cas_json_scan(const char *s, size_t len, int max_depth, cas_json_shape_t *sh) {
  const unsigned char *vend = NULL;
  size_t lone = 0;
  int limit, rc;

  if (!sh || max_depth < 0 || (!s && len)) return CAS_EINVAL;
  sh->type = NULL;
  sh->type_len = 0;
  sh->type_escaped = 0;
  if (len == 0) return CAS_EJSON;
  limit = cas_json_depth_limit(max_depth);
  rc = cas__json_check((const unsigned char *)s, len, limit, &lone, &vend, sh, 1);
  if (rc < 0) sh->type = NULL;
  return rc;
}

const char *cas_json_get_string(const cJSON *obj, const char *key) {
  const cJSON *item;

  if (!cJSON_IsObject(obj) || !key) return NULL;
  /* Case-sensitive: cJSON_GetObjectItem would take "Type" for "type". */
  item = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(item) ? item->valuestring : NULL;
}

int cas_json_get_bool(const cJSON *obj, const char *key, int dflt) {
  const cJSON *item;

  if (!cJSON_IsObject(obj) || !key) return dflt;
  item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (cJSON_IsTrue(item)) return 1;
  if (cJSON_IsFalse(item)) return 0;
  return dflt;
}

/* --- pieces of the check, for a decoder that checks as it goes ---------------- */

const char *cas__json_string_end(const char *body, const char *end, int *escaped) {
  const unsigned char *p = (const unsigned char *)body;
  size_t lone = 0, esc = 0;
#ifdef CAS_JSON_SSE2
  int found;
#endif
  if (!body || body > end) return NULL;
#ifdef CAS_JSON_SSE2
  /* Most strings are short and plain: find the first byte that needs a look;
   * if it is the closing quote, that is all (no call into the full check).
   * Anything else goes on from there in the full check (what lies before it
   * is plain ASCII). */
  p = cas__json_plain16(p, (const unsigned char *)end, &found);
  if (found && *p == '"') {
    if (escaped) *escaped = 0;
    return (const char *)p + 1;
  }
#endif
  if (cas__json_string(&p, (const unsigned char *)end, &lone, &esc) < 0) return NULL;
  if (escaped) *escaped = esc != 0;
  return (const char *)p;
}

const char *cas__json_number_end(const char *s, const char *end) {
  const unsigned char *p = (const unsigned char *)s;
  if (!s || s >= end || cas__json_number(&p, (const unsigned char *)end) < 0) return NULL;
  return (const char *)p;
}

const char *cas__json_value_end(const char *s, const char *end, int depth_left) {
  const unsigned char *vend = NULL;
  size_t lone = 0;
  if (!s || s >= end || depth_left < 0) return NULL;
  if (depth_left > CJSON_NESTING_LIMIT) depth_left = CJSON_NESTING_LIMIT;
  if (cas__json_check((const unsigned char *)s, (size_t)(end - s), depth_left, &lone, &vend, NULL, 0) < 0) return NULL;
  return (const char *)vend;
}

/* --- writing JSON text ----------------------------------------------------------- */

int cas_json_write_string(cas_buf_t *b, const char *s, size_t len, int replace_invalid) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s, *end = p + len, *run;
  size_t start = b->len, n;
  char esc[6] = {'\\', 'u', '0', '0', 0, 0};
  int rc;

  if (!s && len) return CAS_EINVAL;
  if (len > SIZE_MAX - 2) return CAS_ENOMEM;
  /* Room for the common case, where every byte goes out as it is. */
  if ((rc = cas_buf_reserve(b, len + 2)) < 0) return rc;
  b->data[b->len++] = '"';
  while (p < end) {
    /* A run of bytes that need no escape: printable ASCII and well-formed
     * UTF-8 sequences. */
    run = p;
    for (;;) {
      while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
      if (p < end && *p >= 0x80 && (n = cas__utf8_seq(p, end)) != 0) {
        p += n;
        continue;
      }
      break;
    }
    if ((rc = cas_buf_append(b, run, (size_t)(p - run))) < 0) goto fail;
    if (p == end) break;
    if (*p >= 0x80) { /* not part of a well-formed sequence */
      if (!replace_invalid) {
        rc = CAS_EUTF8;
        goto fail;
      }
      rc = cas_buf_append(b, "\xEF\xBF\xBD", 3);
    } else if (*p == '"' || *p == '\\') {
      char two[2];
      two[0] = '\\';
      two[1] = (char)*p;
      rc = cas_buf_append(b, two, 2);
    } else {
      const char *two = *p == '\n'   ? "\\n"
                        : *p == '\r' ? "\\r"
                        : *p == '\t' ? "\\t"
                        : *p == '\b' ? "\\b"
                        : *p == '\f' ? "\\f"
                                     : NULL;
      if (two) {
        rc = cas_buf_append(b, two, 2);
      } else { /* any other control byte, NUL included */
        esc[4] = hex[*p >> 4];
        esc[5] = hex[*p & 15];
        rc = cas_buf_append(b, esc, 6);
      }
    }
    if (rc < 0) goto fail;
    p++;
  }
  if ((rc = cas_buf_append(b, "\"", 1)) < 0) goto fail;
  return CAS_OK;
fail:
  b->len = start;
  return rc;
}

int cas_json_write_int(cas_buf_t *b, int64_t v) {
  char tmp[24], *w = tmp + sizeof tmp;
  /* The magnitude as unsigned: -INT64_MIN does not fit an int64_t. */
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    *--w = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u);
  if (v < 0) *--w = '-';
  return cas_buf_append(b, w, (size_t)(tmp + sizeof tmp - w));
}

int cas_json_write_double(cas_buf_t *b, double d) {
  char tmp[48], *q;
  const char *ldp;
  size_t dl;
  int prec, n = 0;

  if (d != d || d > DBL_MAX || d < -DBL_MAX) return CAS_EINVAL;
  /* 17 significant digits always read back as the same double; fewer often
   * do, and read better (0.1, not 0.10000000000000001).  snprintf and strtod
   * use the same locale, so the test holds whatever its decimal point. */
  for (prec = 15; prec <= 17; prec++) {
    n = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
    if (n <= 0 || (size_t)n >= sizeof tmp) return CAS_EINVAL; /* cannot happen for %g */
    if (strtod(tmp, NULL) == d) break;
  }
  /* JSON's decimal point is '.', whatever the host set LC_NUMERIC to. */
  ldp = localeconv()->decimal_point;
  dl = ldp ? strlen(ldp) : 0;
  if (dl && !(dl == 1 && ldp[0] == '.') && (q = strstr(tmp, ldp)) != NULL) {
    *q = '.';
    memmove(q + 1, q + dl, strlen(q + dl) + 1);
  }
  /* An integral value (3, -0) gets ".0": it was a float, and reads back as one. */
  if (!strpbrk(tmp, ".e")) strcat(tmp, ".0");
  return cas_buf_append(b, tmp, strlen(tmp));
}
