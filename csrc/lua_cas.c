/* lua_cas.c - the Lua C module claude_agent_sdk.core: the only file that
 * includes lua.h, with the files it #includes.
 *
 * It is private: the public API is built in Lua on top of it.  Style follows
 * luv: misuse (wrong argument types, a value JSON cannot hold) raises; a
 * runtime failure returns nil, message, code-name (e.g. nil, "executable not
 * found", "ENOTFOUND"), and the Lua layer turns that into a typed error
 * object.
 *
 * The module is one translation unit split by role, luv's way (luv's luv.c
 * #includes stream.c, process.c, ...): every function stays static, and the
 * C core (cas_*.c) never sees lua.h.
 *   lua_cas.c        this file: what the others share (the 5.1 shim, failures,
 *                    core.array_mt), the client userdata and its methods, and
 *                    the registration of everything
 *   lua_cas_json.c   JSON text -> Lua (the one decoder: a walk that checks as it
 *                    builds) and Lua -> JSON text (written into a buffer)
 *   lua_cas_typed.c  typed messages: messages.shapes compiled, and the walk
 *                    that builds a hot frame's message straight from its line
 *   lua_cas_os.c     environ, listdir, stat, executable, realpath, mkdir, sleep, now,
 *                    hrtime, run
 *
 * Memory rule: no C allocation is ever live across a call that can raise a
 * Lua error unless a userdata owns it.  A line being decoded is owned by the
 * client userdata (its `cur` slot, or the item still queued) and its escapes
 * decode into the client's scratch buffer; text being encoded grows in a
 * buffer owned by a userdata; core.decode's scratch is a userdata.  So a
 * memory error while building tables leaves everything to __gc.
 *
 * JSON mapping (DESIGN.md §4): null is a light userdata NULL (core.null, equal
 * to cjson.null); arrays get core.array_mt so an empty array encodes back as
 * []; integral numbers become Lua integers on 5.3+.  A table encodes as an
 * array when it carries array_mt or is a non-empty sequence 1..n, as an object
 * when all keys are strings; an empty plain table is an object {}.
 */
#define _XOPEN_SOURCE 700 /* realpath (XSI) */

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "cas_buf.h"
#include "cas_client.h"
#include "cas_error.h"
#include "cas_internal.h"
#include "cas_json.h"
#include "cas_process.h"

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

/* --- what the included files share ----------------------------------------------- */

#define CLIENT_MT "claude_agent_sdk.core.client"
#define SHAPES_MT "claude_agent_sdk.core.shapes"
#define BUF_MT "claude_agent_sdk.core.buf"
#define RUN_MT "claude_agent_sdk.core.run"

/* Registry key of core.array_mt (the address is unique). */
static char array_mt_key;

