--- Helpers for the end-to-end specs: find the real CLI, run the offline model
--- server as a child process (the blocking client would starve an in-process
--- one), build client options pointing the CLI at it with a throwaway HOME,
--- and check that processes are really gone.
local core = require("claude_agent_sdk.core")
local testing = require("claude_agent_sdk.testing")
local json = require("claude_agent_sdk.json")

local M = {}

M.ROOT = os.getenv("PWD") or "."

--- The real CLI, or nil and why not.
function M.cli_path()
  local candidates = { os.getenv("CLAUDE_CLI_PATH"), M.ROOT .. "/.deps/node_modules/.bin/claude" }
  for _, p in ipairs(candidates) do
    if p and p ~= "" and core.executable(p) then return p end
  end
  return nil, "the real claude CLI was not found (CLAUDE_CLI_PATH, .deps/): run `make setup`"
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
  for _, h in ipairs(homes) do os.execute("rm -rf '" .. h .. "'") end
  homes = {}
end

--- The requests the server has seen (decoded), oldest first.
function M.requests(srv)
  local list = {}
  local f = io.open(srv.log, "r")
  if not f then return list end
  for line in f:lines() do
    if line:find("%S") then list[#list + 1] = json.decode(line) end
  end
  f:close()
  return list
end

--- Options for a client that talks to srv through the real CLI.
function M.options(srv, extra)
  local env, home = testing.cli_env({ url = srv.url })
  homes[#homes + 1] = home
  local o = { cli_path = assert(M.cli_path()), env = env }
  for k, v in pairs(extra or {}) do
    if k == "env" then
      for ek, ev in pairs(v) do env[ek] = ev end
    else
      o[k] = v
    end
  end
  return o
end

--- True while a process (or, with group = true, any process of its group) exists.
function M.alive(pid, group)
  local target = group and ("-- -" .. pid) or tostring(pid)
  local r = os.execute("kill -0 " .. target .. " 2>/dev/null")
  return r == true or r == 0
end

--- The text of all TextBlocks of the assistant messages in a list.
function M.texts(msgs)
  local out = {}
  for _, m in ipairs(msgs) do
    if m.type == "assistant" then
      for _, b in ipairs(m.content) do
        if b.type == "text" then out[#out + 1] = b.text end
      end
    end
  end
  return table.concat(out, "\n")
end

return M
