/* test_json.c - UTF-8 validation, JSON parsing with limits, frame kinds and
 * the error table, under ASan + UBSan.
 *
 * Inputs are copied into buffers of their exact length with no NUL after
 * them, as lines come out of a pipe, so that any read past the end is caught.
 */
#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas_error.h"
#include "cas_internal.h"
#include "cas_json.h"
#include "ctest.h"

/* Parse the n bytes of s from an exact-size heap copy.  Every input also goes
 * through cas_json_scan(), which must give the same verdict. */
static int parse_n(const char *s, size_t n, int max_depth, cJSON **out) {
  char *copy = malloc(n ? n : 1);
  cas_json_shape_t sh;
  int rc, src;

  if (!copy) return CAS_ENOMEM;
  memcpy(copy, s, n);
  rc = cas_json_parse(copy, n, max_depth, out);
  src = cas_json_scan(copy, n, max_depth, &sh);
  if (rc != CAS_ENOMEM) CHECK_EQ_INT(src, rc);
  free(copy);
  return rc;
}

/* The scan's view of a frame's top-level "type". */
static void check_type(const char *line, const char *want, int escaped) {
  cas_json_shape_t sh;
  CHECK_EQ_INT(cas_json_scan(line, strlen(line), 0, &sh), CAS_OK);
  if (!want) {
    CHECK(sh.type == NULL);
  } else {
    CHECK(sh.type && sh.type_len == strlen(want) && memcmp(sh.type, want, sh.type_len) == 0);
    CHECK_EQ_INT(sh.type_escaped, escaped);
  }
}

static void test_scan_type(void) {
  check_type("{\"type\":\"assistant\",\"message\":{}}", "assistant", 0);
  check_type("{\"x\":{\"type\":\"inner\"},\"type\":\"outer\"}", "outer", 0);
  check_type("{ \"type\" : \"spaced\" }", "spaced", 0);
  check_type("{\"type\":\"first\",\"type\":\"second\"}", "first", 0); /* as cJSON's lookup */
  check_type("{\"type\":\"a\\u0062\"}", "a\\u0062", 1);
  check_type("{\"type\":1}", NULL, 0);
  check_type("{\"type\":1,\"type\":\"later\"}", NULL, 0); /* only the first counts, as for cJSON */
  {
    cas_json_shape_t sh;
    static const char esc[] = "{\"typ\\u0065\":\"x\"}";
    CHECK_EQ_INT(cas_json_scan(esc, sizeof esc - 1, 0, &sh), CAS_OK);
    CHECK(sh.type == NULL && sh.type_escaped == 1); /* cJSON reads the key as "type" */
  }
  check_type("{\"types\":\"x\",\"typ\":\"y\"}", NULL, 0);
  check_type("[{\"type\":\"x\"}]", NULL, 0);
  check_type("\"type\"", NULL, 0);
  CHECK_EQ_INT(cas_frame_classify_type("control_response", 16), CAS_FRAME_CONTROL_RESPONSE);
  CHECK_EQ_INT(cas_frame_classify_type("control_respons", 15), CAS_FRAME_MESSAGE);
  CHECK_EQ_INT(cas_frame_classify_type(NULL, 0), CAS_FRAME_INVALID);
}

/* Unescape the body between the quotes, leaving the text as it is. */
static void check_unescape(const char *body_and_rest, const char *want, size_t want_len, size_t consumed) {
  size_t n = strlen(body_and_rest), len = 0;
  char *copy = malloc(n), *buf = malloc(n);
  const char *out = NULL, *next;
  if (copy && buf) {
    memcpy(copy, body_and_rest, n); /* no NUL: reads past end are caught */
    next = cas__json_unescape_copy(copy, copy + n, buf, &out, &len);
    if (consumed == 0) {
      CHECK(next == NULL);
    } else {
      CHECK(next == copy + consumed);
      CHECK(len == want_len && memcmp(out, want, len) == 0);
      /* no escape: the text itself; escapes: the buffer */
      CHECK(out == (memchr(copy, '\\', consumed) ? buf : copy));
    }
    CHECK(memcmp(copy, body_and_rest, n) == 0);
  }
  free(buf);
  free(copy);
}

static void test_unescape(void) {
  check_unescape("plain\"}", "plain", 5, 6);
  check_unescape("a\\nb\\t\\\"q\\\\\\/\"x", "a\nb\t\"q\\/", 8, 14);
  check_unescape("\\u00e9\\ud83d\\ude00!\"", "\xC3\xA9\xF0\x9F\x98\x80!", 7, 20);
  check_unescape("\\ud83d!\\ude00\"", "\xEF\xBF\xBD!\xEF\xBF\xBD", 7, 14); /* lone halves */
  check_unescape("a\\u0000b\"", "a\0b", 3, 9);
  check_unescape("no end", NULL, 0, 0);
  check_unescape("esc\\n no end", NULL, 0, 0);
}

/* A shape is reused: a later scan overwrites it, a failed one leaves no type. */
static void test_scan_reuse(void) {
  cas_json_shape_t sh;
  int i;
  static const char good[] = "{\"type\":\"a\",\"b\":[1,[2,3],{}]}", bad[] = "{\"type\":\"a\",";
  for (i = 0; i < 3; i++) {
    CHECK_EQ_INT(cas_json_scan(good, sizeof good - 1, 0, &sh), CAS_OK);
    CHECK(sh.type == good + 9 && sh.type_len == 1 && !sh.type_escaped);
    CHECK_EQ_INT(cas_json_scan(bad, sizeof bad - 1, 0, &sh), CAS_EJSON);
    CHECK(sh.type == NULL);
  }
  CHECK_EQ_INT(cas_json_scan("{}", 2, 0, NULL), CAS_EINVAL);
}

static int parse(const char *s, cJSON **out) { return parse_n(s, strlen(s), 0, out); }

/* The return code alone; the tree, if any, is dropped. */
static int parse_rc(const char *s, int max_depth) {
  cJSON *root = NULL;
  int rc = parse_n(s, strlen(s), max_depth, &root);

  if ((rc == CAS_OK) != (root != NULL)) rc = 999; /* breaks the caller's CHECK */
  cJSON_Delete(root);
  return rc;
}

static int valid(const char *s) {
  size_t n = strlen(s);
  char *copy = malloc(n ? n : 1);
  int ok;

  if (!copy) return -1;
  memcpy(copy, s, n);
  ok = cas_utf8_valid(copy, n);
  free(copy);
  return ok;
}

