#!/bin/sh
# Run every suite and end with one line "N passed, N failed, N skipped".
#   1. the C core alone under ASan + UBSan (build/ctest/*)
#   2. the Lua specs (busted) under Lua 5.4, then under LuaJIT, each against the
#      module built for it; the end-to-end specs drive the real CLI (.deps/,
#      the oldest supported version) against the offline model server.
#   2a. the specs that drive the real CLI, under Lua 5.4, against the newest
#      tested CLI (.deps/newest/): the version matrix's second column.  It runs
#      beside the valgrind run (4.), which keeps one core busy on its own.
# A suite that cannot run says why and counts as failed, never as passed.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
export CLAUDE_CLI_PATH="${CLAUDE_CLI_PATH:-$ROOT/.deps/node_modules/.bin/claude}"
CLI_NEWEST="${CLAUDE_CLI_PATH_NEWEST:-$ROOT/.deps/newest/node_modules/.bin/claude}"
# The specs that drive the real CLI (versions_spec runs every CLI of the matrix itself).
REAL_CLI_SPECS="spec/e2e_spec.lua spec/callbacks_spec.lua spec/examples_spec.lua spec/misuse_spec.lua
  spec/sessions_spec.lua spec/surface_spec.lua spec/testing_spec.lua spec/nvim_spec.lua spec/nvim_plugin_spec.lua
  spec/async_spec.lua spec/reaping_spec.lua spec/session_mutations_spec.lua"
LOG="$ROOT/build/test-logs"
mkdir -p "$LOG"
total_p=0; total_f=0; total_s=0

count() { # file -> sets p f s from TAP
  p=$(grep -c '^ok ' "$1" | tr -d ' '); s=$(grep -c '^ok .* # SKIP' "$1" | tr -d ' ')
  f=$(grep -c '^not ok ' "$1" | tr -d ' '); p=$((p - s))
}

# 1. C core under sanitizers
: > "$LOG/c.tap"
for t in build/ctest/test_*; do
  [ -x "$t" ] || continue
  if ! "$t" >> "$LOG/c.tap" 2>&1; then
    grep -q '^not ok ' "$LOG/c.tap" || echo "not ok - $t crashed (see $LOG/c.tap)" >> "$LOG/c.tap"
  fi
done
count "$LOG/c.tap"
echo "C core (ASan+UBSan): $p passed, $f failed"
grep -A8 '^not ok ' "$LOG/c.tap" | head -60
total_p=$((total_p + p)); total_f=$((total_f + f))

# 1a. the same C tests under valgrind (no sanitizers): no error, no leak
: > "$LOG/c-valgrind.tap"
vg_c=0
for t in build/ctest-vg/test_*; do
  [ -x "$t" ] || continue
  if ! valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
      --child-silent-after-fork=yes "$t" >> "$LOG/c-valgrind.tap" 2>&1; then
    vg_c=$((vg_c + 1)); echo "not ok - $t under valgrind (see $LOG/c-valgrind.tap)" >> "$LOG/c-valgrind.tap"
  fi
done
count "$LOG/c-valgrind.tap"
echo "C core (valgrind): $p passed, $f failed"
grep -B2 -A10 '^not ok ' "$LOG/c-valgrind.tap" | head -40
total_p=$((total_p + p)); total_f=$((total_f + f))

# 1b. the C core under libFuzzer for a bounded time (make fuzz runs longer)
make -s fuzz-ci > "$LOG/fuzz.tap" 2>&1
count "$LOG/fuzz.tap"
[ $((p + f)) -eq 0 ] && { f=1; echo "fuzz-ci printed no TAP line:"; tail -5 "$LOG/fuzz.tap"; }
echo "Fuzzing (libFuzzer, ASan+UBSan): $p passed, $f failed"
grep -E '^(ok|not ok|#)' "$LOG/fuzz.tap" | head -30
total_p=$((total_p + p)); total_f=$((total_f + f))

