/* lua_cas.c - the Lua C module claude_agent_sdk.core: the only file that
 * includes lua.h.
 *
 * It is private: the public API is built in Lua on top of it.  Style follows
 * luv: misuse (wrong argument types) raises; a runtime failure returns
 * nil, message, code-name (e.g. nil, "executable not found", "ENOTFOUND"),
 * and the Lua layer turns that into a typed error object.
 *
 * Memory rule: no C allocation is ever live across a call that can raise a
 * Lua error.  Lua -> JSON conversion is written without raising calls (it
 * reports errors by return value, frees, then raises); JSON -> Lua conversion
 * works on a tree owned by the client userdata (the `cur` slot) or by a "box"
 * userdata, so a memory error while building tables leaves the tree to __gc.
 *
 * JSON mapping (DESIGN.md §4): null is a light userdata NULL (core.null, equal
 * to cjson.null); arrays get core.array_mt so an empty array encodes back as
 * []; integral numbers become Lua integers on 5.3+.  A table encodes as an
 * array when it carries array_mt or is a non-empty sequence 1..n, as an object
 * when all keys are strings; an empty plain table is an object {}.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "cas_client.h"
#include "cas_error.h"
#include "cas_json.h"

/* --- Lua 5.1 / LuaJIT compatibility (the whole shim) --------------------------- */
#if LUA_VERSION_NUM < 502
#define lua_rawlen(L, i) lua_objlen(L, (i))
#endif
/* luaL_setfuncs: each function shares the nup values on top of the stack
 * (popped) as its upvalues; LuaJIT has it, PUC 5.1 does not. */
static void lcas_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  int i;
  for (; l->name; l++) {
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}
#if LUA_VERSION_NUM >= 503
#define CAS_HAS_INTEGERS 1
#endif

#define CLIENT_MT "claude_agent_sdk.core.client"
#define BOX_MT "claude_agent_sdk.core.box"
#define ENCODE_MAX_DEPTH CAS_JSON_MAX_DEPTH

/* Registry keys (addresses are unique). */
static char array_mt_key;

typedef struct {
  cas_client_t *c;
  cas_item_t *cur; /* the item being converted; freed on the next pop or __gc */
  char *scratch;   /* escaped strings of a typed message decode here (lcas_push_typed) */
  size_t scratch_cap;
  int max_depth;   /* the client's max_depth option ... */
  int depth_limit; /* ... and the nesting limit the core checks lines against */
  cas_json_shape_t shape; /* the scan of an unchecked line that was not typed */
} lcas_client;

/* A box owns one C allocation until it is emptied or collected. */
typedef struct {
  cJSON *tree;
  char *text;
  cas_json_shape_t shape;
} lcas_box;

static int lcas_box_gc(lua_State *L) {
  lcas_box *b = (lcas_box *)lua_touserdata(L, 1);
  if (b->tree) cJSON_Delete(b->tree);
  if (b->text) cJSON_free(b->text);
  cas_json_shape_free(&b->shape);
  b->tree = NULL;
  b->text = NULL;
  return 0;
}

static lcas_box *lcas_newbox(lua_State *L) {
  lcas_box *b = (lcas_box *)lua_newuserdata(L, sizeof *b);
  b->tree = NULL;
  b->text = NULL;
  cas_json_shape_init(&b->shape);
  luaL_getmetatable(L, BOX_MT);
  lua_setmetatable(L, -2);
  return b;
}

static const char *lcas_code(int err) {
  const char *n = cas_err_name(err);
  return strncmp(n, "CAS_", 4) == 0 ? n + 4 : n;
}

static int lcas_fail(lua_State *L, int err, const char *msg) {
  lua_pushnil(L);
  lua_pushstring(L, msg ? msg : cas_strerror(err));
  lua_pushstring(L, lcas_code(err));
  return 3;
}

/* --- JSON tree -> Lua ----------------------------------------------------------- */

static void lcas_push_json(lua_State *L, const cJSON *v, int depth);

static void lcas_push_number(lua_State *L, double d) {
#ifdef CAS_HAS_INTEGERS
  /* 2^63 bounds the range where the cast is defined. */
  if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
    lua_pushinteger(L, (lua_Integer)d);
    return;
  }
#endif
  lua_pushnumber(L, d);
}