/* --- UTF-8 -------------------------------------------------------------- */

static void test_utf8_valid(void) {
  CHECK(cas_utf8_valid(NULL, 0) == 1);
  CHECK(valid("") == 1);
  CHECK(valid("plain ascii, long enough for the 8-byte path") == 1);
  /* The first and last code point of each length. */
  CHECK(valid("\x7F") == 1);
  CHECK(valid("\xC2\x80") == 1);
  CHECK(valid("\xDF\xBF") == 1);
  CHECK(valid("\xE0\xA0\x80") == 1);
  CHECK(valid("\xEF\xBF\xBF") == 1);
  CHECK(valid("\xF0\x90\x80\x80") == 1);
  CHECK(valid("\xF4\x8F\xBF\xBF") == 1);
  /* Around the surrogates. */
  CHECK(valid("\xED\x9F\xBF") == 1);
  CHECK(valid("\xEE\x80\x80") == 1);
  CHECK(valid("caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80") == 1);

  CHECK(valid("\xC0\x80") == 0); /* overlong NUL */
  CHECK(valid("\xC1\xBF") == 0); /* overlong */
  CHECK(valid("\xE0\x80\x80") == 0); /* overlong 3-byte */
  CHECK(valid("\xE0\x9F\xBF") == 0); /* overlong 3-byte */
  CHECK(valid("\xF0\x80\x80\x80") == 0); /* overlong 4-byte */
  CHECK(valid("\xF0\x8F\xBF\xBF") == 0); /* overlong 4-byte */
  CHECK(valid("\xED\xA0\x80") == 0); /* U+D800 */
  CHECK(valid("\xED\xBF\xBF") == 0); /* U+DFFF */
  CHECK(valid("\xF4\x90\x80\x80") == 0); /* U+110000 */
  CHECK(valid("\xF5\x80\x80\x80") == 0);
  CHECK(valid("\xF8\x88\x80\x80\x80") == 0);
  CHECK(valid("\xFE") == 0);
  CHECK(valid("\xFF") == 0);
  CHECK(valid("\x80") == 0); /* stray continuation */
  CHECK(valid("a\xBF") == 0);
  CHECK(valid("\xE2\x82") == 0); /* truncated */
  CHECK(valid("\xF0\x9F\x98") == 0);
  CHECK(valid("\xC3") == 0);
  CHECK(valid("\xE2\x28\xA1") == 0); /* bad continuation */
  CHECK(valid("\xC3\x28") == 0);
  CHECK(valid("0123456789abcdef\xE2\x82") == 0);
}

static void test_utf8_every_position(void) {
  /* One bad byte at every offset of a long ASCII run, so every alignment of
   * the 8-byte path meets it, and a good 4-byte char likewise. */
  char s[80];
  size_t i;
  int bad = 0;

  for (i = 0; i + 4 <= sizeof s; i++) {
    memset(s, 'a', sizeof s);
    s[i] = (char)0xFF;
    if (cas_utf8_valid(s, sizeof s) != 0) bad++;
    memcpy(s + i, "\xF0\x9F\x98\x80", 4);
    if (cas_utf8_valid(s, sizeof s) != 1) bad++;
    if (cas_utf8_valid(s, i + 3) != 0) bad++; /* cut inside the char */
  }
  CHECK_EQ_INT(bad, 0);
}

/* --- parsing ------------------------------------------------------------ */

static void test_parse_scalars(void) {
  cJSON *root = NULL;

  CHECK_EQ_INT(parse("null", &root), CAS_OK);
  CHECK(cJSON_IsNull(root));
  cJSON_Delete(root);
  CHECK_EQ_INT(parse("true", &root), CAS_OK);
  CHECK(cJSON_IsTrue(root));
  cJSON_Delete(root);
  CHECK_EQ_INT(parse(" false ", &root), CAS_OK);
  CHECK(cJSON_IsFalse(root));
  cJSON_Delete(root);
  CHECK_EQ_INT(parse("\"h\\u00e9\\n\"", &root), CAS_OK);
  CHECK(cJSON_IsString(root) && strcmp(root->valuestring, "h\xC3\xA9\n") == 0);
  cJSON_Delete(root);
  CHECK_EQ_INT(parse("\"\\ud83d\\ude00\"", &root), CAS_OK);
  CHECK(cJSON_IsString(root) && strcmp(root->valuestring, "\xF0\x9F\x98\x80") == 0);
  cJSON_Delete(root);
  CHECK_EQ_INT(parse("\"\\\"\\\\\\/\\b\\f\\r\\t\"", &root), CAS_OK);
  CHECK(cJSON_IsString(root) && strcmp(root->valuestring, "\"\\/\b\f\r\t") == 0);
  cJSON_Delete(root);
}

static void test_parse_empty_containers(void) {
  cJSON *a = NULL, *o = NULL;

  CHECK_EQ_INT(parse("[]", &a), CAS_OK);
  CHECK_EQ_INT(parse("{}", &o), CAS_OK);
  CHECK(cJSON_IsArray(a) && !cJSON_IsObject(a) && a->child == NULL);
  CHECK(cJSON_IsObject(o) && !cJSON_IsArray(o) && o->child == NULL);
  cJSON_Delete(a);
  cJSON_Delete(o);
  CHECK_EQ_INT(parse("{\"a\":[],\"b\":{}}", &o), CAS_OK);
  CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(o, "a")));
  CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "b")));
  cJSON_Delete(o);
  CHECK_EQ_INT(parse_rc(" [ ] ", 0), CAS_OK);
  CHECK_EQ_INT(parse_rc("{ }", 0), CAS_OK);
}

