#!/bin/sh
# run_c_example.sh - the C core as a C programmer gets it, as TAP lines.
#
#   1. `make install PREFIX=<tmp>`: headers, both libraries, claude_agent_sdk.pc;
#      nothing of Lua in them; every installed header compiles on its own;
#      the .so exports exactly the headers' CAS_EXTERN functions, core.so only
#      its luaopen_; cas_version() agrees with the headers and options.lua;
#      DESTDIR staging and `make uninstall` do what they say; the LICENSE is installed
#   2. examples/c/conversation.c built with -std=c99 -Wall -Wextra -Werror and
#      nothing but `pkg-config` for flags: against the shared library (loaded
#      from the install tree through an rpath) and against the static archive
#   3. both binaries run a two-turn conversation through the real CLI against
#      the offline model server (bin/claude-offline-model, demo answers): both
#      answers appear, the second one using the first (context kept), exit
#      status 0, and no process of the CLI survives
#   4. the shared build once more under valgrind: no memory error, no definite
#      leak (the CLI itself, exec'd by the example, is not traced)
#
# Usage: sh spec/support/run_c_example.sh   (after `make setup`; CC, CLAUDE_CLI_PATH honoured)
# Everything goes into one temporary directory, removed on exit; the server is
# stopped on exit too, and reads a pipe we hold so it dies with us anyway.
# $CC, $EX_CFLAGS and pkg-config's output are word lists, split on purpose:
# shellcheck disable=SC2086,SC2046
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1

CC=${CC:-cc}
CLI=${CLAUDE_CLI_PATH:-$ROOT/.deps/node_modules/.bin/claude}
LUA=${LUA:-lua5.4}
EX_CFLAGS="-std=c99 -Wall -Wextra -Werror"
# A turn against the offline server takes a few seconds; this only bounds a hang.
RUN_TIMEOUT=${RUN_TIMEOUT:-120}

# Only what this script passes may decide where things go (LIBDIR and the like
# are read from the environment by the Makefile's ?=).
unset PREFIX DESTDIR LIBDIR INCLUDEDIR PKGCONFIGDIR

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cas-c-example-XXXXXX") || exit 1
PREFIX="$TMP/prefix"
SERVER_PID=
n=0
failed=0

# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - # SKIP $1"; }
# the last lines of a file as TAP comments
show() { tail -n "${2:-15}" "$1" 2>/dev/null | sed 's/^/#   /'; }
finish() { echo "1..$n"; [ "$failed" -eq 0 ]; exit $?; }

# --- 1. install ---------------------------------------------------------------------
if make -s --no-print-directory install DESTDIR= PREFIX="$PREFIX" > "$TMP/install.log" 2>&1 &&
   [ -f "$PREFIX/include/claude_agent_sdk/claude_agent_sdk.h" ] &&
   [ -f "$PREFIX/lib/libclaude_agent_sdk.a" ] && [ -f "$PREFIX/lib/libclaude_agent_sdk.so" ] &&
   [ -f "$PREFIX/lib/pkgconfig/claude_agent_sdk.pc" ]; then
  ok "make install PREFIX=<tmp>: headers, libclaude_agent_sdk.a and .so, claude_agent_sdk.pc"
else
  not_ok "make install PREFIX=<tmp>: headers, libclaude_agent_sdk.a and .so, claude_agent_sdk.pc"
  show "$TMP/install.log"; find "$PREFIX" 2>&1 | sed 's/^/#   /' | head -30
  finish # nothing below can work
fi

export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
LIBDIR=$(pkg-config --variable=libdir claude_agent_sdk)
SO=$(readlink -f "$PREFIX/lib/libclaude_agent_sdk.so")

