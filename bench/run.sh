#!/bin/sh
# `make bench`: every client on the same fake CLI, in one run, as PERF.md
# describes; prints a markdown table, then each bar of DESIGN.md §7 as a ratio
# with "pass" or "falls short", and writes both to build/bench/results.md.
# `make bench-smoke` (--smoke): each client once on small work, its message
# counts checked, TAP lines out; no timing is judged.
#
#   sh bench/run.sh [--smoke]      (after make bench's builds: modules, fake, floor, TS SDK)
#
# Clients: ours (bench/client.lua) on Lua 5.4 and LuaJIT, the official
# TypeScript SDK (bench/ts_client.mjs), io.lines + lua-cjson with no client
# (bench/cjson_baseline.lua) on both Luas, and the native floor (bench/floor.c).
# Each prints "connect_ms=… turn_ms=… messages=…"; every run's message count
# must be N + 2 (system/init, N frames, result), or 3 for the one big frame.
#
# Timings are medians of repeated runs, interleaved client by client so that
# drift on a shared machine hits every client alike.  Repetition counts are
# environment knobs (R_1K R_100K R_BIG R_HF R_IDLE), printed with the results.
#
# Exit status: 0 even when a bar falls short (this is a report); 1 when a client
# fails to run or reports a wrong message count.

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
MODE=bench
[ "${1:-}" = --smoke ] && MODE=smoke

OUT=$ROOT/build/bench
FAKE=$OUT/fake_cli
FLOOR=$OUT/floor
TS_PKG=${BENCH_TS_SDK:-$ROOT/.deps/bench-ts/node_modules/@anthropic-ai/claude-agent-sdk}
SAMPLES=$OUT/samples.txt
ERR=$OUT/stderr.txt
RSS=$OUT/rss.txt
LP="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;;"
# The user message the SDKs send, for the baseline that has no client to send it.
USER_LINE='{"type":"user","message":{"role":"user","content":"go"},"parent_tool_use_id":null,"session_id":"default"}'

N_LO=1000
N_HI=100000
# Chosen so that make bench takes about 2 minutes on a 2-core machine.
R_1K=${R_1K:-41}       # 1k turns, plain and partial; their connect_ms make the connect column
R_100K=${R_100K:-21}   # 100k turns, plain and partial; their peak RSS makes the RSS column
R_BIG=${R_BIG:-21}     # the 5 MB frame
R_HF=${R_HF:-60}       # hyperfine runs of each whole 1k process (after 3 warmups)
R_IDLE=${R_IDLE:-3}    # idle windows of 1 s per Lua; the largest count is reported

CLIENTS="lua54 luajit ts cjson54 cjsonjit floor"
failures=0
mkdir -p "$OUT"

label() {
  case $1 in
    lua54) echo "ours, Lua 5.4" ;;
    luajit) echo "ours, LuaJIT" ;;
    ts) echo "official TypeScript SDK${TS_VERSION:+ $TS_VERSION} (Node ${NODE_VERSION:-?})" ;;
    cjson54) echo "Lua 5.4: io.lines + lua-cjson decode (no client)" ;;
    cjsonjit) echo "LuaJIT: io.lines + lua-cjson decode (no client)" ;;
    floor) echo "native floor (frames lines, decodes nothing)" ;;
  esac
}

# The knobs of a workload, exported for the fake CLI (and the clients).
workload() {
  BENCH_N=$N_LO BENCH_TEXT=200 BENCH_PARTIAL=0 BENCH_BIG=0
  case $1 in
    lo) ;;
    hi) BENCH_N=$N_HI ;;
    plo) BENCH_PARTIAL=1 BENCH_TEXT=50 ;;
    phi) BENCH_PARTIAL=1 BENCH_TEXT=50 BENCH_N=$N_HI ;;
    big) BENCH_BIG=5000000 ;;
    s) BENCH_N=100 ;;
    sp) BENCH_N=100 BENCH_PARTIAL=1 BENCH_TEXT=50 ;;
    sbig) BENCH_BIG=100000 ;;
  esac
  export BENCH_N BENCH_TEXT BENCH_PARTIAL BENCH_BIG
  if [ "$BENCH_BIG" != 0 ]; then expect=3; else expect=$((BENCH_N + 2)); fi
}

