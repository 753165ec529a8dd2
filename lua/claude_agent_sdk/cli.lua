--- Finding the `claude` executable (PROTOCOL.md §1.1).
--
-- Order: options.cli_path (no search when set), $CLAUDE_CLI_PATH, `claude` on
-- $PATH, then the usual install places, including this project's own setup
-- folder (`make setup` installs the CLI into .deps/).  Not found is a
-- CLINotFoundError that says how to install it.
--
--   local path = require("claude_agent_sdk.cli").find(opts.cli_path)

local core = require("claude_agent_sdk.core")
local errors = require("claude_agent_sdk.errors")

local M = {}

M.INSTALL_HINT = "Claude Code not found. Install it with:\n"
  .. "  npm install -g @anthropic-ai/claude-code\n"
  .. "or, in this project, `make setup`; or set cli_path (or $CLAUDE_CLI_PATH) to the `claude` executable."

-- The project root, from this file's own path (lua/claude_agent_sdk/cli.lua).
local function project_root()
  local src = debug.getinfo(1, "S").source
  if src:sub(1, 1) ~= "@" then return nil end
  local dir = src:sub(2):match("^(.*)/lua/claude_agent_sdk/[^/]+$")
  return dir
end

--- The places searched after $PATH, in order.
---@return string[]
function M.fallbacks()
  local home = os.getenv("HOME") or ""
  local list = {}
  local deps = os.getenv("CLAUDE_AGENT_SDK_DEPS")
  if deps and deps ~= "" then list[#list + 1] = deps .. "/node_modules/.bin/claude" end
  local root = project_root()
  if root then list[#list + 1] = root .. "/.deps/node_modules/.bin/claude" end
  local rest = {
    home .. "/.npm-global/bin/claude",
    "/usr/local/bin/claude",
    home .. "/.local/bin/claude",
    home .. "/node_modules/.bin/claude",
    home .. "/.yarn/bin/claude",
    home .. "/.claude/local/claude",
  }
  for _, p in ipairs(rest) do list[#list + 1] = p end
  return list
end

--- Find the CLI; raises CLINotFoundError when there is none.
---@param cli_path string|nil  an explicit path (no search then)
---@return string
function M.find(cli_path)
  if cli_path then
    if not core.executable(cli_path) then
      errors.raise("CLINotFoundError", "Claude Code not found at " .. cli_path .. "\n" .. M.INSTALL_HINT,
        { cli_path = cli_path })
    end
    return cli_path
  end
  local env_path = os.getenv("CLAUDE_CLI_PATH")
  if env_path and env_path ~= "" then
    if core.executable(env_path) then return env_path end
    errors.raise("CLINotFoundError", "CLAUDE_CLI_PATH points to " .. env_path
      .. ", which is not an executable file\n" .. M.INSTALL_HINT, { cli_path = env_path })
  end
  for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    local p = dir .. "/claude"
    if core.executable(p) then return p end
  end
  for _, p in ipairs(M.fallbacks()) do
    if core.executable(p) then return p end
  end
  errors.raise("CLINotFoundError", M.INSTALL_HINT)
end

return M