# No Lua in what a C user gets: no Lua header included, no Lua symbol needed,
# no binding object in the archive.
lua_refs=$( {
  grep -lE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](lua|lauxlib|lualib|luaconf)' \
    "$PREFIX"/include/claude_agent_sdk/*.h
  nm -D --undefined-only "$SO" | grep -E ' (lua|luaL)_'
  readelf -d "$SO" | grep -E 'NEEDED.*lua'
  ar t "$PREFIX/lib/libclaude_agent_sdk.a" | grep -v '^cas_'
} 2>&1)
soname=$(readelf -d "$SO" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
if [ -z "$lua_refs" ] && [ "$soname" = libclaude_agent_sdk.so.0 ] &&
   [ "$(readlink "$PREFIX/lib/libclaude_agent_sdk.so.0")" = "$(basename "$SO")" ]; then
  ok "the installed library and headers know nothing of Lua; soname $soname"
else
  not_ok "the installed library and headers know nothing of Lua; soname ${soname:-missing}"
  printf '%s\n' "$lua_refs" | sed 's/^/#   /'
fi

# Each installed header on its own, pedantic C99: its own #includes resolve
# from the install tree (the umbrella's "cas_*.h", <cjson/cJSON.h> through the
# Requires: libcjson of the .pc file).
bad_hdr=
for h in "$PREFIX"/include/claude_agent_sdk/*.h; do
  printf '#include <claude_agent_sdk/%s>\nint main(void) { return 0; }\n' "$(basename "$h")" |
    $CC $EX_CFLAGS -pedantic -fsyntax-only $(pkg-config --cflags claude_agent_sdk) -x c - \
      > "$TMP/hdr.log" 2>&1 || { bad_hdr="$bad_hdr $(basename "$h")"; show "$TMP/hdr.log" 5; }
done
if [ -z "$bad_hdr" ]; then
  ok "every installed header compiles on its own (-std=c99 -pedantic -Werror, pkg-config --cflags)"
else
  not_ok "every installed header compiles on its own: failed:$bad_hdr"
fi

# The exported functions are exactly the CAS_EXTERN declarations of the
# installed headers (the build hides the rest, csrc/cas_version.h), and the
# Lua module core.so exports its luaopen_ function alone.
grep -ho '^CAS_EXTERN [^(]*(' "$PREFIX"/include/claude_agent_sdk/*.h | sed 's/.*[ *]\([a-z_0-9]*\)($/\1/' |
  sort -u > "$TMP/declared"
nm -D --defined-only "$SO" | awk '$2 == "T" { print $3 }' | sort -u > "$TMP/exported"
nm -D --defined-only "$SO" | awk '$2 != "T" && $2 != "A" { print }' > "$TMP/exported-other"
if [ -s "$TMP/declared" ] && cmp -s "$TMP/declared" "$TMP/exported" && [ ! -s "$TMP/exported-other" ]; then
  ok "libclaude_agent_sdk.so exports exactly the $(wc -l < "$TMP/declared") CAS_EXTERN functions of its headers"
else
  not_ok "libclaude_agent_sdk.so exports exactly the CAS_EXTERN functions of its headers (< declared only, > exported only)"
  diff "$TMP/declared" "$TMP/exported" | grep '^[<>]' | sed 's/^/#   /' | head -20
  sed 's/^/#   other: /' "$TMP/exported-other" | head -5
fi
for mod in build/lua5.4/claude_agent_sdk/core.so build/luajit/claude_agent_sdk/core.so; do
  if [ ! -f "$mod" ]; then skip "$mod: not built (make module)"; continue; fi
  syms=$(nm -D --defined-only "$mod" | awk '{ print $3 }')
  if [ "$syms" = luaopen_claude_agent_sdk_core ]; then
    ok "$mod exports one symbol, luaopen_claude_agent_sdk_core"
  else
    not_ok "$mod exports one symbol, luaopen_claude_agent_sdk_core"
    printf '%s\n' "$syms" | head -10 | sed 's/^/#   /'
  fi
done

# cas_version() of the installed library, CAS_VERSION_STRING of its headers,
# the .so's file name and the Lua SDK's VERSION: one version.
cat > "$TMP/version.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <claude_agent_sdk/claude_agent_sdk.h>
int main(void) {
  printf("%s %s %06x %06x\n", cas_version_string(), CAS_VERSION_STRING, cas_version(), (unsigned)CAS_VERSION_HEX);
  return 0;
}
C
lua_version=$(sed -n 's/^M\.VERSION = "\(.*\)"$/\1/p' lua/claude_agent_sdk/options.lua)
got=$($CC $EX_CFLAGS -o "$TMP/version" "$TMP/version.c" $(pkg-config --cflags --libs claude_agent_sdk) \
        -Wl,-rpath,"$LIBDIR" > "$TMP/version.log" 2>&1 && "$TMP/version")
set -- $got
if [ "$#" = 4 ] && [ "$1" = "$lua_version" ] && [ "$2" = "$lua_version" ] && [ "$3" = "$4" ] &&
   [ "$(basename "$SO")" = "libclaude_agent_sdk.so.$lua_version" ]; then
  ok "cas_version_string() = CAS_VERSION_STRING = the .so's version = options.lua VERSION ($lua_version)"
else
  not_ok "cas_version_string() = CAS_VERSION_STRING = the .so's version = options.lua VERSION ($lua_version): got '$got'"
  show "$TMP/version.log" 5
fi

# DESTDIR stages under another root while the .pc names the final prefix;
# uninstall removes every file install put there.
stage="$TMP/stage"
if make -s --no-print-directory install DESTDIR="$stage" PREFIX=/opt/cas > "$TMP/destdir.log" 2>&1 &&
   [ -f "$stage/opt/cas/lib/libclaude_agent_sdk.so.0" ] &&
   grep -qx 'prefix=/opt/cas' "$stage/opt/cas/lib/pkgconfig/claude_agent_sdk.pc" &&
   make -s --no-print-directory uninstall DESTDIR="$stage" PREFIX=/opt/cas >> "$TMP/destdir.log" 2>&1 &&
   [ -z "$(find "$stage" ! -type d)" ]; then
  ok "make install DESTDIR=<stage> PREFIX=/opt/cas stages with prefix=/opt/cas; make uninstall removes it all"
else
  not_ok "make install DESTDIR=<stage> PREFIX=/opt/cas, then make uninstall"
  show "$TMP/destdir.log"; find "$stage" ! -type d 2>&1 | sed 's/^/#   left: /' | head -20
fi

# The MIT licence is installed with the library, and (above) uninstalled with it.
if cmp -s LICENSE "$PREFIX/share/doc/claude_agent_sdk/LICENSE"; then
  ok "make install puts the LICENSE (MIT) in \$PREFIX/share/doc/claude_agent_sdk/"
else
  not_ok "make install puts the LICENSE (MIT) in \$PREFIX/share/doc/claude_agent_sdk/"
  find "$PREFIX/share" 2>&1 | sed 's/^/#   /' | head -10
fi

# --- 2. build the example against the install tree ------------------------------------
# The rpath is the C user's choice; LD_LIBRARY_PATH would do as well.
EXE="$TMP/conversation"
if $CC $EX_CFLAGS -o "$EXE" examples/c/conversation.c $(pkg-config --cflags --libs claude_agent_sdk) \
     -Wl,-rpath,"$LIBDIR" > "$TMP/build.log" 2>&1 &&
   ldd "$EXE" | grep -q "libclaude_agent_sdk.so.0 => $LIBDIR/libclaude_agent_sdk.so.0"; then
  ok "examples/c/conversation.c builds with $EX_CFLAGS \$(pkg-config --cflags --libs claude_agent_sdk); loads the .so from the install tree"
else
  not_ok "examples/c/conversation.c builds against the installed shared library"
  show "$TMP/build.log"; ldd "$EXE" 2>&1 | sed 's/^/#   /'
  EXE=
fi

# Static: the archive by path (so the linker cannot pick the .so) and the
# libraries it needs from pkg-config.
EXE_STATIC="$TMP/conversation-static"
if $CC $EX_CFLAGS -o "$EXE_STATIC" examples/c/conversation.c $(pkg-config --cflags claude_agent_sdk) \
     "$LIBDIR/libclaude_agent_sdk.a" $(pkg-config --libs --static libcjson) > "$TMP/build-static.log" 2>&1 &&
   ! readelf -d "$EXE_STATIC" | grep -q 'NEEDED.*libclaude_agent_sdk'; then
  ok "examples/c/conversation.c links against the static libclaude_agent_sdk.a"
else
  not_ok "examples/c/conversation.c links against the static libclaude_agent_sdk.a"
  show "$TMP/build-static.log"
  EXE_STATIC=
fi

# --- 3. run it through the real CLI ---------------------------------------------------------
server_url=
if [ ! -x "$CLI" ]; then
  why="the real CLI is not at $CLI (make setup)"
elif ! command -v "$LUA" > /dev/null 2>&1; then
  why="$LUA is not installed (make setup)"
else
  # The server's stdin is a FIFO only we write to: if this script is killed
  # outright, the server sees end of file (--exit-on-stdin-eof) and exits.
  mkfifo "$TMP/server.in"
  exec 3<> "$TMP/server.in"
  "$LUA" bin/claude-offline-model --exit-on-stdin-eof --script examples/scripts/examples.lua \
    < "$TMP/server.in" > "$TMP/server.out" 2> "$TMP/server.err" 3>&- &
  SERVER_PID=$!
  tries=0
  while [ -z "$server_url" ] && [ "$tries" -lt 100 ] && kill -0 "$SERVER_PID" 2>/dev/null; do
    sleep 0.1; tries=$((tries + 1))
    server_url=$(sed -n 's/^ANTHROPIC_BASE_URL=//p' "$TMP/server.out")
  done
  why="the offline model server did not start: $(head -c 300 "$TMP/server.err")"
fi

runs=0
# run NAME DESCRIPTION COMMAND...: one conversation; checks output, status, leftovers.
run() {
  name=$1; desc=$2; shift 2
  runs=$((runs + 1))
  home="$TMP/home-$runs"
  mkdir "$home"
  # The variables testing.cli_env gives the CLI, and a HOME of its own so no
  # user setting leaks in and the leftover check below can recognise it.
  env HOME="$home" ANTHROPIC_BASE_URL="$server_url" ANTHROPIC_API_KEY=sk-offline-test \
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 CLAUDE_CODE_MAX_RETRIES=0 CLAUDE_CLI_PATH="$CLI" \
      timeout "$RUN_TIMEOUT" "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" 3>&-
  status=$?
  problems=
  [ "$status" -eq 0 ] || problems="$problems exit status $status;"
  grep -qxF 'Claude: The capital of France is Paris.' "$TMP/$name.out" ||
    problems="$problems no first answer;"
  # Only given when the CLI sent the first turn along with the second.
  grep -qF 'Claude: Paris has about 2.1 million inhabitants' "$TMP/$name.out" ||
    problems="$problems no second answer (context lost?);"
  [ "$(grep -c '^\[result: success, session cost \$' "$TMP/$name.out")" -eq 2 ] ||
    problems="$problems not two successful results with a cost;"
  # Nothing of the CLI left: neither its process group (the pid it printed)
  # nor any process still running with this run's HOME.
  pid=$(sed -n 's/^conversation: started .* (pid \([0-9]*\))$/\1/p' "$TMP/$name.err")
  if [ -z "$pid" ]; then
    problems="$problems no CLI pid reported;"
  elif kill -0 "-$pid" 2>/dev/null; then
    problems="$problems the CLI's process group $pid is still alive;"
  fi
  left=$(grep -lzxF "HOME=$home" /proc/[0-9]*/environ 2>/dev/null)
  [ -z "$left" ] || problems="$problems still running with its HOME: $(echo "$left" | tr '\n' ' ');"
  if [ -z "$problems" ]; then
    ok "$desc: two answers, the second from context; exit 0; no CLI process left"
  else
    not_ok "$desc:$problems"
    show "$TMP/$name.out" 10; show "$TMP/$name.err" 20
  fi
}

for what in "shared" "static"; do
  if [ "$what" = shared ]; then exe=$EXE; else exe=$EXE_STATIC; fi
  if [ -z "$server_url" ]; then
    not_ok "conversation ($what library) through the real CLI: $why"
  elif [ -z "$exe" ]; then
    not_ok "conversation ($what library) through the real CLI: not built"
  else
    run "$what" "conversation ($what library) through the real CLI" "$exe"
  fi
done

# --- 4. valgrind -----------------------------------------------------------------------------
# The example is a short C program: valgrind costs it a second or so; the CLI
# it execs runs natively (no --trace-children), the fork before the exec is silent.
if ! command -v valgrind > /dev/null 2>&1; then
  skip "conversation under valgrind: valgrind is not installed (make setup)"
elif [ -z "$server_url" ]; then
  not_ok "conversation under valgrind: $why"
elif [ -z "$EXE" ]; then
  not_ok "conversation under valgrind: the shared build failed"
else
  run valgrind "conversation (shared library) under valgrind, no error or definite leak" \
    valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
    --child-silent-after-fork=yes "$EXE"
fi

finish
