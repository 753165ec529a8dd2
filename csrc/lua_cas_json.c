/* lua_cas_json.c - JSON text <-> Lua values, for lua_cas.c (which #includes
 * this file: one translation unit, everything static).
 *
 * One job: moving JSON between text and Lua, in both directions, and nothing
 * about messages, clients or processes.  It is apart from lua_cas.c so that
 * the one decoder and the one encoder can be read, and changed, in one place.
 *
 * Text -> Lua has ONE decoder, the checking walk below: it checks the text as
 * it builds the value (with the core's checking pieces, cas__json_*_end, which
 * accept exactly what cas_json_scan() does) and builds each table at its exact
 * size, so a line is read once.  It serves core.decode, the frames a client
 * queues as their line (typed or not), and, through two hooks, the typed walk
 * of lua_cas_typed.c (a cache of recent keys, and how content blocks are
 * finished).  When it refuses a text, cas_json_scan() of that text says why.
 * The text is never written to: escaped strings decode into a scratch buffer
 * the caller owns (a userdata, or the client's), so a Lua error midway
 * leaks nothing.
 *
 * cJSON tree -> Lua (lcas_push_json) stays only for the trees the core itself
 * parsed because it must act on them: control requests and responses, result
 * and system frames, the last error result.
 *
 * Lua -> text writes straight into a cas_buf_t owned by a userdata (no tree,
 * no double in between): integers exactly, floats in the fewest digits that
 * read back the same, and a raise at any point is safe, since the buffer's
 * __gc frees it.  A value JSON cannot hold raises with the path to it
 * ("cannot encode a function at $.a[2].b").
 */

/* --- cJSON tree -> Lua (only the core's own trees) ------------------------------------ */

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

/* The tree v (parsed by the core, within its depth limit), pushed.  The tree
 * is owned by the core (an item in the client's `cur` slot, a pending entry,
 * the proto), so a raise while building leaves it to them. */
static void lcas_push_json(lua_State *L, const cJSON *v, int depth) {
  const cJSON *ch;
  int n = 0;
  if (depth > CAS_JSON_MAX_DEPTH + 8 || !lua_checkstack(L, 4)) {
    luaL_error(L, "JSON nested too deeply");
    return;
  }
  switch (v->type & 0xff) {
    case cJSON_NULL: lua_pushlightuserdata(L, NULL); return;
    case cJSON_False: lua_pushboolean(L, 0); return;
    case cJSON_True: lua_pushboolean(L, 1); return;
    case cJSON_Number: lcas_push_number(L, v->valuedouble); return;
    case cJSON_String:
    case cJSON_Raw: lua_pushstring(L, v->valuestring ? v->valuestring : ""); return;
    case cJSON_Array:
      for (ch = v->child; ch; ch = ch->next) n++;
      lua_createtable(L, n, 0);
      n = 0;
      for (ch = v->child; ch; ch = ch->next) {
        lcas_push_json(L, ch, depth + 1);
        lua_rawseti(L, -2, ++n);
      }
      lcas_push_array_mt(L);
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
    default: lua_pushnil(L);
  }
}

/* --- text -> Lua: the checking walk --------------------------------------------------- */

/* Push the number at s (checked by cas__json_number_end); returns its end.
 * Integer syntax gives an integer on 5.3+ while it fits, as JSON.parse would
 * give the same value; everything else a float. */
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

/* Tables are built at their exact size from the pairs (or elements) left on
 * the stack, LCAS_CHUNK at a time. */
#define LCAS_CHUNK 32
/* Stack room a container needs: its place, a chunk of pairs, and a few for
 * the work in between.  The walk's caller makes room for LCAS_ROOM_LEVELS
 * containers at once; deeper ones ask for it. */
#define LCAS_LEVEL_ROOM (2 * LCAS_CHUNK + 8)
#define LCAS_ROOM_LEVELS 6
/* Slots in the key cache (lcas_walk_name). */
#define LCAS_KEYS 64

