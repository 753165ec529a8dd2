#!/bin/sh
# The two rockspecs, as a user would install them: Debian's luarocks builds the SDK's rock offline into a fresh tree
# for Lua 5.4 and for LuaJIT (LuaRocks' Lua 5.1), and the matching interpreter loads every SDK module from that tree
# alone, with nothing of claude_agent_sdk.testing installed or loaded; then the testing rock goes into the same tree
# and its server, started from there, answers a request.  Prints TAP.
#   sh spec/support/run_rockspec.sh
# LuaRocks' builtin backend writes objects beside the sources and the module into the current directory, so each
# build runs in a scratch copy; HOME points into the scratch space too, so the real ~ (cache, config) stays as it
# was, and --tree keeps the system trees out of it.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROCKSPEC=rockspec/claude-agent-sdk-scm-1.rockspec
TESTING_ROCKSPEC=rockspec/claude-agent-sdk-testing-scm-1.rockspec
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

# Every file under lua/ and csrc/*.c is listed by exactly one rockspec: claude_agent_sdk.testing* by the testing
# rock, the rest (and the C sources, in build_command) by the SDK's; both backends install only what is listed.
# The .c files csrc/lua_cas.c #includes (one translation unit) count as listed with it, and must not be compiled
# on their own as well.
(cd "$ROOT" && lua5.4 - "$ROCKSPEC" "$TESTING_ROCKSPEC" > "$TMP/listed" 2> "$TMP/included.err") <<'EOF'
local included = {}
for f in io.open("csrc/lua_cas.c"):read("a"):gmatch('\n#include "([%w_]+%.c)"') do included["csrc/" .. f] = true end
for i = 1, 2 do
  local spec = {}
  assert(loadfile(arg[i], "t", spec))()
  for _, f in pairs(spec.build.install.lua) do print(i == 1 and "sdk " .. f or "testing " .. f) end
  for f in (spec.build.build_command or ""):gmatch("csrc/%S+%.c") do
    if included[f] then io.stderr:write(f .. " is #included by csrc/lua_cas.c and compiled on its own too\n") end
    print("sdk " .. f)
    if f == "csrc/lua_cas.c" then
      for inc in pairs(included) do print("sdk " .. inc) end
    end
  end
