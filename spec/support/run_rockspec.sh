#!/bin/sh
# The rockspec, as a user would install it: Debian's luarocks builds it offline into a fresh tree for Lua 5.4 and
# for LuaJIT (LuaRocks' Lua 5.1), then the matching interpreter loads the SDK from that tree alone.  Prints TAP.
#   sh spec/support/run_rockspec.sh
# LuaRocks' builtin backend writes objects beside the sources and the module into the current directory, so each
# build runs in a scratch copy; HOME points into the scratch space too, so the real ~ (cache, config) stays as it
# was, and --tree keeps the system trees out of it.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROCKSPEC=rockspec/claude-agent-sdk-scm-1.rockspec
n=0; failed=0
tap() { # status description [log]: one TAP line; a failure shows the end of its log
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else
    echo "not ok $n - $2"; failed=$((failed + 1))
    [ -n "${3:-}" ] && tail -n 15 "$3" | sed 's/^/#   /'
  fi
}
lr() { # luarocks for the Lua $ver, its tree $tree and its config $cfg, set by the loop below
  env HOME="$TMP/home" "LUAROCKS_CONFIG_$(echo "$ver" | tr . _)=$cfg" luarocks --lua-version="$ver" --tree="$tree" "$@"
}
command -v luarocks >/dev/null 2>&1 || { echo "not ok 1 - luarocks is not installed (make setup)"; exit 1; }
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
mkdir "$TMP/home" "$TMP/run"

# Every Lua file under lua/ and every C file in csrc/ is listed in build.modules, and nothing else: the builtin
# backend would install an unlisted Lua file anyway (it copies lua/), but leave it out of the rock's manifest.
(cd "$ROOT" && lua5.4 - "$ROCKSPEC" > "$TMP/listed" 2>&1) <<'EOF'
local spec = {}
assert(loadfile(arg[1], "t", spec))()
for _, m in pairs(spec.build.modules) do
  for _, f in ipairs(type(m) == "table" and m.sources or { m }) do print(f) end
end
EOF
(cd "$ROOT" && find lua -name '*.lua'; ls csrc/*.c) | sort > "$TMP/present"
sort -o "$TMP/listed" "$TMP/listed"
diff "$TMP/present" "$TMP/listed" > "$TMP/list.diff"
tap $? "the rockspec lists every file of lua/ and csrc/*.c (< missing, > stale)" "$TMP/list.diff"

for lua in lua5.4 luajit; do
  if ! command -v "$lua" >/dev/null 2>&1; then tap 1 "$lua is not installed (make setup)"; continue; fi
  case $lua in
    luajit) ver=5.1; inc=/usr/include/luajit-2.1 ;; # no lua5.1 headers or interpreter needed
    *) ver=${lua#lua}; inc=/usr/include/$lua ;;
  esac
  tree="$TMP/tree-$lua"; src="$TMP/src-$lua"; log="$TMP/make-$lua.log"; cfg="$TMP/config-$lua.lua"
  # No rock server: lua >= 5.1 is the only dependency, provided by the interpreter itself.  lua_interpreter
  # also names the interpreter LuaRocks writes into the bin/ wrapper (it would pick lua5.1 if installed).
  bindir=$(dirname "$(command -v "$lua")")
  printf 'rocks_servers = {}\nlua_interpreter = "%s"\nvariables = { LUA_BINDIR = "%s", LUA_INCDIR = "%s" }\n' \
    "$lua" "$bindir" "$inc" > "$cfg"
  mkdir "$src" && cp -R "$ROOT/rockspec" "$ROOT/csrc" "$ROOT/lua" "$ROOT/bin" "$src/"
  start=$(date +%s)
  (cd "$src" && lr make "$ROCKSPEC") > "$log" 2>&1
  st=$?
  tap $st "luarocks make installs into a fresh tree for $lua (Lua $ver, offline) in $(($(date +%s) - start)) s" "$log"
  [ $st -eq 0 ] || continue

  # The matching interpreter with only luarocks' paths for that tree (plus the system's, for luv), run from an
  # empty directory so ./?.lua finds nothing.
  lr path > "$TMP/path-$lua" 2>&1
  (eval "$(cat "$TMP/path-$lua")"; unset LUA_INIT LUA_INIT_5_4 LUA_PATH_5_4 LUA_CPATH_5_4
   cd "$TMP/run" && "$lua" - "$tree" "$ROOT" 2>&1) > "$TMP/check-$lua" <<'EOF'
local tree, root = arg[1], arg[2]
local function check(what, fn)
  local ok, err = pcall(fn)
  print((ok and "ok " or "not ok ") .. what .. (ok and "" or ": " .. tostring(err):gsub("%s+", " "):sub(1, 300)))
end
local function in_tree(name, path)
  local file = package.searchpath(name, path)
  assert(file and file:sub(1, #tree + 1) == tree .. "/", name .. " resolves to " .. tostring(file))
end
check("the repo is not on package.path / package.cpath", function()
  assert(not (package.path .. package.cpath):find(root, 1, true), package.path .. " " .. package.cpath)
end)
check("claude_agent_sdk.core loads from the tree and decodes JSON", function()
  in_tree("claude_agent_sdk.core", package.cpath)
  local core = require("claude_agent_sdk.core")
  local t = core.decode('{"a":[1,2]}')
  assert(t.a[2] == 2 and getmetatable(t.a) == core.array_mt and core.encode(t) == '{"a":[1,2]}')
end)
check("claude_agent_sdk and every module it loads come from the tree", function()
  local claude = require("claude_agent_sdk")
  assert(type(claude.ClaudeSDKClient) == "table" and type(claude.ClaudeSDKClient.new) == "function")
  assert(type(claude.query) == "function")
  for name in pairs(package.loaded) do
    if name:find("^claude_agent_sdk") then
      in_tree(name, name == "claude_agent_sdk.core" and package.cpath or package.path)
    end
  end
end)
EOF
  while read -r line; do
    case $line in
      "ok "*) tap 0 "$lua: ${line#ok }" ;;
      "not ok "*) tap 1 "$lua: ${line#not ok }" ;;
      *) echo "# $line" ;;
    esac
  done < "$TMP/check-$lua"
  [ "$(grep -cE '^(not )?ok ' "$TMP/check-$lua")" -eq 3 ] || tap 1 "$lua: the load checks did not all run" "$TMP/path-$lua"

  # The installed command: the wrapper runs this interpreter, the server (luv) answers with its address.
  { timeout 20 "$tree/bin/claude-offline-model" --port 0 --exit-on-stdin-eof < /dev/null 2>&1
    grep -q "exec '$bindir/$lua' " "$tree/bin/claude-offline-model" || echo "the wrapper does not run $lua"
  } > "$TMP/bin-$lua" 2>&1
  grep -qx 'ANTHROPIC_BASE_URL=http://127\.0\.0\.1:[0-9]*' "$TMP/bin-$lua" \
    && [ "$(wc -l < "$TMP/bin-$lua")" -eq 1 ]
  tap $? "$lua: the installed claude-offline-model runs under $lua and starts a server" "$TMP/bin-$lua"
done
echo "1..$n"
[ "$failed" -eq 0 ]