/* A string anchored elsewhere (a uservalue), with its length. */
typedef struct {
  const char *s;
  size_t len;
} lcas_name;

/* How an object walked as a content block (an element of a typed message's
 * blocks array) is finished, as messages.shapes says: a member whose value is
 * null is dropped when its key is one of nulls[0..nnulls), and the block gets
 * the class its "type" member names in the table at stack index classes, or
 * the default class.  The string "type" and the default class are slots
 * type_slot and default_slot of the table at stack index uv.  Filled by
 * lua_cas_typed.c; a plain walk has none. */
typedef struct {
  int uv, type_slot, default_slot, classes;
  const lcas_name *nulls;
  int nnulls;
} lcas_blocks;

typedef struct {
  const char *p, *end; /* cursor; *end is the NUL after the text */
  int array_mt; /* stack index of core.array_mt */
  int keys, key0; /* keys of plain objects seen last, in slots key0 .. key0 + LCAS_KEYS - 1 of the
                          table at stack index keys (0: no cache) */
  const lcas_blocks *blocks; /* typed walks: how content blocks are finished */
  int depth, limit; /* open containers, and the most the scan allows */
  char *scratch; /* escaped strings decode here (room for the text); NULL: the text has no '\\' */
} lcas_walk;

static int lcas_walk_value(lua_State *L, lcas_walk *w);

/* Past the JSON whitespace at p.  The CLI writes compact JSON: whitespace is
 * rare, and every byte of it is at most ' ', which one compare rules out for
 * the rest. */
