-- Run inside headless Neovim by spec/nvim_install_spec.lua, as a user's Neovim meets an installed SDK:
--   nvim --headless -u <init> -i NONE -c "luafile <this file>"
-- with no LUA_PATH / LUA_CPATH in the environment: the SDK comes from 'runtimepath' (a plugin manager's clone, a
-- pack/*/start directory) or from package.path set by <init> (a LuaRocks tree, as luarocks.nvim sets it). The
-- offline model server runs as a child of the spec: ANTHROPIC_BASE_URL, HOME and the rest come from the environment
-- (testing.cli_env), and CLAUDE_CLI_PATH names the real CLI. NVIM_SPEC_RESULT is the file to write.
--
-- In order, each step recorded (the spec makes the assertions):
--   health_before  when NVIM_INSTALL_SETUP is set: `:checkhealth claude_agent_sdk` before that Lua code runs
--                  (the documented line for a LuaRocks install), then the code
--   require        require("claude_agent_sdk"): ok or the error, and where its files came from
--   health         `:checkhealth claude_agent_sdk`: the report's lines
--   help           `:help claude_agent_sdk`: the file it opened and the line under the cursor
--   conversation   when the require worked: a claude.run task asks "What is 2 + 2?" through the real CLI
-- then writes NVIM_SPEC_RESULT as JSON and quits. A watchdog quits with status 1 after WATCHDOG_MS.
local result_path = assert(os.getenv("NVIM_SPEC_RESULT"), "NVIM_SPEC_RESULT is not set")
local WATCHDOG_MS = 45000
local R = { errors = {}, env = { LUA_PATH = os.getenv("LUA_PATH"), LUA_CPATH = os.getenv("LUA_CPATH") } }

local quitting = false
local function quit(status)
  if quitting then
    return
  end
  quitting = true
  local f = assert(io.open(result_path, "w"))
  f:write(vim.fn.json_encode(R))
  f:close()
  vim.cmd(status == 0 and "qa!" or "cquit!")
end

vim.defer_fn(function()
  R.watchdog = true
  quit(1)
end, WATCHDOG_MS)

-- The report of `:checkhealth claude_agent_sdk`, as lines; its tab closed again.
local function checkhealth()
  vim.cmd("checkhealth claude_agent_sdk")
  local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  vim.cmd("bwipeout!")
  return lines
end

local function text(err)
  return type(err) == "table" and (err.message or vim.inspect(err)) or tostring(err)
end

local ok, err = pcall(function()
  local setup = os.getenv("NVIM_INSTALL_SETUP")
  if setup and setup ~= "" then
    R.health_before = checkhealth()
    R.setup_result = { assert(loadstring(setup, "NVIM_INSTALL_SETUP"))() }
  end

  local loaded, claude = pcall(require, "claude_agent_sdk")
  R.require = { ok = loaded, error = not loaded and text(claude) or nil }
  R.package_path, R.package_cpath = package.path, package.cpath
  R.runtimepath = vim.api.nvim_list_runtime_paths()
  if loaded then
    local install = require("claude_agent_sdk.install")
    R.require.install_file = debug.getinfo(install.load_core, "S").source:sub(2)
    R.require.core_path = install.core_path
  else
    R.require.error_code = type(claude) == "table" and claude.code or nil
    R.require.build_command = type(claude) == "table" and claude.build_command or nil
  end

  R.health = checkhealth()

  local helped, help_err = pcall(vim.cmd, "help claude_agent_sdk")
  R.help = { ok = helped, error = not helped and tostring(help_err) or nil }
  if helped then
    R.help.file = vim.fn.expand("%:p")
    R.help.filetype = vim.bo.filetype
    R.help.line = vim.api.nvim_get_current_line()
    vim.cmd("helpclose")
  end

  if not loaded then
    return quit(0)
  end
  local conv = {}
  R.conversation = conv
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, "p")
  claude.run(function()
    local task_ok, task_err = pcall(function()
      local client = claude.ClaudeSDKClient.new({ cwd = dir })
      client:connect()
      client:query("What is 2 + 2?")
      for msg in client:receive_response() do
        if msg.type == "assistant" then
          for _, b in ipairs(msg.content) do
            if b.type == "text" then
              conv.answer = (conv.answer or "") .. b.text
            end
          end
        elseif msg.type == "result" then
          conv.result = msg.subtype
        end
      end
      client:disconnect()
    end)
    if not task_ok then
      R.errors[#R.errors + 1] = "conversation: " .. text(task_err)
    end
    vim.fn.delete(dir, "rf")
    quit(0)
  end)
end)
if not ok then
  R.errors[#R.errors + 1] = "main chunk: " .. text(err)
  quit(1)
end
