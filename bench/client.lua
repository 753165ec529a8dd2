-- One bench run through the public API: connect to the fake CLI, one turn,
-- consume every message until the result, disconnect.  Prints
-- "messages=N" so the harness can check the work was done.
--   BENCH_CLI=build/bench/fake_cli BENCH_N=1000 lua5.4 bench/client.lua
local claude = require("claude_agent_sdk")
local partial = os.getenv("BENCH_PARTIAL") == "1"
local client = claude.ClaudeSDKClient.new({
  cli_path = os.getenv("BENCH_CLI"),
  include_partial_messages = partial or nil,
})
client:connect()
client:query("go")
local n = 0
for _ in client:receive_response() do n = n + 1 end
client:disconnect()
print("messages=" .. n)