# Run client $1 once; $2 (optional) is a command prefix such as GNU time.
run_client() {
  case $1 in
    lua54) LUA_PATH=$LP LUA_CPATH="$ROOT/build/lua5.4/?.so;;" $2 lua5.4 bench/client.lua ;;
    luajit) LUA_PATH=$LP LUA_CPATH="$ROOT/build/luajit/?.so;;" $2 luajit bench/client.lua ;;
    ts) $2 node bench/ts_client.mjs ;;
    cjson54) printf '%s\n' "$USER_LINE" | "$FAKE" | $2 lua5.4 bench/cjson_baseline.lua ;;
    cjsonjit) printf '%s\n' "$USER_LINE" | "$FAKE" | $2 luajit bench/cjson_baseline.lua ;;
    floor) $2 "$FLOOR" "$FAKE" ;;
  esac
}

field() { # name line -> value ("-" if absent)
  v=$(printf '%s\n' "$2" | sed -n "s/.*$1=\([-0-9.]*\).*/\1/p")
  echo "${v:--}"
}

# One run of client $1 on workload $2; appends "client workload connect turn rss"
# to $SAMPLES.  Returns 1 (and says why) if it failed or miscounted.
measure() {
  workload "$2"
  prefix=""
  [ "$MODE" = bench ] && { rm -f "$RSS"; prefix="/usr/bin/time -f %M -o $RSS"; }
  run_client "$1" "$prefix" >"$OUT/out.txt" 2>"$ERR"
  rc=$?
  line=$(tail -n 1 "$OUT/out.txt")
  msgs=$(field messages "$line")
  if [ $rc != 0 ] || [ "$msgs" != "$expect" ]; then
    echo "bench: $1 on $2 (N=$BENCH_N partial=$BENCH_PARTIAL big=$BENCH_BIG): expected $expect messages, got: ${line:-nothing} (exit $rc)" >&2
    sed 's/^/  /' "$ERR" | tail -n 8 >&2
    failures=$((failures + 1))
    return 1
  fi
  rss=-
  [ -s "$RSS" ] && rss=$(tail -n 1 "$RSS")
  echo "$1 $2 $(field connect_ms "$line") $(field turn_ms "$line") $rss" >> "$SAMPLES"
  last=$line
  return 0
}

# The median of column $3 (3 connect, 4 turn, 5 rss) of client $1's runs of workload $2.
median() {
  awk -v c="$1" -v w="$2" -v f="$3" '$1 == c && $2 == w && $f != "-" && $f >= 0 { print $f }' "$SAMPLES" |
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

calc() { # awk-expression [operands it uses...] -> value; "-" if an operand is "-" or empty
  e=$1; shift
  for o in "$@"; do case $o in - | "") echo "-"; return ;; esac; done
  awk "BEGIN { printf \"%.6g\", $e }" 2>/dev/null || echo "-"
}

fmt() { # number format suffix -> formatted, or "—"
  [ "$1" = "-" ] && { echo "—"; return; }
  awk -v v="$1" -v f="$2" -v s="$3" 'BEGIN { printf f s, v }'
}

# Install-check of the TypeScript SDK (make installs it; see the Makefile).
ts_reason=""
if ! command -v node >/dev/null 2>&1; then
  ts_reason="node is not installed"
elif [ ! -f "$TS_PKG/sdk.mjs" ]; then
  why=$(grep -E 'FetchError|error code|ERR! code' "$OUT/npm.log" 2>/dev/null | head -n 1)
  ts_reason="the TypeScript SDK is not installed in $TS_PKG (npm install failed${why:+: $why})"
fi
TS_VERSION=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$TS_PKG/package.json" 2>/dev/null | head -n 1)
NODE_VERSION=$(node --version 2>/dev/null)
export BENCH_CLI="$FAKE"

for f in "$FAKE" "$FLOOR" build/lua5.4/claude_agent_sdk/core.so build/luajit/claude_agent_sdk/core.so; do
  [ -e "$f" ] || { echo "bench: $f is missing (make bench builds it)" >&2; exit 1; }
done

