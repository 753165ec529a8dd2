-- The Claude Agent SDK for Lua as a LuaRocks package, built from the working tree with `luarocks make`.
-- spec/support/run_rockspec.sh installs it offline into fresh trees for Lua 5.4 and LuaJIT and checks that it
-- loads from there; it also fails when a file under lua/ is missing from build.modules below.
rockspec_format = "3.0"
package = "claude-agent-sdk"
version = "scm-1"

source = {
  -- Placeholder until the project is published: `luarocks make` builds the checkout and never fetches this.
  url = "git+https://example.invalid/claude-agent-sdk-lua.git",
}

description = {
  summary = "Claude Agent SDK for Lua: drive the Claude Code CLI from Lua 5.4 and LuaJIT (Neovim)",
  detailed = [[
Runs the Claude Code CLI (`claude`, installed separately) as a subprocess over its stream-json protocol, with the
API of the official Python SDK: ClaudeSDKClient, query(), typed messages and errors, permission callbacks, hooks
and in-process MCP tools. A small C core (module claude_agent_sdk.core, linked against cJSON) owns the process,
the pipes, line framing, JSON and the control protocol; the public API is pure Lua.
Blocking use needs nothing else. luv (or Neovim's vim.uv / vim.loop) is optional: it is needed only for the async
runtime (claude.run / claude.spawn) and for the offline model server claude_agent_sdk.testing and its command
claude-offline-model, which also uses lua-cjson when present.]],
  license = "MIT",
  labels = { "claude", "ai", "agent", "neovim", "luajit" },
}

-- luv and lua-cjson stay out on purpose: they are optional, and the package must install with no rock server.
dependencies = {
  "lua >= 5.1",
}

-- Debian's libcjson-dev: /usr/include/cjson/cJSON.h (the sources include <cjson/cJSON.h>) and
-- /usr/lib/<multiarch>/libcjson.so, a library directory LuaRocks searches by default.
external_dependencies = {
  CJSON = {
    header = "cjson/cJSON.h",
    library = "cjson",
  },
}

build = {
  type = "builtin",
  modules = {
    ["claude_agent_sdk.core"] = {
      sources = {
        "csrc/cas_error.c", "csrc/cas_buf.c", "csrc/cas_framer.c", "csrc/cas_json.c",
        "csrc/cas_process.c", "csrc/cas_proto.c", "csrc/cas_client.c", "csrc/lua_cas.c",
      },
      -- As in the Makefile: the sources are POSIX.1-2008 C99 (cas_process.c adds _GNU_SOURCE itself for Linux
      -- extras). The builtin backend has no place for -std=c99; the compiler's default GNU dialect accepts them.
      defines = { "_POSIX_C_SOURCE=200809L" },
      incdirs = { "csrc", "$(CJSON_INCDIR)" },
      libdirs = { "$(CJSON_LIBDIR)" },
      libraries = { "cjson" },
    },
    ["claude_agent_sdk"] = "lua/claude_agent_sdk/init.lua",
    ["claude_agent_sdk.async"] = "lua/claude_agent_sdk/async.lua",
    ["claude_agent_sdk.check"] = "lua/claude_agent_sdk/check.lua",
    ["claude_agent_sdk.cli"] = "lua/claude_agent_sdk/cli.lua",
    ["claude_agent_sdk.client"] = "lua/claude_agent_sdk/client.lua",
    ["claude_agent_sdk.control"] = "lua/claude_agent_sdk/control.lua",
    ["claude_agent_sdk.driver"] = "lua/claude_agent_sdk/driver.lua",
    ["claude_agent_sdk.errors"] = "lua/claude_agent_sdk/errors.lua",
    ["claude_agent_sdk.health"] = "lua/claude_agent_sdk/health.lua",
    ["claude_agent_sdk.hooks"] = "lua/claude_agent_sdk/hooks.lua",
    ["claude_agent_sdk.json"] = "lua/claude_agent_sdk/json.lua",
    ["claude_agent_sdk.loop"] = "lua/claude_agent_sdk/loop.lua",
    ["claude_agent_sdk.mcp"] = "lua/claude_agent_sdk/mcp.lua",
    ["claude_agent_sdk.messages"] = "lua/claude_agent_sdk/messages.lua",
    ["claude_agent_sdk.options"] = "lua/claude_agent_sdk/options.lua",
    ["claude_agent_sdk.permissions"] = "lua/claude_agent_sdk/permissions.lua",
    ["claude_agent_sdk.query"] = "lua/claude_agent_sdk/query.lua",
    ["claude_agent_sdk.requests"] = "lua/claude_agent_sdk/requests.lua",
    ["claude_agent_sdk.sessions"] = "lua/claude_agent_sdk/sessions.lua",
    ["claude_agent_sdk.stream"] = "lua/claude_agent_sdk/stream.lua",
    ["claude_agent_sdk.testing"] = "lua/claude_agent_sdk/testing.lua",
    ["claude_agent_sdk.testing.cli"] = "lua/claude_agent_sdk/testing/cli.lua",
    ["claude_agent_sdk.testing.env"] = "lua/claude_agent_sdk/testing/env.lua",
    ["claude_agent_sdk.testing.http"] = "lua/claude_agent_sdk/testing/http.lua",
    ["claude_agent_sdk.testing.json"] = "lua/claude_agent_sdk/testing/json.lua",
    ["claude_agent_sdk.testing.process"] = "lua/claude_agent_sdk/testing/process.lua",
    ["claude_agent_sdk.testing.script"] = "lua/claude_agent_sdk/testing/script.lua",
    ["claude_agent_sdk.testing.scripts.default"] = "lua/claude_agent_sdk/testing/scripts/default.lua",
    ["claude_agent_sdk.testing.server"] = "lua/claude_agent_sdk/testing/server.lua",
    ["claude_agent_sdk.testing.sse"] = "lua/claude_agent_sdk/testing/sse.lua",
    ["claude_agent_sdk.testing.uv"] = "lua/claude_agent_sdk/testing/uv.lua",
    ["claude_agent_sdk.types"] = "lua/claude_agent_sdk/types.lua",
    ["claude_agent_sdk.warnings"] = "lua/claude_agent_sdk/warnings.lua",
  },
  install = {
    -- LuaRocks wraps it in a shell script that runs the tree's interpreter with the tree's paths.
    bin = { ["claude-offline-model"] = "bin/claude-offline-model" },
  },
}
