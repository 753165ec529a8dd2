#!/usr/bin/env bash
# Run every suite and end with one line "N passed, N failed, N skipped".
#
# The suites are independent of each other (each has its own model server on a
# free port, its own throwaway HOMEs, its own log), so they run side by side,
# TEST_JOBS at a time (default: the number of cores; more makes the suites
# that start several CLIs at once slow enough to time out), the longest first.  Each one
# writes its TAP and a short report to build/test-logs; the reports are printed
# in the fixed order below once every suite is done, so the log reads the same
# whatever finished first.
#
#   c-asan       the C core alone under ASan + UBSan (build/ctest/*)
#   c-valgrind   the same C tests under valgrind: no error, no leak
#   fuzz         the C core under libFuzzer for a bounded time
#   lua5.4       the Lua specs under Lua 5.4 against the module built for it
#                but the Neovim ones (Neovim loads the LuaJIT build whatever
#                runs busted: they would only repeat the luajit suite's runs);
#   luajit       every Lua spec under LuaJIT; both drive the oldest supported
#                CLI (.deps/) against the offline model server
#   newest       the specs that drive the real CLI, under Lua 5.4, against the
#                newest tested CLI (.deps/newest/): the version matrix's second
#                column (versions_spec, control_spec and hook_events_spec run both
#                CLIs themselves, in the lua5.4 and luajit suites)
#   asan         the Lua specs with the module under ASan + UBSan in a sanitized
#                Lua 5.4 host (build/asan/lua)
#   valgrind-*   the Lua specs under valgrind (memcheck), one suite per spec file
#   rockspec     luarocks make: the SDK rock alone into fresh trees (each Lua loads
#                it, no testing*), then the testing rock beside it, its server answers
#   c-example    make install + examples/c/conversation.c through pkg-config
#   bench-smoke  every bench client once on small work, no timing judged
#   lint         make lint's three checks: luacheck, StyLua, clang-format
# A suite that cannot run says why and counts as failed, never as passed.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
export CLAUDE_CLI_PATH="${CLAUDE_CLI_PATH:-$ROOT/.deps/node_modules/.bin/claude}"
CLI_NEWEST="${CLAUDE_CLI_PATH_NEWEST:-$ROOT/.deps/newest/node_modules/.bin/claude}"
# The specs that drive the real CLI (versions_spec, control_spec and hook_events_spec run every CLI of the
# matrix themselves: not listed here).
REAL_CLI_SPECS="spec/e2e_spec.lua spec/callbacks_spec.lua spec/examples_spec.lua spec/misuse_spec.lua
  spec/sessions_spec.lua spec/surface_spec.lua spec/testing_spec.lua spec/nvim_spec.lua spec/nvim_plugin_spec.lua
  spec/async_spec.lua spec/reaping_spec.lua spec/session_mutations_spec.lua spec/python_examples_spec.lua
  spec/warm_spec.lua spec/session_store_e2e_spec.lua"
LOG="$ROOT/build/test-logs"
mkdir -p "$LOG"
LUA_PATH_SPECS="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;$ROOT/spec/?.lua;;"
JOBS=${TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}

# count FILE: sets p f s from its TAP lines
count() {
  p=$(grep -c '^ok ' "$1" | tr -d ' '); s=$(grep -c '^ok .* # SKIP' "$1" | tr -d ' ')
  f=$(grep -c '^not ok ' "$1" | tr -d ' '); p=$((p - s))
}

# Each suite_NAME writes $LOG/NAME.tap (or its own logs), prints its report on
# stdout (kept in $LOG/NAME.report) and ends with `counted p f s`.
counted() { echo "$1 $2 $3" > "$LOG/$SUITE.count"; }

# skips FILE: the skipped tests' reasons, counted
skips() { grep '# SKIP' "$1" | sed 's/^ok [0-9]* - # SKIP/  skipped:/' | sort | uniq -c | head -20; }

# finished FILE WHAT: a busted run that did not print its plan did not finish
finished() {
  grep -q '^1\.\.' "$1" && return 0
  echo "  $2 did not finish:"; tail -20 "$1"; f=$((f + 1))
}

suite_c_asan() {
  local out="$LOG/c-asan.tap"
  : > "$out"
  for t in build/ctest/test_*; do
    [ -x "$t" ] || continue
    if ! "$t" >> "$out" 2>&1; then
      grep -q '^not ok ' "$out" || echo "not ok - $t crashed (see $out)" >> "$out"
    fi
  done
  count "$out"
  echo "C core (ASan+UBSan): $p passed, $f failed"
  grep -A8 '^not ok ' "$out" | head -60
  counted "$p" "$f" 0
}

