--- Where this copy of the SDK is installed, and what follows from it: the C module for the running Lua, the build
--- command that makes it, and (for Neovim) the directory `:help` and `:checkhealth` read.
--
-- The SDK arrives in one of three shapes:
--   * a checkout: a plugin manager's clone, a `pack/*/start` directory, a developer's tree. The Makefile builds the
--     C module into build/<lua>/claude_agent_sdk/core.so (build/luajit for LuaJIT and Neovim, build/lua5.4 for
--     Lua 5.4), and nobody has to tell Lua where that is;
--   * a LuaRocks tree: the rock put the Lua files in share/lua/<v>/, core.so in lib/lua/<v>/, and doc/ and
--     autoload/ into its own directory, lib/luarocks/rocks-<v>/claude-agent-sdk/<version>/;
--   * Lua files on package.path and core.so on package.cpath, placed by hand or by LUA_PATH / LUA_CPATH.
--
-- load_core() is what `require("claude_agent_sdk.core")` runs (lua/claude_agent_sdk/core.lua). It looks on
-- package.cpath first and in the checkout's build/ second. package.cpath first because it is the one place a
-- user or a test names on purpose: LUA_CPATH pointing at a sanitizer build (make test's asan suite), at a
-- LuaRocks tree, at another build of the same checkout must win over a build that merely sits beside the Lua
-- files. A default package.cpath holds nothing of this SDK unless a rock of it is installed, which is then a
-- deliberate choice too. Only when package.cpath has no claude_agent_sdk/core.so does the checkout's own build
-- serve, which is what makes a plugin manager's clone work with no configuration.
--
-- Every failure is a ClaudeSDKError whose message names the exact command for the running Lua
-- (`make module LUA=luajit` inside Neovim, `make module` for Lua 5.4, a luarocks command outside a checkout) and
-- every path looked in; `:checkhealth claude_agent_sdk` shows the same (health.lua). Its fields:
--   code           "ENOMODULE" (no build for this Lua), "EWRONGLUA" (the only build, or the one found, is for
--                  another Lua), "ELOAD" (found, but it does not load for another reason)
--   path           the file that did not load (EWRONGLUA, ELOAD)
--   searched       the files looked for, in order
--   build_command  the command that builds the module for this Lua; directory: where to run it (a checkout)
--
-- This module loads no other SDK module except errors (pure Lua), and nothing of Neovim until runtimepath().

local M = {}

local NAME = "claude_agent_sdk.core"
local OPEN = "luaopen_claude_agent_sdk_core"
local ROCK = "claude-agent-sdk"
local ROCKSPEC = "rockspec/claude-agent-sdk-scm-1.rockspec"

local function readable(path)
  local f = io.open(path, "r")
  if f then
    f:close()
  end
  return f ~= nil
end

-- The directory of this file (".../lua/claude_agent_sdk" or ".../share/lua/5.1/claude_agent_sdk"), or nil when the
-- chunk did not come from a file (then only package.cpath is searched).
local function own_dir()
  local info = debug and debug.getinfo and debug.getinfo(1, "S")
  local source = info and info.source
  if type(source) ~= "string" or source:sub(1, 1) ~= "@" then
    return nil
  end
  return source:sub(2):match("^(.*)/[^/]*$") or "."
end

local DIR = own_dir()

--- The checkout this file belongs to (the directory holding lua/, the Makefile and rockspec/), or nil.
M.checkout = nil
do
  local root = DIR and DIR:match("^(.*)/lua/claude_agent_sdk$")
  if root == nil and DIR == "lua/claude_agent_sdk" then
    root = "."
  end
  if root and readable(root .. "/Makefile") and readable(root .. "/" .. ROCKSPEC) then
    M.checkout = root
  end
end

-- The running Lua: its build directory's name, what to call it in messages, the C API version.
local jit = rawget(_G, "jit")
local api = (_VERSION or ""):match("%d+%.%d+") or "?"

--- "luajit", "lua5.4", ...: the build/<tag>/ directory whose module this Lua can load.
M.lua_tag = jit and "luajit" or ("lua" .. api)

--- "LuaJIT 2.1.0-beta3 (Lua 5.1 C API)", "Lua 5.4": the running Lua, for messages.
M.lua_name = jit and ("%s (Lua %s C API)"):format(jit.version or "LuaJIT", api) or (_VERSION or "Lua ?")

--- The command that builds the C module for the running Lua: in a checkout the Makefile's target (run it in
--- M.checkout), elsewhere LuaRocks from a source tree of the SDK.
if M.checkout then
  M.build_command = M.lua_tag == "lua5.4" and "make module" or ("make module LUA=" .. M.lua_tag)
