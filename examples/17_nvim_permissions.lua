-- 17_nvim_permissions.lua: answering Claude's permission prompts inside Neovim with vim.ui.select.
--
-- options.can_use_tool is asked before each tool use that needs approval (here a Bash `touch`; read-only
-- commands such as `ls` or `echo` are allowed without asking). Inside Neovim every callback of the SDK runs in a
-- task of its own on the editor's event loop, so it may wait as long as the person needs: the editor stays
-- responsive meanwhile. vim.ui.select answers through a callback; claude.suspend turns that into a plain return
-- value inside the task: suspend(arm) calls arm(wake), parks the task, and returns what wake(...) was given.
-- vim.ui.select is whatever picker the user configured (the built-in inputlist, telescope, dressing.nvim, ...).
-- The answer is claude.PermissionResultAllow{} (optionally with updated_input) or claude.PermissionResultDeny{}.
--
-- With CLAUDE_EXAMPLE_HEADLESS=1 (used by the tests) vim.ui.select is replaced by an automatic chooser that picks
-- "Allow" after a short delay, and Neovim quits when the conversation is over.
--
-- Run it inside Neovim, with the module built for LuaJIT on Lua's path (the CLI reaches the model through
-- ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see examples/README.md for the offline model server):
--   eval "$(make -s env LUA=luajit)"; nvim -c "luafile examples/17_nvim_permissions.lua"
--   eval "$(make -s env LUA=luajit)"; CLAUDE_EXAMPLE_HEADLESS=1 nvim --headless -u NONE -i NONE \
--     -c "luafile examples/17_nvim_permissions.lua"
-- It needs Neovim's event loop: `lua5.4 examples/17_nvim_permissions.lua` or `luajit examples/17_nvim_permissions.lua`
-- only print how to start it.

local vim = rawget(_G, "vim")
if vim == nil then
  print("This example runs inside Neovim:")
  print('  nvim -c "luafile examples/17_nvim_permissions.lua"')
  return
end

local claude = require("claude_agent_sdk")

local headless = os.getenv("CLAUDE_EXAMPLE_HEADLESS") == "1"

-- Print a line: to the message area in the editor, to stdout when headless.
local function say(text)
  if headless then
    io.stdout:write(text, "\n")
    io.stdout:flush()
  else
    print(text)
  end
end

if headless then
  -- Nobody to ask: show the prompt, then pick "Allow" a moment later, as a person would.
  vim.ui.select = function(items, opts, on_choice)
    say(opts.prompt)
    for i, item in ipairs(items) do
      say(("  %d. %s"):format(i, item))
    end
    vim.defer_fn(function()
      say("(headless: choosing Allow)")
      on_choice("Allow", 1)
    end, 300)
  end
end

-- vim.ui.select inside a task: wait for the person's choice without blocking the editor.
local function select(items, opts)
  return claude.suspend(function(wake)
    vim.ui.select(items, opts, function(choice)
      wake(choice)
    end)
  end)
end

local function can_use_tool(tool_name, input, context)
  local what = input.command or input.file_path or vim.inspect(input)
  local choice = select({ "Allow", "Deny", "Deny and stop" }, {
    prompt = ("Claude wants to use %s: %s"):format(tool_name, what),
  })
  if context.cancelled then
    -- The turn was interrupted while the prompt was open; this answer is not used.
    return claude.PermissionResultDeny({ message = "cancelled" })
  end
  say("You chose: " .. tostring(choice or "nothing"))
  if choice == "Allow" then
    return claude.PermissionResultAllow({})
  end
  return claude.PermissionResultDeny({ message = "The user said no.", interrupt = choice == "Deny and stop" })
end

-- A scratch directory as the session's working directory, so the file lands there.
local dir = vim.fn.tempname()
vim.fn.mkdir(dir, "p")

claude.run(function()
  local ok, err = pcall(claude.with_client, { cwd = dir, can_use_tool = can_use_tool }, function(client)
    local prompt = "Create an empty file named notes.txt"
    say("User: " .. prompt)
    client:query(prompt)
    for msg in client:receive_response() do
      if claude.isinstance(msg, claude.AssistantMessage) then
        for _, block in ipairs(msg.content) do
          if claude.isinstance(block, claude.TextBlock) then
            say("Claude: " .. block.text)
          end
        end
      elseif claude.isinstance(msg, claude.ResultMessage) then
        say(("(turn ended: %s)"):format(msg.subtype))
      end
    end
  end)
  if not ok then
    say("Error: " .. tostring(err))
  end
  local uv = vim.uv or vim.loop
  say("notes.txt exists: " .. (uv.fs_stat(dir .. "/notes.txt") and "yes" or "no"))
  vim.fn.delete(dir, "rf")
  if headless then
    vim.schedule(function()
      vim.cmd(ok and "qall!" or "cquit")
    end)
  end
end)
