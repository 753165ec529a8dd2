--- The offline model server as a child process, for programs that cannot run a luv loop while they wait (the
--- SDK's blocking mode sits in poll(), where an in-process server would never get to answer).
---
--- Contract: `spawn_server(opts)` starts the `claude-offline-model` code (testing/cli.lua, run by the current Lua
--- interpreter with this module's own lua/ directory first on its path) through the SDK's own process layer (the C
--- core's `spawn`: no shell, its own process group, stdin/stdout/stderr pipes, PR_SET_PDEATHSIG on Linux), waits
--- until the child announces its address as one JSON line on stdout, and returns `{ url, port, pid, stop }`. The
--- child's stdin stays a pipe held by us: when this process dies, however it dies, the child sees end of file and
--- exits. `stop()` runs the core's close ladder (close stdin, which ends the child; SIGTERM after 1 s, SIGKILL 4 s
--- later), reaps the child and returns its exit status (128 + signal when a signal ended it); it is idempotent and
--- runs no event loop, so it may be called anywhere, inside a luv callback too (`stop(callback)` also calls
--- callback with the status). The core pipes the child's stderr (it never shares a terminal): its lines are copied
--- to this process's stderr while spawn_server and stop() run (`stderr = false`: the child writes none), and the
--- last of them are in the error raised when the child fails to start (a script that does not load, say). A child
--- that writes more than a pipe holds (64 KiB of script errors) between those calls waits for the next of them.
---
--- Example: `local h = spawn_server({ script = "spec/support/rules.lua" }); ...; h.stop()`

local core = require("claude_agent_sdk.core")
local loop = require("claude_agent_sdk.loop")

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
  if rawget(_G, "vim") == nil and not uv then
    -- (a blocking host runs no loop; luv, when installed, still knows the executable: a sanitized or
    -- custom-built host must run the server too, since the server loads the same C module)
    local ok, luv = pcall(require, "luv")
    uv = ok and luv or nil
  end
  if rawget(_G, "vim") == nil and uv and uv.exepath then
    local exe = uv.exepath()
    if exe and (exe:match("lua[^/]*$") or exe:match("luajit[^/]*$")) then
      return exe
    end
  end
  return rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
end

local function launcher(argv, quiet)
  local root = lua_root()
  local path = package.path
  if root then
    path = root .. "/?.lua;" .. root .. "/?/init.lua;" .. path
  end
  local quoted = {}
  for i, a in ipairs(argv) do
    quoted[i] = string.format("%q", a)
  end
  return string.format(
    "package.path = %q; package.cpath = %q; "
      .. "os.exit(require('claude_agent_sdk.testing.cli').main({ %s }, { announce = 'json', quiet = %s }))",
    path,
    package.cpath,
    table.concat(quoted, ", "),
    tostring(quiet)
  )
end

---@class ClaudeTestingSpawnOptions
---@field script string|nil path to a Lua file returning the rules (default: the demo script)
---@field log string|nil file to append one JSON line per request to
---@field port integer|nil port (default 0: a free one)
---@field host string|nil address (default "127.0.0.1")
---@field lua string|nil the interpreter to run (default: the current one, e.g. /usr/bin/lua5.4)
---@field uv table|nil the luv module, only to find the current interpreter (default: the SDK's loop's)
---@field timeout_ms integer|nil how long to wait for the port announcement (default 10000)
---@field stderr boolean|nil false: the child reports no script errors on stderr (default: copied to ours)

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
  local argv = { "--exit-on-stdin-eof", "--port", tostring(opts.port or 0), "--host", opts.host or "127.0.0.1" }
  if opts.script then
    argv[#argv + 1] = "--script"
    argv[#argv + 1] = opts.script
  end
  if opts.log then
    argv[#argv + 1] = "--log"
    argv[#argv + 1] = opts.log
  end
  local interpreter = opts.lua or default_interpreter(opts.uv or loop.current().uv)
  local child, msg = core.spawn({
    argv = { interpreter, "-e", launcher(argv, opts.stderr == false) },
    stderr_lines = opts.stderr ~= false,
  })
  if not child then
    error("spawn_server: cannot start the interpreter " .. interpreter .. ": " .. tostring(msg), 2)
  end

  local function copy_stderr()
    for line in
      function()
        return child:next_stderr()
      end
    do
      io.stderr:write(line, "\n")
    end
  end

  local handle = { pid = child:pid() }
  function handle.stop(callback)
    if handle.status == nil then
      child:close(1000, 4000)
      copy_stderr()
      local code, signo = child:exit_code()
      handle.status = signo ~= 0 and 128 + signo or code
      child:free()
    end
    if callback then
      callback(handle.status)
    end
    return handle.status
  end

  -- The announcement, `{"type":"offline_model_server","url":...}`: the one line the child writes to stdout.
  local deadline = core.now() + (opts.timeout_ms or 10000)
  local url
  while not url and not child:finished() and core.now() < deadline do
    child:pump(math.max(0, math.min(100, deadline - core.now())))
    copy_stderr()
    local kind, m = child:next_message()
    if kind == "message" and type(m) == "table" and m.type == "offline_model_server" then
      url = m.url
    end
  end
  if not url then
    local timed_out = not child:finished()
    local tail = child:stderr_tail():gsub("%s+$", "")
    handle.stop()
    local why = timed_out and "it did not announce its port in time"
      or ("it exited with status " .. tostring(handle.status))
    error(
      "spawn_server: the offline model server did not start: "
        .. why
        .. (tail ~= "" and (": " .. tail:sub(-2000)) or ""),
      2
    )
  end
  handle.url = url
  handle.port = tonumber(url:match(":(%d+)$"))
  return handle
end

return M
