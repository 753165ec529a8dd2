--- `:checkhealth claude_agent_sdk`: can this Neovim run the SDK?
--
-- Neovim finds this file as lua/claude_agent_sdk/health.lua on 'runtimepath' (a checkout, or rocks.nvim's link to
-- its rock tree) or through autoload/health/claude_agent_sdk.vim (a rock's own directory on 'runtimepath':
-- install.runtimepath()), and calls check(). It reports, in order: the C module `claude_agent_sdk.core` (does it
-- load into Neovim's LuaJIT, and was it built for that Lua), the Lua modules, Neovim's libuv loop (vim.uv /
-- vim.loop), and the `claude` CLI (found the library's own way, and its `--version`). Every failure is an ERROR
-- with the fix. Nothing here raises: a failed require is caught and reported, since an exception would only show
-- as "Failed to run healthcheck" with a Vim stack trace.
--
-- The health API moved: Neovim 0.7 has only `require("health").report_*` (vim.health is nil), 0.8 has
-- `vim.health.report_*`, 0.9+ has `vim.health.start/ok/warn/error/info` and deprecates report_*. `reporter()`
-- picks what exists. Loading this module outside Neovim is harmless; only check() needs `vim`.

local M = {}

local install = require("claude_agent_sdk.install")

-- The fix for a core built for another Lua, or not built at all (install.lua's message names the command too).
-- Neovim runs LuaJIT (Lua 5.1 ABI).
local function build_advice()
  local advice = {}
  if install.checkout then
    advice[#advice + 1] = (
      "Run `%s` in %s (with lazy.nvim or packer, as the plugin's build step: "
      .. 'build = "make" runs the same inside Neovim)'
    ):format(install.build_command, install.checkout)
  else
    advice[#advice + 1] = ("Build it for LuaJIT: `%s` in the SDK's source tree"):format(install.build_command)
  end
  advice[#advice + 1] = "LuaJIT's headers are needed: libluajit-5.1-dev (Debian, Ubuntu), luajit (Arch, Homebrew)"
  return advice
end

-- A failed require under LuaJIT (Lua 5.1's require) leaves a marker in package.loaded that makes every later
-- require of that name fail with "loop or previous error": forget the SDK's, so the checks load afresh (say,
-- after the module was built in this session).
local function forget_failed_requires()
  for name, value in pairs(package.loaded) do
    if type(name) == "string" and name:find("^claude_agent_sdk") and type(value) ~= "table" then
      package.loaded[name] = nil
    end
  end
end

-- start/ok/warn/error/info for this Neovim's health API.
local function reporter()
  local vim = _G.vim
  local h = vim.health
  if not (h and (h.start or h.report_start)) then
    local ok, legacy = pcall(require, "health") -- Neovim 0.7: runtime/lua/health.lua
    h = ok and legacy or {}
  end
  local function pick(new, old, vimscript)
    return h[new] or h[old] or function(...)
      vim.fn[vimscript](...)
    end
  end
  return {
    start = pick("start", "report_start", "health#report_start"),
    ok = pick("ok", "report_ok", "health#report_ok"),
    warn = pick("warn", "report_warn", "health#report_warn"),
    error = pick("error", "report_error", "health#report_error"),
    info = pick("info", "report_info", "health#report_info"),
  }
end

-- "5.1" for LuaJIT and PUC 5.1, "5.4" for Lua 5.4: the C API a module must be built against.
local function running_lua()
  return (_VERSION or ""):match("%d+%.%d+") or "?"
end

-- "LuaJIT 2.1.0-beta3 (Lua 5.1 C API)": what this Neovim runs, for messages.
local function running_name()
  local jit = rawget(_G, "jit")
  return ("%s (Lua %s C API)"):format(jit and jit.version or _VERSION, running_lua())
end

-- The Lua version the core was built for, as "5.x", or nil when this build does not say. Read defensively: the
-- field is `core.lua_version`, either LUA_VERSION_NUM (501, 504) or a string ("Lua 5.4", "5.4", "504").
local function core_lua(core)
  local v = rawget(core, "lua_version")
  if type(v) == "number" then
    return ("%d.%d"):format(math.floor(v / 100), v % 100)
  elseif type(v) == "string" then
    local major, minor = v:match("(%d)%.(%d+)")
    if major then
      return major .. "." .. minor
    end
    local num = tonumber(v:match("%d+"))
    if num and num >= 500 then
      return ("%d.%d"):format(math.floor(num / 100), num % 100)
    end
  end
  return nil
end

-- Where a module would be loaded from: package.path/cpath first, then 'runtimepath' (Neovim's own loader).
local function locate(name, cpath)
  local vim = _G.vim
  local search = package.searchpath
  if search then
    local found = search(name, cpath and package.cpath or package.path)
    if found then
      return found
    end
  end
  local base = name:gsub("%.", "/")
  local candidates = cpath and { "lua/" .. base .. ".so" }
    or { "lua/" .. base .. ".lua", "lua/" .. base .. "/init.lua" }
  for _, rel in ipairs(candidates) do
    local hit = vim.api.nvim_get_runtime_file(rel, false)[1]
    if hit then
      return hit
    end
  end
  return nil
end

-- The C module: loads, was built for this Lua, and works. Returns the module or nil.
local function check_core(r)
  r.start("claude_agent_sdk.core (the C module)")
  local ok, core = pcall(require, "claude_agent_sdk.core")
  if not ok then
    local err = core
    -- install.lua's ClaudeSDKError says what is missing, where it looked and the command; anything else (a
    -- module that failed inside its luaopen_) as it came.
    if type(err) == "table" and err.code and err.message then
      r.error(err.message, build_advice())
    else
      r.error("claude_agent_sdk.core failed to load:\n" .. tostring(err), build_advice())
    end
    return nil
  end
  local where = install.core_path or locate("claude_agent_sdk.core", true) or "(a preloaded module)"
  local built_for, running = core_lua(core), running_lua()
  if built_for and built_for ~= running then
    r.error(
      ("claude_agent_sdk.core at %s was built for Lua %s, but this Neovim runs %s"):format(
        where,
        built_for,
        running_name()
      ),
      build_advice()
    )
    return nil
  end
  -- A round trip through the C JSON code: the module's functions really work in this Lua state.
  local works, decoded = pcall(function()
    return core.decode('{"ok":[1]}')
  end)
  if not works or type(decoded) ~= "table" or type(decoded.ok) ~= "table" or decoded.ok[1] ~= 1 then
    r.error("claude_agent_sdk.core loads from " .. where .. " but does not work: " .. tostring(decoded), build_advice())
    return nil
  end
  if built_for then
    r.ok(
      ("claude_agent_sdk.core loads from %s, built for Lua %s like this Neovim's %s"):format(
        where,
        built_for,
        running_name()
      )
    )
  else
    -- Older builds do not record their Lua; that it loaded at all means its C API symbols resolved here.
    r.ok(("claude_agent_sdk.core loads from %s and works in this Neovim's %s"):format(where, running_name()))
  end
  return core
end

-- The public module (it needs the core: client.lua requires it).
local function check_sdk(r, core)
  r.start("claude_agent_sdk (the Lua API)")
  if not core then
    r.error("claude_agent_sdk needs claude_agent_sdk.core, which did not load (see above)")
    return
  end
  local ok, claude = pcall(require, "claude_agent_sdk")
  if not ok then
    r.error(
      "claude_agent_sdk failed to load:\n" .. tostring(claude),
      { "Put the SDK's repository on 'runtimepath' (e.g. with your plugin manager), or its lua/ on package.path" }
    )
    return
  end
  r.ok(
    ("claude_agent_sdk %s loads from %s"):format(
      tostring(claude.VERSION),
      locate("claude_agent_sdk", false) or "(a preloaded module)"
    )
  )
end

-- Neovim's libuv: the SDK's tasks, poll watchers and timers run on it.
local function check_loop(r)
  r.start("Neovim's event loop")
  local vim = _G.vim
  local uv = vim.uv or vim.loop
  if not uv or not uv.new_poll then
    r.error(
      "neither vim.uv nor vim.loop is available: the SDK needs Neovim's libuv bindings",
      { "Use Neovim 0.7 or newer" }
    )
    return
  end
  local name = vim.uv and "vim.uv" or "vim.loop"
  local version = uv.version_string and uv.version_string() or "?"
  local ok, loop = pcall(require, "claude_agent_sdk.loop")
  local backend = ok and loop.current().name or nil
  if ok and backend ~= "nvim" then
    r.warn(
      ("%s is there (libuv %s), but the SDK chose the %q loop backend"):format(name, version, backend),
      { "Something called claude.use_loop() with another backend: tasks will not run on the editor's loop" }
    )
    return
  end
  r.ok(("%s (libuv %s): claude.run tasks run on the editor's loop"):format(name, version))
end

-- The first line of `path --version`, run with a timeout: returns text or nil, why.
local function cli_version(path, timeout_ms)
  local vim = _G.vim
  local out = {}
  local job = vim.fn.jobstart({ path, "--version" }, {
    stdout_buffered = true,
    stderr_buffered = true,
    on_stdout = function(_, data)
      vim.list_extend(out, data or {})
    end,
    on_stderr = function(_, data)
      vim.list_extend(out, data or {})
    end,
  })
  if job <= 0 then
    return nil, "could not start it (jobstart returned " .. job .. ")"
  end
  local status = vim.fn.jobwait({ job }, timeout_ms)[1]
  if status == -1 then
    vim.fn.jobstop(job)
    return nil, ("no answer within %d s"):format(timeout_ms / 1000)
  end
  local text = vim.trim(table.concat(out, "\n"))
  if status ~= 0 then
    return nil, ("exit status %d: %s"):format(status, text)
  end
  return (text:match("[^\n]+") or text)
end

-- The CLI, found as ClaudeSDKClient:connect() finds it (cli.lua), and that it runs.
local function check_cli(r, core)
  r.start("the claude CLI")
  if not core then
    r.warn("not checked: finding the CLI needs claude_agent_sdk.core, which did not load (see above)")
    return
  end
  local ok_mod, cli = pcall(require, "claude_agent_sdk.cli")
  if not ok_mod then
    r.error("claude_agent_sdk.cli failed to load:\n" .. tostring(cli))
    return
  end
  local ok, path = pcall(cli.find, nil)
  if not ok then
    local msg = type(path) == "table" and path.message or tostring(path)
    -- The library's own message ends with how to install; give it as the advice, not twice.
    local head = msg:match("^(.-)\n") or msg
    r.error(head, {
      "Install it: `npm install -g @anthropic-ai/claude-code`, or `make setup` in the SDK's repository",
      "or set $CLAUDE_CLI_PATH (or the cli_path option) to the `claude` executable",
    })
    return
  end
  local version, why = cli_version(path, 10000)
  if not version then
    r.error(
      ("found %s, but `claude --version` failed: %s"):format(path, why),
      { "Reinstall the CLI (`npm install -g @anthropic-ai/claude-code`, or `make setup`); it needs Node.js 18+" }
    )
    return
  end
  r.ok(("found %s (%s)"):format(path, version))
end

--- Run the checks; Neovim calls this for `:checkhealth claude_agent_sdk`.
---   :checkhealth claude_agent_sdk
---@return nil
function M.check()
  local r = reporter()
  forget_failed_requires()
  local core = check_core(r)
  check_sdk(r, core)
  check_loop(r)
  check_cli(r, core)
end

return M
