-- JSON to Lua and back through the C core (cJSON): null, arrays, integers,
-- depth limits, typed errors for invalid UTF-8 and invalid JSON.
local json = require("claude_agent_sdk.json")
local errors = require("claude_agent_sdk.errors")
local core = require("claude_agent_sdk.core")

local function raises_kind(kind, fn)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  assert.is_true(errors.is(err, kind), "expected " .. kind .. ", got " .. tostring(err))
  return err
end

describe("json", function()
  it("maps null to a light userdata that survives a round trip", function()
    local v = json.decode('{"a":null,"b":[null,1]}')
    assert.are.equal(json.null, v.a)
    assert.are.equal("userdata", type(v.a))
    assert.are.equal(json.null, v.b[1])
    local text = json.encode(v)
    assert.truthy(text:find('"a":null', 1, true))
    assert.truthy(text:find('"b":[null,1]', 1, true))
    local ok_cjson, cjson = pcall(require, "cjson")
    if ok_cjson then
      assert.are.equal(cjson.null, json.null)
    end
  end)

  it("tells an empty array from an empty object, both ways", function()
    local v = json.decode('{"arr":[],"obj":{}}')
    assert.are.equal(json.array_mt, getmetatable(v.arr))
    assert.is_nil(getmetatable(v.obj))
    assert.are.equal("[]", json.encode(v.arr))
    assert.are.equal("{}", json.encode(v.obj))
    assert.are.equal("[]", json.encode(json.array()))
    assert.are.equal("[1,2,3]", json.encode({ 1, 2, 3 }))
  end)

  it("keeps integers as integers (Lua 5.3+) and floats as floats", function()
    local v = json.decode('{"i":42,"big":1234567890123,"neg":-7,"f":1.5,"e":2.5e-3}')
    assert.are.equal(42, v.i)
    assert.are.equal(1234567890123, v.big)
    assert.are.equal(-7, v.neg)
    assert.are.equal(1.5, v.f)
    assert.are.equal(0.0025, v.e)
    if math.type then
      assert.are.equal("integer", math.type(v.i))
      assert.are.equal("integer", math.type(v.big))
      assert.are.equal("float", math.type(v.f))
    end
    assert.are.equal('{"n":1234567890123}', json.encode({ n = 1234567890123 }))
    assert.are.equal('{"n":0.5}', json.encode({ n = 0.5 }))
  end)

  it("round-trips nested structures and UTF-8 text", function()
    local text = '{"input":{"command":"echo ünïcødé ✓ 🎉","args":[[],{},[1,[2,[3]]]],"flag":false,"t":true}}'
    local v = json.decode(text)
    assert.are.same(v, json.decode(json.encode(v)))
    assert.are.equal("echo ünïcødé ✓ 🎉", v.input.command)
    assert.are.equal("[]", json.encode(v.input.args[1]))
  end)

  it("accepts nesting up to the limit and rejects deeper with a typed error", function()
    local limit = core.max_depth
    local ok_text = string.rep("[", limit) .. string.rep("]", limit)
    assert.is_table(json.decode(ok_text))
    local err = raises_kind("CLIJSONDecodeError", function()
      json.decode(string.rep("[", 100000) .. string.rep("]", 100000))
    end)
    assert.are.equal("EDEPTH", err.code)
  end)

  it("rejects invalid UTF-8 with a typed error", function()
    local err = raises_kind("CLIJSONDecodeError", function()
      json.decode('{"s":"\192\128"}')
    end)
    assert.are.equal("EUTF8", err.code)
    err = raises_kind("CLIJSONDecodeError", function()
      json.decode('{"s":"\237\160\128"}')
    end)
    assert.are.equal("EUTF8", err.code)
  end)

  it("rejects invalid JSON with a typed error that quotes the input", function()
    for _, bad in ipairs({ '{"a":1', '{"a":1} trailing', "nope", '{"a":}', "" }) do
      local err = raises_kind("CLIJSONDecodeError", function()
        json.decode(bad)
      end)
      assert.are.equal("EJSON", err.code)
    end
  end)

  it("decodes escapes: \\u0000, surrogate pairs, a lone surrogate as U+FFFD", function()
    assert.are.equal("a\0b", json.decode('"a\\u0000b"'))
    assert.are.equal("\u{1F600}x", json.decode('"\\ud83d\\ude00x"'))
    assert.are.equal("\u{FFFD}!", json.decode('"\\ud83d!"'))
    assert.are.equal("\u{FFFD}\u{FFFD}", json.decode('"\\ude00\\ud83d"'))
    assert.are.equal('q"b\\s/\b\f\n\r\t', json.decode('"q\\"b\\\\s\\/\\b\\f\\n\\r\\t"'))
    local long = string.rep('ab\\ncd\\"', 5000)
    assert.are.equal(string.rep('ab\ncd"', 5000), json.decode('"' .. long .. '"'))
  end)

  it("reads integers exactly and everything else as a float", function()
    assert.are.equal(9007199254740993, json.decode("9007199254740993") + 0)
    assert.are.equal(-9223372036854775807 - 1, json.decode("-9223372036854775808"))
    assert.are.equal(1e20, json.decode("100000000000000000000"))
    assert.are.equal(1000, json.decode("1e3"))
    assert.are.equal(-0.25, json.decode("-2.5E-1"))
    if math.type then
      assert.are.equal("integer", math.type(json.decode("9223372036854775807")))
      assert.are.equal("float", math.type(json.decode("1.0")))
      assert.are.equal("float", math.type(json.decode("1e3")))
    end
  end)

  -- Random documents (escapes, UTF-8, numbers, nesting, whitespace) decoded by
  -- the core and by lua-cjson must agree value for value.
  it("agrees with lua-cjson on 3000 random documents", function()
    local ok_cjson, cjson = pcall(require, "cjson")
    if not ok_cjson then
      pending("lua-cjson is not installed for this Lua (Debian: lua-cjson)")
      return
    end
    local seed = 20261121
    local function rnd(n)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    end
    local pieces = {
      "a",
      "Z",
      " ",
      "0",
      "\\n",
      "\\t",
      '\\"',
      "\\\\",
      "\\/",
      "\\u00e9",
      "\\u20ac",
      "\\ud83d\\ude00",
      "é",
      "✓",
      "🎉",
      "\\u0041",
      "\\b",
      "\\f",
      "\\r",
    }
    local function str()
      local t = {}
      for i = 1, rnd(12) do
        t[i] = pieces[rnd(#pieces) + 1]
      end
      return '"' .. table.concat(t) .. '"'
    end
    local nums = { "0", "-0", "7", "-12", "3.25", "-1e3", "2E-2", "123456789012", "1.5e300", "0.1" }
    local ws = { "", "", "", " ", "\n ", "\t" }
    local gen
    gen = function(depth)
      local k = rnd(depth > 4 and 5 or 7)
      local w = ws[rnd(#ws) + 1]
      if k == 0 then
        return str()
      elseif k == 1 then
        return nums[rnd(#nums) + 1]
      elseif k == 2 then
        return ({ "true", "false", "null" })[rnd(3) + 1]
      elseif k == 3 then
        return str()
      elseif k == 4 then
        return nums[rnd(#nums) + 1]
      elseif k == 5 then
        local t = {}
        for i = 1, rnd(5) do
          t[i] = gen(depth + 1)
        end
        return "[" .. w .. table.concat(t, w .. "," .. w) .. w .. "]"
      else
        local t = {}
        for i = 1, rnd(5) do
          t[i] = str() .. w .. ":" .. w .. gen(depth + 1)
        end
        return "{" .. w .. table.concat(t, "," .. w) .. "}"
      end
    end
    local function same(a, b, path)
      if type(a) == "table" and type(b) == "table" then
        for k, v in pairs(a) do
          same(v, b[k], path .. "." .. tostring(k))
        end
        for k in pairs(b) do
          if a[k] == nil then
            error("extra key " .. path .. "." .. tostring(k))
          end
        end
      elseif a ~= b then
        error(("differs at %s: %s vs %s"):format(path, tostring(a), tostring(b)))
      end
    end
    for i = 1, 3000 do
      local text = gen(0)
      local ok, err = pcall(same, json.decode(text), cjson.decode(text), "$")
      if not ok then
        error(("document %d %s: %s"):format(i, text, err))
      end
    end
  end)

  it("refuses to encode what JSON cannot hold", function()
    local cyc = {}
    cyc.self = cyc
    for _, v in ipairs({
      { 1, x = 2 },
      { [1] = 1, [3] = 3 },
      function() end,
      cyc,
      { s = "\255" },
      { n = 0 / 0 },
      { n = math.huge },
    }) do
      raises_kind("ClaudeSDKError", function()
        json.encode(v)
      end)
    end
    local deep = {}
    local cur = deep
    for _ = 1, 10000 do
      cur.x = {}
      cur = cur.x
    end
    raises_kind("ClaudeSDKError", function()
      json.encode(deep)
    end)
  end)
end)
