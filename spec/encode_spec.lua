-- Lua -> JSON through the C module's encoder (core.encode, csrc/lua_cas_json.c),
-- which writes into a buffer owned by a userdata: integers exactly, floats in
-- the fewest digits that read back the same, and a typed error with the path
-- for anything JSON cannot hold.  What it writes must read back as the same
-- value through lua-cjson (a decoder that is not ours) and through our own
-- decoder (core.decode), integers exact and floats float on Lua 5.4.
local core = require("claude_agent_sdk.core")
local json = require("claude_agent_sdk.json")
local errors = require("claude_agent_sdk.errors")

local null, array_mt = core.null, core.array_mt
local has_integers = math.type ~= nil -- Lua 5.3+; LuaJIT has only doubles
local ok_cjson, cjson = pcall(require, "cjson")

local function encode_error(v)
  local ok, err = pcall(core.encode, v)
  assert.is_false(ok, "encoded: " .. tostring(err))
  return tostring(err)
end

-- What the encoder makes of a table: "array" (array_mt, or keys 1..n with n >
-- 0) or "object".
local function kind(t)
  if getmetatable(t) == array_mt then
    return "array"
  end
  return next(t) ~= nil and #t > 0 and "array" or "object"
end

-- Deep equality of an original value and what came back.  exact: integers
-- must come back as integers and floats as floats (our decoder, Lua 5.4); else
-- numbers are compared as doubles (lua-cjson reads every number as a double).
-- marks: arrays must come back with array_mt (our decoder).
local function same(orig, back, path, exact, marks)
  if type(orig) == "table" then
    if type(back) ~= "table" then
      error(("%s: a table came back as %s"):format(path, tostring(back)))
    end
    if marks and (kind(orig) == "array") ~= (getmetatable(back) == array_mt) then
      error(path .. ": array/object kind differs")
    end
    if kind(orig) == "array" then
      if #back ~= #orig then
        error(("%s: %d elements came back as %d"):format(path, #orig, #back))
      end
      for i = 1, #orig do
        same(orig[i], back[i], ("%s[%d]"):format(path, i), exact, marks)
      end
    else
      for k, v in pairs(orig) do
        same(v, back[k], path .. "." .. k, exact, marks)
      end
      for k in pairs(back) do
        if orig[k] == nil then
          error(path .. ": extra key " .. tostring(k))
        end
      end
    end
  elseif type(orig) == "number" then
    if type(back) ~= "number" then
      error(("%s: %s came back as %s"):format(path, orig, tostring(back)))
    end
    if exact and has_integers and math.type(orig) ~= math.type(back) then
      error(("%s: %s (%s) came back as %s (%s)"):format(path, orig, math.type(orig), back, math.type(back)))
    end
    local want = exact and orig or orig + 0.0
    if back ~= want then
      error(("%s: %.17g came back as %.17g"):format(path, orig, back))
    end
    if orig == 0 and 1 / orig ~= 1 / back and not (has_integers and math.type(orig) == "integer") then
      error(path .. ": the sign of zero was lost")
    end
  elseif orig ~= back then
    error(("%s: %s came back as %s"):format(path, tostring(orig), tostring(back)))
  end
end

-- A seeded generator of the values the encoder takes.
local function generator(seed)
  local function rnd(n)
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  end
  local pieces = {
    "a",
    "Z",
    "_",
    "0",
    " ",
    "\0",
    "\1",
    "\31",
    "\127",
    '"',
    "\\",
    "/",
    "\n",
    "\t",
    "\r",
    "\b",
    "\f",
    "é",
    "✓",
    "🎉",
    "\u{2028}",
    "key",
    "x y",
  }
  local function str()
    local t = {}
    for i = 1, rnd(8) do
      t[i] = pieces[rnd(#pieces) + 1]
    end
    return table.concat(t)
  end
  local function float()
    local k = rnd(9)
    if k == 0 then
      return -0.0
    end
    if k == 1 then
      return ({ 0.1, 1e300, -1e-300, 5e-324, 1.7976931348623157e308, 2.2250738585072014e-308 })[rnd(6) + 1]
    end
    if k == 2 then
      return (rnd(2000001) - 1000000) + 0.0
    end -- integral floats: 3.0 stays a float on 5.4
    if k == 3 then
      return (rnd(2147483647) - 1073741823) / (rnd(1000) + 1)
    end
    local m = (rnd(2147483647) + 1) / 2147483648 * (rnd(2) == 0 and 1 or -1)
    return m * 2.0 ^ (rnd(2000) - 1000)
  end
  local function integer()
    if not has_integers then
      return rnd(2000001) - 1000000
    end
    local k = rnd(5)
    if k == 0 then
      return ({ math.maxinteger, math.mininteger, 9007199254740993, -9007199254740993, 0 })[rnd(5) + 1]
    end
    if k == 1 then
      return rnd(2147483647) * 4294967296 + rnd(2147483647) * (rnd(2) == 0 and 1 or -1)
    end
    return rnd(200001) - 100000
  end
  local gen
  gen = function(depth)
    local k = rnd(depth > 4 and 6 or 9)
    if k == 0 then
      return str()
    elseif k == 1 then
      return integer()
    elseif k == 2 then
      return float()
    elseif k == 3 then
      return ({ true, false, null })[rnd(3) + 1]
    elseif k == 4 then
      return str()
    elseif k == 5 then
      return integer()
    elseif k == 6 then -- an array: marked, or a plain sequence
      local t = {}
      for i = 1, rnd(5) do
        t[i] = gen(depth + 1)
      end
      if #t == 0 or rnd(2) == 0 then
        setmetatable(t, array_mt)
      end
      return t
    else -- an object (maybe empty: {})
      local t = {}
      for _ = 1, rnd(5) do
        t[str() .. "k"] = gen(depth + 1)
      end
      return t
    end
  end
  return gen
end

describe("core.encode", function()
  it("writes integers exactly, floats that read back the same, and -0.0 with its sign", function()
    if has_integers then
      assert.are.equal("9007199254740993", core.encode(math.tointeger(2 ^ 53) + 1))
      assert.are.equal("9223372036854775807", core.encode(math.maxinteger))
      assert.are.equal("-9223372036854775808", core.encode(math.mininteger))
      assert.are.equal(math.maxinteger, core.decode(core.encode(math.maxinteger)))
      assert.are.equal(math.mininteger, core.decode(core.encode(math.mininteger)))
      assert.are.equal(math.tointeger(2 ^ 53) + 1, core.decode(core.encode({ n = math.tointeger(2 ^ 53) + 1 })).n)
      assert.are.equal('{"n":9007199254740993}', core.encode({ n = 9007199254740993 }))
      -- an integral float stays a float: written with ".0", read back as one
      assert.are.equal("3.0", core.encode(3.0))
      assert.are.equal("float", math.type(core.decode(core.encode(3.0))))
      assert.are.equal("integer", math.type(core.decode(core.encode(3))))
    else
      -- LuaJIT: every number is a double; an integral one within 2^53 is an integer
      assert.are.equal("9007199254740992", core.encode(2 ^ 53 + 1))
      assert.are.equal("3", core.encode(3.0))
      assert.are.equal("-7", core.encode(-7))
    end
    assert.are.equal("0.1", core.encode(0.1))
    assert.are.equal(0.1, core.decode(core.encode(0.1)))
    assert.are.equal("1e+300", core.encode(1e300))
    assert.are.equal(1e300, core.decode(core.encode(1e300)))
    assert.are.equal("-0.0", core.encode(-0.0))
    assert.are.equal(-math.huge, 1 / core.decode(core.encode(-0.0)))
    assert.are.equal(1 / 3, core.decode(core.encode(1 / 3)))
    assert.are.equal(5e-324, core.decode(core.encode(5e-324)))
    if ok_cjson then
      assert.are.equal(-math.huge, 1 / cjson.decode(core.encode(-0.0)))
      assert.are.equal(0.1, cjson.decode(core.encode(0.1)))
      assert.are.equal(1e300, cjson.decode(core.encode(1e300)))
    end
  end)

  it("writes null, arrays marked with array_mt (an empty one as []), objects and escapes", function()
    assert.are.equal("null", core.encode(null))
    assert.are.equal("null", core.encode(nil))
    assert.are.equal("[]", core.encode(setmetatable({}, array_mt)))
    assert.are.equal("{}", core.encode({}))
    assert.are.equal("[1,null,true]", core.encode({ 1, null, true }))
    assert.are.equal('{"a":[]}', core.encode({ a = json.array() }))
    -- array_mt decides: its elements 1..#t, whatever else it holds
    assert.are.equal("[1,2]", core.encode(setmetatable({ 1, 2, x = 3 }, array_mt)))
    assert.are.equal('"a\\u0000b\\u0001\\n\\"\\\\/é\127"', core.encode('a\0b\1\n"\\/é\127'))
    assert.are.equal("a\0b", core.decode(core.encode("a\0b")))
  end)

  it("nests up to core.max_depth containers (what the decoder reads back); one more is an error", function()
    local function nested(n)
      local root = setmetatable({}, array_mt)
      local cur = root
      for _ = 2, n do
        local t = setmetatable({}, array_mt)
        cur[1] = t
        cur = t
      end
      return root
    end
    local text = core.encode(nested(core.max_depth))
    assert.are.equal(("["):rep(core.max_depth) .. ("]"):rep(core.max_depth), text)
    assert.is_table(core.decode(text))
    local err = encode_error(nested(core.max_depth + 1))
    assert.matches("cannot encode a table nested deeper than " .. core.max_depth .. " levels at %$%[1%]%[1%]", err)
    local deep = {}
    local cur = deep
    for _ = 1, 10000 do
      cur.x = {}
      cur = cur.x
    end
    assert.matches("nested deeper than", encode_error(deep))
  end)

  it("refuses what JSON cannot hold with the path to it", function()
    local cyc = { a = { 1 } }
    cyc.a[2] = { b = cyc }
    assert.are.equal("cannot encode a reference cycle (a table that contains itself) at $.a[2].b", encode_error(cyc))
    local self = {}
    self[1] = self
    assert.are.equal("cannot encode a reference cycle (a table that contains itself) at $[1]", encode_error(self))
    -- a table met twice, not inside itself, is fine
    local shared = { 1 }
    assert.are.equal("[[1],[1]]", core.encode({ shared, shared }))
    assert.are.equal("cannot encode a function at $.a[2].b", encode_error({ a = { 1, { b = print } } }))
    assert.are.equal("cannot encode a function at $", encode_error(print))
    assert.are.equal('cannot encode NaN at $["a b"][1]', encode_error({ ["a b"] = { 0 / 0 } }))
    assert.are.equal("cannot encode an infinity at $.n", encode_error({ n = -math.huge }))
    assert.are.equal("cannot encode a string that is not valid UTF-8 at $.s", encode_error({ s = "\255" }))
    assert.are.equal('cannot encode a key that is not valid UTF-8 at $["\255"]', encode_error({ ["\255"] = 1 }))
    assert.are.equal(
      "cannot encode a table that mixes string and integer keys at $.t",
      encode_error({ t = { 1, x = 2 } })
    )
    assert.are.equal("cannot encode a sparse array (holes are not JSON) at $", encode_error({ [1] = 1, [3] = 3 }))
    assert.are.equal("cannot encode a table with a boolean key at $", encode_error({ [true] = 1 }))
    assert.are.equal("cannot encode a table with a number key that is not 1..n at $", encode_error({ [0.5] = 1 }))
    assert.are.equal("cannot encode a userdata at $[1]", encode_error({ io.stdout }))
    assert.are.equal("cannot encode a thread at $.co", encode_error({ co = coroutine.create(print) }))
    -- json.encode raises the library's typed error for each
    for _, v in ipairs({ cyc, { f = print }, { n = 0 / 0 }, { n = math.huge }, { s = "\255" } }) do
      local ok, err = pcall(json.encode, v)
      assert.is_false(ok)
      assert.is_true(errors.is(err, "ClaudeSDKError"), tostring(err))
    end
  end)

  it("frees its buffer when it raises midway (a value past megabytes of text)", function()
    local big = ("x"):rep(1048576)
    for _ = 1, 5 do
      local t = setmetatable({}, array_mt)
      for i = 1, 4 do
        t[i] = big
      end
      t[5] = print
      assert.matches("at %$%[5%]$", encode_error(t))
    end
    collectgarbage()
    collectgarbage()
    -- the sanitized and valgrind runs of this spec report a buffer left behind
  end)

  it("round-trips 3000 random values through lua-cjson and through core.decode", function()
    local gen = generator(20261205)
    local checked_cjson = 0
    for i = 1, 3000 do
      local v = gen(0)
      local text = core.encode(v)
      local ok, err = pcall(same, v, core.decode(text), "$", true, true)
      if not ok then
        error(("value %d %s: core.decode: %s"):format(i, text, err))
      end
      if ok_cjson then
        local decoded = cjson.decode(text)
        ok, err = pcall(same, v, decoded, "$", false, false)
        if not ok then
          error(("value %d %s: cjson: %s"):format(i, text, err))
        end
        checked_cjson = checked_cjson + 1
      end
    end
    if not ok_cjson then
      print(
        "# encode_spec: lua-cjson is not installed for "
          .. _VERSION
          .. " (Debian: lua-cjson); "
          .. "the random values were checked through core.decode only"
      )
    end
  end)
end)