static void test_parse_numbers(void) {
  cJSON *root = NULL;
  char big[80];

  CHECK_EQ_INT(parse("9007199254740993", &root), CAS_OK);
  /* cJSON keeps a double: 2^53 + 1 arrives as its nearest double, 2^53. */
  CHECK(cJSON_IsNumber(root) && root->valuedouble == 9007199254740992.0);
  cJSON_Delete(root);
  CHECK_EQ_INT(parse("[0, -0, 42, -17, 3.25, 1e3, 2E-2, 1.5e+2]", &root), CAS_OK);
  CHECK_EQ_INT(cJSON_GetArraySize(root), 8);
  CHECK(cJSON_GetArrayItem(root, 2)->valueint == 42);
  CHECK(cJSON_GetArrayItem(root, 3)->valueint == -17);
  CHECK(cJSON_GetArrayItem(root, 4)->valuedouble == 3.25);
  CHECK(cJSON_GetArrayItem(root, 5)->valuedouble == 1000.0);
  CHECK(cJSON_GetArrayItem(root, 6)->valuedouble == 0.02);
  CHECK(cJSON_GetArrayItem(root, 7)->valuedouble == 150.0);
  cJSON_Delete(root);
  CHECK_EQ_INT(parse("{\"n\":18446744073709551616}", &root), CAS_OK);
  CHECK(cJSON_GetObjectItemCaseSensitive(root, "n")->valuedouble == 18446744073709551616.0);
  cJSON_Delete(root);
  /* Up to 63 characters is what cJSON can read; 64 is refused. */
  memset(big, '1', sizeof big);
  big[63] = '\0';
  CHECK_EQ_INT(parse_rc(big, 0), CAS_OK);
  big[63] = '1';
  big[64] = '\0';
  CHECK_EQ_INT(parse_rc(big, 0), CAS_EJSON);
}

/* d nested arrays, or d nested objects {"a":...} around a 0. */
static char *nested(size_t d, int objects) {
  size_t open = objects ? 5 : 1, n = d * (open + 1) + 1, i;
  char *s = malloc(n + 1), *p = s;

  if (!s) return NULL;
  for (i = 0; i < d; i++) {
    memcpy(p, objects ? "{\"a\":" : "[", open);
    p += open;
  }
  *p++ = '0';
  for (i = 0; i < d; i++) *p++ = objects ? '}' : ']';
  *p = '\0';
  return s;
}

static void test_depth_boundary(void) {
  char *a512 = nested(512, 0), *a513 = nested(513, 0);
  char *o512 = nested(512, 1), *o513 = nested(513, 1);
  char *a1000 = nested(1000, 0), *a1001 = nested(1001, 0);

  /* Depth counts open containers; depth == limit is accepted. */
  CHECK_EQ_INT(parse_rc(a512, 512), CAS_OK);
  CHECK_EQ_INT(parse_rc(a513, 512), CAS_EDEPTH);
  CHECK_EQ_INT(parse_rc(o512, 512), CAS_OK);
  CHECK_EQ_INT(parse_rc(o513, 512), CAS_EDEPTH);
  /* 0 means CAS_JSON_MAX_DEPTH (512). */
  CHECK_EQ_INT(parse_rc(a512, 0), CAS_OK);
  CHECK_EQ_INT(parse_rc(o513, 0), CAS_EDEPTH);
  CHECK_EQ_INT(parse_rc(a513, 513), CAS_OK);
  /* Small limits. */
  CHECK_EQ_INT(parse_rc("0", 1), CAS_OK);
  CHECK_EQ_INT(parse_rc("[]", 1), CAS_OK);
  CHECK_EQ_INT(parse_rc("{\"a\":1,\"b\":\"x\"}", 1), CAS_OK);
  CHECK_EQ_INT(parse_rc("[[]]", 1), CAS_EDEPTH);
  CHECK_EQ_INT(parse_rc("{\"a\":[]}", 1), CAS_EDEPTH);
  CHECK_EQ_INT(parse_rc("[{}, [], {\"a\":[]}]", 2), CAS_EDEPTH);
  CHECK_EQ_INT(parse_rc("[{}, [], {\"a\":1}, [1]]", 2), CAS_OK);
  /* Brackets inside strings, escaped quotes too, are not nesting. */
  CHECK_EQ_INT(parse_rc("[\"[[[[{{{{\", \"\\\"[[[[\\\\\", \"]]]]\"]", 1), CAS_OK);
  /* Above cJSON's own limit (1000) the limit is lowered to it. */
  CHECK_EQ_INT(parse_rc(a1000, 5000), CAS_OK);
  CHECK_EQ_INT(parse_rc(a1001, 5000), CAS_EDEPTH);
  CHECK_EQ_INT(parse_rc(a1000, 1000), CAS_OK);
  CHECK_EQ_INT(parse_rc(a1001, 1000), CAS_EDEPTH);
  free(a512);
  free(a513);
  free(o512);
  free(o513);
  free(a1000);
  free(a1001);
}

static void test_depth_100000(void) {
  size_t n = 100000;
  char *open = malloc(n), *closed = nested(n, 0), *objs = nested(n, 1);
  cJSON *root = (cJSON *)1;

  CHECK(open && closed && objs);
  if (!open || !closed || !objs) return;
  memset(open, '[', n);
  CHECK_EQ_INT(cas_json_parse(open, n, 0, &root), CAS_EDEPTH);
  CHECK(root == NULL);
  CHECK_EQ_INT(parse_rc(closed, 0), CAS_EDEPTH);
  CHECK_EQ_INT(parse_rc(objs, 0), CAS_EDEPTH);
  CHECK_EQ_INT(parse_rc(closed, 100000), CAS_EDEPTH);
  free(open);
  free(closed);
  free(objs);
}

static void test_invalid_utf8(void) {
  CHECK_EQ_INT(parse_rc("{\"a\":\"\xC0\x80\"}", 0), CAS_EUTF8);
  CHECK_EQ_INT(parse_rc("{\"a\":\"\xED\xA0\x80\"}", 0), CAS_EUTF8);
  CHECK_EQ_INT(parse_rc("{\"a\":\"\xF5\x80\x80\x80\"}", 0), CAS_EUTF8);
  CHECK_EQ_INT(parse_rc("{\"a\":\"\xE2\x82\"}", 0), CAS_EUTF8);
  CHECK_EQ_INT(parse_rc("{\"a\":\"\xE2\x82", 0), CAS_EUTF8);
  CHECK_EQ_INT(parse_rc("{\"\xFF\":1}", 0), CAS_EUTF8);
  CHECK_EQ_INT(parse_rc("{\"a\":\"long ascii text before it \x80\"}", 0), CAS_EUTF8);
  /* Outside strings too, and invalid UTF-8 wins over other errors. */
  CHECK_EQ_INT(parse_rc("\xC0\x80", 0), CAS_EUTF8);
  CHECK_EQ_INT(parse_rc("\xC3\xA9", 0), CAS_EJSON); /* valid UTF-8, not JSON */
  CHECK_EQ_INT(parse_rc("{} \xFF", 0), CAS_EUTF8);
  CHECK_EQ_INT(parse_rc("{\"a\" 1, \"b\":\"\xC0\x80\"}", 0), CAS_EUTF8);
  CHECK_EQ_INT(parse_rc("[[[\"\xED\xA0\x80\"]]]", 1), CAS_EUTF8);
  /* Valid non-ASCII passes through unchanged. */
  {
    cJSON *root = NULL;
    CHECK_EQ_INT(parse("{\"k\xC3\xA9\":\"\xE4\xB8\xAD\xF0\x9F\x98\x80\"}", &root), CAS_OK);
    CHECK(strcmp(cas_json_get_string(root, "k\xC3\xA9"), "\xE4\xB8\xAD\xF0\x9F\x98\x80") == 0);
    cJSON_Delete(root);
  }
}

