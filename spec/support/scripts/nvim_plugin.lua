-- Script of the offline model server for spec/nvim_plugin_spec.lua: a story streamed in many small deltas (so the
-- chat buffer must change more than once), then everything examples/scripts/examples.lua answers (the Bash
-- `touch` that needs permission, the slow count to interrupt, "What is 2 + 2?").
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "spec/support/scripts"
local examples = dofile(here .. "/../../../examples/scripts/examples.lua")

local rules = {
  {
    match = "tell me a story",
    reply = { text = { "Once ", "upon ", "a ", "time ", "there ", "was ", "a ", "Lua ", "plugin." }, delay_ms = 40 },
  },
}
for _, rule in ipairs(examples) do
  rules[#rules + 1] = rule
end
rules.default, rules.side = examples.default, examples.side
return rules
