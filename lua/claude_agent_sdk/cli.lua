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

--- The CLI version matrix (Makefile: CLI_VERSION, CLI_VERSION_NEWEST): the
--- oldest CLI this SDK supports (an older one is refused at connect()) and
--- the newest one its tests ran against.
M.MIN_VERSION = "2.1.197"
M.NEWEST_TESTED = "2.1.332"

--- The first CLI that has each feature the SDK chooses by version: found by
--- looking for the flag in every published CLI between the two of the matrix.
M.FEATURES = {
  await_initialize = { version = "2.1.326", what = "--await-initialize (MCP servers sent with initialize)" },
  await_claim = { version = "2.1.281", what = "--await-claim (spares: claude.prewarm and claude.pool)" },
}

--- What the CLI of `version` can do (nil: not known, so nothing new is used).
---@param version string|nil
---@return ClaudeCliFeatures
function M.features(version)
  local f = {}
  for name, first in pairs(M.FEATURES) do
    f[name] = version ~= nil and not M.older(version, first.version)
  end
  return f
end

--- Raise CLIConnectionError when the CLI of `version` lacks feature `name`.
--- An unknown version passes unless `strict` (after the initialize answer,
--- which every CLI with these features sends its version in).
---@param name string  a key of FEATURES
---@param version string|nil
---@param path string
---@param strict boolean|nil
function M.check_feature(name, version, path, strict)
  if version == nil and not strict then
    return
  end
  local first = M.FEATURES[name]
  if version == nil or M.older(version, first.version) then
    errors.raise(
      "CLIConnectionError",
      (
        "Claude Code %s at %s cannot do this: it needs %s, which Claude Code has from %s on: update it "
        .. "(npm install -g @anthropic-ai/claude-code@%s)"
      ):format(version or "(version unknown)", path, first.what, first.version, M.NEWEST_TESTED),
      { cli_path = path, cli_version = version, min_version = first.version, feature = name }
    )
  end
end

--- "2.1.332" (or "2.1.332 (Claude Code)") as { 2, 1, 332 }, or nil.
---@param s any
---@return integer[]|nil
function M.parse_version(s)
  if type(s) ~= "string" then
    return nil
  end
  local a, b, c = s:match("^%s*(%d+)%.(%d+)%.(%d+)")
  if not a then
    return nil
  end
  return { tonumber(a), tonumber(b), tonumber(c) }
end

--- True when version a is older than version b (both strings); false when
--- either cannot be read.
---@param a string
---@param b string
---@return boolean
function M.older(a, b)
  local x, y = M.parse_version(a), M.parse_version(b)
  if not x or not y then
    return false
  end
  for i = 1, 3 do
    if x[i] ~= y[i] then
      return x[i] < y[i]
    end
  end
  return false
end

--- The version of an npm-installed CLI, read from its package.json without
--- running it (node_modules/.bin/claude or the package's own bin/), or nil.
---@param path string
---@return string|nil
function M.installed_version(path)
  local nm = path:match("^(.*/node_modules)/%.bin/claude$")
    or path:match("^(.*/node_modules)/@anthropic%-ai/claude%-code/bin/[^/]+$")
  if not nm then
    return nil
  end
  local f = io.open(nm .. "/@anthropic-ai/claude-code/package.json", "r")
  if not f then
    return nil
  end
  local text = f:read("*a")
  f:close()
  local v = text and text:match('"version"%s*:%s*"([^"]+)"')
  return M.parse_version(v) and v or nil
end

--- Raise CLIConnectionError when `version` is older than MIN_VERSION.
---@param version string|nil
---@param path string
function M.check_version(version, path)
  if version and M.older(version, M.MIN_VERSION) then
    errors.raise(
      "CLIConnectionError",
      (
        "Claude Code %s at %s is older than %s, the oldest version this SDK "
        .. "supports (the newest tested is %s): update it (npm install -g @anthropic-ai/claude-code@%s)"
      ):format(version, path, M.MIN_VERSION, M.NEWEST_TESTED, M.NEWEST_TESTED),
      { cli_path = path, cli_version = version, min_version = M.MIN_VERSION }
    )
  end
end

M.INSTALL_HINT = "Claude Code not found. Install it with:\n"
  .. "  npm install -g @anthropic-ai/claude-code\n"
  .. "or, in this project, `make setup`; or set cli_path (or $CLAUDE_CLI_PATH) to the `claude` executable."

-- The project root, from this file's own path (lua/claude_agent_sdk/cli.lua).
local function project_root()
  local src = debug.getinfo(1, "S").source
  if src:sub(1, 1) ~= "@" then
    return nil
  end
  local dir = src:sub(2):match("^(.*)/lua/claude_agent_sdk/[^/]+$")
  return dir
end

--- The places searched after $PATH, in order.
---@return string[]
function M.fallbacks()
  local home = os.getenv("HOME") or ""
  local list = {}
  local deps = os.getenv("CLAUDE_AGENT_SDK_DEPS")
  if deps and deps ~= "" then
    list[#list + 1] = deps .. "/node_modules/.bin/claude"
  end
  local root = project_root()
  if root then
    list[#list + 1] = root .. "/.deps/node_modules/.bin/claude"
  end
  local rest = {
    home .. "/.npm-global/bin/claude",
    "/usr/local/bin/claude",
    home .. "/.local/bin/claude",
    home .. "/node_modules/.bin/claude",
    home .. "/.yarn/bin/claude",
    home .. "/.claude/local/claude",
  }
  for _, p in ipairs(rest) do
    list[#list + 1] = p
  end
  return list
end

--- Find the CLI; raises CLINotFoundError when there is none.
---@param cli_path string|nil  an explicit path (no search then)
---@return string
function M.find(cli_path)
  if cli_path then
    if not core.executable(cli_path) then
      errors.raise(
        "CLINotFoundError",
        "Claude Code not found at " .. cli_path .. "\n" .. M.INSTALL_HINT,
        { cli_path = cli_path }
      )
    end
    return cli_path
  end
  local env_path = os.getenv("CLAUDE_CLI_PATH")
  if env_path and env_path ~= "" then
    if core.executable(env_path) then
      return env_path
    end
    errors.raise(
      "CLINotFoundError",
      "CLAUDE_CLI_PATH points to " .. env_path .. ", which is not an executable file\n" .. M.INSTALL_HINT,
      { cli_path = env_path }
    )
  end
  for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    local p = dir .. "/claude"
    if core.executable(p) then
      return p
    end
  end
  for _, p in ipairs(M.fallbacks()) do
    if core.executable(p) then
      return p
    end
  end
  errors.raise("CLINotFoundError", M.INSTALL_HINT)
end

return M