# --- smoke: every client once on small work, TAP out ----------------------------
if [ "$MODE" = smoke ]; then
  : > "$SAMPLES"
  i=0
  for c in $CLIENTS; do
    i=$((i + 1))
    if [ "$c" = ts ] && [ -n "$ts_reason" ]; then
      echo "ok $i - # SKIP $(label ts): $ts_reason"
      continue
    fi
    got="" ok=1
    : > "$OUT/smoke-err.txt"
    for w in s sp sbig; do
      if measure "$c" "$w" 2>>"$OUT/smoke-err.txt"; then got="$got $(field messages "$last")"
      else ok=0; got="$got ?"; fi
    done
    if [ $ok = 1 ]; then
      echo "ok $i - $(label $c): messages$got for 100 frames, 100 partial frames, one 100 kB frame"
    else
      echo "not ok $i - $(label $c): messages$got, expected 102 102 3"
      sed 's/^/# /' "$OUT/smoke-err.txt"
    fi
  done
  # The idle probe: it must run and its instrument must see a turn's wakeups;
  # the idle count itself is a bar for make bench, only reported here.
  for lua in lua5.4 luajit; do
    i=$((i + 1))
    idle=$(LUA_PATH=$LP LUA_CPATH="$ROOT/build/$lua/?.so;;" BENCH_IDLE_MS=100 "$lua" bench/idle.lua 2>"$ERR" | tail -n 1)
    busy=$(LUA_PATH=$LP LUA_CPATH="$ROOT/build/$lua/?.so;;" BENCH_IDLE_MS=100 BENCH_N=100 BENCH_IDLE_SELFTEST=1 \
      "$lua" bench/idle.lua 2>>"$ERR" | tail -n 1)
    w_idle=$(field wakeups "$idle") w_busy=$(field wakeups "$busy")
    if [ "$w_idle" != - ] && [ "$w_busy" != - ] && [ "$w_busy" -gt 0 ]; then
      echo "ok $i - idle client ($lua): wakeups=$w_idle while idle, $w_busy during a turn (the instrument works)"
    else
      echo "not ok $i - idle client ($lua): idle '$idle', during a turn '$busy'"
      sed 's/^/# /' "$ERR" | tail -n 8
    fi
  done
  echo "1..$i"
  exit 0 # a failure is its "not ok" line
fi

# --- bench ----------------------------------------------------------------------
for tool in hyperfine /usr/bin/time; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing (Debian: apt-get install hyperfine time)" >&2; exit 1; }
done
if [ -n "$ts_reason" ]; then
  echo "bench: $ts_reason; the TypeScript SDK is left out" >&2
  failures=$((failures + 1))
  CLIENTS=$(echo "$CLIENTS" | sed 's/ ts//')
fi

start=$(date +%s)
: > "$SAMPLES"
echo "repetitions: ${R_1K}x 1k turns (plain and partial; connect), ${R_100K}x 100k turns (plain and partial; RSS)," \
  "${R_BIG}x 5 MB frame, hyperfine ${R_HF} runs (+3 warmups) per whole 1k process, ${R_IDLE}x 1 s idle per Lua"

# Rounds: each round runs every workload still due, each on every client in
# turn, so no client gets a quieter stretch of the machine than another.
rounds=$R_1K
[ "$R_100K" -gt "$rounds" ] && rounds=$R_100K
[ "$R_BIG" -gt "$rounds" ] && rounds=$R_BIG
r=1
while [ $r -le $rounds ]; do
  [ -t 2 ] && printf '\rround %d/%d ' "$r" "$rounds" >&2
  for w in lo plo hi phi big; do
    case $w in lo | plo) n=$R_1K ;; hi | phi) n=$R_100K ;; big) n=$R_BIG ;; esac
    [ $r -le $n ] || continue
    for c in $CLIENTS; do measure "$c" "$w"; done
  done
  r=$((r + 1))
done
[ -t 2 ] && echo >&2