static void lcas_push_json(lua_State *L, const cJSON *v, int depth) {
  const cJSON *ch;
  int n = 0;
  if (depth > ENCODE_MAX_DEPTH + 8 || !lua_checkstack(L, 4)) {
    luaL_error(L, "JSON nested too deeply");
    return;
  }
  switch (v->type & 0xff) {
  case cJSON_NULL:
    lua_pushlightuserdata(L, NULL);
    return;
  case cJSON_False:
    lua_pushboolean(L, 0);
    return;
  case cJSON_True:
    lua_pushboolean(L, 1);
    return;
  case cJSON_Number:
    lcas_push_number(L, v->valuedouble);
    return;
  case cJSON_String:
  case cJSON_Raw:
    lua_pushstring(L, v->valuestring ? v->valuestring : "");
    return;
  case cJSON_Array:
    for (ch = v->child; ch; ch = ch->next) n++;
    lua_createtable(L, n, 0);
    n = 0;
    for (ch = v->child; ch; ch = ch->next) {
      lcas_push_json(L, ch, depth + 1);
      lua_rawseti(L, -2, ++n);
    }
    lua_pushlightuserdata(L, &array_mt_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_setmetatable(L, -2);
    return;
  case cJSON_Object:
    for (ch = v->child; ch; ch = ch->next) n++;
    lua_createtable(L, 0, n);
    for (ch = v->child; ch; ch = ch->next) {
      lua_pushstring(L, ch->string ? ch->string : "");
      lcas_push_json(L, ch, depth + 1);
      lua_rawset(L, -3);
    }
    return;
  default:
    lua_pushnil(L);
  }
}

/* --- scanned line -> Lua (one pass, no tree) ------------------------------------- */
/* Lines that are not typed (frames with no shape, and the rare hot frame the
 * typed walk gives up on): a line that cas_json_scan() accepted is walked once, building
 * each table at its final size from the scan's counts, pushing strings
 * straight from the line's bytes.  Escaped strings are unescaped in place
 * (the result is never longer than its escaped form), so nothing is
 * allocated besides the Lua values.  The line is trusted to be valid; the
 * checks that remain only keep the walk inside the buffer if that trust were
 * ever misplaced, and raise instead of reading past it.  The line is owned by
 * the client userdata's `cur` slot or by a userdata copy, so a Lua error
 * midway leaks nothing. */
typedef struct {
  char *p, *end;           /* cursor; end is the NUL after the line */
  const uint32_t *counts;  /* children per container, in opening order */
  size_t ci, nc;
  int array_mt;            /* stack index of core.array_mt */
} lcas_dec;

static void lcas_dec_value(lua_State *L, lcas_dec *d);

/* Past the JSON whitespace at p.  The CLI writes compact JSON: whitespace is
 * rare, and every byte of it is at most ' ', which one compare rules out for
 * the rest.  Both decoders below use it. */
static const char *lcas_skip_ws(const char *p) {
  while ((unsigned char)*p <= ' ' && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

static void lcas_dec_ws(lcas_dec *d) {
  d->p += lcas_skip_ws(d->p) - d->p;
}

static void lcas_dec_fail(lua_State *L) {
  luaL_error(L, "JSON decoder out of step with its scan");
}

/* d->end is a NUL, which never equals c. */
static void lcas_dec_expect(lua_State *L, lcas_dec *d, char c) {
  if (*d->p != c) {
    lcas_dec_ws(d);
    if (*d->p != c) lcas_dec_fail(L);
  }
  d->p++;
}

/* d->p is at the opening quote; the core unescapes the body in place. */
static void lcas_dec_string(lua_State *L, lcas_dec *d) {
  size_t n;
  const char *out = d->p + 1, *next;
  next = cas_json_unescape(d->p + 1, d->end, &n);
  if (!next) lcas_dec_fail(L);
  lua_pushlstring(L, out, n);
  d->p += next - d->p; /* next points into the line */
}

/* Push the number at s (valid JSON, as checked); returns its end. */
static const char *lcas_push_number_text(lua_State *L, const char *s) {
  const char *q = s;
  char buf[72], dp;
  uint64_t v = 0;
  int digits = 0, neg = *q == '-';
  size_t n;

  if (neg) q++;
  while (*q >= '0' && *q <= '9') {
    v = v * 10 + (uint64_t)(*q++ - '0');
    digits++;
  }
  if (*q != '.' && *q != 'e' && *q != 'E' && digits > 0 && digits <= 18) {
    /* Integer syntax: an integer (on 5.3+), exactly. */
#ifdef CAS_HAS_INTEGERS
    lua_pushinteger(L, neg ? -(lua_Integer)v : (lua_Integer)v);
#else
    lua_pushnumber(L, neg ? -(lua_Number)v : (lua_Number)v);
#endif
    return q;
  }
  while ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' || *q == '+' || *q == '-') q++;
  n = (size_t)(q - s);
  if (n == 0 || n >= sizeof buf) luaL_error(L, "JSON number out of step with its check");
  memcpy(buf, s, n);
  buf[n] = '\0';
  /* strtod reads the locale's decimal point; a host may have set one. */
  dp = localeconv()->decimal_point[0];
  if (dp != '.') {
    char *dot = strchr(buf, '.');
    if (dot) *dot = dp;
  }
#ifdef CAS_HAS_INTEGERS
  if (!memchr(buf, dp, n) && !memchr(buf, 'e', n) && !memchr(buf, 'E', n)) {
    /* 19+ digits: an integer while it fits, else a float as JSON.parse has it */
    char *e;
    long long ll;
    errno = 0;
    ll = strtoll(buf, &e, 10);
    if (errno == 0 && *e == '\0') {
      lua_pushinteger(L, (lua_Integer)ll);
      return q;
    }
  }
#endif
  lua_pushnumber(L, (lua_Number)strtod(buf, NULL));
  return q;
}

static void lcas_dec_value(lua_State *L, lcas_dec *d) {
  uint32_t n, i;

  lcas_dec_ws(d);
  if (d->p >= d->end) lcas_dec_fail(L);
  switch (*d->p) {
  case '"':
    lcas_dec_string(L, d);
    return;
  case '{':
    if (d->ci >= d->nc) break;
    n = d->counts[d->ci++];
    luaL_checkstack(L, 4, "JSON nested too deeply");
    lua_createtable(L, 0, (int)n);
    d->p++;
    for (i = 0; i < n; i++) {
      if (i) lcas_dec_expect(L, d, ',');
      lcas_dec_ws(d);
      if (*d->p != '"') break;
      lcas_dec_string(L, d);
      lcas_dec_expect(L, d, ':');
      lcas_dec_value(L, d);
      lua_rawset(L, -3);
    }
    lcas_dec_expect(L, d, '}');
    return;
  case '[':
    if (d->ci >= d->nc) break;
    n = d->counts[d->ci++];
    luaL_checkstack(L, 4, "JSON nested too deeply");
    lua_createtable(L, (int)n, 0);
    d->p++;
    for (i = 1; i <= n; i++) {
      if (i > 1) lcas_dec_expect(L, d, ',');
      lcas_dec_value(L, d);
      lua_rawseti(L, -2, (int)i);
    }
    lcas_dec_expect(L, d, ']');
    lua_pushvalue(L, d->array_mt);
    lua_setmetatable(L, -2);
    return;
  case 't':
    lua_pushboolean(L, 1);
    d->p += 4;
    return;
  case 'f':
    lua_pushboolean(L, 0);
    d->p += 5;
    return;
  case 'n':
    lua_pushlightuserdata(L, NULL);
    d->p += 4;
    return;
  default:
    d->p += lcas_push_number_text(L, d->p) - d->p;
    return;
  }
  lcas_dec_fail(L);
}

/* Push the value of text[0..len) (writable, NUL-terminated, accepted by
 * cas_json_scan with these counts). */
static void lcas_push_scanned(lua_State *L, char *text, size_t len, const uint32_t *counts,
                              size_t nc) {
  lcas_dec d;
  luaL_checkstack(L, 4, NULL);
  lua_pushlightuserdata(L, &array_mt_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
  d.p = text;
  d.end = text + len;
  d.counts = counts;
  d.ci = 0;
  d.nc = nc;
  d.array_mt = lua_gettop(L);
  lcas_dec_value(L, &d);
  lua_remove(L, d.array_mt);
}

/* --- typed messages, built from the line ---------------------------------------- */
/* The frames that come by the thousand (assistant, user, stream_event) are
 * built straight into their typed message, as messages.lua's `shapes` table
 * describes it (core.message_shapes compiles that table once): the frame's
 * own table and its "message" object are never made, dropped members are
 * only checked, and field names come from the shape instead of being
 * interned from the line.  The core queues these lines unchecked, and the
 * walk checks them as it builds (below), so a line is read once.  A
 * malformed line, or anything the shape does not expect (a "message" that is
 * not an object or is missing, a key spelled with escapes, a second "type" or
 * "message"), abandons the attempt.  The walk leaves the line as it was
 * (escaped strings decode into the client's scratch buffer), so the line is
 * then scanned and decoded plainly, and messages.parse() has the last word,
 * errors included: every path gives the same message or the same error
 * (spec/typed_decode_spec.lua). */

#define SHAPES_MT "claude_agent_sdk.core.shapes"
#define LCAS_SHAPES 8   /* frame types */
#define LCAS_FIELDS 16  /* fields per member list */
#define LCAS_OUTS 31    /* distinct field names per shape (bits of a mask) */

/* Slots of the shapes' uservalue table; the strings and classes the shapes
 * refer to follow them. */
enum { UV_TYPE_KEY = 1, UV_BLOCK_CLASSES, UV_DEFAULT_BLOCK, UV_KEYS };
/* UV_KEYS .. + LCAS_KEYS - 1: the keys of plain objects seen last (lcas_walk_name). */
#define LCAS_KEYS 64

typedef struct {
  const char *wire;  /* the key as sent; the string is anchored in the uservalue */
  size_t len;
  int out;           /* uservalue slot of the field's name */
  unsigned bit;      /* this field's bit in the set-fields mask */
  int blocks;        /* an array value holds content blocks */
  int last;          /* uservalue slot of the field's last string value */
  unsigned misses;   /* how many times in a row that was not the value */
} lcas_field;

typedef struct {
  const char *type;  /* the frame type, anchored in the uservalue */
  size_t type_len;
  int cls, type_value;
  const char *lift;  /* the member whose object's members are fields too, or NULL */
  size_t lift_len;
  lcas_field top[LCAS_FIELDS], lifted[LCAS_FIELDS];
  int ntop, nlifted;
  int outs[LCAS_OUTS], nouts; /* slots of the distinct field names */
  int array_out;     /* slot of the field that is [] when absent (0: none) */
  unsigned array_bit;
} lcas_mshape;

typedef struct {
  lcas_mshape s[LCAS_SHAPES];
  int n;
} lcas_shapes;

#if LUA_VERSION_NUM >= 504
#define lcas_setuv(L, i) lua_setiuservalue(L, (i), 1)
#define lcas_getuv(L, i) lua_getiuservalue(L, (i), 1)
#elif LUA_VERSION_NUM >= 502
#define lcas_setuv(L, i) lua_setuservalue(L, (i))
#define lcas_getuv(L, i) lua_getuservalue(L, (i))
#else
#define lcas_setuv(L, i) lua_setfenv(L, (i))
#define lcas_getuv(L, i) lua_getfenv(L, (i))
#endif

/* Pop the value on top of the stack into a new slot of the table at uv. */
static int lcas_anchor(lua_State *L, int uv) {
  int slot = (int)lua_rawlen(L, uv) + 1;
  lua_rawseti(L, uv, slot);
  return slot;
}

/* Pop a field name; its slot, with one bit per distinct name of the shape. */
static int lcas_out_slot(lua_State *L, int uv, lcas_mshape *m, unsigned *bit) {
  int k;
  for (k = 0; k < m->nouts; k++) {
    lua_rawgeti(L, uv, m->outs[k]);
    if (lua_rawequal(L, -1, -2)) {
      lua_pop(L, 2);
      *bit = 1u << k;
      return m->outs[k];
    }
    lua_pop(L, 1);
  }
  if (m->nouts >= LCAS_OUTS) luaL_error(L, "message shape %s: too many fields", m->type);
  *bit = 1u << m->nouts;
  m->outs[m->nouts] = lcas_anchor(L, uv);
  return m->outs[m->nouts++];
}

/* A key the walk may match by its bytes alone (lcas_is_string): valid
 * UTF-8, with no quote, backslash or control byte. */
static int lcas_plain_name(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] < 0x20) return 0;
  return cas_utf8_valid(s, n);
}

/* The map at index t (wire key -> field name) into list[0..*n). */
static void lcas_compile_fields(lua_State *L, int t, int uv, lcas_mshape *m, lcas_field *list,
                                int *n, const char *blocks) {
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lcas_field *f;
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "message shape %s: fields map strings to strings", m->type);
    if (*n >= LCAS_FIELDS) luaL_error(L, "message shape %s: too many fields", m->type);
    f = &list[(*n)++];
    f->blocks = blocks && strcmp(lua_tostring(L, -1), blocks) == 0;
    f->out = lcas_out_slot(L, uv, m, &f->bit); /* pops the name */
    lua_pushvalue(L, -1);
    f->wire = lua_tolstring(L, -1, &f->len);
    if (!lcas_plain_name(f->wire, f->len))
      luaL_error(L, "message shape %s: wire key %s is not a plain JSON name", m->type, f->wire);
    lcas_anchor(L, uv);
    lua_pushboolean(L, 0);
    f->last = lcas_anchor(L, uv);
  }
}

