--- Helpers for the end-to-end specs: find the real CLI, run the offline model
--- server as a child process (the blocking client would starve an in-process
--- one), build client options pointing the CLI at it with a throwaway HOME,
--- and check that processes are really gone.
local claude = require("claude_agent_sdk")
local core = require("claude_agent_sdk.core")
local testing = require("claude_agent_sdk.testing")
local json = require("claude_agent_sdk.json")

local M = {}

M.ROOT = os.getenv("PWD") or "."

--- The real CLI, or nil and why not.
function M.cli_path()
  -- (CLAUDE_CLI_PATH may be unset: a nil first entry would end ipairs at once)
  local candidates = { os.getenv("CLAUDE_CLI_PATH") or "", M.ROOT .. "/.deps/node_modules/.bin/claude" }
  for _, p in ipairs(candidates) do
    if p ~= "" and core.executable(p) then
      return p
    end
  end
  return nil, "the real claude CLI was not found (CLAUDE_CLI_PATH, .deps/): run `make setup`"
end

--- The version of the real CLI under test ("2.1.332"), or nil.  Specs that
--- depend on a CLI's behaviour branch on it and assert each version's.
function M.cli_version()
  local path = M.cli_path()
  if not path then
    return nil
  end
  local cli = require("claude_agent_sdk.cli")
  local v = cli.installed_version(path)
  if v then
    return v
  end
  local p = io.popen(M.sh_quote(path) .. " -v 2>/dev/null")
  local out = p and p:read("*l")
  if p then
    p:close()
  end
  return cli.parse_version(out) and out:match("^%s*(%d+%.%d+%.%d+)") or nil
end

--- True when the CLI under test is at least `version` (false when unknown).
function M.cli_at_least(version)
  local v = M.cli_version()
  return v ~= nil and not require("claude_agent_sdk.cli").older(v, version)
end

