/* lua_cas_typed.c - typed messages built straight from the line, for lua_cas.c
 * (which #includes this file after lua_cas_json.c: one translation unit,
 * everything static).
 *
 * One job: the frames that come by the thousand (assistant, user,
 * stream_event) become their typed message in one pass over the line, as
 * messages.lua's `shapes` table describes it.  It is apart because it is
 * message policy, not JSON: every rule here (which members become which
 * fields, which member's object is lifted, which field holds content blocks,
 * which block members are dropped when null) comes from that table, compiled
 * once by core.message_shapes, so C and Lua (messages.parse, for the frames
 * that come any other way) read the same data.
 *
 * The frame's own table and its "message" object are never made, dropped
 * members are only checked, and field names come from the shape instead of
 * being interned from the line.  Values are built by the one decoder
 * (lua_cas_json.c), which checks the line as it goes: the core queues these
 * lines unchecked.  A malformed line, or anything the shape does not expect
 * (a "message" that is not an object or is missing, a key spelled with
 * escapes, a second "type" or "message", a repeated field), abandons the
 * attempt with nothing pushed; the line, left as it was, is then decoded
 * plainly by the same walk (or refused with the scan's error), and
 * messages.parse() has the last word, errors included: every path gives the
 * same message or the same error (spec/typed_decode_spec.lua).
 */

#define LCAS_SHAPES 8 /* frame types */
#define LCAS_FIELDS 16 /* fields per member list */
#define LCAS_OUTS 31 /* distinct field names per shape (bits of a mask) */
#define LCAS_NULLS 4 /* block members dropped when null, per shape */

/* Slots of the shapes' uservalue table; the key cache (LCAS_KEYS slots) and
 * then the strings and classes the shapes refer to follow them. */
enum { UV_TYPE_KEY = 1, UV_BLOCK_CLASSES, UV_DEFAULT_BLOCK, UV_KEYS };

typedef struct {
  const char *wire; /* the key as sent; the string is anchored in the uservalue */
  size_t len;
  int out; /* uservalue slot of the field's name */
  unsigned bit; /* this field's bit in the set-fields mask */
  int blocks; /* an array value holds content blocks */
  int last; /* uservalue slot of the field's last string value */
  unsigned misses; /* how many times in a row that was not the value */
} lcas_field;

typedef struct {
  const char *type; /* the frame type, anchored in the uservalue */
  size_t type_len;
  int cls, type_value;
  const char *lift; /* the member whose object's members are fields too, or NULL */
  size_t lift_len;
  lcas_field top[LCAS_FIELDS], lifted[LCAS_FIELDS];
  int ntop, nlifted;
  int outs[LCAS_OUTS], nouts; /* slots of the distinct field names */
  int array_out; /* slot of the field that is [] when absent (0: none) */
  unsigned array_bit;
  lcas_name nulls[LCAS_NULLS]; /* block members dropped when null */
  int nnulls;
} lcas_mshape;

typedef struct {
  lcas_mshape s[LCAS_SHAPES];
  int n;
} lcas_shapes;

/* --- compiling messages.shapes ----------------------------------------------------- */

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
static void lcas_compile_fields(lua_State *L, int t, int uv, lcas_mshape *m, lcas_field *list, int *n,
                                const char *blocks) {
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

/* The list at index t (block member names whose null is dropped) into m->nulls. */
static void lcas_compile_nulls(lua_State *L, int t, int uv, lcas_mshape *m) {
  int i, n = (int)lua_rawlen(L, t);
  if (n > LCAS_NULLS) luaL_error(L, "message shape %s: more than %d block_nulls", m->type, LCAS_NULLS);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, t, i);
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "message shape %s: block_nulls must list strings", m->type);
    m->nulls[m->nnulls].s = lua_tolstring(L, -1, &m->nulls[m->nnulls].len);
    m->nnulls++;
    lcas_anchor(L, uv);
  }
}