static void test_invalid_json(void) {
  static const char *bad[] = {
      "",
      "   ",
      "\r\n",
      "{}x",
      "{} {}",
      "[] 1",
      "nullx",
      "{\"a\":",
      "{\"a\"",
      "{\"a\":1",
      "[1,",
      "[1",
      "\"abc",
      "\"abc\\",
      "\"abc\\\"",
      "hello",
      "nul",
      "tru",
      "fals",
      "True",
      "NaN",
      "Infinity",
      "-Infinity",
      "undefined",
      "01",
      "-01",
      "+1",
      ".5",
      "1.",
      "1.e5",
      "1e",
      "1e+",
      "-",
      "--1",
      "0x10",
      "[1,]",
      "[,1]",
      "{\"a\":1,}",
      "{,}",
      "{\"a\" 1}",
      "{\"a\"::1}",
      "{1:2}",
      "{a:1}",
      "{'a':1}",
      "['a']",
      "[1 2]",
      "{\"a\":1 \"b\":2}",
      "\"tab\there\"",
      "\"nl\nhere\"",
      "\"bell\x01\"",
      "\"bad \\x escape\"",
      "\"\\u12\"",
      "\"\\u12G4\"",
      "\"\\U0041\"",
      "]",
      "}",
      "[}",
      "{]",
      "[[]",
      "[]]",
      "\xEF\xBB\xBF{}",
      "\f{}",
      "{}\v",
      "/* c */ {}",
      "{\"a\":1}//",
  };
  size_t i;

  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = parse_rc(bad[i], 0);
    if (rc != CAS_EJSON) printf("#   input %u: rc %d\n", (unsigned)i, rc);
    CHECK_EQ_INT(rc, CAS_EJSON);
  }
  /* A NUL byte is not whitespace, nor allowed raw in a string. */
  {
    cJSON *root = NULL;
    CHECK_EQ_INT(parse_n("{}\0", 3, 0, &root), CAS_EJSON);
    CHECK_EQ_INT(parse_n("\"a\0b\"", 5, 0, &root), CAS_EJSON);
    CHECK(root == NULL);
  }
}

static void test_whitespace_and_exact_length(void) {
  cJSON *root = NULL;

  CHECK_EQ_INT(parse(" \t\r\n{\"a\" : [ 1 , 2 ] }\r\n\t ", &root), CAS_OK);
  CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "a")), 2);
  cJSON_Delete(root);
  /* Values that end exactly at the end of the buffer (no NUL after). */
  CHECK_EQ_INT(parse_rc("12345", 0), CAS_OK);
  CHECK_EQ_INT(parse_rc("-1.5e-3", 0), CAS_OK);
  CHECK_EQ_INT(parse_rc("true", 0), CAS_OK);
  CHECK_EQ_INT(parse_rc("\"s\"", 0), CAS_OK);
  CHECK_EQ_INT(parse_rc("{\"a\":null}", 0), CAS_OK);
  /* Only the first len bytes count. */
  CHECK_EQ_INT(parse_n("{\"a\":1} trailing", 7, 0, &root), CAS_OK);
  cJSON_Delete(root);
}

static void test_lone_surrogates(void) {
  static const char in[] = "{\"a\":\"x\\ud83d\",\"b\":\"\\ude00y\",\"c\":\"\\ud83d\\u0041\","
                           "\"d\":\"\\ud83d\\ud83d\\ude00\",\"e\":\"\\\\ud83d\"}";
  char copy[sizeof in];
  cJSON *root = NULL;

  memcpy(copy, in, sizeof in);
  CHECK_EQ_INT(cas_json_parse(copy, sizeof in - 1, 0, &root), CAS_OK);
  /* The line itself is not modified: the rewrite happens on a copy. */
  CHECK(memcmp(copy, in, sizeof in) == 0);
  CHECK(strcmp(cas_json_get_string(root, "a"), "x\xEF\xBF\xBD") == 0);
  CHECK(strcmp(cas_json_get_string(root, "b"), "\xEF\xBF\xBDy") == 0);
  CHECK(strcmp(cas_json_get_string(root, "c"), "\xEF\xBF\xBD"
                                               "A") == 0);
  CHECK(strcmp(cas_json_get_string(root, "d"), "\xEF\xBF\xBD\xF0\x9F\x98\x80") == 0);
  /* An escaped backslash followed by "ud83d" is plain text. */
  CHECK(strcmp(cas_json_get_string(root, "e"), "\\ud83d") == 0);
  cJSON_Delete(root);
}

static void test_string_scan_every_position(void) {
  /* Each kind of byte the string scan must stop at, at every offset of a
   * 48-byte string, so the 16- and 8-byte steps meet it at every alignment. */
  static const struct {
    const char *ins;
    int rc;
    const char *val;
  } cases[] = {
      {"\\\"", CAS_OK, "\""},
      {"\\\\", CAS_OK, "\\"},
      {"\\n", CAS_OK, "\n"},
      {"\\u00e9", CAS_OK, "\xC3\xA9"},
      {"\xC3\xA9", CAS_OK, "\xC3\xA9"},
      {"\xF0\x9F\x98\x80", CAS_OK, "\xF0\x9F\x98\x80"},
      {"\x7F", CAS_OK, "\x7F"},
      {"\x1F", CAS_EJSON, NULL},
      {"\t", CAS_EJSON, NULL},
      {"\xC0\x80", CAS_EUTF8, NULL},
      {"\xED\xA0\x80", CAS_EUTF8, NULL},
      {"\\q", CAS_EJSON, NULL},
      {"\"", CAS_EJSON, NULL}, /* ends the string early: garbage follows */
  };
  size_t c, at;
  int bad = 0;

  for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    for (at = 0; at <= 48; at++) {
      char in[128], want[128];
      size_t k = strlen(cases[c].ins), n = 0;
      cJSON *root = NULL;
      int rc;

      in[n++] = '"';
      memset(in + n, 'a', at);
      n += at;
      memcpy(in + n, cases[c].ins, k);
      n += k;
      memset(in + n, 'b', 48 - at);
      n += 48 - at;
      in[n++] = '"';
      rc = parse_n(in, n, 0, &root);
      if (rc != cases[c].rc) bad++;
      if (rc == CAS_OK && cases[c].val) {
        memset(want, 'a', at);
        strcpy(want + at, cases[c].val);
        memset(want + strlen(want), 'b', 48 - at);
        want[at + strlen(cases[c].val) + 48 - at] = '\0';
        if (!cJSON_IsString(root) || strcmp(root->valuestring, want) != 0) bad++;
      }
      cJSON_Delete(root);
      /* The same string cut just before its closing quote (except where
       * the inserted quote would close it). */
      if (cases[c].val && parse_n(in, n - 1, 0, &root) != CAS_EJSON) bad++;
    }
  }
  CHECK_EQ_INT(bad, 0);
}