static void lcas_push_array_mt(lua_State *L) {
  lua_pushlightuserdata(L, &array_mt_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
}

static const char *lcas_code(int err) {
  const char *n = cas_err_name(err);
  return strncmp(n, "CAS_", 4) == 0 ? n + 4 : n;
}

/* luv's failure: nil, the sentence (msg, or the core's for err), the code. */
static int lcas_fail(lua_State *L, int err, const char *msg) {
  lua_pushnil(L);
  lua_pushstring(L, msg ? msg : cas_strerror(err));
  lua_pushstring(L, lcas_code(err));
  return 3;
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

#include "lua_cas_json.c"
#include "lua_cas_typed.c"
#include "lua_cas_os.c"

/* --- the client: a running CLI (cas_client_t) ------------------------------------ */

typedef struct {
  cas_client_t *c;
  cas_item_t *cur; /* the item being converted; freed on the next pop or __gc */
  char *scratch; /* escaped strings of the line being decoded land here */
  size_t scratch_cap;
  int max_depth; /* the client's max_depth option ... */
  int depth_limit; /* ... and the nesting limit the core checks lines against */
} lcas_client;

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

static int lcas_spawn(lua_State *L) {
  cas_client_opts_t o;
  lcas_client *u;
  int rc, err = 0, defer_check;
  luaL_checktype(L, 1, LUA_TTABLE);
  memset(&o, 0, sizeof o);
  lua_getfield(L, 1, "argv"); /* 2 */
  lua_getfield(L, 1, "env"); /* 3 */
  lua_getfield(L, 1, "cwd"); /* 4 */
  lua_getfield(L, 1, "user"); /* 5 */
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
  lua_getfield(L, 1, "mirror_frames");
  o.mirror_frames = lua_toboolean(L, -1);
  /* The decoder checks lines as it builds them, so the core need not scan
   * the frames it only queues; defer_check = false (for tests) has every line
   * scanned first all the same. */
  lua_getfield(L, 1, "defer_check");
  defer_check = lua_isnil(L, -1) || lua_toboolean(L, -1);

  /* The userdata exists before the process does, so __gc always reaps it. */
  u = (lcas_client *)lua_newuserdata(L, sizeof *u);
  u->c = NULL;
  u->cur = NULL;
  u->scratch = NULL;
  u->scratch_cap = 0;
  u->max_depth = o.max_depth;
  u->depth_limit = cas_json_depth_limit(o.max_depth);
  luaL_getmetatable(L, CLIENT_MT);
  lua_setmetatable(L, -2);
  rc = cas_client_spawn(&u->c, &o, &err);
  if (rc == CAS_OK) cas__client_defer_check(u->c, defer_check);
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

/* Room in the client's scratch buffer for the escapes of a line of len bytes. */
static char *lcas_scratch(lua_State *L, lcas_client *u, size_t len) {
  if (u->scratch_cap < len + 1) {
    char *b = (char *)realloc(u->scratch, len + 1);
    if (!b) luaL_error(L, "not enough memory");
    u->scratch = b;
    u->scratch_cap = len + 1;
  }
  return u->scratch;
}

/* The message item it (a line), pushed: typed per shape s when s is given
 * and the line fits it (then 2, else 1), or decoded plainly; 0 with nothing
 * pushed when the line is not valid JSON, and then the item becomes the
 * decode error the core would have queued in its place (the scan's code and
 * at most CAS_DECODE_HEAD bytes of the line). */
static int lcas_push_line(lua_State *L, lcas_client *u, cas_item_t *it, lcas_mshape *s, int shapes_idx) {
  char *scratch = lcas_scratch(L, u, it->text_len);
  cas_json_shape_t sh;
  int rc;
  if (s && lcas_push_typed(L, it->text, it->text_len, u->depth_limit, scratch, s, shapes_idx)) return 2;
  if (lcas_decode_text(L, it->text, it->text_len, u->depth_limit, scratch)) return 1;
  rc = cas_json_scan(it->text, it->text_len, u->max_depth, &sh);
  if (rc == CAS_OK) return luaL_error(L, "JSON nested too deeply for the Lua stack");
  it->kind = CAS_ITEM_DECODE_ERROR;
  it->code = rc;
  if (it->text_len > CAS_DECODE_HEAD) it->text_len = CAS_DECODE_HEAD;
  return 0;
}

/* client:next_message([shapes]) -> "message", tbl[, true when tbl is a typed
 * message built per shapes] | "decode_error", head, code | "fatal", msg, code
 * | nil */
static int lcas_client_next_message(lua_State *L) {
  lcas_client *u = lcas_check(L);
  lcas_shapes *sh = lua_isnoneornil(L, 2) ? NULL : (lcas_shapes *)lcas_toudata(L, 2, 2, SHAPES_MT);
  cas_item_t *it = lcas_hold(u, cas_proto_pop_message(cas_client_proto(u->c)));
  int pushed;
  if (!it) return 0;
  if (it->kind == CAS_ITEM_MESSAGE && it->json) { /* a frame the core parsed (result, system, ...) */
    lua_pushliteral(L, "message");
    lcas_push_json(L, it->json, 0);
    lcas_release(u);
    return 2;
  }
  if (it->kind == CAS_ITEM_MESSAGE) {
    lua_pushliteral(L, "message");
    pushed = lcas_push_line(L, u, it, sh ? lcas_shape_for(sh, it) : NULL, 2);
    lcas_trim_scratch(u);
    if (pushed) {
      lcas_release(u);
      if (pushed == 1) return 2;
      lua_pushboolean(L, 1);
      return 3;
    }
    lua_pop(L, 1); /* it is a decode error now */
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
         (s = lcas_shape_for(sh, it)) &&
         lcas_push_typed(L, it->text, it->text_len, u->depth_limit, lcas_scratch(L, u, it->text_len), s, 2)) {
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
    cas_buf_t *b;
    luaL_checktype(L, 2, LUA_TTABLE);
    b = lcas_encode_value(L, 2);
    rc = cas_client_send_line(u->c, b->data, b->len);
    cas_buf_free(b);
  }
  if (rc != CAS_OK) return lcas_fail(L, rc, NULL);
  lua_pushboolean(L, 1);
  return 1;
}

/* client:request(subtype, fields?, timeout_ms?) -> id | nil, msg, code */
static int lcas_client_request(lua_State *L) {
  lcas_client *u = lcas_check(L);
  size_t len;
  const char *subtype = luaL_checklstring(L, 2, &len);
  int timeout = (int)luaL_optnumber(L, 4, -1);
  cas_buf_t *b;
  char id[64];
  int rc;
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  b = lcas_encode_request(L, subtype, len, lua_isnoneornil(L, 3) ? 0 : 3);
  rc = cas_client_request_json(u->c, b->data, b->len, timeout, id);
  cas_buf_free(b);
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
  cas_buf_t *b = NULL;
  int rc;
  if (!err && !lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    b = lcas_encode_value(L, 3);
  }
  rc = cas_client_respond_json(u->c, id, b ? b->data : NULL, b ? b->len : 0, err);
  if (b) cas_buf_free(b);
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

static const luaL_Reg client_methods[] = {{"pump", lcas_client_pump},
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
                                          {NULL, NULL}};

static const luaL_Reg module_funcs[] = {{"spawn", lcas_spawn},
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
                                        {"realpath", lcas_realpath},
                                        {"mkdir", lcas_mkdir},
                                        {"mkdtemp", lcas_mkdtemp},
                                        {"rmdir", lcas_rmdir},
                                        {"time_ms", lcas_time_ms},
                                        {"run", lcas_run},
                                        {NULL, NULL}};

/* The module's one exported symbol: the build hides everything else
 * (-fvisibility=hidden, the core compiled with CAS_EMBEDDED). */
#if defined(__GNUC__)
#define LCAS_EXPORT __attribute__((visibility("default")))
#else
#define LCAS_EXPORT
#endif

LCAS_EXPORT int luaopen_claude_agent_sdk_core(lua_State *L);

LCAS_EXPORT int luaopen_claude_agent_sdk_core(lua_State *L) {
  luaL_newmetatable(L, BUF_MT);
  lua_pushcfunction(L, lcas_buf_gc);
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
