-- One bench run through the public API: connect to the fake CLI, one turn,
-- consume every message until the result, disconnect.  Prints
--   connect_ms=… turn_ms=… messages=…
-- with the native floor's definitions (bench/floor.c): connect is connect()
-- (spawn + initialize answered), turn is query() until the result message is
-- in hand; messages counts every message of the turn, the result included.
--   BENCH_CLI=build/bench/fake_cli BENCH_N=1000 lua5.4 bench/client.lua
local claude = require("claude_agent_sdk")

-- Fractional milliseconds: a connect takes about one.
local now = require("claude_agent_sdk.core").hrtime

local partial = os.getenv("BENCH_PARTIAL") == "1"
local client = claude.ClaudeSDKClient.new({
  cli_path = os.getenv("BENCH_CLI"),
  include_partial_messages = partial or nil,
})
local t0 = now()
client:connect()
local t1 = now()
client:query("go")
local n = 0
for _ in client:receive_response() do
  n = n + 1
end
local t2 = now()
client:disconnect()
print(("connect_ms=%.3f turn_ms=%.3f messages=%d"):format(t1 - t0, t2 - t1, n))