/* Optional string field k of the table at t, anchored; NULL when nil. */
static const char *lcas_shape_string(lua_State *L, int t, const char *k, int uv, size_t *len, const char *type) {
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
 * name, block_nulls = {name, ...} } } (messages.lua says what each means). */
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
    lua_getfield(L, spec, "block_nulls");
    if (!lua_isnil(L, -1)) {
      if (!lua_istable(L, -1)) return luaL_error(L, "message shape %s: block_nulls must be a table", m->type);
      lcas_compile_nulls(L, lua_gettop(L), uv, m);
    }
    lua_pop(L, 1);
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

/* --- the walk of a frame per its shape ------------------------------------------------ */

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
  if (!next && (!(next = cas__json_string_end(body, w->end, &esc)) || esc)) return 0;
  *k = body;
  *len = (size_t)(next - 1 - body);
  w->p = next;
  if (!lcas_walk_byte(w, ':')) return 0;
  lcas_walk_ws(w);
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
  lua_rawgeti(L, w->keys, f->last);
  if (lua_type(L, -1) == LUA_TSTRING) {
    last = lua_tolstring(L, -1, &n);
    if (lcas_is_string(body, w->end, last, n)) { /* it was checked when it came */
      f->misses = 0;
      w->p = body + n + 1;
      return 1;
    }
  }
  lua_pop(L, 1);
  if (!(next = cas__json_string_end(body, w->end, &esc)) || esc) return 0;
  lua_pushlstring(L, body, (size_t)(next - 1 - body));
  lua_pushvalue(L, -1);
  lua_rawseti(L, w->keys, f->last);
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
  lua_rawgeti(L, w->keys, f->out);
  if (*w->p == '"' && lcas_walk_same(L, w, f)) return 1;
  return f->blocks && *w->p == '[' ? lcas_walk_array(L, w, 1) : lcas_walk_value(L, w);
}

/* The members of the object at w->p: each one of the shape's fields pushed
 * as a pair, the others skipped.  top: the frame itself (its lift member is
 * descended into; a second "type" or lift member gives up). */
static int lcas_walk_members(lua_State *L, lcas_walk *w, lcas_mshape *s, int top, unsigned *set, int *lifts) {
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

/* Push the typed message per shape s of the line text[0..len) (text[len] a
 * NUL), checking it on the way, with at most limit levels of containers;
 * scratch has room for len bytes.  shapes_idx is the shapes userdata's stack
 * index.  0 with nothing pushed when the line is malformed or the shape does
 * not fit: the caller decodes the line plainly. */
static int lcas_push_typed(lua_State *L, const char *text, size_t len, int limit, char *scratch, lcas_mshape *s,
                           int shapes_idx) {
  lcas_walk w;
  lcas_blocks blocks;
  unsigned set = 0;
  int lifts = 0, pairs, base = lua_gettop(L);
  /* The frame's pairs (LCAS_OUTS fields and the type) and the first levels. */
  if (!lua_checkstack(L, 8 + 2 * (LCAS_OUTS + 1) + LCAS_ROOM_LEVELS * LCAS_LEVEL_ROOM)) return 0;
  lcas_push_array_mt(L); /* base + 1 */
  lcas_getuv(L, shapes_idx); /* base + 2 */
  lua_rawgeti(L, base + 2, UV_BLOCK_CLASSES); /* base + 3 */
  blocks.uv = base + 2;
  blocks.type_slot = UV_TYPE_KEY;
  blocks.default_slot = UV_DEFAULT_BLOCK;
  blocks.classes = base + 3;
  blocks.nulls = s->nulls;
  blocks.nnulls = s->nnulls;
  w.p = text;
  w.end = text + len;
  w.array_mt = base + 1;
  w.keys = base + 2;
  w.key0 = UV_KEYS;
  w.blocks = &blocks;
  w.depth = 0;
  w.limit = limit;
  w.scratch = scratch;
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
