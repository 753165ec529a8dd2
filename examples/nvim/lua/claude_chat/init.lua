-- claude_chat: a small Neovim plugin on the Claude Agent SDK for Lua, laid out as a real plugin (examples/nvim/).
--
-- What it shows: one Claude session per editor, used from commands that return at once; the answer streamed into
-- a scratch buffer delta by delta (include_partial_messages); tool permission prompts through vim.ui.select
-- (can_use_tool); the session's cost and context size in the statusline; interrupting an answer; and no `claude`
-- process left behind when the editor quits (plugin/claude_chat.lua disconnects on VimLeavePre).
--
-- Every SDK call that waits runs inside a task (claude.run / claude.spawn): it suspends the task, never the
-- editor. One long-lived task receives everything the CLI sends and writes it to the buffer; the commands only
-- send (a query, an interrupt). Tasks resume through vim.schedule, so they may call vim.api freely.
--
-- Install: the SDK's C module built for LuaJIT (`make module LUA=luajit` in the SDK's checkout, which the SDK then
-- finds by itself; `:checkhealth claude_agent_sdk` says what is missing), and in init.lua:
--   vim.opt.runtimepath:append({ "/path/to/sdk", "/path/to/sdk/examples/nvim" })
--   vim.o.statusline = "%f %m%=%{v:lua.require'claude_chat'.statusline()} %l,%c"
--   require("claude_chat").setup({ options = { model = "claude-sonnet-4-5" } })  -- optional: any SDK options
-- Then `:ClaudeAsk What is 2 + 2?`, and `:ClaudeInterrupt` to stop a long answer. The CLI reaches the model through
-- ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL (see examples/README.md for the offline model server). It runs only inside
-- Neovim (vim.api, vim.loop), not as a plain lua5.4 / luajit script.
-- spec/nvim_plugin_spec.lua runs it in headless Neovim against the real CLI and the offline model server.

local M = {}

local config = { options = {} }

-- The SDK loads on first use: the statusline calls this module at every redraw, long before any question.
local claude

local S = {
  client = nil, -- the ClaudeSDKClient, from the first :ClaudeAsk until the CLI goes away (or the editor quits)
  connecting = nil, -- the task that connects it; every ask waits for that one
  busy = false, -- a turn is running (from the query to its result)
  cost = nil, -- total_cost_usd of the last result: the CLI counts it for the whole session
  context = nil, -- get_context_usage() after the last result: totalTokens, maxTokens, ...
  buf = nil,
}

--- Configure the plugin; optional.
---   require("claude_chat").setup({ options = { model = "claude-sonnet-4-5", cwd = "/some/project" } })
---@param opts {options: table|nil}|nil  options: ClaudeSDKClient options (DESIGN.md §3.1), merged over the defaults
function M.setup(opts)
  config.options = (opts and opts.options) or {}
end

-- The chat buffer: a scratch buffer (no file, no swap), made again if the user wiped it.
local function chat_buffer()
  if S.buf and vim.api.nvim_buf_is_valid(S.buf) then
    return S.buf
  end
  S.buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(S.buf, "claude://chat")
  vim.api.nvim_buf_set_option(S.buf, "filetype", "markdown")
  return S.buf
end

-- Append text at the end of the buffer ("\n" starts a new line); windows showing it follow the end.
local function append(text)
  local buf = chat_buffer()
  local last = vim.api.nvim_buf_line_count(buf)
  local tail = vim.api.nvim_buf_get_lines(buf, last - 1, last, false)[1]
  vim.api.nvim_buf_set_lines(buf, last - 1, last, false, vim.split(tail .. text, "\n", { plain = true }))
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(buf), 0 })
  end
end

-- vim.ui.select inside a task: the task waits for the choice (minutes, if need be); the editor does not.
-- claude.suspend(arm) calls arm(wake), parks the task, and returns what wake was given.
local function select(items, opts)
  return claude.suspend(function(wake)
    vim.ui.select(items, opts, wake)
  end)
end

-- options.can_use_tool: asked before each tool use that needs permission; runs in a task of its own.
local function can_use_tool(tool_name, input, context)
  local what = input.command or input.file_path or vim.inspect(input)
  local choice = select({ "Allow", "Deny" }, { prompt = ("Claude wants to use %s: %s"):format(tool_name, what) })
  if choice == "Allow" and not context.cancelled then
    return claude.PermissionResultAllow({})
  end
  return claude.PermissionResultDeny({ message = "The user said no." })
end

-- "1.9k", "1M": token counts for a narrow statusline.
local function short(n)
  if type(n) ~= "number" then
    return "?"
  elseif n >= 1e6 then
    return ("%gM"):format(math.floor(n / 1e5) / 10)
  elseif n >= 1e3 then
    return ("%gk"):format(math.floor(n / 100) / 10)
  end
  return tostring(n)
end