static inline const char *lcas_skip_ws(const char *p) {
  while ((unsigned char)*p <= ' ' && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

static inline void lcas_walk_ws(lcas_walk *w) { w->p = lcas_skip_ws(w->p); }

/* Step over the byte c (after whitespace); *end is a NUL, never c, so the
 * cursor never passes the end. */
static inline int lcas_walk_byte(lcas_walk *w, char c) {
  lcas_walk_ws(w);
  if (*w->p != c) return 0;
  w->p++;
  return 1;
}

/* Into a container at w->p: within the depth limit, and with stack room for
 * a chunk of pairs; with place, a nil pushed holds the container's place. */
static inline int lcas_walk_open(lua_State *L, lcas_walk *w, int place) {
  if (++w->depth > w->limit || (w->depth > LCAS_ROOM_LEVELS && !lua_checkstack(L, LCAS_LEVEL_ROOM))) return 0;
  if (place) lua_pushnil(L);
  w->p++;
  lcas_walk_ws(w);
  return 1;
}

/* After a member or element: 1 at ',' (stepped over), 2 at the closing c
 * (stepped over, the container closed), 0 otherwise. */
static inline int lcas_walk_next(lcas_walk *w, char c) {
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
  if (*w->p != '"' || !(next = cas__json_string_end(body, w->end, &esc))) return 0;
  if (!esc)
    lua_pushlstring(L, body, (size_t)(next - 1 - body));
  else if (w->scratch && cas__json_unescape_copy(body, w->end, w->scratch, &out, &n))
    lua_pushlstring(L, out, n);
  else
    return 0;
  w->p = next;
  return 1;
}

/* A key of a plain object or block, pushed.  The same few come in every
 * frame ("type", "text", "input_tokens"), so with a cache the last key seen
 * in each of LCAS_KEYS slots (picked by length and end bytes) is pushed from
 * there when it matches: no hashing to intern. */
static int lcas_walk_name(lua_State *L, lcas_walk *w) {
  const char *body = w->p + 1, *next, *c;
  size_t n, cl;
  int esc, slot;
  if (!w->keys) return lcas_walk_string(L, w);
  if (*w->p != '"' || !(next = cas__json_string_end(body, w->end, &esc))) return 0;
  n = (size_t)(next - 1 - body);
  if (esc || n == 0 || n > 40) return lcas_walk_string(L, w);
  slot = w->key0 + (int)((n * 31u + (unsigned char)body[0] * 7u + (unsigned char)body[n - 1]) & (LCAS_KEYS - 1));
  lua_rawgeti(L, w->keys, slot);
  c = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &cl) : NULL;
  if (!c || cl != n || memcmp(c, body, n) != 0) {
    lua_pop(L, 1);
    lua_pushlstring(L, body, n);
    lua_pushvalue(L, -1);
    lua_rawseti(L, w->keys, slot);
  }
  w->p = next;
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

/* Is the member just pushed (its key on top) one the blocks drop when null,
 * and is its value at w->p null?  Then it is stepped over. */
static int lcas_walk_drop_null(lua_State *L, lcas_walk *w) {
  const lcas_blocks *b = w->blocks;
  const char *k;
  size_t klen;
  int i;
  if (strncmp(w->p, "null", 4) != 0 || !(k = lua_tolstring(L, -1, &klen))) return 0;
  for (i = 0; i < b->nnulls; i++)
    if (klen == b->nulls[i].len && memcmp(k, b->nulls[i].s, klen) == 0) {
      w->p += 4;
      return 1;
    }
  return 0;
}

/* The class of the block at index t: the one its "type" names, or the default. */
static void lcas_walk_block_class(lua_State *L, const lcas_blocks *b, int t) {
  lua_rawgeti(L, b->uv, b->type_slot);
  lua_rawget(L, t);
  if (!lua_isnil(L, -1)) {
    lua_rawget(L, b->classes);
    if (!lua_isnil(L, -1)) {
      lua_setmetatable(L, t);
      return;
    }
  }
  lua_pop(L, 1);
  lua_rawgeti(L, b->uv, b->default_slot);
  lua_setmetatable(L, t);
}

/* The object at w->p, its members in order.  With block, it is a content
 * block, finished as w->blocks says. */
static int lcas_walk_object(lua_State *L, lcas_walk *w, int block) {
  int base = lua_gettop(L), made = 0, n = 0, r = 1;
  if (!lcas_walk_open(L, w, 1)) return 0;
  if (*w->p == '}')
    r = lcas_walk_next(w, '}');
  else
    while (r == 1) {
      if (!lcas_walk_name(L, w) || !lcas_walk_byte(w, ':')) return 0;
      lcas_walk_ws(w);
      if (block && lcas_walk_drop_null(L, w))
        lua_pushnil(L); /* clears a repeated key; inserts nothing */
      else if (!lcas_walk_value(L, w))
        return 0;
      if (++n == LCAS_CHUNK) {
        lcas_walk_pairs(L, base, &made, n);
        n = 0;
      }
      r = lcas_walk_next(w, '}');
    }
  if (r != 2) return 0;
  lcas_walk_pairs(L, base, &made, n);
  if (block) lcas_walk_block_class(L, w->blocks, base + 1);
  return 1;
}

/* The array at w->p; with blocks, its objects are content blocks. */
static int lcas_walk_array(lua_State *L, lcas_walk *w, int blocks) {
  int base = lua_gettop(L), made = 0, n = 0, done = 0, r = 1;
  if (!lcas_walk_open(L, w, 1)) return 0;
  if (*w->p == ']')
    r = lcas_walk_next(w, ']');
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
    case '"': return lcas_walk_string(L, w);
    case '{': return lcas_walk_object(L, w, 0);
    case '[': return lcas_walk_array(L, w, 0);
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
      if (!(q = cas__json_number_end(w->p, w->end))) return 0;
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
  if (*w->p == '"')
    q = cas__json_string_end(w->p + 1, w->end, &esc);
  else if (*w->p == 'n')
    q = strncmp(w->p, "null", 4) == 0 ? w->p + 4 : NULL;
  else
    q = cas__json_value_end(w->p, w->end, w->limit - w->depth);
  if (!q) return 0;
  w->p = q;
  return 1;
}

/* Push the value of text[0..len) (text[len] is a NUL), with at most limit
 * levels of containers; scratch has room for len bytes, or is NULL when the
 * text holds no backslash.  1, or 0 with nothing pushed when the text is not
 * one valid JSON value (cas_json_scan() of it says why) or the Lua stack
 * cannot grow (the scan accepts it). */
static int lcas_decode_text(lua_State *L, const char *text, size_t len, int limit, char *scratch) {
  lcas_walk w;
  int base = lua_gettop(L);
  if (!lua_checkstack(L, 8 + LCAS_ROOM_LEVELS * LCAS_LEVEL_ROOM)) return 0;
  lcas_push_array_mt(L); /* base + 1 */
  w.p = text;
  w.end = text + len;
  w.array_mt = base + 1;
  w.keys = w.key0 = 0;
  w.blocks = NULL;
  w.depth = 0;
  w.limit = limit;
  w.scratch = scratch;
  if (lcas_walk_value(L, &w)) {
    lcas_walk_ws(&w);
    if (w.p == w.end) {
      lua_remove(L, base + 1);
      return 1;
    }
  }
  lua_settop(L, base);
  return 0;
}

/* core.decode(text) -> value | nil, msg, code (EJSON, EUTF8, EDEPTH): the
 * text is walked where it lies (Lua strings end in a NUL); escapes decode
 * into a userdata, made only when there is a backslash. */
static int lcas_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  char *scratch = NULL;
  cas_json_shape_t sh;
  int rc;
  lua_settop(L, 1);
  if (memchr(s, '\\', len)) scratch = (char *)lua_newuserdata(L, len + 1);
  if (lcas_decode_text(L, s, len, cas_json_depth_limit(0), scratch)) return 1;
  rc = cas_json_scan(s, len, 0, &sh);
  if (rc == CAS_OK) return luaL_error(L, "JSON nested too deeply for the Lua stack");
  return lcas_fail(L, rc, NULL);
}

/* --- Lua -> text: written into a buffer ---------------------------------------------- */

/* The buffers: a userdata holding a cas_buf_t, freed by __gc, so that a raise
 * anywhere while it is filled (a bad value, a memory error of Lua's own)
 * leaks nothing.  Whoever has taken the text frees it at once. */
static int lcas_buf_gc(lua_State *L) {
  cas_buf_free((cas_buf_t *)lua_touserdata(L, 1));
  return 0;
}

static cas_buf_t *lcas_newbuf(lua_State *L) {
  cas_buf_t *b = (cas_buf_t *)lua_newuserdata(L, sizeof *b);
  cas_buf_init(b);
  luaL_getmetatable(L, BUF_MT);
  lua_setmetatable(L, -2);
  return b;
}

/* Where the value being encoded sits: the path from the root, one step per
 * container, each step on the C stack of the call encoding it. */
typedef struct lcas_at {
  const struct lcas_at *up; /* the container's step; NULL at the root */
  const void *table; /* the value, when it is a table being encoded (cycles) */
  int key; /* stack index of its key in an object, or 0 ... */
  long index; /* ... its index in an array (from 1, as in the Lua table) */
} lcas_at;

typedef struct {
  cas_buf_t *b;
  int array_mt; /* stack index of core.array_mt */
  int depth, limit; /* open containers, and the most allowed */
} lcas_enc;

static void lcas_enc_value(lua_State *L, lcas_enc *e, int idx, lcas_at *at);

/* A key that a path shows as .name. */
static int lcas_is_ident(const char *k, size_t n) {
  size_t i;
  if (n == 0 || (k[0] >= '0' && k[0] <= '9')) return 0;
  for (i = 0; i < n; i++)
    if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
      return 0;
  return 1;
}

/* Raise "cannot encode <what> at <path>", the path JSONPath-like from $:
 * .name, ["other key"], [index]. */
static int lcas_enc_fail(lua_State *L, const lcas_at *at, const char *fmt, ...) {
  const lcas_at *steps[CAS_JSON_MAX_DEPTH + 2];
  luaL_Buffer lb;
  va_list ap;
  int n = 0, i, what;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  what = lua_gettop(L);
  for (; at && at->up; at = at->up)
    if (n < (int)(sizeof steps / sizeof *steps)) steps[n++] = at;
  luaL_buffinit(L, &lb);
  luaL_addstring(&lb, "cannot encode ");
  luaL_addstring(&lb, lua_tostring(L, what));
  luaL_addstring(&lb, " at $");
  for (i = n - 1; i >= 0; i--) {
    char num[40];
    if (steps[i]->key) {
      size_t kl, j;
      const char *k = lua_tolstring(L, steps[i]->key, &kl);
      if (lcas_is_ident(k, kl)) {
        luaL_addchar(&lb, '.');
        luaL_addlstring(&lb, k, kl);
        continue;
      }
      luaL_addstring(&lb, "[\"");
      for (j = 0; j < kl; j++) {
        if ((unsigned char)k[j] < 0x20) {
          snprintf(num, sizeof num, "\\u%04x", (unsigned)k[j]);
          luaL_addstring(&lb, num);
          continue;
        }
        if (k[j] == '"' || k[j] == '\\') luaL_addchar(&lb, '\\');
        luaL_addchar(&lb, k[j]);
      }
      luaL_addstring(&lb, "\"]");
    } else {
      snprintf(num, sizeof num, "[%ld]", steps[i]->index);
      luaL_addstring(&lb, num);
    }
  }
  luaL_pushresult(&lb);
  return lua_error(L);
}

/* A write into the buffer failed: only memory can make it. */
static void lcas_enc_check(lua_State *L, int rc) {
  if (rc < 0) luaL_error(L, "not enough memory");
}

static void lcas_put(lua_State *L, cas_buf_t *b, const char *s, size_t n) {
  lcas_enc_check(L, cas_buf_append(b, s, n));
}

static void lcas_enc_number(lua_State *L, lcas_enc *e, int idx, lcas_at *at) {
  lua_Number d;
#ifdef CAS_HAS_INTEGERS
  /* a Lua integer is written as one, all 64 bits of it */
  if (lua_isinteger(L, idx)) {
    lcas_enc_check(L, cas_json_write_int(e->b, (int64_t)lua_tointeger(L, idx)));
    return;
  }
#endif
  d = lua_tonumber(L, idx);
  if (d != d) lcas_enc_fail(L, at, "NaN");
  if (d == HUGE_VAL || d == -HUGE_VAL) lcas_enc_fail(L, at, "an infinity");
#ifndef CAS_HAS_INTEGERS
  /* Lua 5.1 and LuaJIT have only doubles: one that is integral and exact
   * (within 2^53) goes out as an integer, as it always has. */
  if (d == floor(d) && fabs(d) <= 9007199254740992.0 && !(d == 0 && signbit(d))) {
    lcas_enc_check(L, cas_json_write_int(e->b, (int64_t)d));
    return;
  }
#endif
  lcas_enc_check(L, cas_json_write_double(e->b, (double)d));
}

static void lcas_enc_string(lua_State *L, lcas_enc *e, int idx, lcas_at *at, const char *what) {
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  int rc = cas_json_write_string(e->b, s, len, 0);
  if (rc == CAS_EUTF8) lcas_enc_fail(L, at, "%s that is not valid UTF-8", what);
  lcas_enc_check(L, rc);
}

/* What the table at idx encodes as, by its keys: an object (0: every key a
 * string, or no key), an array of n (n > 0: the keys are exactly 1..n), or
 * neither (-1, *why says what it is). */
static long lcas_table_kind(lua_State *L, int idx, const char **why) {
  long n = 0, max = 0;
  int strings = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      strings = 1;
    } else if (lua_type(L, -1) == LUA_TNUMBER) {
      lua_Number k = lua_tonumber(L, -1);
      if (k < 1 || k != floor(k) || k > 2147483647.0) {
        lua_pop(L, 1);
        *why = "a table with a number key that is not 1..n";
        return -1;
      }
      n++;
      if ((long)k > max) max = (long)k;
    } else {
      *why = lua_type(L, -1) == LUA_TBOOLEAN ? "a table with a boolean key" : "a table with a key that is not a string";
      lua_pop(L, 1);
      return -1;
    }
  }
  if (strings && n) {
    *why = "a table that mixes string and integer keys";
    return -1;
  }
  if (n != max) {
    *why = "a sparse array (holes are not JSON)";
    return -1;
  }
  return n;
}