suite_c_valgrind() {
  local out="$LOG/c-valgrind.tap"
  : > "$out"
  for t in build/ctest-vg/test_*; do
    [ -x "$t" ] || continue
    if ! valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
        --child-silent-after-fork=yes "$t" >> "$out" 2>&1; then
      echo "not ok - $t under valgrind (see $out)" >> "$out"
    fi
  done
  count "$out"
  echo "C core (valgrind): $p passed, $f failed"
  grep -B2 -A10 '^not ok ' "$out" | head -40
  counted "$p" "$f" 0
}

suite_fuzz() {
  local out="$LOG/fuzz.tap"
  make -s fuzz-ci > "$out" 2>&1
  count "$out"
  [ $((p + f)) -eq 0 ] && { f=1; echo "fuzz-ci printed no TAP line:"; tail -5 "$out"; }
  echo "Fuzzing (libFuzzer, ASan+UBSan): $p passed, $f failed"
  grep -E '^(ok|not ok|#)' "$out" | head -30
  counted "$p" "$f" 0
}

# The Neovim specs run Neovim, whose LuaJIT loads build/luajit whatever runs busted: they do the same in every
# suite, so they run in the luajit suite (and in newest, against the newest CLI), not again under Lua 5.4 or ASan.
NVIM_SPECS="spec/nvim_spec.lua spec/nvim_plugin_spec.lua spec/nvim_install_spec.lua"
not_nvim() { ls spec/*_spec.lua | grep -v -e nvim_spec -e nvim_plugin_spec -e nvim_install_spec; }

# busted_for LUA SPECS: the Lua suite under one interpreter
busted_for() {
  local lua=$1 specs=$2 out="$LOG/busted-$1.tap"
  if ! command -v "$lua" >/dev/null 2>&1; then
    echo "$lua: not installed (run make setup)"; counted 0 1 0; return
  fi
  # shellcheck disable=SC2086
  LUA_PATH="$LUA_PATH_SPECS" LUA_CPATH="$ROOT/build/$lua/?.so;;" SPEC_LUA="$lua" \
    "$lua" /usr/bin/busted -o TAP $specs > "$out" 2>&1
  count "$out"
  echo "Lua specs ($lua, CLI $("$CLAUDE_CLI_PATH" -v 2>/dev/null | cut -d' ' -f1)): $p passed, $f failed, $s skipped"
  skips "$out"
  grep -A12 '^not ok ' "$out" | head -120
  finished "$out" "busted under $lua"
  counted "$p" "$f" "$s"
}
suite_lua54() { busted_for lua5.4 "$(not_nvim)"; echo "  (the Neovim specs run in the luajit suite: $NVIM_SPECS)"; }
suite_luajit() { busted_for luajit spec; }

suite_newest() {
  local out="$LOG/busted-newest.tap"
  if [ ! -x "$CLI_NEWEST" ]; then
    echo "Real-CLI specs against the newest tested CLI: not installed at $CLI_NEWEST (run make setup)"
    counted 0 1 0; return
  fi
  local version
  version=$("$CLI_NEWEST" -v 2>/dev/null | cut -d' ' -f1)
  # shellcheck disable=SC2086
  LUA_PATH="$LUA_PATH_SPECS" LUA_CPATH="$ROOT/build/lua5.4/?.so;;" SPEC_LUA=lua5.4 CLAUDE_CLI_PATH="$CLI_NEWEST" \
    lua5.4 /usr/bin/busted -o TAP $REAL_CLI_SPECS > "$out" 2>&1
  count "$out"
  echo "Real-CLI specs (lua5.4) against the newest tested CLI $version: $p passed, $f failed, $s skipped"
  skips "$out"
  grep -A12 '^not ok ' "$out" | head -80
  finished "$out" "busted"
  counted "$p" "$f" "$s"
}

# The examples are plain user scripts for the ordinary interpreters, and Neovim never loads this build: not here.
suite_asan() {
  local out="$LOG/busted-asan.tap"
  if [ ! -x build/asan/lua ] || [ ! -f build/asan/claude_agent_sdk/core.so ]; then
    echo "Lua specs under ASan+UBSan: the sanitized build is missing (make asan-build)"; counted 0 1 0; return
  fi
  local specs
  specs=$(not_nvim | grep -v examples_spec)
  # shellcheck disable=SC2086
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
  LUA_PATH="$LUA_PATH_SPECS" LUA_CPATH="$ROOT/build/asan/?.so;;" SPEC_LUA="$ROOT/build/asan/lua" \
    build/asan/lua /usr/bin/busted -o TAP $specs > "$out" 2>&1
  count "$out"
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$out"; then
    echo "  sanitizer report:"; grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$out" | head -40
    f=$((f + 1))
  fi
  echo "Lua specs under ASan+UBSan (lua5.4): $p passed, $f failed, $s skipped"
  grep -A12 '^not ok ' "$out" | head -60
  finished "$out" "busted under ASan"
  counted "$p" "$f" "$s"
}

# Under valgrind (memcheck), with the ordinary Lua 5.4 build: no invalid
# access, no definite leak.  A session's supervisor is a fork of the host
# (cas_process.c): it leaves with _exit() holding the host's heap, which
# memcheck would report as that child's leaks, so forked children are not
# reported on (--child-silent-after-fork); spec/c covers the supervisor.  The
# examples, the Neovim specs and the model server's own spec drive other
# processes, not the module: not here; nor the specs that mostly drive real
# CLIs or other processes (the version matrix's, the tool reaping, session
# files, the session stores' real-CLI and redis-server specs), nor luv_exit_spec, which runs its cases under valgrind itself, nor
# the tests tagged #heavy (megabytes through the real CLI; ASan runs them).
VALGRIND_SPECS=$(ls spec/*_spec.lua | grep -v -e examples_spec -e nvim_spec -e nvim_plugin_spec -e testing_spec \
  -e versions_spec -e control_spec -e hook_events_spec -e reaping_spec -e session_mutations_spec -e luv_exit_spec \
  -e nvim_install_spec -e redis_store_spec -e session_store_e2e_spec)

# valgrind_spec FILE: one spec file under valgrind (each file is a suite of its
# own, so the pool spreads them over the cores)
valgrind_spec() {
  local file=$1 stem
  stem=$(basename "$file" _spec.lua)
  local out="$LOG/busted-valgrind-$stem.tap"
  if ! command -v valgrind >/dev/null 2>&1; then
    echo "Lua specs under valgrind: valgrind is not installed (make setup)"; counted 0 1 0; return
  fi
  rm -f "$LOG"/valgrind-"$stem".*.log
  LUA_PATH="$LUA_PATH_SPECS" LUA_CPATH="$ROOT/build/lua5.4/?.so;;" SPEC_LUA=lua5.4 \
  valgrind -q --leak-check=full --errors-for-leak-kinds=definite --child-silent-after-fork=yes \
    --log-file="$LOG/valgrind-$stem.%p.log" lua5.4 /usr/bin/busted -o TAP --exclude-tags=heavy "$file" > "$out" 2>&1
  count "$out"
  local problems
  problems=$(cat "$LOG"/valgrind-"$stem".*.log 2>/dev/null | grep -cE '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|Mismatched|[0-9,]+ bytes in [0-9,]+ blocks are definitely lost)')
  if [ "$problems" -ne 0 ]; then
    echo "  valgrind reports $problems problem(s):"; cat "$LOG"/valgrind-"$stem".*.log | head -60; f=$((f + 1))
  fi
  echo "Lua specs under valgrind (lua5.4, $file): $p passed, $f failed, $s skipped; valgrind problems: $problems"
  grep -A12 '^not ok ' "$out" | head -60
  finished "$out" "busted under valgrind"
  counted "$p" "$f" "$s"
}
VALGRIND_SUITES=""
for file in $VALGRIND_SPECS; do VALGRIND_SUITES="$VALGRIND_SUITES valgrind-$(basename "$file" _spec.lua)"; done

# make lint, one TAP line per tool (the Makefile's LUA_LINT and C_FORMAT_FILES).
suite_lint() {
  local out="$LOG/lint.tap" n=0 tool
  : > "$out"
  for tool in luacheck stylua clang-format; do
    n=$((n + 1))
    if make -s --no-print-directory "lint-$tool" > "$LOG/lint-$tool.log" 2>&1; then
      echo "ok $n - $tool finds nothing to change" >> "$out"
    else
      echo "not ok $n - $tool (make lint-$tool):" >> "$out"
      head -20 "$LOG/lint-$tool.log" | sed 's/^/#   /' >> "$out"
    fi
  done
  echo "1..$n" >> "$out"
  count "$out"
  echo "Lint (make lint: luacheck, StyLua, clang-format): $p passed, $f failed"
  grep -A21 '^not ok ' "$out" | head -60
  counted "$p" "$f" 0
}

suite_rockspec() {
  local out="$LOG/rockspec.tap"
  sh spec/support/run_rockspec.sh > "$out" 2>&1
  count "$out"
  finished "$out" "run_rockspec.sh"
  echo "Rockspec (luarocks make, lua5.4 + luajit): $p passed, $f failed"
  grep -A15 '^not ok ' "$out" | head -40
  counted "$p" "$f" 0
}

# Built against the installed library with pkg-config alone (shared and
# static), run through the real CLI against the offline model server, and once
# more under valgrind.
suite_c_example() {
  local out="$LOG/c-example.tap"
  sh spec/support/run_c_example.sh > "$out" 2>&1
  count "$out"
  finished "$out" "run_c_example.sh"
  echo "C example against the installed library (make install, pkg-config): $p passed, $f failed, $s skipped"
  skips "$out"
  grep -A25 '^not ok ' "$out" | head -60
  counted "$p" "$f" "$s"
}

# Against the fake CLI, message counts checked; the TypeScript SDK comes from
# .deps/bench-ts (make setup).
suite_bench_smoke() {
  local out="$LOG/bench-smoke.tap"
  make -s bench-smoke > "$out" 2>&1
  count "$out"
  finished "$out" "make bench-smoke"
  echo "Bench harness (make bench-smoke): $p passed, $f failed, $s skipped"
  skips "$out"
  grep -A10 '^not ok ' "$out" | head -40
  counted "$p" "$f" "$s"
}

# The order the reports are printed in, and (START_ORDER) the order the suites
# start in: the longest first, so the short ones fill the gaps at the end.
# TEST_SUITES="name ..." runs only those (a developer's shortcut; make test runs all).
REPORT_ORDER="lint c-asan c-valgrind fuzz lua5.4 luajit asan $VALGRIND_SUITES newest rockspec c-example bench-smoke"
# The valgrind suites start with the longest ones (misuse, faults, callbacks, async, typed_decode).
VALGRIND_START=$(for n in misuse faults callbacks async typed_decode $VALGRIND_SUITES; do
  case " $VALGRIND_SUITES " in *" valgrind-${n#valgrind-} "*) echo "valgrind-${n#valgrind-}" ;; esac
done | awk '!seen[$0]++' | tr '\n' ' ')
START_ORDER="luajit lua5.4 asan newest $VALGRIND_START fuzz c-valgrind rockspec c-example bench-smoke c-asan lint"
if [ -n "${TEST_SUITES:-}" ]; then
  for name in $TEST_SUITES; do
    case " $START_ORDER " in *" $name "*) ;; *) echo "run_all.sh: no suite named $name (suites: $START_ORDER)"; exit 2 ;; esac
  done
  keep() { for name in $1; do case " $TEST_SUITES " in *" $name "*) printf '%s ' "$name" ;; esac; done; }
  REPORT_ORDER=$(keep "$REPORT_ORDER"); START_ORDER=$(keep "$START_ORDER")
fi

run_suite() {
  local name=$1 fn="suite_${1//[.-]/_}"
  [ "$fn" = suite_lua5_4 ] && fn=suite_lua54
  SUITE=$name
  rm -f "$LOG/$name.count"
  local t0=$SECONDS
  case $name in
    valgrind-*) valgrind_spec "spec/${name#valgrind-}_spec.lua" ;;
    *) "$fn" ;;
  esac > "$LOG/$name.report" 2>&1
  echo "$((SECONDS - t0))" > "$LOG/$name.seconds"
}

t_all=$SECONDS
running=0
for name in $START_ORDER; do
  if [ "$running" -ge "$JOBS" ]; then
    wait -n
    running=$((running - 1))
  fi
  run_suite "$name" &
  running=$((running + 1))
done
wait

total_p=0; total_f=0; total_s=0
for name in $REPORT_ORDER; do
  cat "$LOG/$name.report"
  if [ -f "$LOG/$name.count" ]; then
    read -r p f s < "$LOG/$name.count"
  else
    echo "  suite $name ended without a count (see $LOG/$name.report)"; p=0; f=1; s=0
  fi
  total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))
done
echo "(not under valgrind, by design: the specs driving real CLIs or other processes, luv_exit_spec, which runs"
echo " its cases under valgrind itself, and the #heavy tests; see the comment in run_all.sh)"
echo "Suite wall times ($JOBS at a time; total $((SECONDS - t_all)) s):"
for name in $START_ORDER; do
  printf '  %-26s %5s s\n' "$name" "$(cat "$LOG/$name.seconds" 2>/dev/null || echo '?')"
done
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