else
  M.build_command = ("luarocks --lua-version=%s make %s"):format(api, ROCKSPEC)
end

--- Where the C module was loaded from, once load_core() has run.
M.core_path = nil

-- The advice ending every message: the command, and where to run it.
local function advice()
  if M.checkout then
    return ("Build it: run `%s` in %s"):format(M.build_command, M.checkout)
  end
  return ("Build it for this Lua: run `%s` in the SDK's source tree (it needs a C compiler and libcjson-dev)"):format(
    M.build_command
  )
end

local function raise(code, message, fields)
  fields = fields or {}
  fields.code = code
  fields.build_command = M.build_command
  fields.directory = M.checkout
  local errors = require("claude_agent_sdk.errors")
  error(errors.new("ClaudeSDKError", message, fields), 0)
end

--- The C module's file for the running Lua, or nil; and the files looked for, in order. package.cpath first, then
--- the checkout's build/<lua_tag>/ (see the top of this file for why in that order).
---@return string|nil path
---@return string[] searched
function M.find_core()
  local searched = {}
  local found, tried = nil, nil
  if package.searchpath then
    found, tried = package.searchpath(NAME, package.cpath)
  end
  if found then
    return found, { found }
  end
  for file in (tried or ""):gmatch("no file '([^']+)'") do
    searched[#searched + 1] = file
  end
  if M.checkout then
    local own = ("%s/build/%s/claude_agent_sdk/core.so"):format(M.checkout, M.lua_tag)
    searched[#searched + 1] = own
    if readable(own) then
      return own, searched
    end
  end
  return nil, searched
end

-- The checkout's builds for other Luas, as { tag, path }.
local function other_builds()
  local out = {}
  if not M.checkout then
    return out
  end
  for _, tag in ipairs({ "luajit", "lua5.4", "lua5.3", "lua5.2", "lua5.1" }) do
    local file = ("%s/build/%s/claude_agent_sdk/core.so"):format(M.checkout, tag)
    if tag ~= M.lua_tag and readable(file) then
      out[#out + 1] = { tag = tag, path = file }
    end
  end
  return out
end

local function list(paths)
  return "\n  " .. table.concat(paths, "\n  ")
end

--- Find and load the C module for the running Lua; `require("claude_agent_sdk.core")` returns what this returns.
--- Raises a ClaudeSDKError (see the top of this file) when there is none, or it is for another Lua.
---   local core = require("claude_agent_sdk.install").load_core()
---@return table core
function M.load_core()
  local path, searched = M.find_core()
  if not path then
    local others = other_builds()
    if #others > 0 then
      local where = {}
      for _, o in ipairs(others) do
        where[#where + 1] = o.path
      end
      raise(
        "EWRONGLUA",
        (
          "%s (the SDK's C module) is built here only for %s, not for this %s. %s.\nBuilt:%s\n"
          .. "Looked for this Lua's in:%s"
        ):format(NAME, others[1].tag, M.lua_name, advice(), list(where), list(searched)),
        { searched = searched }
      )
    end
    raise(
      "ENOMODULE",
      ("%s (the SDK's C module) is not built for this %s. %s.\nLooked in:%s"):format(
        NAME,
        M.lua_name,
        advice(),
        list(searched)
      ),
      { searched = searched }
    )
  end
  local open, err = package.loadlib(path, OPEN)
  if not open then
    err = tostring(err)
    -- A module built against another Lua's headers needs symbols this one lacks (lua_newuserdatauv in LuaJIT,
    -- lua_objlen in Lua 5.4, ...): dlopen reports the first of them.
    if err:find("undefined symbol: luaL?_") or err:find("symbol not found.*_luaL?_") then
      raise(
        "EWRONGLUA",
        ("%s at %s was built for another Lua than this %s: %s\n%s."):format(NAME, path, M.lua_name, err, advice()),
        { path = path, searched = searched }
      )
    end
    raise(
      "ELOAD",
      ("%s at %s does not load into this %s: %s\n%s."):format(NAME, path, M.lua_name, err, advice()),
      { path = path, searched = searched }
    )
  end
  local core = open(NAME, path)
  -- The Lua it was compiled against, "Lua 5.1" for LuaJIT (lua_cas.c): a module whose symbols happened to
  -- resolve is still not safe to use with another Lua.
  local built_for = type(core) == "table" and rawget(core, "lua_version")
  if type(built_for) == "string" and built_for ~= _VERSION then
    raise(
      "EWRONGLUA",
      ("%s at %s was built for %s, not for this %s.\n%s."):format(NAME, path, built_for, M.lua_name, advice()),
      { path = path, searched = searched }
    )
  end
  M.core_path = path
  return core
end

-- The rock's directory in the LuaRocks tree this file is installed in, or nil and why.
local function rock_dir(vim)
  -- (resolved: rocks.nvim reaches the tree's share/lua/5.1 through a symbolic link on 'runtimepath')
  local here = DIR and ((vim.uv or vim.loop).fs_realpath(DIR) or DIR) or ""
  local tree, version = here:match("^(.*)/share/lua/([%d.]+)/claude_agent_sdk$")
  if not tree then
    return nil, "this copy of the SDK (" .. tostring(DIR) .. ") is not in a LuaRocks tree"
  end
  local rocks = ("%s/lib/luarocks/rocks-%s"):format(tree, version)
  local dirs = vim.fn.glob(rocks .. "/" .. ROCK .. "/*", false, true)
  if #dirs > 1 then
    -- Several versions kept (luarocks --keep): the tree's manifest says which one provides this module.
    local manifest = {}
    local chunk = loadfile(rocks .. "/manifest", "t", manifest)
    if chunk and pcall(chunk) and type(manifest.modules) == "table" then
      local owner = (manifest.modules["claude_agent_sdk.install"] or {})[1]
      local chosen = owner and owner:match("^" .. ROCK:gsub("%p", "%%%0") .. "/(.+)$")
      if chosen then
        dirs = { rocks .. "/" .. ROCK .. "/" .. chosen }
      end
    end
  end
  local dir = dirs[#dirs]
  if not dir or not readable(dir .. "/doc/claude_agent_sdk.txt") then
    return nil, ("no %s rock with doc/claude_agent_sdk.txt in %s"):format(ROCK, rocks)
  end
  return dir
end

--- Inside Neovim: put the directory that holds this copy's doc/ on 'runtimepath', so that `:help claude_agent_sdk`
--- and `:checkhealth claude_agent_sdk` find it. For the SDK installed with LuaRocks and reached through
--- package.path alone (luarocks.nvim, lazy.nvim's rocks, a hand-set path): the rock's directory holds doc/ (its
--- help tags built with the rock) and autoload/health/claude_agent_sdk.vim. In a checkout it is the checkout, which
--- a plugin manager has put there already; rocks.nvim puts a rock's directory there itself. Adds nothing twice,
--- and writes doc/tags only if it is missing. Returns the directory, or nil and why there is none.
---   require("claude_agent_sdk.install").runtimepath()
---@return string|nil dir
---@return string|nil why
function M.runtimepath()
  local vim = rawget(_G, "vim")
  if not (vim and vim.api and vim.fn) then
    return nil, "not inside Neovim"
  end
  local dir, why
  if M.checkout then
    dir = vim.fn.fnamemodify(M.checkout, ":p"):gsub("/$", "")
  else
    dir, why = rock_dir(vim)
    if not dir then
      return nil, why
    end
  end
  local resolved = vim.fn.resolve(dir)
  local present = false
  for _, p in ipairs(vim.api.nvim_list_runtime_paths()) do
    if vim.fn.resolve(p) == resolved then
      present = true
    end
  end
  if not present then
    vim.opt.runtimepath:append(dir)
  end
  if vim.fn.filereadable(dir .. "/doc/tags") == 0 then
    pcall(vim.cmd, "silent! helptags " .. vim.fn.fnameescape(dir .. "/doc"))
  end
  return dir
end

return M
