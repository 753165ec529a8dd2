#!/usr/bin/env bash
# Compare the Python SDK's examples with their Lua ports (examples/python/): each runs against the same real CLI and
# a fresh offline model server with the same script (examples/scripts/python_examples.lua), in the same working
# directory and HOME paths; the messages each SDK handed to the example are tapped (py_tap.py, lua_tap.lua) and
# compared field by field, and so are the stdouts (compare.py). Prints a table; details go to $WORK/<case>/.
# By hand only (the Python SDK cannot be fetched in CI).
#
#   make compare-python PY_SDK=/path/to/claude-agent-sdk-python PY_DEPS="/path/anyio/src:/path/typing_extensions/src"
#   sh spec/support/py_compare/compare.sh [CASE...]      CASE: "quick_start", "hooks PreToolUse", ...
#
# Variables:
#   PY_SDK    a checkout of the Python SDK (its src/ and examples/ are used)         (required)
#   PY_DEPS   more PYTHONPATH entries: anyio's src, typing_extensions' src, and a dir with an import-only `mcp`
#             stub (the SDK imports mcp at start; see README.md here for preparing them)
#   PYTHON    python3 (3.11 or newer: the examples use asyncio.timeout)
#   LUA       lua5.4 (or luajit; the module is taken from build/<LUA>/)
#   CLI       the claude CLI (default .deps/node_modules/.bin/claude): CLAUDE_CLI_PATH for Lua, first on PATH
#             for Python
#   WORK      where runs and reports go (default build/py-compare; not under /tmp: tool_permission_callback
#             treats /tmp/ paths apart)
#   JOBS      cases run side by side (default 1)
#   PY_SKIP   cases not run in Python (default "mcp_calculator": the SDK's in-process MCP servers need the real
#             mcp package); they still run in Lua
set -u
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
HERE="$ROOT/spec/support/py_compare"
: "${PY_SDK:?set PY_SDK to a checkout of the Python SDK}"
PY_DEPS=${PY_DEPS:-}
PYTHON=${PYTHON:-python3}
LUA=${LUA:-lua5.4}
CLI=${CLI:-$ROOT/.deps/node_modules/.bin/claude}
WORK=${WORK:-$ROOT/build/py-compare}
JOBS=${JOBS:-1}
PY_SKIP=${PY_SKIP:-mcp_calculator}
SCRIPT="$ROOT/examples/scripts/python_examples.lua"
export PY_SDK PY_DEPS PYTHON LUA CLI WORK PY_SKIP ROOT HERE SCRIPT

CASES=(
  "quick_start" "agents" "filesystem_agents"
  "hooks PreToolUse" "hooks UserPromptSubmit" "hooks PostToolUse" "hooks DecisionFields" "hooks ContinueControl"
  "include_partial_messages" "max_budget_usd" "mcp_calculator" "plugin_example" "setting_sources all"
  "stderr_callback_example"
  "streaming_mode basic_streaming" "streaming_mode multi_turn_conversation" "streaming_mode concurrent_responses"
  "streaming_mode with_interrupt" "streaming_mode manual_message_handling" "streaming_mode with_options"
  "streaming_mode async_iterable_prompt" "streaming_mode bash_command" "streaming_mode control_protocol"
  "streaming_mode error_handling"
  "system_prompt" "tool_permission_callback" "tools_option"
)

# run_one CASE SDK: one run of one side, in $WORK/<case>/tree, with its own fresh model server.
run_one() {
  local case=$1 sdk=$2 name args dir tree home url
  name=${case%% *}; args=""; [ "$name" != "$case" ] && args=${case#* }
  dir="$WORK/${case// /_}"; tree="$dir/tree"; home="$dir/home"
  rm -rf "$tree" "$home"; mkdir -p "$tree/examples" "$home"
  # The same tree for both sides: the Python SDK's layout (examples/ beside the .claude/ that its examples look
  # for), with the Lua port beside the original.
  cp -p "$PY_SDK/examples/$name.py" "$ROOT/examples/python/$name.lua" "$tree/examples/"
  cp -rp "$ROOT/examples/python/plugins" "$tree/examples/"
  cp -rp "$ROOT/examples/.claude" "$tree/"
  rm -f "$dir/$sdk".*
  coproc SRV { exec "$LUA" "$ROOT/bin/claude-offline-model" --script "$SCRIPT" --log "$dir/$sdk.requests.jsonl" \
    --exit-on-stdin-eof; }
  read -r url <&"${SRV[0]}"; url=${url#ANTHROPIC_BASE_URL=}
  local cmd
  if [ "$sdk" = py ]; then
    cmd=("$PYTHON" "$HERE/py_tap.py" "$tree/examples/$name.py")
  else
    cmd=("$LUA" -l lua_tap "$tree/examples/$name.lua")
  fi
  # shellcheck disable=SC2086
  (cd "$tree" && env HOME="$home" ANTHROPIC_BASE_URL="$url" ANTHROPIC_API_KEY=sk-offline-test \
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 CLAUDE_CODE_MAX_RETRIES=0 CLAUDE_CLI_PATH="$CLI" \
    PATH="$(dirname "$CLI"):$PATH" \
    PYTHONPATH="$PY_SDK/src${PY_DEPS:+:$PY_DEPS}" PYTHONDONTWRITEBYTECODE=1 \
    LUA_PATH="$ROOT/lua/?.lua;$ROOT/lua/?/init.lua;$HERE/?.lua;;" LUA_CPATH="$ROOT/build/$LUA/?.so;;" \
    PY_COMPARE_TAP="$dir/$sdk.messages.jsonl" timeout -k 5 300 "${cmd[@]}" $args \
    </dev/null >"$dir/$sdk.stdout" 2>"$dir/$sdk.stderr"; echo $? >"$dir/$sdk.status")
  touch "$dir/$sdk.messages.jsonl"
  exec {SRV[1]}>&-
  wait "$SRV_PID" 2>/dev/null
  [ "$sdk" = lua ] && cp -rp "$tree" "$dir/tree.lua"
  return 0
}

run_case() {
  local case=$1 dir
  dir="$WORK/${case// /_}"; mkdir -p "$dir"
  if [[ " $PY_SKIP " == *" ${case%% *} "* ]]; then echo skip > "$dir/py.skip"; else rm -f "$dir/py.skip"; run_one "$case" py; fi
  run_one "$case" lua
}
export -f run_one run_case

if [ "${1:-}" = "--case" ]; then run_case "$2"; exit 0; fi
[ $# -gt 0 ] && CASES=("$@")
mkdir -p "$WORK"
[ -f "$PY_SDK/examples/quick_start.py" ] || { echo "PY_SDK=$PY_SDK has no examples/quick_start.py"; exit 2; }
PYTHONPATH="$PY_SDK/src${PY_DEPS:+:$PY_DEPS}" "$PYTHON" -c 'import claude_agent_sdk' ||
  { echo "cannot import claude_agent_sdk with PYTHONPATH=$PY_SDK/src:$PY_DEPS (see README.md here)"; exit 2; }
[ -f "$ROOT/build/$LUA/claude_agent_sdk/core.so" ] || { echo "build the module first: make module LUA=$LUA"; exit 2; }
printf '%s\n' "${CASES[@]}" | xargs -d '\n' -P "$JOBS" -I{} bash -c 'run_case "$1"' _ {}
"$PYTHON" "$HERE/compare.py" "$WORK" "${CASES[@]}"