static int lcas_is_array_mt(lua_State *L, int idx, int array_mt) {
  int r;
  if (!lua_getmetatable(L, idx)) return 0;
  r = lua_rawequal(L, -1, array_mt);
  lua_pop(L, 1);
  return r;
}

/* The members of the object-like table at idx (string keys only), each after
 * a ',' unless it is the first; the member keyed skip (if any) is left out. */
static void lcas_enc_members(lua_State *L, lcas_enc *e, int idx, lcas_at *at, const char *skip, int first) {
  lcas_at here;
  size_t skip_len = skip ? strlen(skip) : 0, kl;
  here.up = at;
  here.table = NULL;
  here.index = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k;
    here.table = NULL;
    here.key = lua_gettop(L) - 1;
    /* a string: lcas_table_kind checked (lua_tolstring would not convert it) */
    k = lua_tolstring(L, here.key, &kl);
    if (skip && kl == skip_len && memcmp(k, skip, kl) == 0) {
      lua_pop(L, 1);
      continue;
    }
    if (!first) lcas_put(L, e->b, ",", 1);
    first = 0;
    lcas_enc_string(L, e, here.key, &here, "a key");
    lcas_put(L, e->b, ":", 1);
    lcas_enc_value(L, e, here.key + 1, &here);
    lua_pop(L, 1);
  }
}

