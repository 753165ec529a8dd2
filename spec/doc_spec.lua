-- The documentation against the code: doc/claude_agent_sdk.txt (the Neovim help file) and README.md.
--   * Neovim's :helptags accepts the help file (no duplicate tag, no other error), run on a temporary copy so
--     no doc/tags file is left behind;
--   * every public function has a tag in the help file: the module's functions, the ClaudeSDKClient methods,
--     the task methods, claude.stream.*, claude.json.*, claude.errors.is; every error kind has a tag; every
--     option key, message class and hook event is named; so the help cannot silently fall behind the code;
--   * every |link| in the help file points to one of its tags or to one of Neovim's own;
--   * the help file keeps to 78 columns, has its first-line tag and its modeline;
--   * the Lua code of the help file's examples and of README.md's ```lua blocks compiles;
--   * LICENSE is MIT with the project's copyright line, quoted whole by the help file, named by README.md and the
--     rockspecs.
local claude = require("claude_agent_sdk")
local h = require("support.helpers")
local async = require("claude_agent_sdk.async")
local options = require("claude_agent_sdk.options")
local messages = require("claude_agent_sdk.messages")
local hooks = require("claude_agent_sdk.hooks")

local ROOT = os.getenv("PWD") or "."
local DOC = ROOT .. "/doc/claude_agent_sdk.txt"
local README = ROOT .. "/README.md"
local compile = loadstring or load -- LuaJIT's load takes no string chunk in every build

local q = h.sh_quote

local function read(path)
  local f = assert(io.open(path, "rb"), "cannot read " .. path)
  local s = f:read("*a")
  f:close()
  return s
end

local function lines_of(text)
  local out = {}
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    out[#out + 1] = line
  end
  if out[#out] == "" then
    out[#out] = nil
  end
  return out
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    keys[#keys + 1] = k
  end
  table.sort(keys, function(a, b)
    return tostring(a) < tostring(b)
  end)
  return keys
end

-- The help file split into text lines and example blocks. An example starts after a line that is ">" or ends
-- in " >", and ends before a line starting with "<" or with a non-blank character (Neovim 0.7's help syntax).
local function parse_help(text)
  local prose, blocks = {}, {}
  local block
  for i, line in ipairs(lines_of(text)) do
    if block and (line:match("^<") or line:match("^[^%s]")) then
      blocks[#blocks + 1] = block
      block = nil
      if line:match("^<") then
        line = line:sub(2)
      end
    end
    if block then
      block.lines[#block.lines + 1] = line
    else
      prose[#prose + 1] = { n = i, text = line }
      if line == ">" or line:match(" >$") then
        block = { start = i + 1, lines = {} }
      end
    end
  end
  if block then
    blocks[#blocks + 1] = block
  end
  return prose, blocks
end

-- Tags defined in help text: *tag*, no white space, "*" or "|" inside.
local function tags_in(text)
  local tags = {}
  for line in text:gmatch("[^\n]+") do
    for tag in line:gmatch("%*([^%s%*|]+)%*") do
      tags[tag] = (tags[tag] or 0) + 1
    end
  end
  return tags
end

describe("doc/claude_agent_sdk.txt", function()
  local text = read(DOC)
  local tags = tags_in(text)
  local prose, blocks = parse_help(text)

  it("passes :helptags in headless Neovim with no duplicate tag", function()
    local nvim = h.nvim_path()
    if not nvim then
      pending("skipped: nvim is not installed (Debian: apt-get install neovim), so :helptags cannot run")
      return
    end
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. q(dir .. "/doc")))
    local f = assert(io.open(dir .. "/doc/claude_agent_sdk.txt", "wb"))
    f:write(text)
    f:close()
    local cmd = (
      "cd %s && timeout -k 5 30 %s --headless -u NONE -i NONE -c %s -c 'qa!' </dev/null 2>&1; "
      .. 'echo "[exit $?]"'
    ):format(q(dir), q(nvim), q("helptags " .. dir .. "/doc"))
    local p = assert(io.popen(cmd, "r"))
    local out = p:read("*a")
    p:close()
    local tagfile = io.open(dir .. "/doc/tags")
    local generated = tagfile and tagfile:read("*a") or ""
    if tagfile then
      tagfile:close()
    end
    os.execute("rm -rf " .. q(dir))
    local status = tonumber(out:match("%[exit (%d+)%]%s*$"))
    out = out:gsub("%[exit %d+%]%s*$", "")
    assert.are.equal(0, status, "nvim exited with " .. tostring(status) .. ":\n" .. out)
    assert.is_nil(out:find("E154", 1, true), "duplicate tags:\n" .. out)
    assert.is_nil(out:find("E%d+:"), "helptags reported an error:\n" .. out)
    assert.truthy(
      generated:find("claude_agent_sdk.ClaudeSDKClient:query()\t", 1, true),
      "the generated tags file lacks the client's tags:\n" .. generated:sub(1, 500)
    )
  end)

  it("defines every tag once", function()
    for _, tag in ipairs(sorted_keys(tags)) do
      assert.are.equal(1, tags[tag], "tag *" .. tag .. "* is defined " .. tags[tag] .. " times")
    end
  end)

  it("has a tag for every public function", function()
    local missing = {}
    local function want(tag, alt)
      if not tags[tag] and not (alt and tags[alt]) then
        missing[#missing + 1] = tag
      end
    end
    local function each_function(t, fn)
      for _, k in ipairs(sorted_keys(t)) do
        if type(t[k]) == "function" and type(k) == "string" and not k:match("^_") then
          fn(k)
        end
      end
    end
    each_function(claude, function(k)
      want("claude_agent_sdk." .. k .. "()")
    end)
    each_function(claude.ClaudeSDKClient, function(k)
      want("claude_agent_sdk.ClaudeSDKClient:" .. k .. "()", "claude_agent_sdk.ClaudeSDKClient." .. k .. "()")
    end)
    each_function(async.Task, function(k)
      want("claude_agent_sdk.Task:" .. k .. "()")
    end)
    each_function(claude.stream, function(k)
      want("claude_agent_sdk.stream." .. k .. "()")
    end)
    each_function(claude.json, function(k)
      want("claude_agent_sdk.json." .. k .. "()")
    end)
    want("claude_agent_sdk.errors.is()")
    want("claude_agent_sdk.async.suspend()")
    for _, kind in ipairs(sorted_keys(claude.errors.kinds)) do
      want("claude_agent_sdk." .. kind)
    end
    assert.are.same({}, missing, "functions or error kinds without a tag in " .. DOC)
  end)

  it("names every option, message class and hook event", function()
    local missing = {}
    local function named(word, where)
      -- a whole word: not part of a longer identifier
      if not (" " .. text .. " "):find("[^%w_]" .. word:gsub("%p", "%%%0") .. "[^%w_]") then
        missing[#missing + 1] = where .. " " .. word
      end
    end
    for _, key in ipairs(sorted_keys(options.KNOWN)) do
      named(key, "option")
    end
    for _, name in ipairs(sorted_keys(messages.classes)) do
      named(name, "class")
    end
    for _, event in ipairs({
      "PreToolUse",
      "PostToolUse",
      "UserPromptSubmit",
      "Stop",
      "SubagentStop",
      "PreCompact",
      "Notification",
      "SessionStart",
      "SessionEnd",
    }) do
      assert.is_true(hooks.EVENTS[event], event .. " is not a hook event any more")
      named(event, "hook event")
    end
    assert.are.same({}, missing, "not named anywhere in " .. DOC)
  end)

  it("links only to tags that exist", function()
    local builtin = {}
    local runtime_tags = io.open("/usr/share/nvim/runtime/doc/tags")
    if runtime_tags then
      for line in runtime_tags:lines() do
        builtin[line:match("^[^\t]+")] = true
      end
      runtime_tags:close()
    end
    local broken = {}
    for _, l in ipairs(prose) do
      for link in l.text:gmatch("|([^%s|]+)|") do
        local ours = link:match("^claude_agent_sdk")
        if not tags[link] and (ours or (runtime_tags and not builtin[link])) then
          broken[#broken + 1] = ("line %d: |%s|"):format(l.n, link)
        end
      end
    end
    assert.are.same({}, broken, "links to no tag")
  end)

  it("keeps to 78 columns and has its first line and modeline", function()
    local all = lines_of(text)
    assert.truthy(all[1]:match("^%*claude_agent_sdk%.txt%*"), "first line: " .. all[1])
    assert.truthy(all[#all]:match("vim:tw=78:ts=8:ft=help:norl:"), "last line: " .. all[#all])
    for i, line in ipairs(all) do
      assert.is_nil(line:find("[\128-\255]"), ("line %d is not ASCII: %s"):format(i, line))
      assert.is_nil(line:find("\t"), ("line %d has a tab: %s"):format(i, line))
      assert.is_true(#line <= 78, ("line %d has %d columns: %s"):format(i, #line, line))
    end
  end)

  it("has examples whose Lua compiles", function()
    assert.is_true(#blocks > 10, "expected examples in the help file")
    local checked = 0
    for _, b in ipairs(blocks) do
      local first = ""
      for _, line in ipairs(b.lines) do
        if line:match("%S") then
          first = line:match("^%s*(.-)%s*$")
          break
        end
      end
      -- Ex commands and shell commands are not Lua.
      if not (first:match("^:") or first:match("^luarocks ") or first:match("^make ") or first:match("^git ")) then
        local code = table.concat(b.lines, "\n")
        local fn, err = compile(code, "=doc line " .. b.start)
        assert.is_truthy(fn, ("the example at line %d does not compile: %s\n%s"):format(b.start, tostring(err), code))
        checked = checked + 1
      end
    end
    assert.is_true(checked > 10, "expected Lua examples, checked " .. checked)
  end)
end)

describe("the licence", function()
  local license = read(ROOT .. "/LICENSE")

  it("is MIT, in LICENSE, with the project's copyright line", function()
    assert.truthy(
      license:match("^MIT License\n\nCopyright %(c%) 2026 The Claude Agent SDK for Lua authors\n"),
      license:sub(1, 200)
    )
    assert.truthy(license:find("Permission is hereby granted, free of charge,", 1, true))
  end)

  it("is quoted whole by the help file, which the rock installs, and named by the README and both rockspecs", function()
    local help = read(DOC)
    assert.truthy(help:find("*claude_agent_sdk-license*", 1, true), "no licence section in the help file")
    assert.truthy(help:find(license, 1, true), "the help file does not quote LICENSE word for word")
    local readme = read(README)
    assert.truthy(readme:find("\n## Licence\n\nMIT: see %[LICENSE%]%(LICENSE%)"), "README.md has no licence section")
    for _, name in ipairs({ "claude-agent-sdk-scm-1.rockspec", "claude-agent-sdk-testing-scm-1.rockspec" }) do
      local spec = {}
      assert(loadfile(ROOT .. "/rockspec/" .. name, "t", spec))()
      assert.are.equal("MIT", spec.description.license, name)
    end
  end)
end)

describe("README.md", function()
  local text = read(README)

  it("starts with make demo and make test", function()
    local first = text:match("```sh\n(.-)```")
    assert.truthy(first, "no sh block")
    local cmds = {}
    for line in first:gmatch("[^\n]+") do
      cmds[#cmds + 1] = line:match("^(%S+ %S+)")
    end
    assert.are.same({ "make demo", "make test" }, cmds)
  end)

  it("has Lua blocks that compile", function()
    local n = 0
    local at = 1
    while true do
      local s, e, code = text:find("```lua\n(.-)```", at)
      if not s then
        break
      end
      at = e + 1
      n = n + 1
      local line = select(2, text:sub(1, s):gsub("\n", "")) + 2
      local fn, err = compile(code, "=README.md line " .. line)
      assert.is_truthy(fn, ("the block at README.md line %d does not compile: %s"):format(line, tostring(err)))
    end
    assert.is_true(n >= 5, "expected Lua blocks in README.md, found " .. n)
  end)
end)
