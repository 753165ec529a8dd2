/* asan_lua.c - a minimal Lua 5.4 host for running the specs with the C
 * module built under ASan+UBSan: `asan_lua script.lua args...`.
 *
 * The sanitizers must be in the main executable; LD_PRELOAD would do that
 * for lua5.4 too, but every child (the CLI, Neovim, helper interpreters)
 * would inherit it.  Like lua.c, it sets `arg` (arg[0] the script, arg[-1]
 * this program), runs the script (or `-e chunk`), and closes the state before exiting so
 * that LeakSanitizer sees what the module leaked, not what Lua kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = luaL_tolstring(L, 1, NULL);
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int main(int argc, char **argv) {
  lua_State *L;
  int i, status;
  if (argc < 2) {
    fprintf(stderr, "usage: %s script.lua [args...]\n", argv[0]);
    return 2;
  }
  L = luaL_newstate();
  if (!L) return 1;
  luaL_openlibs(L);
  lua_createtable(L, argc, 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  lua_setglobal(L, "arg");
  lua_pushcfunction(L, traceback);
  if (strcmp(argv[1], "-e") == 0 && argc >= 3) {
    /* `-e chunk`: how spawn_server starts the offline model server */
    status = luaL_loadstring(L, argv[2]);
    if (status == LUA_OK) status = lua_pcall(L, 0, 0, 1);
  } else {
    status = luaL_loadfile(L, argv[1]);
    if (status == LUA_OK) {
      for (i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
      status = lua_pcall(L, argc - 2, 0, 1);
    }
  }
  if (status != LUA_OK) fprintf(stderr, "%s\n", lua_tostring(L, -1));
  lua_close(L);
  return status == LUA_OK ? 0 : 1;
}