/* The table at idx: an array when it carries array_mt (its elements 1..#t)
 * or its keys are 1..n, else an object with string keys ({} when empty). */
static void lcas_enc_table(lua_State *L, lcas_enc *e, int idx, lcas_at *at) {
  const void *t = lua_topointer(L, idx);
  const lcas_at *a;
  const char *why = NULL;
  long n, i;
  int as_array;
  for (a = at->up; a; a = a->up)
    if (a->table == t) lcas_enc_fail(L, at, "a reference cycle (a table that contains itself)");
  if (++e->depth > e->limit) lcas_enc_fail(L, at, "a table nested deeper than %d levels", e->limit);
  luaL_checkstack(L, 6, "JSON nested too deeply");
  at->table = t;
  as_array = lcas_is_array_mt(L, idx, e->array_mt);
  n = as_array ? (long)lua_rawlen(L, idx) : lcas_table_kind(L, idx, &why);
  if (n < 0) lcas_enc_fail(L, at, "%s", why);
  if (as_array || n > 0) {
    lcas_at here;
    here.up = at;
    here.table = NULL;
    here.key = 0;
    lcas_put(L, e->b, "[", 1);
    for (i = 1; i <= n; i++) {
      if (i > 1) lcas_put(L, e->b, ",", 1);
      here.table = NULL;
      here.index = i;
      lua_rawgeti(L, idx, (int)i);
      lcas_enc_value(L, e, lua_gettop(L), &here);
      lua_pop(L, 1);
    }
    lcas_put(L, e->b, "]", 1);
  } else {
    lcas_put(L, e->b, "{", 1);
    lcas_enc_members(L, e, idx, at, NULL, 1);
    lcas_put(L, e->b, "}", 1);
  }
  e->depth--;
}