# Whole process for a 1k turn: start the interpreter, load, connect, one turn, exit.
# No shell in between (-N), except for the baseline's pipeline, which needs one.
workload lo
: > "$OUT/whole.txt"
for c in $CLIENTS; do
  case $c in
    lua54) cmd="lua5.4 bench/client.lua" cpath="$ROOT/build/lua5.4/?.so;;" ;;
    luajit) cmd="luajit bench/client.lua" cpath="$ROOT/build/luajit/?.so;;" ;;
    ts) cmd="node bench/ts_client.mjs" cpath=";;" ;;
    cjson54) cmd="sh -c 'printf \"%s\\n\" \"\$BENCH_USER\" | $FAKE | lua5.4 bench/cjson_baseline.lua'" cpath=";;" ;;
    cjsonjit) cmd="sh -c 'printf \"%s\\n\" \"\$BENCH_USER\" | $FAKE | luajit bench/cjson_baseline.lua'" cpath=";;" ;;
    floor) cmd="$FLOOR $FAKE" cpath=";;" ;;
  esac
  if LUA_PATH=$LP LUA_CPATH=$cpath BENCH_USER=$USER_LINE BENCH_CLOCK=0 \
      hyperfine -N --warmup 3 --runs "$R_HF" --style none --export-json "$OUT/hf-$c.json" "$cmd" >/dev/null 2>"$ERR"; then
    ms=$(sed -n 's/^ *"median": *\([0-9.eE+-]*\).*/\1/p' "$OUT/hf-$c.json" | head -n 1)
    echo "$c $(calc "$ms * 1000" "$ms")" >> "$OUT/whole.txt"
  else
    echo "bench: hyperfine of $c failed:" >&2; sed 's/^/  /' "$ERR" | tail -n 8 >&2
    failures=$((failures + 1))
  fi
done

# Idle wakeups of an idle connected client (ours only), the largest count seen.
: > "$OUT/idle.txt"
for lua in lua5.4 luajit; do
  worst=-
  k=1
  while [ $k -le "$R_IDLE" ]; do
    line=$(LUA_PATH=$LP LUA_CPATH="$ROOT/build/$lua/?.so;;" "$lua" bench/idle.lua 2>"$ERR" | tail -n 1)
    w=$(field wakeups "$line")
    if [ "$w" = - ]; then
      echo "bench: bench/idle.lua on $lua failed: $line" >&2; sed 's/^/  /' "$ERR" | tail -n 8 >&2
      failures=$((failures + 1)); break
    fi
    if [ "$worst" = - ] || [ "$w" -gt "$worst" ]; then worst=$w; fi
    k=$((k + 1))
  done
  echo "$lua $worst" >> "$OUT/idle.txt"
done

# --- the table --------------------------------------------------------------------
slope() { # client lo-workload hi-workload -> µs per message
  a=$(median "$1" "$2" 4) b=$(median "$1" "$3" 4)
  calc "($b - $a) * 1000 / ($N_HI - $N_LO)" "$a" "$b"
}
lookup() { awk -v c="$1" '$1 == c { print $2 }' "$2" | tail -n 1; }

for c in $CLIENTS; do
  eval "per_$c=\$(slope $c lo hi)"
  eval "part_$c=\$(slope $c plo phi)"
  eval "big_$c=\$(median $c big 4)"
  eval "conn_$c=\$(median $c lo 3)"
  eval "rss_$c=\$(median $c hi 5)"
  w=$(lookup "$c" "$OUT/whole.txt"); eval "whole_$c=\${w:--}"
done
idle_lua54=$(lookup lua5.4 "$OUT/idle.txt"); idle_luajit=$(lookup luajit "$OUT/idle.txt")
get() { eval "echo \${$1_$2:--}"; }