static void test_bad_arguments(void) {
  cJSON *root = (cJSON *)1;

  CHECK_EQ_INT(cas_json_parse("{}", 2, 0, NULL), CAS_EINVAL);
  CHECK_EQ_INT(cas_json_parse(NULL, 2, 0, &root), CAS_EINVAL);
  CHECK(root == NULL);
  CHECK_EQ_INT(cas_json_parse("{}", 2, -1, &root), CAS_EINVAL);
  CHECK_EQ_INT(cas_json_parse(NULL, 0, 0, &root), CAS_EJSON);
}

/* cJSON's allocator, made to fail after a number of allocations. */
static long alloc_budget = -1;

static void *failing_malloc(size_t n) {
  if (alloc_budget == 0) return NULL;
  if (alloc_budget > 0) alloc_budget--;
  return malloc(n);
}

static void test_out_of_memory(void) {
  static const char frame[] = "{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]},"
                              "\"session_id\":\"s\"}";
  cJSON_Hooks hooks = {failing_malloc, free};
  long budget;
  int nomem = 0, other = 0, ok = 0;

  cJSON_InitHooks(&hooks);
  for (budget = 0; budget < 200 && !ok; budget++) {
    cJSON *root = NULL;
    int rc;

    alloc_budget = budget;
    rc = parse_n(frame, sizeof frame - 1, 0, &root);
    if (rc == CAS_ENOMEM && root == NULL)
      nomem++;
    else if (rc == CAS_OK && root != NULL)
      ok = 1;
    else
      other++;
    cJSON_Delete(root);
  }
  alloc_budget = -1;
  cJSON_InitHooks(NULL);
  /* Every failed allocation is reported as such, never as bad JSON. */
  CHECK(nomem > 5);
  CHECK_EQ_INT(other, 0);
  CHECK_EQ_INT(ok, 1);
}

/* Random edits of valid frames: nothing crashes, and whatever the check lets
 * through, cJSON parses (a disagreement would surface as CAS_ENOMEM). */
static void test_mutations(void) {
  static const char *seeds[] = {
      "{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"text\",\"text\":\"caf\xC3\xA9 "
      "\\u00e9 \\ud83d\\ude00\"}],\"usage\":{\"input_tokens\":5,\"output_tokens\":-3.5e2}},"
      "\"parent_tool_use_id\":null,\"ok\":true,\"no\":false}",
      "[1, [2, [3, {\"a\": [4, \"\\\\\\\"\"]}]], -0.0e+0, \"\xF0\x9F\x98\x80\"]",
  };
  static const char alphabet[] = "{}[]\",:\\u0123456789abcdefeE.+- \t\r\ntrnl\xC3\xA9\xED\xF0\x80";
  uint32_t seed = 12345;
  int i, ok = 0, nomem = 0, other = 0;

  for (i = 0; i < 20000; i++) {
    const char *src = seeds[i % 2];
    size_t n = strlen(src), edits, k;
    char buf[512];
    cJSON *root = NULL;
    int rc;

    memcpy(buf, src, n);
    seed = seed * 1103515245u + 12345u;
    edits = 1 + (seed >> 16) % 3;
    for (k = 0; k < edits && n > 1; k++) {
      size_t at;
      seed = seed * 1103515245u + 12345u;
      at = (seed >> 8) % n;
      seed = seed * 1103515245u + 12345u;
      switch ((seed >> 16) % 3) {
        case 0: /* replace a byte */ buf[at] = alphabet[(seed >> 4) % (sizeof alphabet - 1)]; break;
        case 1: /* delete a byte */
          memmove(buf + at, buf + at + 1, n - at - 1);
          n--;
          break;
        default: /* cut the line */ n = at + 1; break;
      }
    }
    rc = parse_n(buf, n, 0, &root);
    if (rc == CAS_OK)
      ok++;
    else if (rc == CAS_ENOMEM)
      nomem++;
    else if (rc != CAS_EJSON && rc != CAS_EUTF8 && rc != CAS_EDEPTH)
      other++;
    cJSON_Delete(root);
  }
  CHECK_EQ_INT(nomem, 0);
  CHECK_EQ_INT(other, 0);
  CHECK(ok > 0);
}

/* --- frames ------------------------------------------------------------- */

static int kind_of(const char *s) {
  cJSON *root = NULL;
  int kind;

  if (parse(s, &root) != CAS_OK) return -1;
  kind = (int)cas_frame_classify(root);
  cJSON_Delete(root);
  return kind;
}

