--- The environment the real Claude Code CLI needs to talk to the offline model server, quickly and with no
--- traffic anywhere else.
---
--- Contract: `cli_env(opts)` returns a table of environment variables to add to (or pass as) the CLI's env, plus
--- the HOME directory it chose. Each entry was found necessary by running CLI 2.1.197 against the server:
---   ANTHROPIC_BASE_URL                        where the Messages API requests go (the server's url)
---   ANTHROPIC_API_KEY = "sk-offline-test"     any key: with none every turn ends "Not logged in"
---   CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC  no DNS lookups or connections except to the server (without it
---                                             the CLI resolves outside hosts and asks the model for a session title)
---   CLAUDE_CODE_MAX_RETRIES = "0"             a scripted 429/5xx ends the turn at once; the default is 10
---                                             retries with exponential backoff (minutes). `max_retries` changes it.
---   HOME                                      a fresh directory (the CLI writes ~/.claude.json and ~/.claude/),
---                                             so no user settings, hooks or sessions leak into a test
--- A HOME created here is left for the caller to remove.
---
--- Example: `local env, home = cli_env({ url = server.url })`

local luv = require("claude_agent_sdk.testing.server").luv

local M = {}

---@param uv table|nil the luv module
---@return string dir a new, empty, private directory under the system's temporary directory
--- Example: `local home = env.make_temp_dir()`
function M.make_temp_dir(uv)
  uv = luv(uv)
  -- os.tmpname() tells us where temporary files go on this system; we only want its directory.
  local probe = os.tmpname()
  os.remove(probe)
  local dir = probe:match("^(.*)[/\\][^/\\]*$") or "/tmp"
  local path, err = uv.fs_mkdtemp(dir .. "/claude-offline-home-XXXXXX")
  if not path then
    error("cannot create a temporary HOME: " .. tostring(err), 2)
  end
  return path
end

---@class ClaudeTestingCliEnvOptions
---@field url string|nil the server's url ("http://127.0.0.1:PORT"); or give `server`
---@field server table|nil anything with a `url` field (a ModelServer or a spawn_server handle)
---@field home string|nil HOME for the CLI (default: a fresh temporary directory)
---@field max_retries integer|nil CLAUDE_CODE_MAX_RETRIES (default 0)
---@field uv table|nil the luv module, for creating the temporary HOME

---@param opts ClaudeTestingCliEnvOptions
---@return table<string,string> env variables for the CLI
---@return string home the HOME directory in `env`
--- Example: `options.env = testing.cli_env({ url = server.url })`
function M.cli_env(opts)
  opts = opts or {}
  local url = opts.url or (opts.server and opts.server.url)
  if type(url) ~= "string" then
    error("cli_env: needs url (the offline model server's url)", 2)
  end
  local home = opts.home or M.make_temp_dir(opts.uv)
  local env = {
    ANTHROPIC_BASE_URL = url,
    ANTHROPIC_API_KEY = "sk-offline-test",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1",
    CLAUDE_CODE_MAX_RETRIES = tostring(opts.max_retries or 0),
    HOME = home,
  }
  return env, home
end

return M