{
  echo "| client | cost per message (slope 1k→100k) | per partial frame | 5 MB frame turn | connect | peak RSS, 100k turn | whole process, 1k turn | idle wakeups (1 s) |"
  echo "|---|---|---|---|---|---|---|---|"
  for c in $CLIENTS; do
    conn=$(fmt "$(get conn "$c")" "%.2f" " ms")
    case $c in cjson*) conn="—" ;; esac
    idle="—"
    case $c in lua54 | luajit) idle=$(get idle "$c"); idle=${idle:-—} ;; esac
    rss=$(get rss "$c"); [ "$rss" != - ] && rss=$(calc "$rss / 1024")
    echo "| $(label $c) | $(fmt "$(get per $c)" "%.2f" " µs") | $(fmt "$(get part $c)" "%.2f" " µs") |" \
      "$(fmt "$(get big $c)" "%.1f" " ms") | $conn | $(fmt "$rss" "%.1f" " MB") |" \
      "$(fmt "$(get whole $c)" "%.1f" " ms") | $idle |"
  done
  echo
  echo "Medians: ${R_1K} runs of each 1k turn (connect), ${R_100K} of each 100k turn (slopes, RSS), ${R_BIG} of the 5 MB frame," \
    "${R_HF} hyperfine runs of each whole process; idle: the largest of ${R_IDLE} windows."
  echo "Connect: spawn until initialize is answered; the TypeScript SDK's is query() until its first message" \
    "(spawn + initialize + the turn's start). Peak RSS: GNU time's %M (kB/1024) of the client's process, its" \
    "reaped children included (the fake CLI itself stays under 1.5 MB); for the baseline, of the Lua process." \
    "The baseline's whole process includes sh and the fake CLI."
  echo "The official Python SDK is not measured: PyPI is unreachable from this machine."
  echo
  echo "Bars (DESIGN.md §7):"

  verdict() { # value operator limit -> pass / falls short / not measured
    [ "$1" = - ] || [ "$3" = - ] && { echo "not measured"; return; }
    awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { ok = (op == "<=") ? v <= l : (op == ">=") ? v >= l : (op == "<") ? v < l : v == l
      print ok ? "pass" : "falls short" }'
  }
  for c in lua54 luajit; do
    case $c in lua54) name="Lua 5.4" ;; luajit) name="LuaJIT" ;; esac
    r=$(calc "$per_ts / $(get per $c)" "$per_ts" "$(get per $c)")
    moon=$(verdict "$r" ">=" 3); [ "$moon" = pass ] && moon="reached" || moon="not reached"
    echo "1. per message, $name: TS/ours = $(fmt "$r" "%.2f" "x") (bar ≥ 2.5x; moonshot ≥ 3x: $moon): $(verdict "$r" ">=" 2.5)." \
      "The 1/5-of-Python bar cannot be judged here (no Python SDK)."
  done
  for c in lua54 luajit; do
    case $c in lua54) name="Lua 5.4" ;; luajit) name="LuaJIT" ;; esac
    r=$(calc "$part_ts / $(get part $c)" "$part_ts" "$(get part $c)")
    echo "2. partial frames, $name: TS/ours = $(fmt "$r" "%.2f" "x") (bar ≥ 2x): $(verdict "$r" ">=" 2)"
  done
  for c in lua54 luajit; do
    case $c in lua54) name="Lua 5.4" ;; luajit) name="LuaJIT" ;; esac
    r=$(calc "$(get big $c) / $big_floor" "$(get big $c)" "$big_floor")
    echo "3. 5 MB frame, $name: ours/floor = $(fmt "$r" "%.2f" "x") (bar ≤ 1.5x): $(verdict "$r" "<=" 1.5)"
  done
  for c in lua54 luajit; do
    case $c in lua54) name="Lua 5.4" ;; luajit) name="LuaJIT" ;; esac
    d=$(calc "$(get conn $c) - $conn_floor" "$(get conn $c)" "$conn_floor")
    echo "4. connect, $name: ours − floor = $(fmt "$d" "%+.2f" " ms") (bar ≤ +0.5 ms): $(verdict "$d" "<=" 0.5)"
  done
  for c in lua54 luajit; do
    case $c in lua54) name="Lua 5.4" ;; luajit) name="LuaJIT" ;; esac
    m=$(get rss $c); [ "$m" != - ] && m=$(calc "$m / 1024")
    echo "5. peak RSS of the 100k turn, $name: $(fmt "$m" "%.1f" " MB") (bar < 8 MB): $(verdict "$m" "<" 8)"
  done
  for c in lua54 luajit; do
    case $c in lua54) name="Lua 5.4" ;; luajit) name="LuaJIT" ;; esac
    echo "6. whole process, 1k turn, $name: $(fmt "$(get whole $c)" "%.1f" " ms") (bar < 20 ms): $(verdict "$(get whole $c)" "<" 20)"
  done
  for c in lua54 luajit; do
    case $c in lua54) name="Lua 5.4" ;; luajit) name="LuaJIT" ;; esac
    echo "7. idle wakeups in 1 s, $name: $(get idle $c) (bar = 0): $(verdict "$(get idle $c)" "==" 0)"
  done
} > "$OUT/results.md"

echo
cat "$OUT/results.md"
echo
echo "(written to build/bench/results.md; raw runs in build/bench/samples.txt; took $(( $(date +%s) - start )) s)"
if [ "$failures" -gt 0 ]; then
  echo "bench: $failures run(s) failed or reported a wrong message count (see above)" >&2
  exit 1
fi
exit 0
