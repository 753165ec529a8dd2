-- The offline model server of the Claude Agent SDK for Lua (claude_agent_sdk.testing and the command
-- claude-offline-model) as its own LuaRocks package, built from the working tree with `luarocks make`.
-- spec/support/run_rockspec.sh installs it offline beside the SDK's rock into fresh trees for Lua 5.4 and LuaJIT and
-- starts the installed server; it also fails when a file of lua/claude_agent_sdk/testing* is missing from build.
rockspec_format = "3.0"
package = "claude-agent-sdk-testing"
version = "scm-1"

source = {
  -- Placeholder until the project is published: `luarocks make` builds the checkout and never fetches this.
  url = "git+https://example.invalid/claude-agent-sdk-lua.git",
}

description = {
  summary = "An offline Anthropic Messages API for testing agents built on the Claude Agent SDK for Lua",
  detailed = [[
claude_agent_sdk.testing answers POST /v1/messages (SSE streaming and not) on 127.0.0.1 from a script of rules, so
the real Claude Code CLI, and agents built on the Claude Agent SDK for Lua, run offline with no API key. It runs
in-process on a luv loop (standalone luv, or Neovim's vim.uv / vim.loop) or as a child process (spawn_server, or
the command claude-offline-model). Its JSON, its choice of loop and its child processes are the SDK's own
(claude_agent_sdk.json, claude_agent_sdk.loop and the C core's process layer): this rock adds only the server.]],
  license = "MIT",
  labels = { "claude", "ai", "agent", "testing", "neovim", "luajit" },
}

-- The SDK at the same version: the server uses its JSON, its loop and its C core's spawn, which are not a stable
-- API between versions. luv is the server's event loop (Debian's lua-luv is declared to LuaRocks as
-- rocks_provided, see run_rockspec.sh; inside Neovim, vim.uv serves and luv need not be loadable).
dependencies = {
  "lua >= 5.1",
  "claude-agent-sdk = scm-1",
  "luv",
}

-- Pure Lua: the "none" backend installs exactly the files below (builtin would copy all of lua/, the SDK too).
build = {
  type = "none",
  install = {
    lua = {
      ["claude_agent_sdk.testing"] = "lua/claude_agent_sdk/testing.lua",
      ["claude_agent_sdk.testing.cli"] = "lua/claude_agent_sdk/testing/cli.lua",
      ["claude_agent_sdk.testing.env"] = "lua/claude_agent_sdk/testing/env.lua",
      ["claude_agent_sdk.testing.http"] = "lua/claude_agent_sdk/testing/http.lua",
      ["claude_agent_sdk.testing.process"] = "lua/claude_agent_sdk/testing/process.lua",
      ["claude_agent_sdk.testing.script"] = "lua/claude_agent_sdk/testing/script.lua",
      ["claude_agent_sdk.testing.scripts.default"] = "lua/claude_agent_sdk/testing/scripts/default.lua",
      ["claude_agent_sdk.testing.server"] = "lua/claude_agent_sdk/testing/server.lua",
      ["claude_agent_sdk.testing.session_store_conformance"] = "lua/claude_agent_sdk/testing/session_store_conformance.lua",
      ["claude_agent_sdk.testing.sse"] = "lua/claude_agent_sdk/testing/sse.lua",
    },
    -- LuaRocks wraps it in a shell script that runs the tree's interpreter with the tree's paths.
    bin = { ["claude-offline-model"] = "bin/claude-offline-model" },
  },
}
