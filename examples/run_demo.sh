#!/bin/sh
# run_demo.sh: a real two-turn conversation through the real Claude Code CLI (examples/02_multi_turn.lua).
#
# With ANTHROPIC_API_KEY set, the example talks to the Anthropic API. Without it, the project's offline model
# server (bin/claude-offline-model, answering from examples/scripts/examples.lua) stands in for the API on
# 127.0.0.1: the CLI and the SDK run exactly as they would for real, only the answers are scripted. The server
# is always stopped on exit, and the throwaway HOME given to the CLI is removed.
#
# `make demo` builds the module and runs this. By hand, from any directory:
#   sh examples/run_demo.sh                  # Lua 5.4 (build first: make module)
#   DEMO_LUA=luajit sh examples/run_demo.sh  # LuaJIT (build first: make module LUA=luajit)
# Exits with the example's status (non-zero when it fails).

set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
LUA=${DEMO_LUA:-lua5.4}
EXAMPLE="$ROOT/examples/02_multi_turn.lua"

# LUA_PATH / LUA_CPATH for the built tree (and where `make setup` put the CLI).
eval "$(make -s --no-print-directory -C "$ROOT" env LUA="$LUA")"

if [ -n "${ANTHROPIC_API_KEY:-}" ]; then
  echo "run_demo: ANTHROPIC_API_KEY is set: talking to the Anthropic API"
  exec "$LUA" "$EXAMPLE"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/claude-demo-XXXXXX")
SERVER_PID=

# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$LUA" "$ROOT/bin/claude-offline-model" --script "$ROOT/examples/scripts/examples.lua" \
  >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!

# Its first stdout line is ANTHROPIC_BASE_URL=http://127.0.0.1:PORT; wait up to 10 s for it.
URL=
tries=0
while [ -z "$URL" ]; do
  URL=$(sed -n 's/^ANTHROPIC_BASE_URL=//p' "$TMP/server.out")
  [ -n "$URL" ] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null || [ "$tries" -ge 100 ]; then
    echo "run_demo: the offline model server did not start:" >&2
    cat "$TMP/server.err" >&2
    exit 1
  fi
  tries=$((tries + 1))
  sleep 0.1
done

mkdir "$TMP/home"
export ANTHROPIC_BASE_URL="$URL"
export ANTHROPIC_API_KEY=sk-offline-demo
export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
export HOME="$TMP/home"

echo "run_demo: ANTHROPIC_API_KEY is not set: using the offline model server at $URL (scripted answers)"
echo "run_demo: running examples/02_multi_turn.lua with $LUA through the real claude CLI"
echo
if "$LUA" "$EXAMPLE"; then
  status=0
else
  status=$?
  echo "run_demo: the example failed (exit status $status)" >&2
  if [ -s "$TMP/server.err" ]; then
    echo "run_demo: the model server said:" >&2
    cat "$TMP/server.err" >&2
  fi
fi
exit "$status"