/* Optional string field k of the table at t, anchored; NULL when nil. */
static const char *lcas_shape_string(lua_State *L, int t, const char *k, int uv, size_t *len,
                                     const char *type) {
  const char *v;
  lua_getfield(L, t, k);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return NULL;
  }
  if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "message shape %s: %s must be a string", type, k);
  v = lua_tolstring(L, -1, len);
  lcas_anchor(L, uv);
  return v;
}

/* core.message_shapes(shapes, block_classes, default_block) -> userdata, for
 * client:next_message().  shapes: { [frame type] = { class =, fields = {wire
 * = name}, lift = "message", lifted = {wire = name}, blocks = name, array =
 * name } } (messages.lua says what each means). */
static int lcas_message_shapes(lua_State *L) {
  lcas_shapes *sh;
  int uv, k;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  sh = (lcas_shapes *)lua_newuserdata(L, sizeof *sh); /* 4 */
  memset(sh, 0, sizeof *sh);
  luaL_getmetatable(L, SHAPES_MT);
  lua_setmetatable(L, 4);
  lua_newtable(L); /* 5: the uservalue */
  uv = 5;
  lua_pushvalue(L, 4);
  lua_pushvalue(L, uv);
  lcas_setuv(L, -2);
  lua_pop(L, 1);
  lua_pushliteral(L, "type");
  lcas_anchor(L, uv);
  lua_pushvalue(L, 2);
  lcas_anchor(L, uv);
  lua_pushvalue(L, 3);
  lcas_anchor(L, uv);
  for (k = 0; k < LCAS_KEYS; k++) {
    lua_pushboolean(L, 0);
    lcas_anchor(L, uv);
  }

  lua_pushnil(L);
  while (lua_next(L, 1)) { /* -2: type, -1: spec */
    int spec = lua_gettop(L);
    lcas_mshape *m;
    const char *blocks, *array;
    size_t n;
    if (lua_type(L, -2) != LUA_TSTRING || !lua_istable(L, -1))
      return luaL_error(L, "message shapes map frame types to tables");
    if (sh->n >= LCAS_SHAPES) return luaL_error(L, "too many message shapes");
    m = &sh->s[sh->n++];
    lua_pushvalue(L, -2);
    m->type = lua_tolstring(L, -1, &m->type_len);
    lua_pushvalue(L, -1);
    lcas_anchor(L, uv);
    m->type_value = lcas_anchor(L, uv);
    lua_getfield(L, spec, "class");
    if (!lua_istable(L, -1)) return luaL_error(L, "message shape %s: class must be a table", m->type);
    m->cls = lcas_anchor(L, uv);
    m->lift = lcas_shape_string(L, spec, "lift", uv, &m->lift_len, m->type);
    blocks = lcas_shape_string(L, spec, "blocks", uv, &n, m->type);
    array = lcas_shape_string(L, spec, "array", uv, &n, m->type);
    lua_getfield(L, spec, "fields");
    if (!lua_istable(L, -1)) return luaL_error(L, "message shape %s: fields must be a table", m->type);
    lcas_compile_fields(L, lua_gettop(L), uv, m, m->top, &m->ntop, blocks);
    lua_pop(L, 1);
    if (m->lift) {
      lua_getfield(L, spec, "lifted");
      if (!lua_istable(L, -1)) return luaL_error(L, "message shape %s: lifted must be a table", m->type);
      lcas_compile_fields(L, lua_gettop(L), uv, m, m->lifted, &m->nlifted, blocks);
      lua_pop(L, 1);
    }
    if (array) {
      lua_pushstring(L, array);
      m->array_out = lcas_out_slot(L, uv, m, &m->array_bit);
    }
    lua_settop(L, spec - 1); /* the type, for lua_next */
  }
  lua_settop(L, 4);
  return 1;
}

/* The shape for an item's frame type, or NULL. */
static lcas_mshape *lcas_shape_for(lcas_shapes *sh, const cas_item_t *it) {
  int k;
  for (k = 0; k < sh->n; k++)
    if (sh->s[k].type_len == it->type_len && memcmp(sh->s[k].type, it->text + it->type_off, it->type_len) == 0)
      return &sh->s[k];
  return NULL;
}

/* The walk checks the line as it builds (the client queues these frames
 * unchecked, cas_item_t.unchecked): each string, number and skipped value
 * goes through the core's checking pieces (cas_json_*_end), which accept
 * exactly what cas_json_scan() does, and the structure between them is
 * checked here; the line must end after the frame's object.  So the scan's
 * pass over the line is not made for the frames that come by the thousand.
 * Any failure, a malformed line or a shape the walk does not expect, returns
 * 0 and the caller scans the line: the scan reports what is wrong with it, or
 * it is decoded plainly.  Tables are built at their exact size from the pairs
 * (or elements) left on the stack, LCAS_CHUNK at a time. */
#define LCAS_CHUNK 32

typedef struct {
  const char *p, *end; /* cursor; *end is the NUL after the line */
  int array_mt;        /* stack index of core.array_mt; the shapes' uservalue is
                          at + 1, the block classes at + 2 */
  int depth, limit;    /* open containers, and the most the scan allows */
  char *scratch;       /* escaped strings decode here (room for the line) */
} lcas_walk;

static int lcas_walk_value(lua_State *L, lcas_walk *w);

static void lcas_walk_ws(lcas_walk *w) {
  w->p = lcas_skip_ws(w->p);
}

/* Step over the byte c (after whitespace); *end is a NUL, never c, so the
 * cursor never passes the end. */
static int lcas_walk_byte(lcas_walk *w, char c) {
  lcas_walk_ws(w);
  if (*w->p != c) return 0;
  w->p++;
  return 1;
}

/* Stack room a container needs: its place, a chunk of pairs, and a few for
 * the work in between.  lcas_push_typed() makes room for the frame's own
 * pairs and LCAS_ROOM_LEVELS containers at once; deeper ones ask for it. */
#define LCAS_LEVEL_ROOM (2 * LCAS_CHUNK + 8)
#define LCAS_ROOM_LEVELS 6

/* Into a container at w->p: within the depth limit, and with stack room for
 * a chunk of pairs; with place, a nil pushed holds the container's place. */
static int lcas_walk_open(lua_State *L, lcas_walk *w, int place) {
  if (++w->depth > w->limit || (w->depth > LCAS_ROOM_LEVELS && !lua_checkstack(L, LCAS_LEVEL_ROOM))) return 0;
  if (place) lua_pushnil(L);
  w->p++;
  lcas_walk_ws(w);
  return 1;
}

/* After a member or element: 1 at ',' (stepped over), 2 at the closing c
 * (stepped over, the container closed), 0 otherwise. */
static int lcas_walk_next(lcas_walk *w, char c) {
  lcas_walk_ws(w);
  if (*w->p == ',') {
    w->p++;
    lcas_walk_ws(w);
    return 1;
  }
  if (*w->p != c) return 0;
  w->p++;
  w->depth--;
  return 2;
}

/* The string at w->p (its opening quote), pushed. */
static int lcas_walk_string(lua_State *L, lcas_walk *w) {
  const char *body = w->p + 1, *out, *next;
  size_t n;
  int esc;
  if (*w->p != '"' || !(next = cas_json_string_end(body, w->end, &esc))) return 0;
  if (!esc) lua_pushlstring(L, body, (size_t)(next - 1 - body));
  else if (cas_json_unescape_copy(body, w->end, w->scratch, &out, &n)) lua_pushlstring(L, out, n);
  else return 0;
  w->p = next;
  return 1;
}

/* A key of a plain object or block, pushed.  The same few come in every
 * frame ("type", "text", "input_tokens"), so the last key seen in each of
 * LCAS_KEYS slots (picked by length and end bytes) is kept in the shapes'
 * uservalue and pushed from there when it matches: no hashing to intern. */