# 2. Lua specs, once per Lua
for lua in lua5.4 luajit; do
  tag=$lua
  out="$LOG/busted-$tag.tap"
  if ! command -v "$lua" >/dev/null 2>&1; then
    echo "$lua: not installed (run make setup)"; total_f=$((total_f + 1)); continue
  fi
  LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;$ROOT/spec/?.lua;;" \
  LUA_CPATH="$ROOT/build/$tag/?.so;;" \
  SPEC_LUA="$lua" \
    "$lua" /usr/bin/busted -o TAP spec > "$out" 2>&1
  count "$out"
  echo "Lua specs ($lua, CLI $("$CLAUDE_CLI_PATH" -v 2>/dev/null | cut -d' ' -f1)): $p passed, $f failed, $s skipped"
  grep '# SKIP' "$out" | sed 's/^ok [0-9]* - # SKIP/  skipped:/' | sort | uniq -c | head -20
  grep -A12 '^not ok ' "$out" | head -120
  if ! grep -q '^1\.\.' "$out"; then
    echo "  busted did not finish under $lua:"; tail -20 "$out"; f=$((f + 1))
  fi
  total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))
done

# 3. the Lua specs again with the C module under ASan+UBSan, in a sanitized Lua
#    5.4 host (build/asan/lua), so memory errors, undefined behaviour and leaks
#    of the binding and the core show up over the whole suite.  The examples
#    are plain user scripts for the ordinary interpreters: not in this run.
out="$LOG/busted-asan.tap"
if [ -x build/asan/lua ] && [ -f build/asan/claude_agent_sdk/core.so ]; then
  specs=$(ls spec/*_spec.lua | grep -v examples_spec)
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
  LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;$ROOT/spec/?.lua;;" \
  LUA_CPATH="$ROOT/build/asan/?.so;;" SPEC_LUA="$ROOT/build/asan/lua" \
    build/asan/lua /usr/bin/busted -o TAP $specs > "$out" 2>&1
  count "$out"
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$out"; then
    echo "  sanitizer report:"; grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$out" | head -40
    f=$((f + 1))
  fi
  echo "Lua specs under ASan+UBSan (lua5.4): $p passed, $f failed, $s skipped"
  grep -A12 '^not ok ' "$out" | head -60
  grep -q '^1\.\.' "$out" || { echo "  busted did not finish under ASan:"; tail -20 "$out"; f=$((f + 1)); }
else
  echo "Lua specs under ASan+UBSan: the sanitized build is missing (make asan-build)"; p=0; f=1; s=0
fi
total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))

# 2a. (started now, collected after 4.) the real-CLI specs against the newest CLI
out_newest="$LOG/busted-newest.tap"
newest_pid=""
if [ -x "$CLI_NEWEST" ]; then
  newest_version=$("$CLI_NEWEST" -v 2>/dev/null | cut -d' ' -f1)
  LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;$ROOT/spec/?.lua;;" LUA_CPATH="$ROOT/build/lua5.4/?.so;;" \
  SPEC_LUA=lua5.4 CLAUDE_CLI_PATH="$CLI_NEWEST" \
    lua5.4 /usr/bin/busted -o TAP $REAL_CLI_SPECS > "$out_newest" 2>&1 &
  newest_pid=$!
fi

# 4. and once more under valgrind (memcheck), with the ordinary Lua 5.4 build:
#    no invalid access, no definite leak.  A session's supervisor is a fork of
#    the host (cas_process.c): it leaves with _exit() holding the host's heap,
#    which memcheck would report as that child's leaks, so forked children are
#    not reported on (--child-silent-after-fork); spec/c covers the supervisor.
#    The examples, the Neovim specs and the model server's own spec drive other
#    processes, not the module: not here; nor the specs that mostly drive real
#    CLIs or other processes (the version matrix's, the tool reaping, session
#    files), nor luv_exit_spec, which runs its cases under valgrind itself, nor
#    the tests tagged #heavy (megabytes through the real CLI; ASan runs them).
out="$LOG/busted-valgrind.tap"
if command -v valgrind >/dev/null 2>&1; then
  specs=$(ls spec/*_spec.lua | grep -v -e examples_spec -e nvim_spec -e nvim_plugin_spec -e testing_spec \
    -e versions_spec -e control_spec -e reaping_spec -e session_mutations_spec -e luv_exit_spec)
  rm -f "$LOG"/valgrind.*.log
  LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;$ROOT/spec/?.lua;;" LUA_CPATH="$ROOT/build/lua5.4/?.so;;" \
  SPEC_LUA=lua5.4 valgrind -q --leak-check=full --errors-for-leak-kinds=definite --child-silent-after-fork=yes \
    --log-file="$LOG/valgrind.%p.log" lua5.4 /usr/bin/busted -o TAP --exclude-tags=heavy $specs > "$out" 2>&1
  count "$out"
  vg_errors=$(cat "$LOG"/valgrind.*.log 2>/dev/null | grep -cE '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched|[0-9,]+ bytes in [0-9,]+ blocks are definitely lost)')
  if [ "$vg_errors" -ne 0 ]; then
    echo "  valgrind reports $vg_errors problem(s):"; cat "$LOG"/valgrind.*.log | head -60; f=$((f + 1))
  fi
  echo "Lua specs under valgrind (lua5.4): $p passed, $f failed, $s skipped; valgrind problems: $vg_errors"
  echo "  (not under valgrind, by design: the specs driving real CLIs or other processes, luv_exit_spec, which"
  echo "   runs its cases under valgrind itself, and the #heavy tests; see the comment in run_all.sh)"
  grep -A12 '^not ok ' "$out" | head -60
  grep -q '^1\.\.' "$out" || { echo "  busted did not finish under valgrind:"; tail -20 "$out"; f=$((f + 1)); }
else
  echo "Lua specs under valgrind: valgrind is not installed (make setup)"; p=0; f=1; s=0
fi
total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))

# 2a, collected: the newest CLI's column of the version matrix
if [ -n "$newest_pid" ]; then
  wait "$newest_pid"
  count "$out_newest"
  echo "Real-CLI specs (lua5.4) against the newest tested CLI $newest_version: $p passed, $f failed, $s skipped"
  grep '# SKIP' "$out_newest" | sed 's/^ok [0-9]* - # SKIP/  skipped:/' | sort | uniq -c | head -20
  grep -A12 '^not ok ' "$out_newest" | head -80
  grep -q '^1\.\.' "$out_newest" || { echo "  busted did not finish:"; tail -20 "$out_newest"; f=$((f + 1)); }
else
  echo "Real-CLI specs against the newest tested CLI: not installed at $CLI_NEWEST (run make setup)"; p=0; f=1; s=0
fi
total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))

# 5. the rockspec: Debian's luarocks installs it offline into fresh trees for
#    Lua 5.4 and LuaJIT, and each interpreter loads the SDK from its tree alone.
out="$LOG/rockspec.tap"
sh spec/support/run_rockspec.sh > "$out" 2>&1
count "$out"
grep -q '^1\.\.' "$out" || { echo "  run_rockspec.sh did not finish:"; tail -5 "$out"; f=$((f + 1)); }
echo "Rockspec (luarocks make, lua5.4 + luajit): $p passed, $f failed"
grep -A15 '^not ok ' "$out" | head -40
total_p=$((total_p + p)); total_f=$((total_f + f))

# 6. the C core as a C program gets it: make install into a temporary prefix,
#    examples/c/conversation.c built against it with pkg-config alone (shared
#    and static), run through the real CLI against the offline model server,
#    and once more under valgrind.
out="$LOG/c-example.tap"
sh spec/support/run_c_example.sh > "$out" 2>&1
count "$out"
grep -q '^1\.\.' "$out" || { echo "  run_c_example.sh did not finish:"; tail -5 "$out"; f=$((f + 1)); }
echo "C example against the installed library (make install, pkg-config): $p passed, $f failed, $s skipped"
grep '# SKIP' "$out" | sed 's/^ok [0-9]* - # SKIP/  skipped:/'
grep -A25 '^not ok ' "$out" | head -60
total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))

# 7. the bench harness (make bench-smoke): every bench client once on small work
#    against the fake CLI, message counts checked, no timing judged; the
#    TypeScript SDK is installed into .deps/bench-ts first (skipped if npm fails).
out="$LOG/bench-smoke.tap"
make -s bench-smoke > "$out" 2>&1
count "$out"
grep -q '^1\.\.' "$out" || { echo "  make bench-smoke did not finish:"; tail -10 "$out"; f=$((f + 1)); }
echo "Bench harness (make bench-smoke): $p passed, $f failed, $s skipped"
grep '# SKIP' "$out" | sed 's/^ok [0-9]* - # SKIP/  skipped:/'
grep -A10 '^not ok ' "$out" | head -40
total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))

echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
