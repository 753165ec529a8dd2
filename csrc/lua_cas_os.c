/* lua_cas_os.c - the operating system as the Lua layer needs it, for
 * lua_cas.c (which #includes this file: one translation unit, everything
 * static).
 *
 * One job: the few system calls the pure-Lua layer cannot make itself and
 * that do not deserve a dependency (luv, lfs) in a library whose blocking use
 * needs nothing: the environment, directories and file status (session
 * transcripts), making a directory, the CLI search, a path's real name, clocks and a sleep
 * without a loop, and a helper program run to completion through the core's
 * process layer (no shell, ever).  Nothing here knows about JSON or clients.
 *
 * Failures follow luv: nil, "ENOENT: no such file or directory: /x", "ENOENT".
 */

/* luv's failure for a system call on path that set errno to e. */
static int lcas_fail_errno(lua_State *L, int e, const char *path) {
  char msg[128];
  snprintf(msg, sizeof msg, "%s", strerror(e));
  if (msg[0] >= 'A' && msg[0] <= 'Z') msg[0] = (char)(msg[0] - 'A' + 'a'); /* luv's lower case */
  lua_pushnil(L);
  lua_pushfstring(L, "%s: %s: %s", cas_errno_name(e), msg, path);
  lua_pushstring(L, cas_errno_name(e));
  return 3;
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

/* The DIR of listdir is owned by a userdata, so a memory error while
 * filling the table cannot leak it. */
static int lcas_dir_gc(lua_State *L) {
  DIR **d = (DIR **)lua_touserdata(L, 1);
  if (*d) closedir(*d);
  *d = NULL;
  return 0;
}

/* core.listdir(path) -> { names } (no "." or "..") | nil, msg, code: for
 * reading the CLI's session transcripts without requiring luv or lfs. */
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
  if (!*d) return lcas_fail_errno(L, errno, path);
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

/* core.stat(path) -> { type = "file"|"directory"|"other", size = n, mtime =
 * ms } | nil, msg, code. */
static int lcas_stat(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (stat(path, &st) != 0) return lcas_fail_errno(L, errno, path);
  lua_createtable(L, 0, 3);
  lua_pushstring(L, S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "directory" : "other");
  lua_setfield(L, -2, "type");
  lua_pushnumber(L, (lua_Number)st.st_size);
  lua_setfield(L, -2, "size");
  lua_pushnumber(L, (lua_Number)st.st_mtim.tv_sec * 1000 + (lua_Number)(st.st_mtim.tv_nsec / 1000000));
  lua_setfield(L, -2, "mtime");
  return 1;
}

/* core.executable(path) -> true when path names an executable regular file
 * (the CLI search asks a yes or no question: no failure to report). */
static int lcas_executable(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  lua_pushboolean(L, stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0);
  return 1;
}

/* core.realpath(path) -> the absolute path, symlinks resolved | nil, msg,
 * code.  The buffer is on the C stack, so a raising push leaks nothing. */
static int lcas_realpath(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char buf[PATH_MAX];
  if (!realpath(path, buf)) return lcas_fail_errno(L, errno, path);
  lua_pushstring(L, buf);
  return 1;
}

/* core.mkdir(path[, mode]) -> true | nil, msg, code (EEXIST when it is
 * there: callers that make a fresh name retry on it).  Mode default 0700:
 * what the SDK makes (a spare's parking folder, a session store's files, a resumed session's config directory) is private. */
static int lcas_mkdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer mode = luaL_optinteger(L, 2, 0700);
  luaL_argcheck(L, mode >= 0 && mode <= 07777, 2, "a mode from 0 to 07777");
  if (mkdir(path, (mode_t)mode) != 0) return lcas_fail_errno(L, errno, path);
  lua_pushboolean(L, 1);
  return 1;
}

/* core.mkdtemp(template) -> path | nil, msg, code: a new private directory
 * (mode 0700) named from a template ending in XXXXXX, for a config directory
 * that holds credentials. */