end
EOF
(cd "$ROOT" && find lua -name '*.lua' | sed -e 's|^lua/claude_agent_sdk/testing|testing &|' -e '/^testing /!s|^|sdk |'
 ls csrc/*.c | sed 's|^|sdk |') | sort > "$TMP/present"
sort -o "$TMP/listed" "$TMP/listed"
diff "$TMP/present" "$TMP/listed" > "$TMP/list.diff"
tap $? "the two rockspecs list every file of lua/ and csrc/*.c, testing* in the testing rock (< missing, > stale)" \
  "$TMP/list.diff"
[ ! -s "$TMP/included.err" ]
tap $? "the files csrc/lua_cas.c #includes are not compiled on their own (one translation unit)" "$TMP/included.err"

# No SDK module names the testing modules (a require, or a string that could reach one).
(cd "$ROOT" && grep -rn 'claude_agent_sdk[./]testing' lua --include='*.lua' | grep -v '^lua/claude_agent_sdk/testing') \
  > "$TMP/grep" 2>&1
[ ! -s "$TMP/grep" ]
tap $? "no SDK module outside lua/claude_agent_sdk/testing* mentions claude_agent_sdk.testing" "$TMP/grep"

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
  # luv is Debian's lua-luv, outside any rock tree: rocks_provided tells LuaRocks it is there (the testing rock
  # depends on it).
  printf 'rocks_servers = {}\nlua_interpreter = "%s"\nvariables = { LUA_BINDIR = "%s", LUA_INCDIR = "%s" }\n%s\n' \
    "$lua" "$bindir" "$inc" 'rocks_provided = { luv = "1.44.2-1" }' > "$cfg"
  mkdir "$src" && cp -R "$ROOT/rockspec" "$ROOT/csrc" "$ROOT/lua" "$ROOT/bin" "$ROOT/doc" "$ROOT/autoload" "$src/"
  rm -f "$src/doc/tags" # the rock writes its own
  # (no build/ in the copy: the installed bin/claude-offline-model must find the tree's core, not the checkout's)
  start=$(date +%s)
  (cd "$src" && lr make "$ROCKSPEC") > "$log" 2>&1
  st=$?
  tap $st "luarocks make installs the SDK's rock alone into a fresh tree for $lua (Lua $ver, offline) in \
$(($(date +%s) - start)) s" "$log"
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
check("the rock's core.so exports luaopen_claude_agent_sdk_core alone (the core is built in hidden)", function()
  local file = package.searchpath("claude_agent_sdk.core", package.cpath)
  local p = io.popen("nm -D --defined-only '" .. file .. "' 2>&1")
  local syms = p:read("*a")
  p:close()
  assert(syms:match("^%x+ T luaopen_claude_agent_sdk_core\n$"), syms:sub(1, 300))
end)
check("the tree holds no claude_agent_sdk.testing file and claude_agent_sdk.testing does not load", function()
  local p = io.popen("find '" .. tree .. "' -path '*claude_agent_sdk/testing*' -o -name 'claude-offline-model*'")
  local found = p:read("*a")
  p:close()
  assert(found == "", "installed: " .. found)
  assert(not pcall(require, "claude_agent_sdk.testing"), "claude_agent_sdk.testing loaded")
end)
check("every module the SDK's rockspec lists loads from the tree and none loads claude_agent_sdk.testing*", function()
  local spec = {}
  assert(loadfile(root .. "/rockspec/claude-agent-sdk-scm-1.rockspec", "t", spec))()
  for name in pairs(spec.build.install.lua) do
    in_tree(name, package.path)
    require(name)
  end
  for name in pairs(package.loaded) do
    assert(not name:find("^claude_agent_sdk%.testing"), name .. " was loaded")
  end
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
  [ "$(grep -cE '^(not )?ok ' "$TMP/check-$lua")" -eq 6 ] || tap 1 "$lua: the load checks did not all run" "$TMP/path-$lua"

  # The rock's own directory holds what Neovim reads from 'runtimepath' (rocks.nvim puts it there, or
  # require("claude_agent_sdk.install").runtimepath()): the help file with its tags (rockspec/helptags.sh;
  # spec/nvim_install_spec.lua compares them with Neovim's) and the Vimscript health check.
  rock="$tree/lib/luarocks/rocks-$ver/claude-agent-sdk/scm-1"
  { cmp "$ROOT/doc/claude_agent_sdk.txt" "$rock/doc/claude_agent_sdk.txt"
    cmp "$ROOT/autoload/health/claude_agent_sdk.vim" "$rock/autoload/health/claude_agent_sdk.vim"
    grep -q "$(printf '^claude_agent_sdk\tclaude_agent_sdk.txt\t/[*]claude_agent_sdk[*]$')" "$rock/doc/tags" ||
      echo "no tags line for *claude_agent_sdk* in $rock/doc/tags"
    LC_ALL=C sort -c "$rock/doc/tags"
  } > "$TMP/rockdir-$lua" 2>&1
  [ ! -s "$TMP/rockdir-$lua" ]
  tap $? "$lua: the rock's directory holds doc/claude_agent_sdk.txt with sorted help tags, and \
autoload/health/claude_agent_sdk.vim" "$TMP/rockdir-$lua"

  # The testing rock into the same tree: its dependencies are the SDK's rock (there now) and luv (provided).
  (cd "$src" && lr make "$TESTING_ROCKSPEC") > "$log" 2>&1
  st=$?
  tap $st "luarocks make installs the testing rock beside it for $lua (its dependencies met offline)" "$log"
  [ $st -eq 0 ] || continue
  lr list --porcelain > "$TMP/list-$lua" 2>&1
  grep -q '^claude-agent-sdk-testing	scm-1	installed' "$TMP/list-$lua" \
    && grep -q '^claude-agent-sdk	scm-1	installed' "$TMP/list-$lua"
  tap $? "$lua: the tree lists both rocks" "$TMP/list-$lua"

  # The installed command: the wrapper runs this interpreter, the server (luv) answers with its address and then
  # answers a request (curl), and stdin's end stops it.
  : > "$TMP/bin-$lua"
  mkfifo "$TMP/stdin-$lua"
  timeout 20 "$tree/bin/claude-offline-model" --port 0 --exit-on-stdin-eof < "$TMP/stdin-$lua" > "$TMP/url-$lua" \
    2>> "$TMP/bin-$lua" &
  server=$!
  exec 9> "$TMP/stdin-$lua"
  for _ in $(seq 100); do [ -s "$TMP/url-$lua" ] && break; sleep 0.1; done
  url=$(sed -n 's/^ANTHROPIC_BASE_URL=//p' "$TMP/url-$lua")
  { grep -q "exec '$bindir/$lua' " "$tree/bin/claude-offline-model" || echo "the wrapper does not run $lua"
    [ -n "$url" ] || echo "no ANTHROPIC_BASE_URL line: $(cat "$TMP/url-$lua")"
    [ -n "$url" ] && curl -sS --max-time 10 -H 'content-type: application/json' \
      -d '{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"What is 2+2?"}]}' "$url/v1/messages" \
      | grep -q '"text":"2 + 2 = 4\."' || echo "no answer to What is 2+2?"
  } >> "$TMP/bin-$lua" 2>&1
  exec 9>&-
  wait $server || echo "exit status $?" >> "$TMP/bin-$lua"
  [ ! -s "$TMP/bin-$lua" ]
  tap $? "$lua: the installed claude-offline-model runs under $lua, answers a request and stops at stdin EOF" \
    "$TMP/bin-$lua"

  # spawn_server from the tree alone: the child loads the same installed modules and its core.
  (eval "$(cat "$TMP/path-$lua")"; unset LUA_INIT LUA_INIT_5_4 LUA_PATH_5_4 LUA_CPATH_5_4
   cd "$TMP/run" && timeout 30 "$lua" - "$tree" 2>&1) > "$TMP/spawn-$lua" <<'EOF'
local tree = arg[1]
local file = package.searchpath("claude_agent_sdk.testing", package.path)
assert(file and file:sub(1, #tree + 1) == tree .. "/", "claude_agent_sdk.testing resolves to " .. tostring(file))
local h = require("claude_agent_sdk.testing").spawn_server({})
local p = io.popen("curl -sS --max-time 10 -H 'content-type: application/json' -d "
  .. "'{\"model\":\"m\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"What is 2+2?\"}]}' "
  .. h.url .. "/v1/messages")
local body = p:read("*a")
p:close()
local status = h.stop()
assert(body:find('"text":"2 + 2 = 4."', 1, true), "answer: " .. body)
assert(status == 0, "exit status " .. tostring(status))
print("spawned")
EOF
  [ "$(cat "$TMP/spawn-$lua")" = spawned ]
  tap $? "$lua: spawn_server from the tree alone starts the server, which answers, and stop() gives status 0" \
    "$TMP/spawn-$lua"
done
echo "1..$n"
[ "$failed" -eq 0 ]
