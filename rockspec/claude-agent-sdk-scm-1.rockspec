-- The Claude Agent SDK for Lua as a LuaRocks package, built from the working tree with `luarocks make`.
-- spec/support/run_rockspec.sh installs it offline into fresh trees for Lua 5.4 and LuaJIT and checks that it
-- loads from there, with nothing of claude_agent_sdk.testing; it also fails when a file under lua/ (testing aside)
-- or csrc/ is missing from build below, or when a file csrc/lua_cas.c #includes is compiled on its own.
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
runtime (claude.run / claude.spawn). The offline model server (claude_agent_sdk.testing, claude-offline-model) is
its own rock, claude-agent-sdk-testing.]],
  license = "MIT",
  labels = { "claude", "ai", "agent", "neovim", "luajit" },
}

-- luv stays out on purpose: it is optional, and the package must install with no rock server.
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

-- The "command" backend, not "builtin": builtin copies the whole lua/ directory into the tree whatever
-- build.modules says, and lua/ also holds the offline model server, which is the claude-agent-sdk-testing rock's
-- (rockspec/claude-agent-sdk-testing-scm-1.rockspec). Here only the files listed below are installed.
build = {
  type = "command",
  -- One compile and link, as builtin would do it (core.so on every platform: Lua on macOS loads .so too; LuaRocks
  -- substitutes variables in build_command, not in install). The sources are POSIX.1-2008 C99 (cas_process.c adds
  -- _GNU_SOURCE itself for Linux extras); no -std=c99, the compiler's default GNU dialect accepts them.
  -- csrc/lua_cas.c #includes csrc/lua_cas_json.c, lua_cas_typed.c and lua_cas_os.c (one translation unit, as
  -- luv builds luv.c): those are never compiled on their own.
  -- -fvisibility=hidden and CAS_EMBEDDED (csrc/cas_version.h): core.so exports luaopen_claude_agent_sdk_core alone.
  build_command = "mkdir -p build/rock && $(CC) $(CFLAGS) -fvisibility=hidden -DCAS_EMBEDDED"
    .. " -D_POSIX_C_SOURCE=200809L -Icsrc -I$(CJSON_INCDIR)"
    .. " -I$(LUA_INCDIR) $(LIBFLAG) -o build/rock/core.so"
    .. " csrc/cas_version.c csrc/cas_error.c csrc/cas_buf.c csrc/cas_framer.c csrc/cas_json.c"
    .. " csrc/cas_process.c csrc/cas_proto.c csrc/cas_client.c csrc/lua_cas.c"
    .. " -L$(CJSON_LIBDIR) -lcjson"
    -- doc/tags, as Neovim's :helptags writes it, for copy_directories below (doc/tags is ignored by git).
    .. " && sh rockspec/helptags.sh doc",
  install = {
    -- The C module and its Lua loader share the name: `require("claude_agent_sdk.core")` finds the Lua file first
    -- (package.path comes before package.cpath), which finds this file on package.cpath and loads it
    -- (lua/claude_agent_sdk/install.lua); in a checkout it finds build/<lua>/ instead.
    lib = { ["claude_agent_sdk.core"] = "build/rock/core.so" },
    lua = {
      ["claude_agent_sdk"] = "lua/claude_agent_sdk/init.lua",
      ["claude_agent_sdk.async"] = "lua/claude_agent_sdk/async.lua",
      ["claude_agent_sdk.check"] = "lua/claude_agent_sdk/check.lua",
      ["claude_agent_sdk.cli"] = "lua/claude_agent_sdk/cli.lua",
      ["claude_agent_sdk.client"] = "lua/claude_agent_sdk/client.lua",
      ["claude_agent_sdk.control"] = "lua/claude_agent_sdk/control.lua",
      ["claude_agent_sdk.core"] = "lua/claude_agent_sdk/core.lua",
      ["claude_agent_sdk.driver"] = "lua/claude_agent_sdk/driver.lua",
      ["claude_agent_sdk.errors"] = "lua/claude_agent_sdk/errors.lua",
      ["claude_agent_sdk.health"] = "lua/claude_agent_sdk/health.lua",
      ["claude_agent_sdk.hooks"] = "lua/claude_agent_sdk/hooks.lua",
      ["claude_agent_sdk.install"] = "lua/claude_agent_sdk/install.lua",
      ["claude_agent_sdk.json"] = "lua/claude_agent_sdk/json.lua",
      ["claude_agent_sdk.loop"] = "lua/claude_agent_sdk/loop.lua",
      ["claude_agent_sdk.mcp"] = "lua/claude_agent_sdk/mcp.lua",
      ["claude_agent_sdk.messages"] = "lua/claude_agent_sdk/messages.lua",
      ["claude_agent_sdk.options"] = "lua/claude_agent_sdk/options.lua",
      ["claude_agent_sdk.permissions"] = "lua/claude_agent_sdk/permissions.lua",
      ["claude_agent_sdk.pool"] = "lua/claude_agent_sdk/pool.lua",
      ["claude_agent_sdk.query"] = "lua/claude_agent_sdk/query.lua",
      ["claude_agent_sdk.requests"] = "lua/claude_agent_sdk/requests.lua",
      ["claude_agent_sdk.sessions"] = "lua/claude_agent_sdk/sessions.lua",
      ["claude_agent_sdk.session_store"] = "lua/claude_agent_sdk/session_store.lua",
      ["claude_agent_sdk.mirror"] = "lua/claude_agent_sdk/mirror.lua",
      ["claude_agent_sdk.session_resume"] = "lua/claude_agent_sdk/session_resume.lua",
      ["claude_agent_sdk.store_readers"] = "lua/claude_agent_sdk/store_readers.lua",
      ["claude_agent_sdk.store_mutations"] = "lua/claude_agent_sdk/store_mutations.lua",
      ["claude_agent_sdk.stores.file"] = "lua/claude_agent_sdk/stores/file.lua",
      ["claude_agent_sdk.stores.redis"] = "lua/claude_agent_sdk/stores/redis.lua",
      ["claude_agent_sdk.stream"] = "lua/claude_agent_sdk/stream.lua",
      ["claude_agent_sdk.types"] = "lua/claude_agent_sdk/types.lua",
      ["claude_agent_sdk.warm"] = "lua/claude_agent_sdk/warm.lua",
      ["claude_agent_sdk.warnings"] = "lua/claude_agent_sdk/warnings.lua",
    },
  },
  -- Into the rock's own directory, lib/luarocks/rocks-<v>/claude-agent-sdk/<version>/, the Neovim runtime files
  -- that are not Lua modules: doc/ (the help file, its tags and, in it, the licence) and
  -- autoload/health/claude_agent_sdk.vim (:checkhealth for a rock reached through package.path). rocks.nvim puts
  -- that directory on 'runtimepath' itself; elsewhere require("claude_agent_sdk.install").runtimepath() does.
  copy_directories = { "doc", "autoload" },
}