--- The session's state for 'statusline': "" before the first question, then e.g. "Claude $0.0188 1.9k/1M tokens".
---   vim.o.statusline = "%f%=%{v:lua.require'claude_chat'.statusline()}"
---@return string
function M.statusline()
  if not S.client then
    return ""
  end
  local parts = { S.busy and "Claude (answering)" or "Claude" }
  if S.cost then
    parts[#parts + 1] = ("$%.4f"):format(S.cost)
  end
  if S.context and S.context.totalTokens then
    parts[#parts + 1] = ("%s/%s tokens"):format(short(S.context.totalTokens), short(S.context.maxTokens))
  end
  return table.concat(parts, " ")
end

-- The receiving task: everything the CLI sends, until it goes away. Text arrives as deltas; a complete assistant
-- message adds the tool calls; a result ends the turn and updates the statusline.
local function receive(client)
  local ok, err = pcall(function()
    for ev in claude.stream.deltas(client:receive_messages()) do
      if ev.type == "text" and not ev.parent_tool_use_id then
        append(ev.text)
      elseif ev.type == "message" and ev.message.type == "assistant" then
        for _, block in ipairs(ev.message.content) do
          if block.type == "tool_use" then
            local input = block.input.command
              or block.input.file_path
              or vim.inspect(block.input, { newline = " ", indent = "" })
            append(("\n[%s: %s]\n"):format(block.name, input))
          end
        end
      elseif ev.type == "message" and ev.message.type == "result" then
        local msg = ev.message
        S.busy, S.cost = false, msg.total_cost_usd
        append(("\n[%s, $%.4f]\n\n"):format(msg.subtype, msg.total_cost_usd or 0))
        local got, usage = pcall(client.get_context_usage, client)
        S.context = got and usage or S.context
        vim.cmd("redrawstatus!")
      end
    end
  end)
  if not ok and S.client == client then
    append("\n[error: " .. tostring(err) .. "]\n\n")
  end
  -- The CLI is gone (it died, or stop() disconnected it): the next question starts a new session.
  if S.client == client then
    S.client, S.connecting, S.busy = nil, nil, false
    pcall(client.disconnect, client) -- release what is left of it (pipes, the exit status)
    vim.cmd("redrawstatus!")
  end
end

-- The connected client, inside a task. The first caller starts the connect; all wait for the same one.
local function session()
  if not S.connecting then
    local defaults = { cwd = vim.fn.getcwd(), include_partial_messages = true, can_use_tool = can_use_tool }
    local client = claude.ClaudeSDKClient.new(vim.tbl_extend("force", defaults, config.options))
    S.client = client -- set before connect returns, so VimLeavePre can stop a CLI that is still starting
    S.connecting = claude.spawn(function()
      local ok, err = pcall(client.connect, client)
      if not ok then
        S.client, S.connecting = nil, nil
        error(err, 0)
      end
      claude.spawn(receive, client)
      return client
    end)
  end
  return S.connecting:wait()
end

--- Ask Claude (`:ClaudeAsk {prompt}`); returns at once, the answer streams into the claude://chat buffer.
---@param prompt string
function M.ask(prompt)
  if S.busy then
    vim.notify("Claude is still answering: wait, or :ClaudeInterrupt", vim.log.levels.WARN)
    return
  end
  claude = claude or require("claude_agent_sdk")
  local buf = chat_buffer()
  if #vim.fn.win_findbuf(buf) == 0 then
    vim.cmd("botright split")
    vim.api.nvim_win_set_buf(0, buf)
  end
  append(("You: %s\n\nClaude: "):format(prompt))
  S.busy = true
  claude.run(function()
    local ok, err = pcall(function()
      session():query(prompt)
    end)
    if not ok then
      S.busy = false
      append("\n[error: " .. tostring(err) .. "]\n\n")
    end
    vim.cmd("redrawstatus!")
  end)
end

--- Stop the current answer (`:ClaudeInterrupt`); the turn ends with an error_during_execution result.
function M.interrupt()
  if not (S.client and S.busy) then
    vim.notify("Claude is not answering anything", vim.log.levels.INFO)
    return
  end
  claude.run(function()
    -- session(): an interrupt typed while the CLI is still starting waits for it, and goes after the query.
    local ok, err = pcall(function()
      session():interrupt()
    end)
    if not ok then
      vim.notify("ClaudeInterrupt: " .. tostring(err), vim.log.levels.ERROR)
    end
  end)
end

--- Stop the CLI (VimLeavePre). Outside a task, disconnect() waits for the CLI to exit: an idle CLI gets up to 5 s
--- after its stdin closes to save its session, and one still answering gets SIGTERM at once, so quitting mid-answer
--- is prompt too.
function M.stop()
  local client = S.client
  S.client, S.connecting, S.busy = nil, nil, false
  if client then
    client:disconnect()
  end
end

return M
