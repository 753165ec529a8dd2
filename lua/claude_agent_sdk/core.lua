--- claude_agent_sdk.core: the SDK's C module (csrc/lua_cas.c), found for the running Lua wherever this copy of the
--- SDK is installed (claude_agent_sdk/install.lua: package.cpath first, then a checkout's build/<lua>/).
--
-- Every module requires "claude_agent_sdk.core"; Lua's searchers try package.path (and Neovim's 'runtimepath')
-- before package.cpath, so this file answers that require, and loads core.so itself with package.loadlib. The
-- module it returns is the C module's own table. When there is no module for this Lua, the require fails with a
-- ClaudeSDKError naming the command that builds it.
local ok, core = pcall(require("claude_agent_sdk.install").load_core)
if not ok then
  -- LuaJIT's require (Lua 5.1's) leaves a marker in package.loaded when a module fails, and then answers every
  -- later require with "loop or previous error": clear it, so that once the module is built a require works.
  package.loaded["claude_agent_sdk.core"] = nil
  error(core, 0)
end
return core