static int lcas_walk_name(lua_State *L, lcas_walk *w) {
  const char *body = w->p + 1, *next, *c;
  size_t n, cl;
  int esc, slot;
  if (*w->p != '"' || !(next = cas_json_string_end(body, w->end, &esc))) return 0;
  n = (size_t)(next - 1 - body);
  if (esc || n == 0 || n > 40) return lcas_walk_string(L, w);
  slot = UV_KEYS + (int)((n * 31u + (unsigned char)body[0] * 7u + (unsigned char)body[n - 1]) & (LCAS_KEYS - 1));
  lua_rawgeti(L, w->array_mt + 1, slot);
  c = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &cl) : NULL;
  if (!c || cl != n || memcmp(c, body, n) != 0) {
    lua_pop(L, 1);
    lua_pushlstring(L, body, n);
    lua_pushvalue(L, -1);
    lua_rawseti(L, w->array_mt + 1, slot);
  }
  w->p = next;
  return 1;
}

/* Is the string whose body starts at body exactly s[0..n), a plain string
 * (valid UTF-8, no quote, backslash or control byte; see lcas_plain_name)?
 * Then comparing the bytes is as good as checking them. */
static int lcas_is_string(const char *body, const char *end, const char *s, size_t n) {
  return (size_t)(end - body) > n && body[n] == '"' && memcmp(body, s, n) == 0;
}

/* A member key with no escape: one of fields[0..n), matched by its bytes
 * (*f), or any other, checked (*f NULL); *k, *len, and the cursor past the
 * ':'. */
static int lcas_walk_key(lcas_walk *w, lcas_field *fields, int n, lcas_field **f, const char **k, size_t *len) {
  const char *body = w->p + 1, *next = NULL;
  int esc, i;
  if (*w->p != '"') return 0;
  *f = NULL;
  for (i = 0; i < n; i++)
    if ((fields[i].len == 0 || fields[i].wire[0] == body[0]) &&
        lcas_is_string(body, w->end, fields[i].wire, fields[i].len)) {
      *f = &fields[i];
      next = body + fields[i].len + 1;
      break;
    }
  if (!next && (!(next = cas_json_string_end(body, w->end, &esc)) || esc)) return 0;
  *k = body;
  *len = (size_t)(next - 1 - body);
  w->p = next;
  if (!lcas_walk_byte(w, ':')) return 0;
  lcas_walk_ws(w);
  return 1;
}

/* Containers are built at base + 1, where lcas_walk_open() left a nil to
 * be replaced, from what is on the stack above it. */

/* The n key/value pairs on top of the stack into the table at base + 1, in
 * their order (a repeated key: the last wins, as in every decode); made
 * first, at their size, when made is 0. */
static void lcas_walk_pairs(lua_State *L, int base, int *made, int n) {
  int i, first = base + 2;
  if (!*made) {
    lua_createtable(L, 0, n);
    lua_replace(L, base + 1);
    *made = 1;
  }
  for (i = 0; i < n; i++) {
    lua_pushvalue(L, first + 2 * i);
    lua_pushvalue(L, first + 2 * i + 1);
    lua_rawset(L, base + 1);
  }
  lua_settop(L, base + 1);
}

/* The same for n array elements, which follow `done` already in it. */
static void lcas_walk_elems(lua_State *L, int base, int *made, int n, int done) {
  if (!*made) {
    lua_createtable(L, n, 0);
    lua_replace(L, base + 1);
    *made = 1;
  }
  for (; n > 0; n--) lua_rawseti(L, base + 1, done + n); /* pops the top one */
}

/* The object at w->p, its members in order.  With block, it is a content
 * block: an is_error that is null is dropped, and the block gets the class
 * its "type" names. */
static int lcas_walk_object(lua_State *L, lcas_walk *w, int block) {
  int base = lua_gettop(L), made = 0, n = 0, r = 1;
  if (!lcas_walk_open(L, w, 1)) return 0;
  if (*w->p == '}') r = lcas_walk_next(w, '}');
  else
    while (r == 1) {
      const char *k;
      size_t klen;
      if (!lcas_walk_name(L, w) || !lcas_walk_byte(w, ':')) return 0;
      lcas_walk_ws(w);
      if (block && (k = lua_tolstring(L, -1, &klen)) && klen == 8 && memcmp(k, "is_error", 8) == 0 &&
          strncmp(w->p, "null", 4) == 0) {
        w->p += 4;
        lua_pushnil(L); /* clears a repeated key; inserts nothing */
      } else if (!lcas_walk_value(L, w)) {
        return 0;
      }
      if (++n == LCAS_CHUNK) {
        lcas_walk_pairs(L, base, &made, n);
        n = 0;
      }
      r = lcas_walk_next(w, '}');
    }
  if (r != 2) return 0;
  lcas_walk_pairs(L, base, &made, n);
  if (!block) return 1;
  lua_rawgeti(L, w->array_mt + 1, UV_TYPE_KEY);
  lua_rawget(L, base + 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_rawgeti(L, w->array_mt + 1, UV_DEFAULT_BLOCK);
  } else {
    lua_rawget(L, w->array_mt + 2);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_rawgeti(L, w->array_mt + 1, UV_DEFAULT_BLOCK);
    }
  }
  lua_setmetatable(L, base + 1);
  return 1;
}

/* The array at w->p; with blocks, its objects are content blocks. */
static int lcas_walk_array(lua_State *L, lcas_walk *w, int blocks) {
  int base = lua_gettop(L), made = 0, n = 0, done = 0, r = 1;
  if (!lcas_walk_open(L, w, 1)) return 0;
  if (*w->p == ']') r = lcas_walk_next(w, ']');
  else
    while (r == 1) {
      if (!(blocks && *w->p == '{' ? lcas_walk_object(L, w, 1) : lcas_walk_value(L, w))) return 0;
      if (++n == LCAS_CHUNK) {
        lcas_walk_elems(L, base, &made, n, done);
        done += n;
        n = 0;
      }
      r = lcas_walk_next(w, ']');
    }
  if (r != 2) return 0;
  lcas_walk_elems(L, base, &made, n, done);
  lua_pushvalue(L, w->array_mt);
  lua_setmetatable(L, base + 1);
  return 1;
}

static int lcas_walk_value(lua_State *L, lcas_walk *w) {
  const char *q;
  lcas_walk_ws(w);
  switch (*w->p) {
  case '"':
    return lcas_walk_string(L, w);
  case '{':
    return lcas_walk_object(L, w, 0);
  case '[':
    return lcas_walk_array(L, w, 0);
  case 't':
    if (strncmp(w->p, "true", 4) != 0) return 0;
    lua_pushboolean(L, 1);
    w->p += 4;
    return 1;
  case 'f':
    if (strncmp(w->p, "false", 5) != 0) return 0;
    lua_pushboolean(L, 0);
    w->p += 5;
    return 1;
  case 'n':
    if (strncmp(w->p, "null", 4) != 0) return 0;
    lua_pushlightuserdata(L, NULL);
    w->p += 4;
    return 1;
  default:
    if (!(q = cas_json_number_end(w->p, w->end))) return 0;
    lcas_push_number_text(L, w->p);
    w->p = q;
    return 1;
  }
}

/* Over the value at w->p, pushing nothing.  What is skipped is mostly a
 * string or a null ("type":"message", "stop_sequence":null). */
static int lcas_walk_skip(lcas_walk *w) {
  const char *q;
  int esc;
  if (*w->p == '"') q = cas_json_string_end(w->p + 1, w->end, &esc);
  else if (*w->p == 'n') q = strncmp(w->p, "null", 4) == 0 ? w->p + 4 : NULL;
  else q = cas_json_value_end(w->p, w->end, w->limit - w->depth);
  if (!q) return 0;
  w->p = q;
  return 1;
}

/* A field's string value when it is the one the field had last time (a
 * session id, a model, a message id): pushed from the shapes' uservalue,
 * without Lua hashing the bytes again to intern them.  A field whose value
 * keeps changing (a uuid) is left to the plain walk, retried now and then.
 * 0: not done, the cursor unmoved. */
static int lcas_walk_same(lua_State *L, lcas_walk *w, lcas_field *f) {
  const char *body = w->p + 1, *next, *last;
  size_t n;
  int esc;
  if (f->misses >= 8 && (++f->misses & 63) != 0) return 0;
  lua_rawgeti(L, w->array_mt + 1, f->last);
  if (lua_type(L, -1) == LUA_TSTRING) {
    last = lua_tolstring(L, -1, &n);
    if (lcas_is_string(body, w->end, last, n)) { /* it was checked when it came */
      f->misses = 0;
      w->p = body + n + 1;
      return 1;
    }
  }
  lua_pop(L, 1);
  if (!(next = cas_json_string_end(body, w->end, &esc)) || esc) return 0;
  lua_pushlstring(L, body, (size_t)(next - 1 - body));
  lua_pushvalue(L, -1);
  lua_rawseti(L, w->array_mt + 1, f->last);
  if (f->misses < 8) f->misses++;
  w->p = next;
  return 1;
}