static void test_classify(void) {
  CHECK_EQ_INT(kind_of("{\"type\":\"control_request\",\"request_id\":\"r1\",\"request\":{}}"),
               CAS_FRAME_CONTROL_REQUEST);
  CHECK_EQ_INT(kind_of("{\"type\":\"control_response\",\"response\":{}}"), CAS_FRAME_CONTROL_RESPONSE);
  CHECK_EQ_INT(kind_of("{\"type\":\"control_cancel_request\",\"request_id\":\"r1\"}"), CAS_FRAME_CONTROL_CANCEL);
  CHECK_EQ_INT(kind_of("{\"type\":\"keep_alive\"}"), CAS_FRAME_KEEP_ALIVE);
  CHECK_EQ_INT(kind_of("{\"type\":\"transcript_mirror\"}"), CAS_FRAME_TRANSCRIPT_MIRROR);
  CHECK_EQ_INT(kind_of("{\"type\":\"assistant\"}"), CAS_FRAME_MESSAGE);
  CHECK_EQ_INT(kind_of("{\"type\":\"user\"}"), CAS_FRAME_MESSAGE);
  CHECK_EQ_INT(kind_of("{\"type\":\"result\",\"subtype\":\"success\"}"), CAS_FRAME_MESSAGE);
  CHECK_EQ_INT(kind_of("{\"subtype\":\"init\",\"type\":\"system\"}"), CAS_FRAME_MESSAGE);
  CHECK_EQ_INT(kind_of("{\"type\":\"some_future_type\"}"), CAS_FRAME_MESSAGE);
  CHECK_EQ_INT(kind_of("{\"type\":\"\"}"), CAS_FRAME_MESSAGE);
  CHECK_EQ_INT(kind_of("{\"type\":\"control_request_x\"}"), CAS_FRAME_MESSAGE);
  CHECK_EQ_INT(kind_of("{\"type\":\"Control_Request\"}"), CAS_FRAME_MESSAGE);

  CHECK_EQ_INT(kind_of("{}"), CAS_FRAME_INVALID);
  CHECK_EQ_INT(kind_of("{\"Type\":\"assistant\"}"), CAS_FRAME_INVALID);
  CHECK_EQ_INT(kind_of("{\"type\":1}"), CAS_FRAME_INVALID);
  CHECK_EQ_INT(kind_of("{\"type\":null}"), CAS_FRAME_INVALID);
  CHECK_EQ_INT(kind_of("{\"type\":[\"assistant\"]}"), CAS_FRAME_INVALID);
  CHECK_EQ_INT(kind_of("{\"message\":{\"type\":\"assistant\"}}"), CAS_FRAME_INVALID);
  CHECK_EQ_INT(kind_of("[{\"type\":\"assistant\"}]"), CAS_FRAME_INVALID);
  CHECK_EQ_INT(kind_of("\"assistant\""), CAS_FRAME_INVALID);
  CHECK_EQ_INT(kind_of("null"), CAS_FRAME_INVALID);
  CHECK_EQ_INT(cas_frame_classify(NULL), CAS_FRAME_INVALID);
}

static void test_lookups(void) {
  cJSON *root = NULL, *arr = NULL;

  CHECK_EQ_INT(parse("{\"s\":\"v\",\"t\":true,\"f\":false,\"n\":null,\"i\":1,\"o\":{}}", &root), CAS_OK);
  CHECK_EQ_INT(parse("[\"s\"]", &arr), CAS_OK);
  CHECK(strcmp(cas_json_get_string(root, "s"), "v") == 0);
  CHECK(cas_json_get_string(root, "S") == NULL);
  CHECK(cas_json_get_string(root, "t") == NULL);
  CHECK(cas_json_get_string(root, "i") == NULL);
  CHECK(cas_json_get_string(root, "o") == NULL);
  CHECK(cas_json_get_string(root, "missing") == NULL);
  CHECK(cas_json_get_string(NULL, "s") == NULL);
  CHECK(cas_json_get_string(arr, "s") == NULL);
  CHECK(cas_json_get_string(root, NULL) == NULL);

  CHECK_EQ_INT(cas_json_get_bool(root, "t", 7), 1);
  CHECK_EQ_INT(cas_json_get_bool(root, "f", 7), 0);
  CHECK_EQ_INT(cas_json_get_bool(root, "n", 7), 7);
  CHECK_EQ_INT(cas_json_get_bool(root, "i", 7), 7);
  CHECK_EQ_INT(cas_json_get_bool(root, "s", 7), 7);
  CHECK_EQ_INT(cas_json_get_bool(root, "missing", -1), -1);
  CHECK_EQ_INT(cas_json_get_bool(root, "T", 0), 0);
  CHECK_EQ_INT(cas_json_get_bool(NULL, "t", 5), 5);
  CHECK_EQ_INT(cas_json_get_bool(arr, "t", 5), 5);
  cJSON_Delete(root);
  cJSON_Delete(arr);
}

static void test_realistic_frame(void) {
  static const char frame[] =
      "{\"type\":\"assistant\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":"
      "\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[{\"type\":\"text\",\"text\":"
      "\"Hello! \\\"quoted\\\" and caf\xC3\xA9.\"}],\"stop_reason\":null,\"stop_sequence\":null,"
      "\"usage\":{\"input_tokens\":5,\"output_tokens\":3}},\"parent_tool_use_id\":null,"
      "\"session_id\":\"6f1c2a9e-3b7d-4e8f-9a0b-1c2d3e4f5a6b\",\"uuid\":"
      "\"0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9\"}";
  cJSON *root = NULL, *msg, *content;

  CHECK_EQ_INT(parse_n(frame, sizeof frame - 1, 0, &root), CAS_OK);
  CHECK_EQ_INT(cas_frame_classify(root), CAS_FRAME_MESSAGE);
  CHECK(strcmp(cas_json_get_string(root, "session_id"), "6f1c2a9e-3b7d-4e8f-9a0b-1c2d3e4f5a6b") == 0);
  msg = cJSON_GetObjectItemCaseSensitive(root, "message");
  content = cJSON_GetObjectItemCaseSensitive(msg, "content");
  CHECK(cJSON_IsArray(content));
  CHECK(strcmp(cas_json_get_string(cJSON_GetArrayItem(content, 0), "text"), "Hello! \"quoted\" and caf\xC3\xA9.") == 0);
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(msg, "stop_reason")));
  cJSON_Delete(root);
}

/* --- error table -------------------------------------------------------- */