static void lcas_enc_value(lua_State *L, lcas_enc *e, int idx, lcas_at *at) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL: lcas_put(L, e->b, "null", 4); return;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) != NULL) lcas_enc_fail(L, at, "a light userdata other than null");
      lcas_put(L, e->b, "null", 4);
      return;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx))
        lcas_put(L, e->b, "true", 4);
      else
        lcas_put(L, e->b, "false", 5);
      return;
    case LUA_TNUMBER: lcas_enc_number(L, e, idx, at); return;
    case LUA_TSTRING: lcas_enc_string(L, e, idx, at, "a string"); return;
    case LUA_TTABLE: lcas_enc_table(L, e, idx, at); return;
    default: lcas_enc_fail(L, at, "a %s", luaL_typename(L, idx));
  }
}

/* Start an encoding: its buffer (a userdata pushed on the stack, then
 * core.array_mt above it), and the root of the path. */
static void lcas_enc_start(lua_State *L, lcas_enc *e, lcas_at *root) {
  e->b = lcas_newbuf(L);
  lcas_push_array_mt(L);
  e->array_mt = lua_gettop(L);
  e->depth = 0;
  e->limit = CAS_JSON_MAX_DEPTH;
  root->up = NULL;
  root->table = NULL;
  root->key = 0;
  root->index = 0;
}

