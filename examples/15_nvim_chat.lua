-- 15_nvim_chat.lua: ask Claude one question from inside Neovim and stream the answer into a scratch buffer.
--
-- Inside Neovim nothing may block the editor. claude.run(fn) starts fn as a task on Neovim's own event loop
-- (vim.loop) and returns at once; each call that waits (connect, the receive iterator, disconnect) suspends the
-- task, and the editor keeps running until the CLI has something for it. The task is resumed through
-- vim.schedule, so it may call vim.api freely. With include_partial_messages = true the CLI also sends the model's
-- stream events, and each text delta is appended to the buffer as it arrives. (Waiting outside a task, e.g.
-- client:connect() typed at the `:lua` prompt, raises an error rather than freezing the editor.)
--
-- It is a Neovim script: not for `lua5.4 examples/15_nvim_chat.lua` or `luajit examples/15_nvim_chat.lua` (it
-- needs vim.api). Neovim's LuaJIT loads the LuaJIT build of the module, so take the paths from
-- `make -s env LUA=luajit`. Interactively, start Neovim from such a shell and run `:luafile examples/15_nvim_chat.lua`
-- (the answer opens in a split). Headless, with CLAUDE_EXAMPLE_HEADLESS=1 it prints the buffer and quits when done
-- (Neovim 0.7 has no `nvim -l`). The CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the
-- environment; see examples/README.md for the offline model server.
--   eval "$(make -s env LUA=luajit)"
--   nvim -u NONE -c "luafile examples/15_nvim_chat.lua"
--   CLAUDE_EXAMPLE_HEADLESS=1 nvim --headless -u NONE -c "luafile examples/15_nvim_chat.lua"

local vim = rawget(_G, "vim")
if type(vim) ~= "table" or not vim.api then
  io.stderr:write('15_nvim_chat.lua runs inside Neovim: nvim -u NONE -c "luafile examples/15_nvim_chat.lua"\n')
  os.exit(1)
end

local claude = require("claude_agent_sdk")

local question = "What is Python?"
local headless = os.getenv("CLAUDE_EXAMPLE_HEADLESS") == "1"

-- A scratch buffer (no file, wiped when hidden), shown in a split below.
local buf = vim.api.nvim_create_buf(false, true)
vim.api.nvim_buf_set_option(buf, "bufhidden", "wipe")
vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "You: " .. question, "", "Claude: " })
vim.cmd("botright split")
local win = vim.api.nvim_get_current_win()
vim.api.nvim_win_set_buf(win, buf)

-- Append text at the end of the buffer; newlines in it start new lines.
local function append(text)
  if not vim.api.nvim_buf_is_valid(buf) then
    return
  end -- the user closed it meanwhile
  local last = vim.api.nvim_buf_line_count(buf)
  local tail = vim.api.nvim_buf_get_lines(buf, last - 1, last, false)[1]
  local lines = vim.split(tail .. text, "\n", { plain = true })
  vim.api.nvim_buf_set_lines(buf, last - 1, last, false, lines)
  if vim.api.nvim_win_is_valid(win) and vim.api.nvim_win_get_buf(win) == buf then
    vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(buf), 0 }) -- follow the answer
  end
end

local function finish(ok)
  if not headless then
    return
  end
  for _, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    io.stdout:write(line, "\n")
  end
  vim.cmd(ok and "qa!" or "cquit!") -- cquit: a non-zero exit status
end

claude.run(function()
  local ok, err = pcall(claude.with_client, { include_partial_messages = true }, function(client)
    client:query(question)
    local streamed = false
    for msg in client:receive_response() do
      if msg.type == "stream_event" then
        local ev = msg.event
        if ev.type == "content_block_delta" and ev.delta.type == "text_delta" then
          append(ev.delta.text)
          streamed = true
        end
      elseif claude.isinstance(msg, claude.AssistantMessage) and not streamed then
        -- no stream events came (another CLI setting): show the whole message instead
        for _, block in ipairs(msg.content) do
          if claude.isinstance(block, claude.TextBlock) then
            append(block.text)
          end
        end
      elseif claude.isinstance(msg, claude.ResultMessage) then
        append(("\n\n[%s, $%.4f]"):format(msg.subtype, msg.total_cost_usd or 0))
      end
    end
  end)
  if not ok then
    append("\n\n[error: " .. tostring(err) .. "]")
  end
  finish(ok)
end)

-- claude.run has returned already: the editor is free while the answer streams in.
vim.api.nvim_echo({ { "Asking Claude: " .. question } }, false, {})
