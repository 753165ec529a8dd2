--- claude_agent_sdk.testing: an offline model server for testing agents against the real Claude Code CLI.
---
--- Contract: the server stands in for the Anthropic Messages API on 127.0.0.1 and answers from a script, a Lua
--- table of rules (format: `claude-offline-model --help`, or script.lua). Run it in-process on a luv loop
--- (`ModelServer`: standalone luv, or Neovim's `vim.uv`/`vim.loop`), or as a child process (`spawn_server`) when the
--- test blocks in the SDK's blocking mode and no loop would run in-process. `cli_env` gives the variables that
--- point the CLI at the server with no other traffic. Nothing here needs a network or a real API key.
--- It ships as its own rock, claude-agent-sdk-testing, on top of the SDK's: its JSON is claude_agent_sdk.json, its
--- luv module the one claude_agent_sdk.loop runs on, its child processes the C core's; the SDK needs none of it.
---
--- What CLI 2.1.197 sends, as observed (and so what the server answers):
---   HEAD /                              a connection warm-up, before the first turn (200)
---   POST /v1/messages?beta=true         every model call: "stream": true, the full conversation each time, the
---                                       user's text after a `<system-reminder>` text block (skipped by rules),
---                                       and extra `role: "system"` messages after it (skipped when looking for the
---                                       last user message)
---   POST /v1/messages?beta=true         a session-title request, only without
---                                       CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: no tools, a title-writing system
---                                       prompt and a JSON schema for {"title"}; marked `req.side = "title"` and
---                                       answered apart from the rules, which it never consumes
---   subagents (the Agent tool)          ordinary /v1/messages requests whose last user text is the subagent's prompt
--- POST /v1/messages/count_tokens is answered too (not seen from the CLI in a plain turn).
---
--- Example:
---   local testing = require("claude_agent_sdk.testing")
---   local server = testing.ModelServer.new({ script = { { match = "2+2", reply = "2 + 2 = 4." } } })
---   server:start()
---   local env = testing.cli_env({ url = server.url })   -- then run the CLI with env

local server = require("claude_agent_sdk.testing.server")
local script = require("claude_agent_sdk.testing.script")
local process = require("claude_agent_sdk.testing.process")
local env = require("claude_agent_sdk.testing.env")

local M = {}

--- The in-process server: `ModelServer.new{ script =, port =, host =, log =, uv =, on_error = }`,
--- `server:start()` -> port, `server.url`, `server.requests`, `server:stop()`.
M.ModelServer = server.ModelServer

--- `spawn_server{ script = path?, log =, port =, host =, lua =, uv =, timeout_ms = }` ->
--- `{ url, port, pid, stop }`: the server as a child process that dies with this one.
M.spawn_server = process.spawn_server

--- `cli_env{ url = | server =, home =, max_retries = }` -> env table, home.
M.cli_env = env.cli_env

--- `load_script(path)` -> the rules table a Lua file returns.
M.load_script = server.load_script

--- `new_script(rules)` -> a script object; pass it as `script` to share rule state between servers.
M.new_script = script.new

--- The built-in reply used when no rule and no default answers: echoes the prompt or the tool results.
M.echo = script.echo

--- `session_store_conformance(make_store, { skip = { "delete", ... } })` -> contracts checked: the
--- SessionStore contracts (the Python SDK's) run against stores made by make_store; raises listing failures.
function M.session_store_conformance(make_store, opts)
  return require("claude_agent_sdk.testing.session_store_conformance").run(make_store, opts)
end

---@return table rules the demo script that answers the documentation examples
--- Example: `testing.ModelServer.new({ script = testing.demo_script() })`
function M.demo_script()
  return require("claude_agent_sdk.testing.scripts.default")
end

return M