static void test_error_names(void) {
  static const struct {
    int code;
    const char *name;
  } all[] = {
      {CAS_OK, "CAS_OK"},           {CAS_ENOMEM, "CAS_ENOMEM"},
      {CAS_EINVAL, "CAS_EINVAL"},   {CAS_ENOTFOUND, "CAS_ENOTFOUND"},
      {CAS_ENOEXEC, "CAS_ENOEXEC"}, {CAS_ENOCWD, "CAS_ENOCWD"},
      {CAS_ESPAWN, "CAS_ESPAWN"},   {CAS_EPIPE, "CAS_EPIPE"},
      {CAS_ECLOSED, "CAS_ECLOSED"}, {CAS_ELINE, "CAS_ELINE"},
      {CAS_EJSON, "CAS_EJSON"},     {CAS_EUTF8, "CAS_EUTF8"},
      {CAS_EDEPTH, "CAS_EDEPTH"},   {CAS_ETIMEOUT, "CAS_ETIMEOUT"},
      {CAS_EEXIT, "CAS_EEXIT"},     {CAS_ESYS, "CAS_ESYS"},
      {CAS_EREMOTE, "CAS_EREMOTE"}, {CAS_EAGAIN, "CAS_EAGAIN"},
  };
  size_t i, j;

  for (i = 0; i < sizeof all / sizeof all[0]; i++) {
    const char *text = cas_strerror(all[i].code);
    CHECK(strcmp(cas_err_name(all[i].code), all[i].name) == 0);
    CHECK(text != NULL && *text && strcmp(text, "unknown error") != 0);
    for (j = 0; j < i; j++) CHECK(strcmp(text, cas_strerror(all[j].code)) != 0);
  }
  CHECK(strcmp(cas_strerror(CAS_ELINE), "line exceeds the maximum buffer size") == 0);
  CHECK(strcmp(cas_strerror(CAS_EUTF8), "invalid UTF-8") == 0);
  CHECK(strcmp(cas_strerror(-999), "unknown error") == 0);
  CHECK(strcmp(cas_err_name(-999), "CAS_EUNKNOWN") == 0);
  CHECK(strcmp(cas_err_name(1), "CAS_EUNKNOWN") == 0);
  CHECK(strcmp(cas_errno_name(ENOENT), "ENOENT") == 0);
  CHECK(strcmp(cas_errno_name(ENOTDIR), "ENOTDIR") == 0);
  CHECK(strcmp(cas_errno_name(EACCES), "EACCES") == 0);
  CHECK(strcmp(cas_errno_name(0), "EUNKNOWN") == 0);
  CHECK(strcmp(cas_errno_name(-1), "EUNKNOWN") == 0);
}

/* The check in pieces accepts what the scan accepts, at that place. */
static void test_pieces(void) {
  static const char alphabet[] = "ab\"\\u0fx\t\303\251\355\240\200\377 ";
  static const char *strings[][2] = {
      /* body, what follows the closing quote ("" when refused) */
      {"abc\",", ","},
      {"\",", ","},
      {"a\\nb\"x", "x"},
      {"\303\251\"", ""},
      {"0123456789abcdef0123\"!", "!"},
      {"0123456789abcdef\\\"\"?", "?"},
      {"a\tb\"", NULL},
      {"a\377\"", NULL},
      {"a\\x\"", NULL},
      {"abc", NULL},
      {"0123456789abcdef0123456789", NULL},
      {"\\u12G4\"", NULL},
  };
  size_t i, k;
  unsigned seed = 7;
  char buf[64], line[70];
  int esc;
  cas_json_shape_t sh;

  for (i = 0; i < sizeof strings / sizeof strings[0]; i++) {
    const char *b = strings[i][0], *want = strings[i][1];
    const char *q = cas__json_string_end(b, b + strlen(b), &esc);
    if (want)
      CHECK(q && strcmp(q, want) == 0);
    else
      CHECK(q == NULL);
  }
  CHECK(cas__json_string_end("a\\nb\"", "a\\nb\"" + 6, &esc) && esc == 1);
  CHECK(cas__json_string_end("ab\"", "ab\"" + 3, &esc) && esc == 0);
  /* random bodies, every length: a string ends where a scan of it agrees */
  for (i = 0; i < 20000; i++) {
    size_t n = (size_t)(seed % 40) + 1;
    const char *q;
    for (k = 0; k < n; k++) {
      seed = seed * 1103515245u + 12345u;
      buf[k] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
    }
    line[0] = '"';
    memcpy(line + 1, buf, n);
    q = cas__json_string_end(buf, buf + n, &esc);
    if (q)
      CHECK_EQ_INT(cas_json_scan(line, (size_t)(q - buf) + 1, 0, &sh), CAS_OK);
    else
      CHECK(cas_json_scan(line, n + 1, 0, &sh) < 0);
  }

  CHECK(strcmp(cas__json_number_end("-1.5e+3}", "-1.5e+3}" + 8), "}") == 0);
  CHECK(strcmp(cas__json_number_end("01", "01" + 2), "1") == 0); /* 0, then something else */
  CHECK(cas__json_number_end("-", "-" + 1) == NULL);
  CHECK(cas__json_number_end("1.", "1." + 2) == NULL);
  CHECK(cas__json_number_end("1e+", "1e+" + 3) == NULL);
  CHECK(cas__json_number_end(".5", ".5" + 2) == NULL);
  memset(buf, '7', 64);
  CHECK(cas__json_number_end(buf, buf + 63) == buf + 63);
  CHECK(cas__json_number_end(buf, buf + 64) == NULL); /* longer than cJSON reads */

  CHECK(strcmp(cas__json_value_end(" {\"a\":[1,2]} x", " {\"a\":[1,2]} x" + 15, 2), " x") == 0);
  CHECK(cas__json_value_end("[[1]]", "[[1]]" + 5, 1) == NULL);
  CHECK(cas__json_value_end("[[1]]", "[[1]]" + 5, 2) != NULL);
  CHECK(cas__json_value_end("\"x\"", "\"x\"" + 3, 0) != NULL);
  CHECK(cas__json_value_end("{\"a\":", "{\"a\":" + 5, 5) == NULL);
  CHECK(cas__json_value_end("nul", "nul" + 3, 5) == NULL);
  CHECK(cas__json_value_end("", "", 5) == NULL);
  CHECK_EQ_INT(cas_json_depth_limit(0), CAS_JSON_MAX_DEPTH);
  CHECK_EQ_INT(cas_json_depth_limit(7), 7);
  CHECK_EQ_INT(cas_json_depth_limit(100000), CJSON_NESTING_LIMIT);
}

#define CHECK_STR(a, b)                                                                                                \
  do {                                                                                                                 \
    const char *a_ = (a), *b_ = (b);                                                                                   \
    if (strcmp(a_, b_) != 0) printf("#   got %s, want %s\n", a_, b_);                                                  \
    CHECK(strcmp(a_, b_) == 0);                                                                                        \
  } while (0)

/* The buffer's text as a C string (the buffer keeps room for the NUL). */
static const char *buf_str(cas_buf_t *b) {
  if (cas_buf_reserve(b, 1) < 0) return "";
  b->data[b->len] = '\0';
  return b->data;
}

