-- Run inside headless Neovim by spec/nvim_spec.lua:
--   nvim --headless -u NONE -i NONE -c "luafile spec/support/nvim_conversation.lua"
-- with LUA_PATH/LUA_CPATH for the LuaJIT build, CLAUDE_CLI_PATH (the real CLI) and NVIM_SPEC_RESULT (a file).
--
-- The SDK on Neovim's own loop (vim.loop), with the offline model server in-process on the same loop and a
-- vim.loop timer ticking every TICK_MS throughout:
--   outside  client:connect() called outside any task must raise at once (it would block the editor)
--   conv     claude.run: connect, one question, the answer written to a buffer with vim.api, disconnect
--   intr     a second claude.run at the same time: a slow stream, a consumer task, interrupt after 1.5 s, a new
--            query afterwards, disconnect
--   final    a third task waits for both, lists the child processes left, writes everything to NVIM_SPEC_RESULT
--            as JSON and quits Neovim.
-- The script only records what it observes; the spec makes the assertions. A watchdog quits (with status 1)
-- after WATCHDOG_MS, writing what it has, so a stuck task shows up as a failed test with details.
local uv = vim.loop
local result_path = assert(os.getenv("NVIM_SPEC_RESULT"), "NVIM_SPEC_RESULT is not set")
local TICK_MS, WATCHDOG_MS = 10, 45000

local R = { tick_ms = TICK_MS, errors = {} }

local function now()
  return uv.hrtime() / 1e6
end
local t_start = now()

local ticks = 0
local ticker = uv.new_timer()
ticker:start(TICK_MS, TICK_MS, function()
  ticks = ticks + 1
end)

local function write_result()
  R.ticks, R.elapsed_ms = ticks, now() - t_start
  local f = assert(io.open(result_path, "w"))
  f:write(vim.fn.json_encode(R))
  f:close()
end

local quitting = false
local function quit(status)
  if quitting then
    return
  end
  quitting = true
  if not ticker:is_closing() then
    ticker:close()
  end
  local ok, err = pcall(write_result)
  if not ok then
    io.stderr:write("nvim_conversation: cannot write the result: ", tostring(err), "\n")
  end
  vim.cmd(status == 0 and "qa!" or "cquit!")
end

vim.defer_fn(function()
  R.watchdog = true
  quit(1)
end, WATCHDOG_MS)

-- True while pid (a negative pid: its process group) exists.
local function alive(pid)
  return uv.kill(pid, 0) == 0
end

-- The processes whose parent is this Neovim, as "pid state command" strings.
local function children()
  local me, out = vim.fn.getpid(), {}
  for _, dir in ipairs(vim.fn.glob("/proc/[0-9]*", false, true)) do
    local f = io.open(dir .. "/stat")
    local stat = f and f:read("*a")
    if f then
      f:close()
    end
    -- pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ")"
    local pid, comm, state, ppid = (stat or ""):match("^(%d+) %((.*)%) (%S) (%d+)")
    if pid and tonumber(ppid) == me then
      out[#out + 1] = ("%s %s %s"):format(pid, state, comm)
    end
  end
  return out
end

local main_ok, main_err = pcall(function()
  local claude = require("claude_agent_sdk")
  local loop = require("claude_agent_sdk.loop")
  local testing = require("claude_agent_sdk.testing")

  R.backend = loop.current().name

  local server = testing.ModelServer.new({ script = testing.demo_script() })
  server:start()
  local env, home = testing.cli_env({ url = server.url })
  local function options()
    return { cli_path = os.getenv("CLAUDE_CLI_PATH"), env = env }
  end

  -- outside: a call that would wait, made outside a task, raises instead of freezing the editor.
  do
    local c = claude.ClaudeSDKClient.new(options())
    local t = now()
    local ok, err = pcall(c.connect, c)
    R.outside = { raised = not ok, err = tostring(err), ms = now() - t, pid_after = c:pid(), children = children() }
  end

  -- conv: a whole conversation; its answer goes into a buffer from inside the task.
  local buf = vim.api.nvim_create_buf(false, true)
  local conv = { in_fast_event = false }
  R.conv = conv
  local conv_ticks0, conv_t0 = ticks, now()
  local conv_task = claude.run(function()
    local client = claude.ClaudeSDKClient.new(options())
    client:connect()
    conv.pid = client:pid()
    client:query("What is 2 + 2?")
    for msg in client:receive_response() do
      conv.in_fast_event = conv.in_fast_event or vim.in_fast_event()
      if msg.type == "assistant" then
        for _, b in ipairs(msg.content) do
          if b.type == "text" then
            conv.answer = (conv.answer or "") .. b.text
            vim.api.nvim_buf_set_lines(buf, -1, -1, false, { b.text }) -- fails in a fast (libuv) callback
          end
        end
        conv.answer_ms = now() - conv_t0
      elseif msg.type == "result" then
        conv.result = msg.subtype
      end
    end
    client:disconnect()
    conv.disconnected_ms = now() - conv_t0
    conv.ticks = ticks - conv_ticks0
    conv.alive_after = alive(conv.pid)
    conv.group_alive_after = alive(-conv.pid)
    conv.buffer = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  end)
  conv.run_returned_ms = now() - conv_t0
  conv.status_when_run_returned = conv_task.status
  conv.answered_when_run_returned = conv.answer ~= nil

  -- intr: interrupt a slow stream while another task consumes it; the session goes on afterwards.
  local intr = { texts = {} }
  R.intr = intr
  local intr_task = claude.run(function()
    local client = claude.ClaudeSDKClient.new(options())
    client:connect()
    intr.pid = client:pid()
    client:query("Count from 1 to 100 slowly, with a brief pause between each number")
    local consumer = claude.spawn(function()
      for msg in client:receive_response() do
        if msg.type == "assistant" then
          for _, b in ipairs(msg.content) do
            if b.type == "text" then
              intr.texts[#intr.texts + 1] = b.text
            end
          end
        elseif msg.type == "result" then
          intr.result = msg.subtype
          intr.terminal_reason = msg.terminal_reason
        end
      end
    end)
    claude.sleep(1500)
    local t = now()
    client:interrupt()
    consumer:wait()
    intr.interrupt_to_end_ms = now() - t
    client:query("Never mind, just tell me a quick joke")
    for msg in client:receive_response() do
      if msg.type == "assistant" then
        for _, b in ipairs(msg.content) do
          if b.type == "text" then
            intr.joke = (intr.joke or "") .. b.text
          end
        end
      elseif msg.type == "result" then
        intr.joke_result = msg.subtype
      end
    end
    client:disconnect()
    intr.alive_after = alive(intr.pid)
    intr.group_alive_after = alive(-intr.pid)
  end)

  -- final: collect both tasks' outcomes (an error in either is recorded, never lost), clean up, quit.
  claude.run(function()
    for name, task in pairs({ conv = conv_task, intr = intr_task }) do
      local ok, err = pcall(task.wait, task)
      R[name].ok = ok
      if not ok then
        R.errors[#R.errors + 1] = name .. ": " .. tostring(err)
      end
    end
    R.children = children()
    server:stop()
    os.execute("rm -rf '" .. home .. "'")
    quit(0)
  end)
end)

if not main_ok then
  R.errors[#R.errors + 1] = "main chunk: " .. tostring(main_err)
  quit(1)
end
