#!/bin/sh
# Run every suite and end with one line "N passed, N failed, N skipped".
#   1. the C core alone under ASan + UBSan (build/ctest/*)
#   2. the Lua specs (busted) under Lua 5.4, then under LuaJIT, each against the
#      module built for it; the end-to-end specs drive the real CLI (.deps/)
#      against the offline model server.
# A suite that cannot run says why and counts as failed, never as passed.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
export CLAUDE_CLI_PATH="${CLAUDE_CLI_PATH:-$ROOT/.deps/node_modules/.bin/claude}"
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
  echo "Lua specs ($lua): $p passed, $f failed, $s skipped"
  grep '# SKIP' "$out" | sed 's/^ok [0-9]* - # SKIP/  skipped:/' | sort | uniq -c | head -20
  grep -A12 '^not ok ' "$out" | head -120
  if ! grep -q '^1\.\.' "$out"; then
    echo "  busted did not finish under $lua:"; tail -20 "$out"; f=$((f + 1))
  fi
  total_p=$((total_p + p)); total_f=$((total_f + f)); total_s=$((total_s + s))
done

echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