/* A field's name and value, pushed as a pair for the message (made at its
 * exact size once all are known).  0 for a field seen before: a repeated key
 * is left to the plain path, where the last one wins. */
static int lcas_walk_field(lua_State *L, lcas_walk *w, lcas_field *f, unsigned *set) {
  if (*set & f->bit) return 0;
  if (*w->p == 'n') { /* null: the field is absent */
    if (strncmp(w->p, "null", 4) != 0) return 0;
    w->p += 4;
    return 1;
  }
  *set |= f->bit;
  lua_rawgeti(L, w->array_mt + 1, f->out);
  if (*w->p == '"' && lcas_walk_same(L, w, f)) return 1;
  return f->blocks && *w->p == '[' ? lcas_walk_array(L, w, 1) : lcas_walk_value(L, w);
}

/* The members of the object at w->p: each one of the shape's fields pushed
 * as a pair, the others skipped.  top: the frame itself (its lift member is
 * descended into; a second "type" or lift member gives up). */
static int lcas_walk_members(lua_State *L, lcas_walk *w, lcas_mshape *s, int top, unsigned *set,
                             int *lifts) {
  int types = 0, r = 1;
  lcas_field *fields = top ? s->top : s->lifted;
  int nfields = top ? s->ntop : s->nlifted;
  if (*w->p != '{' || !lcas_walk_open(L, w, 0)) return 0;
  if (*w->p == '}') r = lcas_walk_next(w, '}');
  while (r == 1) {
    const char *k;
    size_t len;
    lcas_field *f;
    if (!lcas_walk_key(w, fields, nfields, &f, &k, &len)) return 0;
    if (f) {
      if (!lcas_walk_field(L, w, f, set)) return 0;
    } else if (top && s->lift && len == s->lift_len && memcmp(k, s->lift, len) == 0) {
      if ((*lifts)++ || !lcas_walk_members(L, w, s, 0, set, lifts)) return 0;
    } else {
      if (top && len == 4 && memcmp(k, "type", 4) == 0 && types++) return 0;
      if (!lcas_walk_skip(w)) return 0;
    }
    r = lcas_walk_next(w, '}');
  }
  return r == 2;
}

/* Push item it's typed message per shape s, checking the line (unchecked)
 * on the way, using u's scratch buffer; 0 with nothing pushed when the line
 * is malformed, the shape does not fit or memory for the scratch buffer is
 * short: the caller scans the line and decodes it plainly. */
static int lcas_push_typed(lua_State *L, lcas_client *u, cas_item_t *it, lcas_mshape *s,
                           int shapes_idx) {
  lcas_walk w;
  unsigned set = 0;
  int lifts = 0, pairs, base = lua_gettop(L);
  if (u->scratch_cap < it->text_len + 1) {
    char *b = (char *)realloc(u->scratch, it->text_len + 1);
    if (!b) return 0;
    u->scratch = b;
    u->scratch_cap = it->text_len + 1;
  }
  /* The frame's pairs (LCAS_OUTS fields and the type) and the first levels. */
  if (!lua_checkstack(L, 8 + 2 * (LCAS_OUTS + 1) + LCAS_ROOM_LEVELS * LCAS_LEVEL_ROOM)) return 0;
  lua_pushlightuserdata(L, &array_mt_key);
  lua_rawget(L, LUA_REGISTRYINDEX); /* base + 1 */
  lcas_getuv(L, shapes_idx);        /* base + 2 */
  lua_rawgeti(L, base + 2, UV_BLOCK_CLASSES); /* base + 3 */
  w.p = it->text;
  w.end = it->text + it->text_len;
  w.array_mt = base + 1;
  w.depth = 0;
  w.limit = u->depth_limit;
  w.scratch = u->scratch;
  lcas_walk_ws(&w);
  lua_pushnil(L); /* base + 4: the message's place */
  lua_rawgeti(L, base + 2, UV_TYPE_KEY);
  lua_rawgeti(L, base + 2, s->type_value);
  if (!lcas_walk_members(L, &w, s, 1, &set, &lifts) || (s->lift && !lifts)) goto give_up;
  lcas_walk_ws(&w);
  if (w.p != w.end) goto give_up;
  if (s->array_out && !(set & s->array_bit)) {
    lua_rawgeti(L, base + 2, s->array_out);
    lua_createtable(L, 0, 0);
    lua_pushvalue(L, base + 1);
    lua_setmetatable(L, -2);
  }
  /* The pairs above base + 4 go into a table of their exact size. */
  pairs = (lua_gettop(L) - base - 4) / 2;
  lua_createtable(L, 0, pairs);
  lua_replace(L, base + 4);
  while (lua_gettop(L) > base + 4) lua_rawset(L, base + 4);
  lua_rawgeti(L, base + 2, s->cls);
  lua_setmetatable(L, -2);
  lua_replace(L, base + 1);
  lua_settop(L, base + 1);
  return 1;
give_up:
  lua_settop(L, base);
  return 0;
}

/* --- Lua -> JSON tree (never raises) ---------------------------------------------- */

typedef struct {
  char msg[200];
} lcas_enc_err;

static cJSON *lcas_to_json(lua_State *L, int idx, int depth, lcas_enc_err *e);

static int lcas_is_array_mt(lua_State *L, int idx) {
  int r;
  if (!lua_getmetatable(L, idx)) return 0;
  lua_pushlightuserdata(L, &array_mt_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
  r = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return r;
}

/* 0: object (all string keys, or empty), n > 0: sequence of n, -1: mixed. */
static long lcas_table_shape(lua_State *L, int idx) {
  long n = 0, max = 0;
  int strings = 0, numbers = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      strings = 1;
    } else if (lua_type(L, -1) == LUA_TNUMBER) {
      double k = lua_tonumber(L, -1);
      if (k < 1 || k != floor(k) || k > 2147483647.0) {
        lua_pop(L, 1);
        return -1;
      }
      numbers = 1;
      n++;
      if ((long)k > max) max = (long)k;
    } else {
      lua_pop(L, 1);
      return -1;
    }
  }
  if (strings && numbers) return -1;
  if (numbers) return max == n ? n : -1;
  return 0;
}

static cJSON *lcas_table_to_json(lua_State *L, int idx, int depth, lcas_enc_err *e) {
  cJSON *out, *item;
  long n, i;
  int as_array = lcas_is_array_mt(L, idx);
  n = as_array ? (long)lua_rawlen(L, idx) : lcas_table_shape(L, idx);
  if (n < 0) {
    strcpy(e->msg, "cannot encode a table that mixes string and integer keys, or a sparse array");
    return NULL;
  }
  if (as_array || n > 0) {
    out = cJSON_CreateArray();
    if (!out) goto oom;
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, idx, (int)i);
      item = lcas_to_json(L, lua_gettop(L), depth + 1, e);
      lua_pop(L, 1);
      if (!item || !cJSON_AddItemToArray(out, item)) {
        if (item) cJSON_Delete(item);
        cJSON_Delete(out);
        if (!e->msg[0]) goto oom;
        return NULL;
      }
    }
    return out;
  }
  out = cJSON_CreateObject();
  if (!out) goto oom;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    /* keys are strings here: lcas_table_shape checked */
    const char *key = lua_tostring(L, -2);
    item = lcas_to_json(L, lua_gettop(L), depth + 1, e);
    if (!item || !cJSON_AddItemToObject(out, key, item)) {
      lua_pop(L, 2);
      if (item) cJSON_Delete(item);
      cJSON_Delete(out);
      if (!e->msg[0]) goto oom;
      return NULL;
    }
    lua_pop(L, 1);
  }
  return out;
oom:
  strcpy(e->msg, "out of memory");
  return NULL;
}

static cJSON *lcas_to_json(lua_State *L, int idx, int depth, lcas_enc_err *e) {
  cJSON *out = NULL;
  if (depth > ENCODE_MAX_DEPTH || !lua_checkstack(L, 4)) {
    strcpy(e->msg, "cannot encode: nested too deeply (or a reference cycle)");
    return NULL;
  }
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    out = cJSON_CreateNull();
    break;
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, idx) != NULL) {
      strcpy(e->msg, "cannot encode a light userdata other than null");
      return NULL;
    }
    out = cJSON_CreateNull();
    break;
  case LUA_TBOOLEAN:
    out = cJSON_CreateBool(lua_toboolean(L, idx));
    break;
  case LUA_TNUMBER: {
    double d = lua_tonumber(L, idx);
#ifdef CAS_HAS_INTEGERS
    if (lua_isinteger(L, idx)) d = (double)lua_tointeger(L, idx);
#endif
    if (d != d || d == HUGE_VAL || d == -HUGE_VAL) {
      strcpy(e->msg, "cannot encode NaN or infinity as JSON");
      return NULL;
    }
    out = cJSON_CreateNumber(d);
    break;
  }
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (memchr(s, '\0', len)) {
      strcpy(e->msg, "cannot encode a string containing a NUL byte");
      return NULL;
    }
    if (!cas_utf8_valid(s, len)) {
      strcpy(e->msg, "cannot encode a string that is not valid UTF-8");
      return NULL;
    }
    out = cJSON_CreateString(s);
    break;
  }
  case LUA_TTABLE:
    return lcas_table_to_json(L, idx, depth, e);
  default:
    strcpy(e->msg, "cannot encode a value of type ");
    strncat(e->msg, lua_typename(L, lua_type(L, idx)), 40);
    return NULL;
  }
  if (!out) strcpy(e->msg, "out of memory");
  return out;
}

