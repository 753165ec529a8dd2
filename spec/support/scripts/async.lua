-- Script of the offline model server for spec/async_spec.lua: slow streams to
-- interrupt or cancel, quick answers, and per-client streams in small pieces
-- so that several clients' streams interleave.

-- "1", ", 2", ..., ", n", ".": one streamed delta per number.
local function counting(to)
  local pieces = {}
  for i = 1, to do
    pieces[i] = (i == 1 and "" or ", ") .. i
  end
  pieces[#pieces + 1] = "."
  return pieces
end

local QUESTIONS = {
  { "2%s*%+%s*2", "2 + 2 = 4." },
  { "square root of 144", "The square root of 144 is 12." },
  { "10%% of 80", "10% of 80 is 8." },
}

-- The prompt text of the user messages after the last assistant message (one, or several merged into a turn).
local function new_user_text(req)
  local out = {}
  for i = #req.messages, 1, -1 do
    local m = req.messages[i]
    if m.role == "assistant" then
      break
    end
    local content = type(m.content) == "string" and { { type = "text", text = m.content } } or m.content
    for _, b in ipairs(type(content) == "table" and content or {}) do
      if b.type == "text" and type(b.text) == "string" and not b.text:match("^%s*<system%-reminder>") then
        table.insert(out, 1, b.text)
      end
    end
  end
  return table.concat(out, "\n")
end

-- The answers to the questions asked in this turn, in the order of QUESTIONS.
local function answers(req)
  local text, out = new_user_text(req), {}
  for _, q in ipairs(QUESTIONS) do
    if text:find(q[1]) then
      out[#out + 1] = q[2]
    end
  end
  return out
end

return {
  -- ~30 s: an interrupt must land mid-stream
  { match = "Count from 1 to 100 slowly", reply = { text = counting(100), delay_ms = 300 } },
  -- ~2.5 s: short enough to let it finish after a cancelled consumer
  { match = "Count from 1 to 25", reply = { text = counting(25), delay_ms = 100 } },
  { match = "joke", reply = "Why do programmers prefer dark mode? Because light attracts bugs." },
  -- the three questions of the concurrent example, answered together when the CLI merges queued messages
  {
    match = function(req)
      return #answers(req) > 0
    end,
    reply = function(req)
      return table.concat(answers(req), " ")
    end,
  },
  {
    -- "Stream for client N": a ~1 s stream of 4-character deltas naming the client
    match = { pattern = "Stream for client %d+" },
    reply = function(req)
      local n = req.last_user_text:match("Stream for client (%d+)")
      local text = ("Client %s: "):format(n) .. string.rep("abcdefgh", 16) .. " end."
      return { text = text, chunk_size = 4, delay_ms = 25 }
    end,
  },
  { match = "host loop", reply = "Hello from the host loop." },
  default = function(req)
    return "You said: " .. req.last_user_text
  end,
}