/* The value at idx (an absolute index) as JSON text, in a buffer owned by a
 * userdata left on the stack; raises with the path to a value JSON cannot
 * hold.  A table may nest up to CAS_JSON_MAX_DEPTH containers: what this
 * writes, the decoder reads back. */
static cas_buf_t *lcas_encode_value(lua_State *L, int idx) {
  lcas_enc e;
  lcas_at root;
  lcas_enc_start(L, &e, &root);
  lcas_enc_value(L, &e, idx, &root);
  lua_pop(L, 1); /* array_mt */
  return e.b;
}

/* A control request's object, {"subtype": subtype, ...}, with the members of
 * the table at index fields (an absolute index, or 0 for none) but its own
 * "subtype", in a buffer left on the stack as for lcas_encode_value. */
static cas_buf_t *lcas_encode_request(lua_State *L, const char *subtype, size_t len, int fields) {
  lcas_enc e;
  lcas_at root;
  const char *why;
  int rc;
  lcas_enc_start(L, &e, &root);
  lcas_put(L, e.b, "{\"subtype\":", 11);
  if ((rc = cas_json_write_string(e.b, subtype, len, 0)) == CAS_EUTF8)
    luaL_error(L, "request subtype is not valid UTF-8");
  lcas_enc_check(L, rc);
  if (fields) {
    if (lcas_is_array_mt(L, fields, e.array_mt) || lcas_table_kind(L, fields, &why) != 0)
      luaL_error(L, "request fields must be a table with string keys");
    root.table = lua_topointer(L, fields);
    e.depth = 1;
    lcas_enc_members(L, &e, fields, &root, "subtype", 0);
  }
  lcas_put(L, e.b, "}", 1);
  lua_pop(L, 1);
  return e.b;
}

/* core.encode(value) -> text; raises "cannot encode ... at $..." for what
 * JSON cannot hold (json.lua turns it into a typed error). */
static int lcas_encode(lua_State *L) {
  cas_buf_t *b;
  luaL_checkany(L, 1);
  b = lcas_encode_value(L, 1);
  lua_pushlstring(L, b->data, b->len);
  cas_buf_free(b); /* now, not when the userdata is collected */
  return 1;
}

/* core.utf8_valid(s) -> whether s is well-formed UTF-8, as the encoder and
 * the CLI want text (the Lua layer checks what it sends before sending). */
static int lcas_utf8_valid(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lua_pushboolean(L, cas_utf8_valid(s, len));
  return 1;
}