/* Convert the value at idx; on failure raise (nothing C-owned is live then). */
static cJSON *lcas_check_json(lua_State *L, int idx) {
  lcas_enc_err e;
  cJSON *t;
  e.msg[0] = '\0';
  t = lcas_to_json(L, idx, 0, &e);
  if (!t) luaL_error(L, "%s", e.msg);
  return t;
}

/* --- module functions ------------------------------------------------------------ */

static int lcas_encode(lua_State *L) {
  lcas_box *b;
  luaL_checkany(L, 1);
  b = lcas_newbox(L);
  b->tree = lcas_check_json(L, 1);
  b->text = cJSON_PrintUnformatted(b->tree);
  if (!b->text) return luaL_error(L, "out of memory");
  lua_pushstring(L, b->text);
  cJSON_free(b->text);
  b->text = NULL;
  cJSON_Delete(b->tree);
  b->tree = NULL;
  return 1;
}

/* The same scan and one-pass decode as messages, on a copy of the string
 * (strings are unescaped in place); the box owns the counts. */
static int lcas_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lcas_box *b = lcas_newbox(L);
  char *copy;
  int rc = cas_json_scan(s, len, 0, &b->shape);
  if (rc != CAS_OK) return lcas_fail(L, rc, NULL);
  copy = (char *)lua_newuserdata(L, len + 1);
  memcpy(copy, s, len + 1);
  lcas_push_scanned(L, copy, len, b->shape.counts, b->shape.ncounts);
  cas_json_shape_free(&b->shape);
  return 1;
}

static int lcas_utf8_valid(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lua_pushboolean(L, cas_utf8_valid(s, len));
  return 1;
}

/* The host's whole environment as { NAME = value }: Lua itself can only
 * look variables up by name, and the child's environment is built from it. */
extern char **environ;
static int lcas_environ(lua_State *L) {
  char **e;
  lua_newtable(L);
  for (e = environ; e && *e; e++) {
    const char *eq = strchr(*e, '=');
    if (!eq || eq == *e) continue;
    lua_pushlstring(L, *e, (size_t)(eq - *e));
    lua_pushstring(L, eq + 1);
    lua_rawset(L, -3);
  }
  return 1;
}

/* The names in a directory (no "." or ".."), or nil, message: for reading
 * the CLI's session transcripts without requiring luv or lfs.  The DIR is
 * owned by a userdata so a memory error while filling the table cannot
 * leak it. */
static int lcas_dir_gc(lua_State *L) {
  DIR **d = (DIR **)lua_touserdata(L, 1);
  if (*d) closedir(*d);
  *d = NULL;
  return 0;
}

static int lcas_listdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  DIR **d = (DIR **)lua_newuserdata(L, sizeof *d);
  struct dirent *e;
  int n = 0;
  *d = NULL;
  lua_newtable(L); /* metatable with __gc */
  lua_pushcfunction(L, lcas_dir_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  *d = opendir(path);
  if (!*d) {
    lua_pushnil(L);
    lua_pushstring(L, strerror(errno));
    return 2;
  }
  lua_newtable(L);
  while ((e = readdir(*d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    lua_pushstring(L, e->d_name);
    lua_rawseti(L, -2, ++n);
  }
  closedir(*d);
  *d = NULL;
  return 1;
}

/* { type = "file"|"directory"|"other", size = n, mtime = ms } or nil, msg. */
static int lcas_stat(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (stat(path, &st) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, strerror(errno));
    return 2;
  }
  lua_createtable(L, 0, 3);
  lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "directory" : "other");
  lua_setfield(L, -2, "type");
  lua_pushnumber(L, (lua_Number)st.st_size);
  lua_setfield(L, -2, "size");
  lua_pushnumber(L, (lua_Number)st.st_mtim.tv_sec * 1000 + (lua_Number)(st.st_mtim.tv_nsec / 1000000));
  lua_setfield(L, -2, "mtime");
  return 1;
}

/* 1 when path names an executable regular file (for the CLI search). */
static int lcas_executable(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  lua_pushboolean(L, stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0);
  return 1;
}

/* Sleep without a loop (the host backend's idle wait). */
static int lcas_sleep(lua_State *L) {
  int ms = (int)luaL_checknumber(L, 1);
  if (ms > 0) poll(NULL, 0, ms);
  return 0;
}

/* Monotonic whole milliseconds: the clock of the core's deadlines. */
static int lcas_now(lua_State *L) {
  lua_pushnumber(L, (lua_Number)cas_now_ms());
  return 1;
}

/* The same clock with the fraction, for measuring (bench/). */
static int lcas_hrtime(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec * 1000.0 + (lua_Number)ts.tv_nsec / 1e6);
  return 1;
}

/* --- client ----------------------------------------------------------------------- */

/* The userdata at idx if its metatable is upvalue uv of the running method
 * (client methods carry the client's and the shapes' metatables), else
 * luaL_checkudata's verdict.  A compare instead of luaL_checkudata's lookup
 * by name, on a path taken per message. */
static void *lcas_toudata(lua_State *L, int idx, int uv, const char *tname) {
  void *p = lua_touserdata(L, idx);
  if (p && lua_getmetatable(L, idx)) {
    int same = lua_rawequal(L, -1, lua_upvalueindex(uv));
    lua_pop(L, 1);
    if (same) return p;
  }
  return luaL_checkudata(L, idx, tname);
}

static lcas_client *lcas_check(lua_State *L) {
  lcas_client *u = (lcas_client *)lcas_toudata(L, 1, 1, CLIENT_MT);
  if (!u->c) luaL_error(L, "client is closed");
  return u;
}

/* Gather the strings of the array at idx into a NULL-terminated vector owned by
 * a new userdata (left on the stack). NULL if idx is nil. */
static const char **lcas_strvec(lua_State *L, int idx, const char *what) {
  size_t n, i;
  const char **v;
  if (lua_isnoneornil(L, idx)) return NULL;
  luaL_checktype(L, idx, LUA_TTABLE);
  n = lua_rawlen(L, idx);
  v = (const char **)lua_newuserdata(L, (n + 1) * sizeof *v);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, idx, (int)i + 1);
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s[%d] must be a string", what, (int)i + 1);
    v[i] = lua_tostring(L, -1); /* kept alive by the table */
    lua_pop(L, 1);
  }
  v[n] = NULL;
  return v;
}

static int lcas_spawn(lua_State *L) {
  cas_client_opts_t o;
  lcas_client *u;
  int rc, err = 0;
  luaL_checktype(L, 1, LUA_TTABLE);
  memset(&o, 0, sizeof o);
  lua_getfield(L, 1, "argv");  /* 2 */
  lua_getfield(L, 1, "env");   /* 3 */
  lua_getfield(L, 1, "cwd");   /* 4 */
  lua_getfield(L, 1, "user");  /* 5 */
  o.argv = lcas_strvec(L, 2, "argv");
  if (!o.argv || !o.argv[0]) return luaL_error(L, "argv must be a non-empty array of strings");
  o.envp = lcas_strvec(L, 3, "env");
  o.cwd = lua_isnil(L, 4) ? NULL : luaL_checkstring(L, 4);
  o.user = lua_isnil(L, 5) ? NULL : luaL_checkstring(L, 5);
  lua_getfield(L, 1, "max_buffer_size");
  o.max_buffer_size = (size_t)luaL_optnumber(L, -1, 0);
  lua_getfield(L, 1, "stderr_tail");
  o.stderr_tail = (size_t)luaL_optnumber(L, -1, 0);
  lua_getfield(L, 1, "max_depth");
  o.max_depth = (int)luaL_optnumber(L, -1, 0);
  lua_getfield(L, 1, "stderr_lines");
  o.stderr_lines = lua_toboolean(L, -1);
  /* next_message() checks the frames it types as it builds them. */
  o.defer_check = 1;

  /* The userdata exists before the process does, so __gc always reaps it. */
  u = (lcas_client *)lua_newuserdata(L, sizeof *u);
  u->c = NULL;
  u->cur = NULL;
  u->scratch = NULL;
  u->scratch_cap = 0;
  u->max_depth = o.max_depth;
  u->depth_limit = cas_json_depth_limit(o.max_depth);
  cas_json_shape_init(&u->shape);
  luaL_getmetatable(L, CLIENT_MT);
  lua_setmetatable(L, -2);
  rc = cas_client_spawn(&u->c, &o, &err);
  if (rc != CAS_OK) {
    lua_pushnil(L);
    lua_pushstring(L, cas_strerror(rc));
    lua_pushstring(L, lcas_code(rc));
    lua_pushinteger(L, err);
    return 4;
  }
  return 1;
}

