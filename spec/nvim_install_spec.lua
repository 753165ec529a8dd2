-- Installing the SDK as Neovim users do (README.md "Neovim", :help claude_agent_sdk-setup), reproduced headless,
-- since the plugin managers themselves cannot be fetched here: for each way, a fresh copy of this repository (its
-- tracked files), the documented build step run the way that way runs it, the documented 'runtimepath' or
-- package.path entry, and then Debian's `nvim` with NO LUA_PATH / LUA_CPATH in its environment and a throwaway
-- HOME runs spec/support/nvim_install.lua, which records what a user would see:
--   lazy.nvim  the clone in ~/.local/share/nvim/lazy/, `build = "make"` (sh -c through libuv from inside Neovim,
--              as lazy.nvim spawns it, then :helptags on its doc/), `set rtp+=<clone>`
--   packer     the clone in ~/.local/share/nvim/site/pack/packer/start/, `run = "make"` the same way
--   native     the clone in ~/.local/share/nvim/site/pack/plugins/start/, `make module LUA=luajit` from a shell,
--              `nvim --headless -c 'helptags ALL' -c q`
--   LuaRocks   `luarocks --lua-version=5.1 make` into a tree, only package.path / package.cpath into it (what
--              luarocks.nvim sets), and the documented line require("claude_agent_sdk.install").runtimepath()
-- In each: require("claude_agent_sdk") works and loads the copy's files and its LuaJIT core.so; `:checkhealth
-- claude_agent_sdk` has its OK lines and no ERROR or WARNING; `:help claude_agent_sdk` opens the copy's help
-- file; a conversation runs through the real CLI against the offline model server (a child of this process).
-- And the two ways it goes wrong: a copy with nothing built, and one built only for Lua 5.4: the require fails
-- naming `make module LUA=luajit`, and :checkhealth shows that as an ERROR.
local h = require("support.helpers")
local json = require("claude_agent_sdk.json")
local testing = require("claude_agent_sdk.testing")

local ROOT = h.ROOT
local LIMIT_S = 90
local DRIVER = ROOT .. "/spec/support/nvim_install.lua"
local q = h.sh_quote

-- Variables of this process that must not reach the copies' builds or Neovim: Lua's paths (the point is to do
-- without them), an outer make's (make test runs this), a surrounding editor's, and XDG's (HOME decides).
local UNSET = {
  "LUA_PATH",
  "LUA_CPATH",
  "LUA_PATH_5_1",
  "LUA_CPATH_5_1",
  "LUA_INIT",
  "LUA_INIT_5_1",
  "MAKEFLAGS",
  "MAKELEVEL",
  "MFLAGS",
  "MAKEOVERRIDES",
  "NVIM",
  "NVIM_LISTEN_ADDRESS",
  "VIMRUNTIME",
  "VIM",
  "MYVIMRC",
  "XDG_CONFIG_HOME",
  "XDG_DATA_HOME",
  "XDG_STATE_HOME",
  "XDG_CACHE_HOME",
}

-- `env` arguments: the variables above removed, vars (a table) added.
local function env_args(vars)
  local out = {}
  for _, name in ipairs(UNSET) do
    out[#out + 1] = "-u " .. name
  end
  local set = {}
  for k, v in pairs(vars or {}) do
    set[#set + 1] = k .. "=" .. q(v)
  end
  table.sort(set)
  for _, s in ipairs(set) do
    out[#out + 1] = s
  end
  return table.concat(out, " ")
end

-- Run a shell command in dir with the cleaned environment plus vars; its exit status and output.
local function sh(dir, cmd, vars)
  local p = assert(
    io.popen(('cd %s && env %s sh -c %s </dev/null 2>&1; echo "[exit $?]"'):format(q(dir), env_args(vars), q(cmd)))
  )
  local out = p:read("*a")
  p:close()
  return tonumber(out:match("%[exit (%d+)%]%s*$")), (out:gsub("%[exit %d+%]%s*$", ""))
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function mkdir(path)
  assert(os.execute("mkdir -p " .. q(path)))
end

-- A fresh clone's files in dest: the tracked files of this checkout as they are in the working tree (so the spec
-- tests what is about to be committed), without build/, doc/tags or .deps/.
local function copy_repo(dest)
  mkdir(dest)
  local status, out =
    sh(ROOT, ("git ls-files -z | tar --null --ignore-failed-read -T - -cf - | tar -xf - -C %s"):format(q(dest)))
  assert(status == 0, "copying the tracked files (git ls-files | tar): " .. out)
  assert(
    h.exists(dest .. "/Makefile") and h.exists(dest .. "/lua/claude_agent_sdk/init.lua"),
    "the copy in " .. dest .. " lacks the Makefile or lua/"
  )
  assert(not h.exists(dest .. "/build/luajit/claude_agent_sdk/core.so"), "the copy holds a build")
end

-- Run spec/support/nvim_install.lua in headless Neovim, from HOME, starting with the init.vim text init; env holds
-- the CLI's variables (testing.cli_env: HOME among them) and more. Returns a check(cond, what) that reports all
-- Neovim printed and recorded, and the record.
local function run_driver(init, env)
  local home = env.HOME
  write(home .. "/init.vim", init)
  local vars = { NVIM_SPEC_RESULT = home .. "/result.json", CLAUDE_CLI_PATH = assert(h.cli_path()) }
  for k, v in pairs(env) do
    vars[k] = v
  end
  os.remove(vars.NVIM_SPEC_RESULT)
  local started = os.time()
  local status, out = sh(
    home,
    ("timeout -k 5 %d nvim --headless -u %s -i NONE -c %s"):format(
      LIMIT_S,
      q(home .. "/init.vim"),
      q("luafile " .. DRIVER)
    ),
    vars
  )
  local text = h.read_file(vars.NVIM_SPEC_RESULT)
  local R = text and text ~= "" and json.decode(text) or nil
  local function check(cond, what)
    assert(
      cond,
      ("%s\nnvim exit status %s after about %d s; output:\n%s\nrecorded: %s"):format(
        what,
        tostring(status),
        os.time() - started,
        out,
        R and json.encode(R) or "(nothing)"
      )
    )
  end
  check(status ~= 124 and status ~= 137, ("Neovim did not quit within %d s"):format(LIMIT_S))
  check(R ~= nil, "the Neovim script recorded nothing")
  check(not R.watchdog, "the script's watchdog fired")
  check(status == 0, "Neovim exited with status " .. tostring(status))
  check(#R.errors == 0, "errors inside Neovim: " .. table.concat(R.errors, "; "))
  return check, R
end

-- lazy.nvim's `build = "make"` and packer's `run = "make"`: the command through `sh -c` in the plugin's
-- directory, spawned from Neovim through libuv as both do it (so it inherits Neovim's environment: $VIMRUNTIME,
-- not $NVIM), then :helptags on the plugin's doc/, which both run after installing. Asserts it worked.
local function manager_build(dir, home)
  local script = home .. "/build.lua"
  write(
    script,
    ([[
local out, dir = {}, %q
local function collect(_, data) if data then out[#out + 1] = data end end
local stdout, stderr = vim.loop.new_pipe(false), vim.loop.new_pipe(false)
local handle
handle = vim.loop.spawn("sh", { args = { "-c", "make" }, cwd = dir, stdio = { nil, stdout, stderr } },
  function(code)
    handle:close()
    vim.schedule(function()
      vim.cmd("helptags " .. vim.fn.fnameescape(dir .. "/doc"))
      io.stdout:write(table.concat(out), "\n[build exit ", code, "]\n")
      vim.cmd("qa!")
    end)
  end)
stdout:read_start(collect)
stderr:read_start(collect)
]]):format(dir)
  )
  local status, out = sh(
    home,
    ("timeout -k 5 %d nvim --headless -u NONE -i NONE -c %s"):format(LIMIT_S, q("luafile " .. script)),
    { HOME = home }
  )
  assert(
    status == 0 and out:find("[build exit 0]", 1, true),
    ("the build step (make, run by Neovim) failed: nvim status %s:\n%s"):format(tostring(status), out)
  )
  return out
end

local function has(check, lines, text)
  local all = table.concat(lines or {}, "\n")
  check(all:find(text, 1, true), ("expected %q in:\n%s"):format(text, all))
end

local function lacks(check, lines, text)
  local all = table.concat(lines or {}, "\n")
  check(not all:find(text, 1, true), ("did not expect %q in:\n%s"):format(text, all))
end

-- What every working install shows: the SDK's files from `lua_from` (the copy's lua/, or the tree's share/lua),
-- the core from core_so, nothing from this checkout or from LUA_PATH / LUA_CPATH, :checkhealth all OK, :help
-- opening help_file, the answer of the conversation.
local function check_working(check, R, lua_from, core_so, help_file)
  check(R.env.LUA_PATH == nil and R.env.LUA_CPATH == nil, "LUA_PATH or LUA_CPATH reached Neovim")
  check(R.require.ok, 'require("claude_agent_sdk") failed: ' .. tostring(R.require.error))
  check(
    R.require.install_file == lua_from .. "/claude_agent_sdk/install.lua",
    "the SDK's Lua files came from " .. tostring(R.require.install_file) .. ", not " .. lua_from
  )
  check(R.require.core_path == core_so, "the C module came from " .. tostring(R.require.core_path))
  local everything = R.package_path .. ";" .. R.package_cpath .. ";" .. table.concat(R.runtimepath, ",")
  check(not everything:find(ROOT, 1, true), "this checkout is on a path of Neovim: " .. everything)

  has(check, R.health, "OK: claude_agent_sdk.core loads from " .. core_so .. ", built for Lua 5.1")
  has(check, R.health, "OK: claude_agent_sdk 0.")
  has(check, R.health, "OK: found " .. assert(h.cli_path()) .. " (")
  lacks(check, R.health, "ERROR")
  lacks(check, R.health, "WARNING")

  check(R.help.ok, ":help claude_agent_sdk failed: " .. tostring(R.help.error))
  check(
    R.help.file == help_file and R.help.filetype == "help",
    (":help claude_agent_sdk opened %s (filetype %s)"):format(tostring(R.help.file), tostring(R.help.filetype))
  )
  check(R.help.line:find("*claude_agent_sdk*", 1, true), "the cursor is not on the tag: " .. R.help.line)

  check(R.conversation and R.conversation.answer == "2 + 2 = 4.", "no answer from the conversation")
  check(R.conversation.result == "success", "the turn did not end with a success result")
end

describe("Installing into Neovim as users do (fresh copies, no LUA_PATH / LUA_CPATH)", function()
  if not h.nvim_path() then
    pending("skipped: nvim is not installed (Debian: apt-get install neovim)")
    return
  end
  local _, no_cli = h.cli_path()

  local srv, homes = nil, {}
  -- A throwaway HOME for Neovim and the CLI, with the CLI's variables for the model server.
  local function new_home()
    -- (the cases of a copy not built need no server: nothing reaches it)
    local env, home = testing.cli_env({ url = srv and srv.url or "http://127.0.0.1:9" })
    homes[#homes + 1] = home
    return env, home
  end

  setup(function()
    if not no_cli then
      srv = h.start_server(ROOT .. "/spec/support/scripts/nvim_plugin.lua")
    end
  end)
  teardown(function()
    h.stop_server(srv)
    for _, home in ipairs(homes) do
      os.execute("rm -rf " .. q(home))
    end
  end)

  it('lazy.nvim: build = "make" run by Neovim builds for LuaJIT alone; rtp+=<clone>; everything works', function()
    assert(not no_cli, no_cli)
    local env, home = new_home()
    local dir = home .. "/.local/share/nvim/lazy/claude-agent-sdk-lua"
    copy_repo(dir)
    manager_build(dir, home)
    assert(h.exists(dir .. "/build/luajit/claude_agent_sdk/core.so"), "make run by Neovim built no LuaJIT module")
    assert(
      not h.exists(dir .. "/build/lua5.4/claude_agent_sdk/core.so"),
      "make run by Neovim also built for Lua 5.4 (it should build for Neovim's LuaJIT alone)"
    )
    local check, R = run_driver("set rtp+=" .. dir .. "\n", env)
    check_working(
      check,
      R,
      dir .. "/lua",
      dir .. "/build/luajit/claude_agent_sdk/core.so",
      dir .. "/doc/claude_agent_sdk.txt"
    )
  end)

  it('packer: run = "make" in site/pack/packer/start; everything works', function()
    assert(not no_cli, no_cli)
    local env, home = new_home()
    local dir = home .. "/.local/share/nvim/site/pack/packer/start/claude-agent-sdk-lua"
    copy_repo(dir)
    manager_build(dir, home)
    -- No 'runtimepath' line: Neovim adds pack/*/start/* of its 'packpath' (~/.local/share/nvim/site) itself.
    local check, R = run_driver("", env)
    check_working(
      check,
      R,
      dir .. "/lua",
      dir .. "/build/luajit/claude_agent_sdk/core.so",
      dir .. "/doc/claude_agent_sdk.txt"
    )
  end)

  it(
    "native packages: make module LUA=luajit in a shell, :helptags ALL once (README's block); everything works",
    function()
      assert(not no_cli, no_cli)
      local env, home = new_home()
      local dir = home .. "/.local/share/nvim/site/pack/plugins/start/claude-agent-sdk-lua"
      copy_repo(dir) -- the README's `git clone`
      local status, out = sh(
        home,
        "make -C ~/.local/share/nvim/site/pack/plugins/start/claude-agent-sdk-lua " .. "module LUA=luajit",
        { HOME = home }
      )
      assert(status == 0 and h.exists(dir .. "/build/luajit/claude_agent_sdk/core.so"), "make failed:\n" .. out)
      -- In the user's Neovim (no init file in this HOME: the defaults, packages loaded).
      status, out = sh(home, "nvim --headless -c 'helptags ALL' -c q", { HOME = home })
      assert(status == 0 and h.exists(dir .. "/doc/tags"), ":helptags ALL wrote no doc/tags:\n" .. out)
      local check, R = run_driver("", env)
      check_working(
        check,
        R,
        dir .. "/lua",
        dir .. "/build/luajit/claude_agent_sdk/core.so",
        dir .. "/doc/claude_agent_sdk.txt"
      )
    end
  )

  it(
    "a LuaRocks tree on package.path alone: the documented line gives :checkhealth and :help; everything works",
    function()
      assert(not no_cli, no_cli)
      local luajit_inc = "/usr/include/luajit-2.1"
      assert(h.exists(luajit_inc .. "/lua.h"), "LuaJIT's headers are missing (libluajit-5.1-dev: make setup)")
      local env, home = new_home()
      local src, tree = home .. "/src", home .. "/rocks"
      copy_repo(src)
      -- As spec/support/run_rockspec.sh: offline, LuaJIT's interpreter and headers, the user's ~ in HOME.
      write(
        home .. "/luarocks.lua",
        (
          'rocks_servers = {}\nlua_interpreter = "luajit"\n'
          .. 'variables = { LUA_BINDIR = "/usr/bin", LUA_INCDIR = %q }\n'
        ):format(luajit_inc)
      )
      local status, out = sh(
        src,
        "luarocks --lua-version=5.1 --tree=" .. q(tree) .. " make rockspec/claude-agent-sdk-scm-1.rockspec",
        { HOME = home, LUAROCKS_CONFIG_5_1 = home .. "/luarocks.lua" }
      )
      assert(status == 0, "luarocks make failed:\n" .. out)
      local rock = tree .. "/lib/luarocks/rocks-5.1/claude-agent-sdk/scm-1"
      -- The rock's help tags are Neovim's own (rockspec/helptags.sh), so :help needs no :helptags afterwards.
      local tags = h.read_file(rock .. "/doc/tags")
      mkdir(home .. "/tagcheck")
      status, out = sh(
        home,
        "cp "
          .. q(rock .. "/doc/claude_agent_sdk.txt")
          .. " tagcheck/ && "
          .. "nvim --headless -u NONE -i NONE -c 'helptags tagcheck' -c 'qa!'",
        { HOME = home }
      )
      assert(status == 0, out)
      assert(
        tags and tags ~= "" and tags == h.read_file(home .. "/tagcheck/tags"),
        "the rock's doc/tags differ from what Neovim's :helptags writes"
      )
      -- luarocks.nvim's part (package.path / package.cpath into the tree), then the documented line.
      local init = ("lua package.path = %q .. package.path\nlua package.cpath = %q .. package.cpath\n"):format(
        tree .. "/share/lua/5.1/?.lua;" .. tree .. "/share/lua/5.1/?/init.lua;",
        tree .. "/lib/lua/5.1/?.so;"
      )
      env.NVIM_INSTALL_SETUP = 'return require("claude_agent_sdk.install").runtimepath()'
      local check, R = run_driver(init, env)
      has(check, R.health_before, "No healthcheck found")
      check(
        R.setup_result and R.setup_result[1] == rock,
        "runtimepath() returned " .. json.encode(R.setup_result or {}) .. ", not the rock's directory " .. rock
      )
      check_working(
        check,
        R,
        tree .. "/share/lua/5.1",
        tree .. "/lib/lua/5.1/claude_agent_sdk/core.so",
        rock .. "/doc/claude_agent_sdk.txt"
      )
    end
  )

  describe("a copy not built for LuaJIT", function()
    it(
      "with nothing built: the require fails naming `make module LUA=luajit`; :checkhealth shows it as an ERROR",
      function()
        local env, home = new_home()
        local dir = home .. "/.local/share/nvim/lazy/claude-agent-sdk-lua"
        copy_repo(dir)
        local check, R = run_driver("set rtp+=" .. dir .. "\n", env)
        check(not R.require.ok, "the require worked with nothing built")
        check(R.require.error_code == "ENOMODULE", "error code " .. tostring(R.require.error_code))
        check(
          R.require.build_command == "make module LUA=luajit",
          "build_command " .. tostring(R.require.build_command)
        )
        local msg = R.require.error
        check(
          msg:find("is not built for this LuaJIT", 1, true)
            and msg:find("`make module LUA=luajit` in " .. dir, 1, true)
            and msg:find(dir .. "/build/luajit/claude_agent_sdk/core.so", 1, true),
          "the require's message: " .. msg
        )
        has(check, R.health, "ERROR: claude_agent_sdk.core (the SDK's C module) is not built for this LuaJIT")
        has(check, R.health, "`make module LUA=luajit` in " .. dir)
        lacks(check, R.health, "Failed to run healthcheck")
      end
    )

    it(
      "built only for Lua 5.4 (make module): the require fails naming `make module LUA=luajit`; ERROR in "
        .. ":checkhealth",
      function()
        local env, home = new_home()
        local dir = home .. "/.local/share/nvim/lazy/claude-agent-sdk-lua"
        copy_repo(dir)
        local status, out = sh(dir, "make module")
        assert(status == 0 and h.exists(dir .. "/build/lua5.4/claude_agent_sdk/core.so"), "make module:\n" .. out)
        local check, R = run_driver("set rtp+=" .. dir .. "\n", env)
        check(not R.require.ok, "the require worked with only the Lua 5.4 build")
        check(R.require.error_code == "EWRONGLUA", "error code " .. tostring(R.require.error_code))
        local msg = R.require.error
        check(
          msg:find("built here only for lua5.4, not for this LuaJIT", 1, true)
            and msg:find("`make module LUA=luajit` in " .. dir, 1, true),
          "the require's message: " .. msg
        )
        has(check, R.health, "ERROR: claude_agent_sdk.core (the SDK's C module) is built here only for lua5.4")
        has(check, R.health, "`make module LUA=luajit` in " .. dir)
        lacks(check, R.health, "Failed to run healthcheck")
      end
    )
  end)
end)
