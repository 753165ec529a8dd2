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
    if ok_cjson then assert.are.equal(cjson.null, json.null) end
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
    local err = raises_kind("CLIJSONDecodeError", function() json.decode('{"s":"\192\128"}') end)
    assert.are.equal("EUTF8", err.code)
    err = raises_kind("CLIJSONDecodeError", function() json.decode('{"s":"\237\160\128"}') end)
    assert.are.equal("EUTF8", err.code)
  end)

  it("rejects invalid JSON with a typed error that quotes the input", function()
    for _, bad in ipairs({ '{"a":1', '{"a":1} trailing', "nope", '{"a":}', "" }) do
      local err = raises_kind("CLIJSONDecodeError", function() json.decode(bad) end)
      assert.are.equal("EJSON", err.code)
    end
  end)

  it("refuses to encode what JSON cannot hold", function()
    local cyc = {}
    cyc.self = cyc
    for _, v in ipairs({ { 1, x = 2 }, { [1] = 1, [3] = 3 }, function() end, cyc, { s = "\255" }, { n = 0 / 0 },
      { n = math.huge } }) do
      raises_kind("ClaudeSDKError", function() json.encode(v) end)
    end
    local deep = {}
    local cur = deep
    for _ = 1, 10000 do cur.x = {}; cur = cur.x end
    raises_kind("ClaudeSDKError", function() json.encode(deep) end)
  end)
end)