static int lcas_client_gc(lua_State *L) {
  lcas_client *u = (lcas_client *)luaL_checkudata(L, 1, CLIENT_MT);
  if (u->cur) cas_item_free(u->cur);
  u->cur = NULL;
  free(u->scratch);
  u->scratch = NULL;
  u->scratch_cap = 0;
  cas_json_shape_free(&u->shape);
  if (u->c) cas_client_free(u->c);
  u->c = NULL;
  return 0;
}

static int lcas_client_pump(lua_State *L) {
  lcas_client *u = lcas_check(L);
  int rc = cas_client_pump(u->c, (int)luaL_optnumber(L, 2, 0));
  if (rc != CAS_OK) return lcas_fail(L, rc, NULL);
  lua_pushboolean(L, 1);
  return 1;
}

/* Take ownership of a popped item in the slot, dropping the previous one. */
static cas_item_t *lcas_hold(lcas_client *u, cas_item_t *it) {
  if (u->cur) cas_proto_recycle(cas_client_proto(u->c), u->cur);
  u->cur = it;
  return it;
}

static void lcas_release(lcas_client *u) {
  if (u->cur) cas_proto_recycle(cas_client_proto(u->c), u->cur);
  u->cur = NULL;
}

/* A scratch buffer above this is freed after its message: one huge line
 * does not pin its size. */
#define LCAS_SCRATCH_KEEP (1u << 20)

static void lcas_trim_scratch(lcas_client *u) {
  if (u->scratch_cap > LCAS_SCRATCH_KEEP) {
    free(u->scratch);
    u->scratch = NULL;
    u->scratch_cap = 0;
  }
}

/* An unchecked line that was not typed gets the scan the core left to us:
 * its counts for the plain decode, or (-1) the decode error the core would
 * have queued in its place, which `it` becomes. */
static int lcas_scan_unchecked(lcas_client *u, cas_item_t *it) {
  int rc = cas_json_scan(it->text, it->text_len, u->max_depth, &u->shape);
  if (rc < 0) {
    it->kind = CAS_ITEM_DECODE_ERROR;
    it->code = rc;
    if (it->text_len > CAS_DECODE_HEAD) it->text_len = CAS_DECODE_HEAD;
    return -1;
  }
  it->counts = u->shape.counts; /* the item does not own them */
  it->ncounts = u->shape.ncounts;
  return 0;
}

/* client:next_message([shapes]) -> "message", tbl[, true when tbl is a typed
 * message built per shapes] | "decode_error", head, code | "fatal", msg, code
 * | nil */
static int lcas_client_next_message(lua_State *L) {
  lcas_client *u = lcas_check(L);
  lcas_shapes *sh = lua_isnoneornil(L, 2) ? NULL : (lcas_shapes *)lcas_toudata(L, 2, 2, SHAPES_MT);
  cas_item_t *it = lcas_hold(u, cas_proto_pop_message(cas_client_proto(u->c)));
  lcas_mshape *s;
  int typed = 0;
  if (!it) return 0;
  if (it->kind == CAS_ITEM_MESSAGE && !it->json && sh && (s = lcas_shape_for(sh, it))) {
    lua_pushliteral(L, "message");
    if (!(typed = lcas_push_typed(L, u, it, s, 2))) lua_pop(L, 1);
  }
  if (!typed && it->kind == CAS_ITEM_MESSAGE && (it->json || !it->unchecked || lcas_scan_unchecked(u, it) == 0)) {
    lua_pushliteral(L, "message");
    if (it->json) lcas_push_json(L, it->json, 0);
    else lcas_push_scanned(L, it->text, it->text_len, it->counts, it->ncounts);
  }
  if (typed || it->kind == CAS_ITEM_MESSAGE) {
    lcas_release(u);
    lcas_trim_scratch(u);
    if (!typed) return 2;
    lua_pushboolean(L, 1);
    return 3;
  }
  lua_pushstring(L, it->kind == CAS_ITEM_FATAL ? "fatal" : "decode_error");
  lua_pushlstring(L, it->text ? it->text : "", it->text_len);
  lua_pushstring(L, lcas_code(it->code));
  lcas_release(u);
  return 3;
}

/* Typed messages taken per call of next_messages(). */
#define LCAS_BATCH 64

/* client:next_messages(shapes, buf) -> n: the messages at the head of the
 * queue that are typed per shapes (at most LCAS_BATCH) into buf[1..n].  It
 * stops before anything else, which next_message() takes: a stream of
 * assistant frames costs one call per batch instead of one per message. */
static int lcas_client_next_messages(lua_State *L) {
  lcas_client *u = lcas_check(L);
  lcas_shapes *sh = (lcas_shapes *)lcas_toudata(L, 2, 2, SHAPES_MT);
  cas_proto_t *p = cas_client_proto(u->c);
  cas_item_t *it;
  lcas_mshape *s;
  int n = 0;
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  /* The walk leaves the item as it was: one it gives up on stays queued. */
  while (n < LCAS_BATCH && (it = cas_proto_peek_message(p)) && it->kind == CAS_ITEM_MESSAGE && !it->json &&
         (s = lcas_shape_for(sh, it)) && lcas_push_typed(L, u, it, s, 2)) {
    cas_proto_recycle(p, cas_proto_pop_message(p));
    lua_rawseti(L, 3, ++n);
  }
  lcas_trim_scratch(u);
  lua_pushinteger(L, n);
  return 1;
}

/* -> "request", tbl | "cancel", request_id | nil */
static int lcas_client_next_request(lua_State *L) {
  lcas_client *u = lcas_check(L);
  cas_item_t *it = lcas_hold(u, cas_proto_pop_request(cas_client_proto(u->c)));
  if (!it) return 0;
  if (it->kind == CAS_ITEM_REQUEST) {
    lua_pushliteral(L, "request");
    lcas_push_json(L, it->json, 0);
  } else {
    lua_pushliteral(L, "cancel");
    lua_pushlstring(L, it->text ? it->text : "", it->text_len);
  }
  lcas_release(u);
  return 2;
}

static int lcas_client_next_stderr(lua_State *L) {
  lcas_client *u = lcas_check(L);
  cas_item_t *it = lcas_hold(u, cas_proto_pop_stderr(cas_client_proto(u->c)));
  if (!it) return 0;
  lua_pushlstring(L, it->text ? it->text : "", it->text_len);
  lcas_release(u);
  return 1;
}

static int lcas_client_send(lua_State *L) {
  lcas_client *u = lcas_check(L);
  int rc;
  if (lua_type(L, 2) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, 2, &len);
    rc = cas_client_send_line(u->c, s, len);
  } else {
    cJSON *t;
    luaL_checktype(L, 2, LUA_TTABLE);
    t = lcas_check_json(L, 2);
    rc = cas_client_send(u->c, t);
    cJSON_Delete(t);
  }
  if (rc != CAS_OK) return lcas_fail(L, rc, NULL);
  lua_pushboolean(L, 1);
  return 1;
}

static int lcas_client_request(lua_State *L) {
  lcas_client *u = lcas_check(L);
  const char *subtype = luaL_checkstring(L, 2);
  int timeout = (int)luaL_optnumber(L, 4, -1);
  cJSON *fields = NULL;
  char id[64];
  int rc;
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    fields = lcas_check_json(L, 3);
    if (!cJSON_IsObject(fields)) {
      cJSON_Delete(fields);
      return luaL_error(L, "request fields must be a table with string keys");
    }
  }
  rc = cas_client_request(u->c, subtype, fields, timeout, id);
  if (rc != CAS_OK) return lcas_fail(L, rc, NULL);
  lua_pushstring(L, id);
  return 1;
}

