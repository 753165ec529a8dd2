--- The offline model server as a child process, for programs that cannot run a luv loop while they wait (the
--- SDK's blocking mode sits in poll(), where an in-process server would never get to answer).
---
--- Contract: `spawn_server(opts)` starts `claude-offline-model --exit-on-stdin-eof` (the same code as
--- bin/claude-offline-model, run by the current Lua interpreter with this module's own lua/ directory first on its
--- path), runs the loop only until the child's first stdout line `ANTHROPIC_BASE_URL=...` has been read, and returns
--- `{ url, port, pid, stop }`. The child's stdin stays a pipe held by us: when this process dies, however it dies,
--- the child sees end of file and exits. `stop()` closes that pipe, sends SIGTERM, runs the loop until the child
--- has been reaped (SIGKILL after 5 s), closes every handle, and returns the exit status; it is idempotent. Both
--- calls spin the loop with `uv.run("once")`, so they must not be called from inside a running loop callback;
--- inside a loop, pass `stop(callback)` to be told of the exit instead. The child's stderr is this process's
--- stderr (script errors show up there) unless `stderr = false`. Startup failure raises an error naming the cause.
---
--- Example: `local h = spawn_server({ script = "spec/support/rules.lua" }); ...; h.stop()`

local resolve_uv = require("claude_agent_sdk.testing.uv").resolve

local M = {}

-- The lua/ directory holding this module, so the child loads the very same code.
local function lua_root()
  local source = debug.getinfo(1, "S").source
  local file = source:sub(1, 1) == "@" and source:sub(2) or ""
  local root = file:match("^(.*)[/\\]claude_agent_sdk[/\\]testing[/\\]process%.lua$")
  return root ~= "" and root or nil
end

-- The interpreter running us, when it is a plain Lua (inside Neovim it is nvim itself, which is no use here).
local function default_interpreter(uv)
  if rawget(_G, "vim") == nil and uv.exepath then
    local exe = uv.exepath()
    if exe and (exe:match("lua[^/]*$") or exe:match("luajit[^/]*$")) then
      return exe
    end
  end
  return rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
end

local function launcher(argv)
  local root = lua_root()
  local path = package.path
  if root then
    path = root .. "/?.lua;" .. root .. "/?/init.lua;" .. path
  end
  local quoted = {}
  for i, a in ipairs(argv) do
    quoted[i] = string.format("%q", a)
  end
  return string.format("package.path = %q; package.cpath = %q; "
    .. "os.exit(require('claude_agent_sdk.testing.cli').main({ %s }))",
    path, package.cpath, table.concat(quoted, ", "))
end

---@class ClaudeTestingSpawnOptions
---@field script string|nil path to a Lua file returning the rules (default: the demo script)
---@field log string|nil file to append one JSON line per request to
---@field port integer|nil port (default 0: a free one)
---@field host string|nil address (default "127.0.0.1")
---@field lua string|nil the interpreter to run (default: the current one, e.g. /usr/bin/lua5.4)
---@field uv table|nil the luv module (default: require("luv"))
---@field timeout_ms integer|nil how long to wait for the port announcement (default 10000)
---@field stderr boolean|nil false to discard the child's stderr (default: it is this process's stderr)

---@class ClaudeTestingSpawnedServer
---@field url string "http://127.0.0.1:PORT"
---@field port integer
---@field pid integer
---@field stop fun(callback?: fun(status: integer)): integer|nil kill and reap the child; returns its exit status

---@param opts ClaudeTestingSpawnOptions|nil
---@return ClaudeTestingSpawnedServer
--- Example: `local h = spawn_server({ script = "rules.lua", log = "/tmp/requests.jsonl" })`
function M.spawn_server(opts)
  opts = opts or {}
  if opts.script ~= nil and type(opts.script) ~= "string" then
    error("spawn_server: script must be a path to a Lua file (a table cannot cross into the child)", 2)
  end
  local uv = resolve_uv(opts.uv)
  local argv = { "--exit-on-stdin-eof", "--port", tostring(opts.port or 0), "--host", opts.host or "127.0.0.1" }
  if opts.script then
    argv[#argv + 1] = "--script"
    argv[#argv + 1] = opts.script
  end
  if opts.log then
    argv[#argv + 1] = "--log"
    argv[#argv + 1] = opts.log
  end
  local stdin, stdout = uv.new_pipe(false), uv.new_pipe(false)
  local state = { exited = false }
  local proc, pid = uv.spawn(opts.lua or default_interpreter(uv), {
    args = { "-e", launcher(argv) }, stdio = { stdin, stdout, opts.stderr ~= false and 2 or nil },
  }, function(code, signal)
    state.exited, state.code, state.signal = true, code, signal
    if state.on_exit then
      state.on_exit(code)
    end
  end)
  if not proc then
    stdin:close()
    stdout:close()
    uv.run("nowait")
    error("spawn_server: cannot start the interpreter: " .. tostring(pid), 2)
  end

  local buf, line = "", nil
  stdout:read_start(function(err, data)
    if err or not data then
      stdout:read_stop()
      return
    end
    buf = buf .. data
    line = line or buf:match("^([^\n]*)\n")
  end)
  local timer = uv.new_timer()
  local timed_out = false
  timer:start(opts.timeout_ms or 10000, 0, function()
    timed_out = true
  end)
  while not line and not state.exited and not timed_out do
    uv.run("once")
  end
  timer:stop()
  stdout:read_stop()

  local handle = { pid = pid }
  function handle.stop(callback)
    if handle.status ~= nil or state.stopping then
      return handle.status
    end
    state.stopping = true
    local function finish()
      handle.status = state.signal ~= 0 and 128 + state.signal or state.code
      for _, h in ipairs({ stdin, stdout, timer, proc }) do
        if not h:is_closing() then
          h:close()
        end
      end
      return handle.status
    end
    if not stdin:is_closing() then
      stdin:close()
    end
    if not state.exited then
      proc:kill("sigterm")
      timer:start(5000, 0, function()
        if not state.exited then
          proc:kill("sigkill")
        end
      end)
    end
    if callback then
      if state.exited then
        callback(finish())
      else
        state.on_exit = function()
          timer:stop()
          callback(finish())
        end
      end
      return nil
    end
    while not state.exited do
      uv.run("once")
    end
    timer:stop()
    local status = finish()
    -- Let the close callbacks run now: a handle still closing when the Lua state is closed crashes luv.
    uv.run("nowait")
    return status
  end

  local url = line and line:match("^ANTHROPIC_BASE_URL=(%S+)$")
  if not url then
    handle.stop()
    local why = timed_out and "it did not announce its port in time"
      or (state.exited and ("it exited with status " .. tostring(handle.status) .. " (see stderr)"))
      or ("it printed " .. string.format("%q", line or ""))
    error("spawn_server: the offline model server did not start: " .. why, 2)
  end
  handle.url = url
  handle.port = tonumber(url:match(":(%d+)$"))
  return handle
end

return M