static int lcas_mkdtemp(lua_State *L) {
  size_t len;
  const char *tmpl = luaL_checklstring(L, 1, &len);
  char buf[PATH_MAX];
  if (len >= sizeof buf) return luaL_argerror(L, 1, "template too long");
  memcpy(buf, tmpl, len + 1);
  if (!mkdtemp(buf)) return lcas_fail_errno(L, errno, tmpl);
  lua_pushstring(L, buf);
  return 1;
}

/* core.rmdir(path) -> true | nil, msg, code: an empty directory. */
static int lcas_rmdir(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  if (rmdir(path) != 0) return lcas_fail_errno(L, errno, path);
  lua_pushboolean(L, 1);
  return 1;
}

/* Wall-clock milliseconds since the epoch (a store's mtime; the Python SDK's
 * int(time.time() * 1000)).  os.time() has whole seconds only. */
static int lcas_time_ms(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec * 1000 + (lua_Number)(ts.tv_nsec / 1000000));
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

/* --- run: a helper program to completion, stdout captured (cas_run) ------------- */

/* h:close() (also __gc): kill it if still running, reap, free.  Idempotent. */
static int lcas_run_close(lua_State *L) {
  cas_run_t **r = (cas_run_t **)luaL_checkudata(L, 1, RUN_MT);
  cas_run_free(*r);
  *r = NULL;
  return 0;
}

/* h:step(timeout_ms): read and check the exit, waiting up to timeout_ms (0,
 * the default: never; -1: until done).  Done: true, stdout, exit code,
 * signal.  Not yet: false, then the fds to watch for reading.  Failed: nil,
 * msg, code (ELINE: stdout over the cap, the child killed). */
static int lcas_run_step(lua_State *L) {
  cas_run_t **r = (cas_run_t **)luaL_checkudata(L, 1, RUN_MT);
  int rc, fds[3], n, i, sig = 0;
  size_t len;
  const char *out;
  if (!*r) return luaL_error(L, "run is closed");
  rc = cas_run_pump(*r, (int)luaL_optnumber(L, 2, 0));
  if (rc < 0) return lcas_fail(L, rc, rc == CAS_ELINE ? "the output exceeds max_out" : NULL);
  if (rc == 0) {
    n = cas_run_pollfds(*r, fds);
    lua_pushboolean(L, 0);
    for (i = 0; i < n; i++) lua_pushinteger(L, fds[i]);
    return n + 1;
  }
  out = cas_run_output(*r, &len);
  lua_pushboolean(L, 1);
  lua_pushlstring(L, out, len);
  lua_pushinteger(L, cas_run_exit_code(*r, &sig));
  lua_pushinteger(L, sig);
  return 4;
}

/* core.run(argv, cwd?, max_out?): start argv (no shell; stdin empty, stderr
 * dropped) and return its handle, or nil, msg, code (ENOTFOUND, ENOCWD...).
 * The handle exists before the process does, so __gc always reaps it. */
static int lcas_run(lua_State *L) {
  static const luaL_Reg methods[] = {{"step", lcas_run_step}, {"close", lcas_run_close}, {NULL, NULL}};
  cas_spawn_opts_t o;
  cas_run_t **r;
  size_t max_out = (size_t)luaL_optnumber(L, 3, 0);
  int rc;
  memset(&o, 0, sizeof o);
  o.cwd = luaL_optstring(L, 2, NULL);
  o.argv = lcas_strvec(L, 1, "argv");
  if (!o.argv || !o.argv[0]) return luaL_error(L, "argv must be a non-empty array of strings");
  r = (cas_run_t **)lua_newuserdata(L, sizeof *r);
  *r = NULL;
  if (luaL_newmetatable(L, RUN_MT)) {
    lua_pushcfunction(L, lcas_run_close);
    lua_setfield(L, -2, "__gc");
    lua_newtable(L);
    lcas_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
  }
  lua_setmetatable(L, -2);
  rc = cas_run_start(r, &o, max_out, NULL);
  if (rc != CAS_OK) return lcas_fail(L, rc, NULL);
  return 1;
}