/* -> "pending" | "done", tbl | "failed", msg, code */
static int lcas_client_response(lua_State *L) {
  lcas_client *u = lcas_check(L);
  const char *id = luaL_checkstring(L, 2);
  const cJSON *result;
  const char *error;
  int st = cas_proto_response(cas_client_proto(u->c), id, &result, &error);
  if (st == CAS_REQ_PENDING) {
    lua_pushliteral(L, "pending");
    return 1;
  }
  if (st == CAS_REQ_DONE) {
    lua_pushliteral(L, "done");
    lcas_push_json(L, result, 0); /* owned by the pending entry until forget */
    return 2;
  }
  lua_pushliteral(L, "failed");
  lua_pushstring(L, error ? error : cas_strerror(st));
  lua_pushstring(L, lcas_code(st));
  return 3;
}

static int lcas_client_forget(lua_State *L) {
  lcas_client *u = lcas_check(L);
  cas_proto_forget(cas_client_proto(u->c), luaL_checkstring(L, 2));
  return 0;
}

/* respond(request_id, payload_or_nil, error_or_nil) */
static int lcas_client_respond(lua_State *L) {
  lcas_client *u = lcas_check(L);
  const char *id = luaL_checkstring(L, 2);
  const char *err = luaL_optstring(L, 4, NULL);
  cJSON *payload = NULL;
  int rc;
  if (!err && !lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    payload = lcas_check_json(L, 3);
  }
  rc = cas_client_respond(u->c, id, payload, err);
  if (rc != CAS_OK) return lcas_fail(L, rc, NULL);
  lua_pushboolean(L, 1);
  return 1;
}

static int lcas_client_close_stdin(lua_State *L) {
  lcas_client *u = lcas_check(L);
  int rc = cas_client_close_stdin(u->c);
  if (rc != CAS_OK) return lcas_fail(L, rc, NULL);
  lua_pushboolean(L, 1);
  return 1;
}

static int lcas_client_shutdown(lua_State *L) {
  lcas_client *u = lcas_check(L);
  cas_client_shutdown(u->c, (int)luaL_optnumber(L, 2, 5000), (int)luaL_optnumber(L, 3, 5000));
  return 0;
}

static int lcas_client_close(lua_State *L) {
  lcas_client *u = lcas_check(L);
  cas_client_close(u->c, (int)luaL_optnumber(L, 2, 5000), (int)luaL_optnumber(L, 3, 5000));
  return 0;
}

static int lcas_client_finished(lua_State *L) {
  lua_pushboolean(L, cas_client_finished(lcas_check(L)->c));
  return 1;
}

static int lcas_client_alive(lua_State *L) {
  lua_pushboolean(L, cas_client_alive(lcas_check(L)->c));
  return 1;
}

static int lcas_client_pid(lua_State *L) {
  lua_pushinteger(L, cas_client_pid(lcas_check(L)->c));
  return 1;
}

static int lcas_client_exit_code(lua_State *L) {
  int signo = 0;
  int code = cas_client_exit_code(lcas_check(L)->c, &signo);
  lua_pushinteger(L, code);
  lua_pushinteger(L, signo);
  return 2;
}

static int lcas_client_stderr_tail(lua_State *L) {
  size_t len;
  const char *s = cas_client_stderr_tail(lcas_check(L)->c, &len);
  lua_pushlstring(L, s, len);
  return 1;
}

/* -> { {fd=, events="r"|"w"}, ... } */
static int lcas_client_pollfds(lua_State *L) {
  struct pollfd fds[4];
  int n = cas_client_pollfds(lcas_check(L)->c, fds, 4), i;
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, fds[i].fd);
    lua_setfield(L, -2, "fd");
    lua_pushstring(L, (fds[i].events & POLLOUT) ? "w" : "r");
    lua_setfield(L, -2, "events");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int lcas_client_queued(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)cas_proto_messages_queued(cas_client_proto(lcas_check(L)->c)));
  return 1;
}

static int lcas_client_timeout(lua_State *L) {
  lua_pushinteger(L, cas_client_timeout(lcas_check(L)->c));
  return 1;
}

static int lcas_client_stats(lua_State *L) {
  lcas_client *u = lcas_check(L);
  cas_proto_t *p = cas_client_proto(u->c);
  unsigned long blank, nonjson, truncated;
  cas_client_skipped(u->c, &blank, &nonjson, &truncated);
  lua_createtable(L, 0, 8);
  lua_pushnumber(L, (lua_Number)cas_proto_results_seen(p));
  lua_setfield(L, -2, "results");
  lua_pushnumber(L, (lua_Number)cas_proto_messages_queued(p));
  lua_setfield(L, -2, "messages_queued");
  lua_pushnumber(L, (lua_Number)cas_proto_requests_queued(p));
  lua_setfield(L, -2, "requests_queued");
  lua_pushnumber(L, (lua_Number)cas_proto_pending_count(p));
  lua_setfield(L, -2, "pending");
  lua_pushnumber(L, (lua_Number)cas_proto_tasks_in_flight(p));
  lua_setfield(L, -2, "tasks_in_flight");
  lua_pushnumber(L, (lua_Number)blank);
  lua_setfield(L, -2, "blank_lines");
  lua_pushnumber(L, (lua_Number)nonjson);
  lua_setfield(L, -2, "nonjson_lines");
  lua_pushnumber(L, (lua_Number)truncated);
  lua_setfield(L, -2, "truncated_lines");
  lua_pushnumber(L, (lua_Number)cas_proto_unmatched_responses(p));
  lua_setfield(L, -2, "unmatched_responses");
  return 1;
}

static int lcas_client_last_error_result(lua_State *L) {
  const cJSON *r = cas_proto_last_error_result(cas_client_proto(lcas_check(L)->c));
  if (!r) return 0;
  lcas_push_json(L, r, 0); /* owned by the proto; not freed by a raise */
  return 1;
}

/* --- registration ---------------------------------------------------------------- */

static const luaL_Reg client_methods[] = {
  {"pump", lcas_client_pump},
  {"next_message", lcas_client_next_message},
  {"next_messages", lcas_client_next_messages},
  {"next_request", lcas_client_next_request},
  {"next_stderr", lcas_client_next_stderr},
  {"send", lcas_client_send},
  {"request", lcas_client_request},
  {"response", lcas_client_response},
  {"forget", lcas_client_forget},
  {"respond", lcas_client_respond},
  {"close_stdin", lcas_client_close_stdin},
  {"shutdown", lcas_client_shutdown},
  {"close", lcas_client_close},
  {"finished", lcas_client_finished},
  {"alive", lcas_client_alive},
  {"pid", lcas_client_pid},
  {"exit_code", lcas_client_exit_code},
  {"stderr_tail", lcas_client_stderr_tail},
  {"pollfds", lcas_client_pollfds},
  {"timeout", lcas_client_timeout},
  {"queued", lcas_client_queued},
  {"stats", lcas_client_stats},
  {"last_error_result", lcas_client_last_error_result},
  {"free", lcas_client_gc},
  {NULL, NULL}
};

static const luaL_Reg module_funcs[] = {
  {"spawn", lcas_spawn},
  {"encode", lcas_encode},
  {"decode", lcas_decode},
  {"message_shapes", lcas_message_shapes},
  {"utf8_valid", lcas_utf8_valid},
  {"now", lcas_now},
  {"hrtime", lcas_hrtime},
  {"sleep", lcas_sleep},
  {"environ", lcas_environ},
  {"executable", lcas_executable},
  {"listdir", lcas_listdir},
  {"stat", lcas_stat},
  {NULL, NULL}
};

int luaopen_claude_agent_sdk_core(lua_State *L);

int luaopen_claude_agent_sdk_core(lua_State *L) {
  luaL_newmetatable(L, BOX_MT);
  lua_pushcfunction(L, lcas_box_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  luaL_newmetatable(L, SHAPES_MT);
  luaL_newmetatable(L, CLIENT_MT);
  lua_newtable(L); /* the methods, with upvalues: 1 the client's metatable, 2 the shapes' */
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -4);
  lcas_setfuncs(L, client_methods, 2);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, lcas_client_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 2);

  /* One array metatable per Lua state, shared with the Lua layer. */
  lua_pushlightuserdata(L, &array_mt_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushliteral(L, "array");
    lua_setfield(L, -2, "__name");
    lua_pushlightuserdata(L, &array_mt_key);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
  }

  lua_newtable(L);
  lcas_setfuncs(L, module_funcs, 0);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "array_mt");
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  lua_pushinteger(L, CAS_JSON_MAX_DEPTH);
  lua_setfield(L, -2, "max_depth");
  /* The Lua this module was compiled against ("Lua 5.4", "Lua 5.1" for
   * LuaJIT): compared with _VERSION by :checkhealth. */
  lua_pushliteral(L, LUA_VERSION);
  lua_setfield(L, -2, "lua_version");
  return 1;
}
