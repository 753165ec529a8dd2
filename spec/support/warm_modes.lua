-- Run by spec/warm_spec.lua in another process, in one of the modes a host
-- drives the SDK in (WARM_MODE):
--   nvim  inside headless Neovim (`nvim --headless -u NONE -i NONE -c "luafile ..."`): vim.uv's loop, waited on
--         with vim.wait while an editor timer ticks
--   host  plain Lua with claude.use_loop("host"): the host's frame loop calls claude.poll() each frame
-- In a task: claude.startup() and a conversation, then a pool of one: pool:client() served by the spare, a
-- conversation, the replacement started, pool:close().  WARM_OPTS names a file holding the client options as a
-- Lua literal, WARM_CWD the folder to claim, WARM_RESULT the file the observations go to (JSON); the spec asserts.
local claude = require("claude_agent_sdk")
local core = require("claude_agent_sdk.core")
local json = require("claude_agent_sdk.json")

local mode = assert(os.getenv("WARM_MODE"), "WARM_MODE is not set")
if mode == "host" then
  claude.use_loop("host")
end
local opts = assert(loadfile(assert(os.getenv("WARM_OPTS"))))()
local R = { mode = mode, ticks = 0 }

local function result_of(client, prompt)
  client:query(prompt)
  local text
  for m in client:receive_response() do
    if m.type == "result" then
      text = m.result
    end
  end
  return text
end

local done = false
claude.spawn(function()
  local ok, err = pcall(function()
    local c = claude.startup(opts)
    R.startup = result_of(c, "started ahead")
    c:disconnect()
    local pool = claude.pool({ size = 1, options = opts })
    local client, info = pool:client({ cwd = os.getenv("WARM_CWD") })
    R.warm = info.warm
    R.pooled = result_of(client, "from the pool")
    client:disconnect()
    R.ready = pool:ready()
    R.spare_pids = pool:pids()
    pool:close()
  end)
  R.error = not ok and tostring(err) or nil
  done = true
end)

if mode == "nvim" then
  local ticker = vim.loop.new_timer()
  ticker:start(10, 10, function()
    R.ticks = R.ticks + 1
  end)
  R.finished = vim.wait(90000, function()
    return done
  end, 10)
  ticker:close()
else
  local deadline = core.now() + 90000
  while not done and core.now() < deadline do
    claude.poll() -- one frame of the host
    core.sleep(5)
    R.ticks = R.ticks + 1
  end
  R.finished = done
end

local f = assert(io.open(assert(os.getenv("WARM_RESULT")), "w"))
f:write(json.encode(R))
f:close()
if mode == "nvim" then
  vim.cmd(R.finished and not R.error and "qa!" or "cquit!")
end