static void check_write_string(const char *s, size_t len, int lossy, int want_rc, const char *want) {
  cas_buf_t b;
  cas_buf_init(&b);
  CHECK(cas_buf_append(&b, "x", 1) == CAS_OK);
  CHECK_EQ_INT(cas_json_write_string(&b, s, len, lossy), want_rc);
  if (want_rc == CAS_OK) {
    cJSON *t = NULL;
    CHECK_STR(buf_str(&b) + 1, want);
    /* what is written reads back as the same bytes (up to a NUL: cJSON's strings end there) */
    if (!lossy && !memchr(s, '\0', len)) {
      CHECK_EQ_INT(cas_json_parse(b.data + 1, b.len - 1, 0, &t), CAS_OK);
      CHECK(t && cJSON_IsString(t) && strlen(t->valuestring) == len && memcmp(t->valuestring, s, len) == 0);
      cJSON_Delete(t);
    }
  } else {
    CHECK(b.len == 1); /* a failure leaves the buffer as it was */
  }
  cas_buf_free(&b);
}

static void check_write_double(double d, const char *want) {
  cas_buf_t b;
  cJSON *t = NULL;
  cas_buf_init(&b);
  CHECK_EQ_INT(cas_json_write_double(&b, d), CAS_OK);
  if (want) CHECK_STR(buf_str(&b), want);
  CHECK(strpbrk(buf_str(&b), ".e") != NULL);
  /* reads back as the same double, sign of zero included */
  CHECK_EQ_INT(cas_json_parse(b.data, b.len, 0, &t), CAS_OK);
  CHECK(t && cJSON_IsNumber(t) && t->valuedouble == d && signbit(t->valuedouble) == signbit(d));
  cJSON_Delete(t);
  cas_buf_free(&b);
}

static void test_write(void) {
  cas_buf_t b;
  char digits[32];
  uint64_t seed = 7;
  int i;

  check_write_string("plain", 5, 0, CAS_OK, "\"plain\"");
  check_write_string("", 0, 0, CAS_OK, "\"\"");
  check_write_string("q\"b\\s/\b\f\n\r\t", 11, 0, CAS_OK, "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\"");
  check_write_string("a\0b\x01\x1f\x7f", 6, 0, CAS_OK, "\"a\\u0000b\\u0001\\u001f\x7f\"");
  check_write_string("\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x8E\x89", 11, 0, CAS_OK,
                     "\"\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x8E\x89\"");
  check_write_string("a\xFF"
                     "b",
                     3, 0, CAS_EUTF8, NULL);
  check_write_string("\xED\xA0\x80", 3, 0, CAS_EUTF8, NULL); /* a surrogate in UTF-8 */
  check_write_string("\xC3", 1, 0, CAS_EUTF8, NULL); /* cut short */
  check_write_string("a\xFF"
                     "b\xC3",
                     4, 1, CAS_OK,
                     "\"a\xEF\xBF\xBD"
                     "b\xEF\xBF\xBD\"");

  cas_buf_init(&b);
  CHECK_EQ_INT(cas_json_write_string(&b, NULL, 1, 0), CAS_EINVAL);
  CHECK_EQ_INT(cas_json_write_int(&b, 0), CAS_OK);
  CHECK_EQ_INT(cas_json_write_int(&b, -7), CAS_OK);
  CHECK_EQ_INT(cas_json_write_int(&b, INT64_MAX), CAS_OK);
  CHECK_EQ_INT(cas_json_write_int(&b, INT64_MIN), CAS_OK);
  CHECK_STR(buf_str(&b), "0-79223372036854775807-9223372036854775808");
  cas_buf_clear(&b);
  CHECK_EQ_INT(cas_json_write_int(&b, INT64_C(9007199254740993)), CAS_OK);
  CHECK_STR(buf_str(&b), "9007199254740993");
  cas_buf_clear(&b);
  CHECK_EQ_INT(cas_json_write_double(&b, NAN), CAS_EINVAL);
  CHECK_EQ_INT(cas_json_write_double(&b, HUGE_VAL), CAS_EINVAL);
  CHECK_EQ_INT(cas_json_write_double(&b, -HUGE_VAL), CAS_EINVAL);
  CHECK(b.len == 0);
  cas_buf_free(&b);

  check_write_double(0.1, "0.1");
  check_write_double(1e300, "1e+300");
  check_write_double(-0.0, "-0.0");
  check_write_double(0.0, "0.0");
  check_write_double(3.0, "3.0");
  check_write_double(-2.5e-3, "-0.0025");
  check_write_double(1.0 / 3.0, "0.3333333333333333");
  check_write_double(9007199254740993.0, "9007199254740992.0");
  check_write_double(5e-324, NULL);
  check_write_double(DBL_MAX, NULL);
  check_write_double(-DBL_MIN, NULL);
  /* random bit patterns: every finite double reads back as itself */
  for (i = 0; i < 20000; i++) {
    uint64_t bits;
    double d;
    seed = seed * 6364136223846793005u + 1442695040888963407u;
    bits = seed ^ (seed >> 29);
    memcpy(&d, &bits, sizeof d);
    if (d != d || d > DBL_MAX || d < -DBL_MAX) continue;
    cas_buf_init(&b);
    CHECK_EQ_INT(cas_json_write_double(&b, d), CAS_OK);
    CHECK(b.len < sizeof digits && strtod(buf_str(&b), NULL) == d);
    cas_buf_free(&b);
  }
  /* a locale whose decimal point is a comma changes nothing */
  if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
    cas_buf_init(&b);
    CHECK_EQ_INT(cas_json_write_double(&b, 0.5), CAS_OK);
    CHECK_STR(buf_str(&b), "0.5");
    cas_buf_free(&b);
    setlocale(LC_NUMERIC, "C");
  }
}

int main(void) {
  RUN(test_utf8_valid);
  RUN(test_utf8_every_position);
  RUN(test_parse_scalars);
  RUN(test_parse_empty_containers);
  RUN(test_parse_numbers);
  RUN(test_depth_boundary);
  RUN(test_depth_100000);
  RUN(test_invalid_utf8);
  RUN(test_invalid_json);
  RUN(test_whitespace_and_exact_length);
  RUN(test_lone_surrogates);
  RUN(test_string_scan_every_position);
  RUN(test_bad_arguments);
  RUN(test_out_of_memory);
  RUN(test_mutations);
  RUN(test_classify);
  RUN(test_lookups);
  RUN(test_realistic_frame);
  RUN(test_error_names);
  RUN(test_scan_type);
  RUN(test_scan_reuse);
  RUN(test_unescape);
  RUN(test_pieces);
  RUN(test_write);
  return ctest_done();
}
