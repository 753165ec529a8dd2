-- The lua-cjson baseline for `make bench`: no client, no process handling,
-- just the fake CLI's output read with io.lines and every line decoded with
-- cjson.decode until the result.  What plain Lua pays per message.
--   printf '{"type":"user"}\n' | BENCH_N=1000 build/bench/fake_cli | lua5.4 bench/cjson_baseline.lua
--   -> turn_ms=… messages=…
-- turn_ms runs from the first read to the result decoded; messages counts the
-- decoded lines (system/init + N frames + result), as the clients do.
local cjson = require("cjson")
local decode = cjson.decode

-- luv's nanosecond clock (os.clock is CPU time, not wall time; os.time is
-- whole seconds).  Loading luv costs ~0.3 ms, which the whole-process timing
-- of the baseline must not carry: BENCH_CLOCK=0 leaves it out (turn_ms=-1).
local uv = os.getenv("BENCH_CLOCK") ~= "0" and select(2, pcall(require, "luv"))
local now = type(uv) == "table" and function()
  return uv.hrtime() / 1e6
end or function()
  return -1
end

local t0 = now()
local n, done = 0, false
for line in io.lines() do
  local m = decode(line)
  n = n + 1
  if m.type == "result" then
    done = true
    break
  end
end
local t1 = now()
if not done then
  io.stderr:write("cjson_baseline: input ended before the result\n")
  os.exit(1)
end
print(("turn_ms=%.3f messages=%d"):format(t0 < 0 and -1 or t1 - t0, n))