--- The CLIs of the version matrix that `make setup` installed here, oldest first (paths).
function M.matrix_clis()
  local list = {}
  local installed = { M.ROOT .. "/.deps/node_modules/.bin/claude", M.ROOT .. "/.deps/newest/node_modules/.bin/claude" }
  for _, p in ipairs(installed) do
    if M.exists(p) then
      list[#list + 1] = p
    end
  end
  return list
end

--- The official TypeScript SDK's package directory that `make setup` installed
--- (.deps/bench-ts), or nil and why not.
function M.ts_sdk()
  local dir = M.ROOT .. "/.deps/bench-ts/node_modules/@anthropic-ai/claude-agent-sdk"
  if M.exists(dir .. "/sdk.mjs") then
    return dir
  end
  return nil, "the official TypeScript SDK was not found in .deps/bench-ts: run `make setup`"
end

--- True when this process runs under valgrind (its preload is mapped).
function M.under_valgrind()
  local f = io.open("/proc/self/maps", "r")
  if not f then
    return false
  end
  local maps = f:read("*a")
  f:close()
  return maps:find("vgpreload", 1, true) ~= nil
end

--- Inside a describe that runs on every CLI of the matrix (busted's setup,
--- teardown and pending are the spec file's, so it passes them): nil (and the
--- block marked pending, saying why) when none is installed; else a table
--- whose `clis` are their paths and whose `srv` is the model server (script:
--- default spec/support/scripts/e2e.lua) while the block's tests run.
function M.matrix_block(busted, script)
  local setup, teardown, pending = busted.setup, busted.teardown, busted.pending
  local clis = M.matrix_clis()
  if #clis == 0 then
    pending("skipped: no CLI of the matrix is installed: run `make setup`")
    return nil
  end
  local m = { clis = clis }
  setup(function()
    m.srv = M.start_server(script or (M.ROOT .. "/spec/support/scripts/e2e.lua"))
  end)
  teardown(function()
    M.stop_server(m.srv)
  end)
  return m
end

local homes = {}

--- Start the model server with a script file; returns the handle with `log`.
function M.start_server(script_file)
  local log = os.tmpname()
  local srv = testing.spawn_server({ script = script_file, log = log, stderr = false })
  srv.log = log
  return srv
end

function M.stop_server(srv)
  if srv then
    srv.stop()
    os.remove(srv.log)
  end
  for _, h in ipairs(homes) do
    os.execute("rm -rf '" .. h .. "'")
  end
  homes = {}
end

--- The requests the server has seen (decoded), oldest first.
function M.requests(srv)
  local list = {}
  local f = io.open(srv.log, "r")
  if not f then
    return list
  end
  for line in f:lines() do
    if line:find("%S") then
      list[#list + 1] = json.decode(line)
    end
  end
  f:close()
  return list
end

--- Options for a client that talks to srv through the real CLI.
function M.options(srv, extra)
  local env, home = testing.cli_env({ url = srv.url })
  homes[#homes + 1] = home
  return M.merge_options({ cli_path = assert(M.cli_path()), env = env }, extra)
end

--- extra's fields set into client options o, except extra.env, which is merged into o.env; returns o.
function M.merge_options(o, extra)
  for k, v in pairs(extra or {}) do
    if k == "env" then
      for ek, ev in pairs(v) do
        o.env[ek] = ev
      end
    else
      o[k] = v
    end
  end
  return o
end

--- A plain value (strings, numbers, booleans, tables of them) as Lua source,
--- for a script a spec writes and runs in another process.
function M.lua_literal(v)
  if type(v) == "table" then
    local keys = {}
    for k in pairs(v) do
      keys[#keys + 1] = k
    end
    table.sort(keys, function(a, b)
      return tostring(a) < tostring(b)
    end)
    local parts = {}
    for _, k in ipairs(keys) do
      parts[#parts + 1] = ("[%s] = %s"):format(M.lua_literal(k), M.lua_literal(v[k]))
    end
    return "{ " .. table.concat(parts, ", ") .. " }"
  elseif type(v) == "string" then
    return ("%q"):format(v)
  elseif type(v) == "number" or type(v) == "boolean" then
    return tostring(v)
  end
  error("no literal for a " .. type(v))
end

--- s quoted for a POSIX shell command line.
function M.sh_quote(s)
  return "'" .. (tostring(s):gsub("'", [['\'']])) .. "'"
end

--- Whether a file can be opened for reading.
function M.exists(path)
  local f = io.open(path, "r")
  if f then
    f:close()
  end
  return f ~= nil
end

--- nvim's path, or nil and why not (not installed, or not executable).
function M.nvim_path()
  local p = io.popen("command -v nvim 2>/dev/null")
  local path = p and p:read("*l")
  if p then
    p:close()
  end
  if not path or path == "" then
    return nil, "nvim is not installed (Debian: apt-get install neovim)"
  end
  if not core.executable(path) then
    return nil, "nvim at " .. path .. " is not executable"
  end
  return path
end

--- Why headless Neovim cannot run the SDK here (no nvim, or no LuaJIT build of the module), or nil.
function M.nvim_missing()
  local path, why = M.nvim_path()
  if not path then
    return why
  end
  local so = io.open(M.ROOT .. "/build/luajit/claude_agent_sdk/core.so")
  if not so then
    return "the LuaJIT build of the module is missing: run `make module LUA=luajit`"
  end
  so:close()
  return nil
end

--- A fresh empty directory (the caller removes it).
function M.tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p '" .. d .. "'"))
  return d
end

--- Inside a task: sleep in small steps until pred() holds or ms pass; returns pred().
function M.wait_for(pred, ms)
  local deadline = core.now() + ms
  while not pred() and core.now() < deadline do
    claude.sleep(20)
  end
  return pred() and true or false
end

--- True while a process (or, with group = true, any process of its group) exists.
function M.alive(pid, group)
  local target = group and ("-- -" .. pid) or tostring(pid)
  local r = os.execute("kill -0 " .. target .. " 2>/dev/null")
  return r == true or r == 0
end

--- Every value an iterator yields, in a list (e.g. client:receive_response()).
function M.collect(iter)
  local list = {}
  for m in iter do
    list[#list + 1] = m
  end
  return list
end

--- The text of all TextBlocks of the assistant messages in a list.
function M.texts(msgs)
  local out = {}
  for _, m in ipairs(msgs) do
    if m.type == "assistant" then
      for _, b in ipairs(m.content) do
        if b.type == "text" then
          out[#out + 1] = b.text
        end
      end
    end
  end
  return table.concat(out, "\n")
end

-- ---- process and resource probes (spec/faults_spec.lua) ---------------------

local function read_file(path)
  local f = io.open(path, "r")
  if not f then
    return nil
  end
  local s = f:read("*a")
  f:close()
  return s
end
M.read_file = read_file

--- This process's pid (the one that opens /proc/self).
function M.self_pid()
  return tonumber(read_file("/proc/self/stat"):match("^(%d+)"))
end

--- State letter (R, S, Z, ...) and parent pid of a process, or nil when it does not exist.
function M.proc_state(pid)
  local s = read_file("/proc/" .. pid .. "/stat")
  if not s then
    return nil
  end
  local state, ppid = s:match("^%d+ %(.*%) (%S) (%-?%d+)")
  return state, tonumber(ppid)
end

--- True when the process no longer runs: no such pid, or a zombie (dead,
--- waiting for a parent that may never reap it, e.g. a container's pid 1).
function M.gone(pid)
  local state = M.proc_state(pid)
  return state == nil or state == "Z"
end

--- Poll until M.gone(pid) or ms pass; returns M.gone(pid).
function M.wait_gone(pid, ms)
  local deadline = core.now() + (ms or 3000)
  while not M.gone(pid) and core.now() < deadline do
    core.sleep(20)
  end
  return M.gone(pid)
end

--- The children of pid (default: this process) as { {pid=, state=}, ... },
--- found by scanning /proc (task/*/children is not always there).
function M.children(pid)
  pid = pid or M.self_pid()
  local list = {}
  for _, name in ipairs(core.listdir("/proc") or {}) do
    local n = tonumber(name)
    if n then
      local state, ppid = M.proc_state(n)
      if ppid == pid then
        list[#list + 1] = { pid = n, state = state }
      end
    end
  end
  return list
end

--- The live (not zombie) members of process group pgid, as a list of pids.
function M.group_alive(pgid)
  local list = {}
  for _, name in ipairs(core.listdir("/proc") or {}) do
    local n = tonumber(name)
    local s = n and read_file("/proc/" .. n .. "/stat")
    if s then
      local state, pgrp = s:match("^%d+ %(.*%) (%S) %-?%d+ (%-?%d+)")
      if tonumber(pgrp) == pgid and state ~= "Z" then
        list[#list + 1] = n
      end
    end
  end
  return list
end

--- Open file descriptors of a process (default: this one), as a sorted list of numbers.
function M.fds(pid)
  local list = {}
  for _, name in ipairs(core.listdir("/proc/" .. (pid or "self") .. "/fd") or {}) do
    list[#list + 1] = tonumber(name)
  end
  table.sort(list)
  return list
end

--- A field of /proc/self/status in kB (VmRSS, VmHWM, ...).
function M.status_kb(field)
  local s = read_file("/proc/self/status") or ""
  return tonumber(s:match(field .. ":%s*(%d+)"))
end

--- A signal mask field of /proc/self/status (SigIgn, SigBlk, SigPnd, ShdPnd) holds signal signo?
function M.sig_in_mask(field, signo)
  local s = read_file("/proc/self/status") or ""
  local hex = s:match(field .. ":%s*(%x+)")
  if not hex then
    return nil
  end
  -- bit signo-1 of a 64-bit hex mask, read from the last 16 hex digits
  local digit = #hex - math.floor((signo - 1) / 4)
  local d = tonumber(hex:sub(digit, digit), 16) or 0
  return math.floor(d / 2 ^ ((signo - 1) % 4)) % 2 == 1
end

--- The Lua interpreter running the specs (for child interpreters): SPEC_LUA
--- when it matches the running one (LUA_CPATH points at that one's module).
function M.lua_interpreter()
  local is_jit = rawget(_G, "jit") ~= nil
  local spec = os.getenv("SPEC_LUA")
  if spec and spec ~= "" and (spec:find("luajit", 1, true) ~= nil) == is_jit then
    return spec
  end
  return is_jit and "luajit" or "lua5.4"
end

return M
