--- Scripts for the offline model server: what a request looks like to a rule, which rule answers it, and how a
--- rule's reply becomes a complete message.
---
--- Contract: `script.request(body, info)` turns a decoded `/v1/messages` body into the `req` table rules see.
--- `script.new(rules)` returns a script; `script:answer(req)` picks a reply (side requests first, then the rules in
--- order, then `rules.default`, then the built-in echo) and returns it normalized: either
--- `{ status = 200, message = { id, model, content, stop_reason, usage, chunk_size }, delay_ms, first_byte_delay_ms,
--- headers }` or `{ status = 4xx/5xx, error = { type, message }, headers, first_byte_delay_ms }`. It raises a plain
--- string error when a rule's own function raises or a reply has a shape it cannot read; the server turns that into
--- a 500 with the message, so a broken script shows up in the CLI's output instead of hanging it.
---
--- Rule format (see `claude-offline-model --help` for the user-facing version):
---   { match = "2+2", reply = "2 + 2 = 4." }               -- case-insensitive substring of the prompt
---   { match = { pattern = "^hi" }, reply = ... }           -- Lua pattern on the prompt
---   { match = { tool_result = "sunny" }, reply = ... }     -- substring of a tool result being returned
---   { match = { text = "deploy", system = "reviewer" } }   -- table keys: pattern, text, tool_result, system
---                                                          -- (substrings, case-insensitive); all given must hold
---   { match = function(req) return req.index == 0 end, reply = function(req) return { text = "..." } end }
---   { match = ..., reply = ..., times = 1 }                -- the rule retires after answering once
---   default = function(req) return "You said: " .. req.last_user_text end
---   side = function(req) ... end                          -- answers for the CLI's own side requests
--- A string or pattern match applies only to a turn that carries new prompt text (not to the request that
--- returns tool results), so a rule that calls a tool does not call it again forever.
---
--- Example: `local s = script.new({ { match = "2+2", reply = "4" } }); local r = s:answer(req)`

local json = require("claude_agent_sdk.json")

local M = {}

local ERROR_TYPES = {
  [400] = "invalid_request_error",
  [401] = "authentication_error",
  [403] = "permission_error",
  [404] = "not_found_error",
  [413] = "request_too_large",
  [429] = "rate_limit_error",
  [500] = "api_error",
  [503] = "api_error",
  [529] = "overloaded_error",
}

-- Text the CLI injects into user messages for the model (reminders, hook context) is not the user's prompt.
local function is_injected(text)
  return text:match("^%s*<system%-reminder>") ~= nil
end

-- The text of a message's content (a string, or its text blocks joined by "\n"); `prompt_only` leaves out the
-- text the CLI injected.
local function block_text(content, prompt_only)
  if type(content) == "string" then
    return (prompt_only and is_injected(content)) and "" or content
  end
  local out = {}
  for _, b in ipairs(type(content) == "table" and content or {}) do
    if
      type(b) == "table"
      and b.type == "text"
      and type(b.text) == "string"
      and not (prompt_only and is_injected(b.text))
    then
      out[#out + 1] = b.text
    end
  end
  return table.concat(out, "\n")
end

---@class ClaudeTestingToolResult
---@field tool_use_id string
---@field text string the result's text (its text blocks joined, or the string content)
---@field is_error boolean

---@class ClaudeTestingRequest
---@field body table the decoded JSON body
---@field path string e.g. "/v1/messages"
---@field headers table<string,string> lower-case names
---@field index integer how many /v1/messages requests the server answered before this one
---@field model string
---@field system string the system prompt's text (blocks joined with "\n")
---@field messages table[] the body's messages
---@field tools string[] the names of the tools offered
---@field max_tokens integer|nil
---@field stream boolean
---@field last_user_text string the text of the last user message that has prompt text ("" if none)
---@field tool_results ClaudeTestingToolResult[] the tool_result blocks of the last user message
---@field is_tool_result boolean whether the last user message returns tool results
---@field history_text string every user prompt and assistant text of the request, oldest first, one per line
---@field side string|nil the kind of CLI side request this is (see script.side_kind), nil for a conversation turn

---@param body table the decoded request body
---@param info table|nil `{ path, headers, index }` from the server
---@return ClaudeTestingRequest req
--- Example: `local req = script.request(json.decode(raw), { path = "/v1/messages", index = 0 })`
function M.request(body, info)
  info = info or {}
  local messages = type(body.messages) == "table" and body.messages or {}
  local req = {
    body = body,
    path = info.path or "/v1/messages",
    headers = info.headers or {},
    index = info.index or 0,
    model = type(body.model) == "string" and body.model or "claude-offline",
    system = block_text(body.system),
    messages = messages,
    tools = {},
    max_tokens = tonumber(body.max_tokens),
    stream = body.stream == true,
    last_user_text = "",
    tool_results = {},
    is_tool_result = false,
  }
  local history = {}
  for _, tool in ipairs(type(body.tools) == "table" and body.tools or {}) do
    if type(tool) == "table" and tool.name then
      req.tools[#req.tools + 1] = tool.name
    end
  end
  for _, m in ipairs(messages) do
    if type(m) == "table" and (m.role == "user" or m.role == "assistant") then
      local text = block_text(m.content, m.role == "user")
      if text ~= "" then
        history[#history + 1] = text
      end
    end
  end
  req.history_text = table.concat(history, "\n")
  local last_user_seen = false
  for i = #messages, 1, -1 do
    local m = messages[i]
    if type(m) == "table" and m.role == "user" then
      if not last_user_seen then
        last_user_seen = true
        for _, b in ipairs(type(m.content) == "table" and m.content or {}) do
          if type(b) == "table" and b.type == "tool_result" then
            req.tool_results[#req.tool_results + 1] = {
              tool_use_id = b.tool_use_id,
              text = block_text(b.content),
              is_error = b.is_error == true,
            }
          end
        end
        req.is_tool_result = #req.tool_results > 0
      end
      local text = block_text(m.content, true)
      if text ~= "" then
        req.last_user_text = text
        break
      end
    end
  end
  req.side = M.side_kind(req)
  return req
end

---@param req ClaudeTestingRequest
---@return string|nil kind "title" or "quota" for a request the CLI makes for itself, nil for a conversation turn
--- Example: `if script.side_kind(req) then ... end`
function M.side_kind(req)
  -- What CLI 2.1.197 was seen to send besides the turns themselves: a session-title request (only without
  -- CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC) with no tools, a title-writing system prompt and a JSON schema
  -- asking for {"title": ...}. Older CLIs probed the quota with max_tokens = 1.
  local body = req.body
  if req.max_tokens == 1 then
    return "quota"
  end
  if #req.tools == 0 then
    local format = type(body.output_config) == "table" and body.output_config.format
    local props = type(format) == "table" and type(format.schema) == "table" and format.schema.properties
    if (type(props) == "table" and props.title ~= nil) or req.system:find("sentence-case title", 1, true) then
      return "title"
    end
  end
  return nil
end

local MATCH_KEYS = { pattern = true, text = true, tool_result = true, system = true }

-- Case-insensitive plain substring search.
local function contains(haystack, needle)
  return haystack:lower():find(needle:lower(), 1, true) ~= nil
end

-- Does a rule's `match` accept the request?
local function matches(match, req)
  local kind = type(match)
  if match == nil or match == true then
    return true
  elseif kind == "function" then
    return match(req) and true or false
  elseif kind == "string" then
    return not req.is_tool_result and contains(req.last_user_text, match)
  elseif kind == "table" then
    if match.pattern and (req.is_tool_result or not req.last_user_text:find(match.pattern)) then
      return false
    end
    if match.text and (req.is_tool_result or not contains(req.last_user_text, match.text)) then
      return false
    end
    if match.tool_result then
      local found = false
      for _, r in ipairs(req.tool_results) do
        if contains(r.text, match.tool_result) then
          found = true
        end
      end
      if not found then
        return false
      end
    end
    if match.system and not contains(req.system, match.system) then
      return false
    end
    return true
  end
  error("a rule's match must be a string, a table or a function, not " .. kind, 0)
end

---@class ClaudeTestingScript
---@field rules table the rules table given to new
---@field private used table<integer,integer> how often each rule answered
---@field private tool_ids integer
---@field private message_ids integer
local Script = {}
Script.__index = Script

---@param rules table|nil a list of `{ match =, reply =, times = }` plus optional `default` and `side`
---@return ClaudeTestingScript
--- Example: `local s = script.new({ { match = "hello", reply = "Hi!" }, default = "I don't know." })`
function M.new(rules)
  rules = rules or {}
  if type(rules) ~= "table" then
    error("a script must be a table of rules", 2)
  end
  for i, rule in ipairs(rules) do
    if type(rule) ~= "table" or rule.reply == nil then
      error(string.format("rule %d must be a table with a reply", i), 2)
    end
    if type(rule.match) == "table" then
      for key in pairs(rule.match) do
        if not MATCH_KEYS[key] then
          -- A misspelt key would otherwise match every request.
          error(
            string.format("rule %d: unknown match key %q (use pattern, text, tool_result or system)", i, tostring(key)),
            2
          )
        end
      end
    end
  end
  return setmetatable({ rules = rules, used = {}, tool_ids = 0, message_ids = 0 }, Script)
end

---@param req ClaudeTestingRequest
---@return string text the built-in default: the prompt echoed, or the tool results reported, so that any
--- conversation finishes
--- Example: `default = function(req) return "Offline: " .. testing.echo(req) end`
function M.echo(req)
  if req.is_tool_result then
    local parts = {}
    for _, r in ipairs(req.tool_results) do
      parts[#parts + 1] = (r.is_error and "Tool error: " or "Tool result: ") .. r.text
    end
    return table.concat(parts, "\n")
  end
  if req.last_user_text == "" then
    return "Hello from the offline model."
  end
  return "You said: " .. req.last_user_text
end

---@param req ClaudeTestingRequest a side request (req.side is set)
---@return table reply the built-in answer: `{"title": ...}` JSON text for a title request, else "ok"
--- Example: `side = function(req) return script.side_reply(req) end`
function M.side_reply(req)
  if req.side == "title" then
    -- A few words of the session the CLI quotes, as the JSON object its schema asks for.
    local session = req.last_user_text:match("<session>%s*(.-)%s*</session>") or req.last_user_text
    local words = {}
    for w in session:gmatch("%S+") do
      if #words == 6 then
        break
      end
      words[#words + 1] = w
    end
    local title = #words > 0 and table.concat(words, " ") or "Offline session"
    return { text = json.encode({ title = title }) }
  end
  return { text = "ok" }
end

local function resolve(reply, req)
  if type(reply) == "function" then
    reply = reply(req)
  end
  return reply
end

---@param req ClaudeTestingRequest
---@return table reply a normalized reply (see the module contract)
--- Example: `local r = script:answer(req)`
function Script:answer(req)
  local reply
  if req.side then
    local side = self.rules.side
    reply = resolve(side, req)
    if reply == nil then
      reply = M.side_reply(req)
    end
    return self:normalize(reply, req)
  end
  for i, rule in ipairs(self.rules) do
    local used = self.used[i] or 0
    if (rule.times == nil or used < rule.times) and matches(rule.match, req) then
      reply = resolve(rule.reply, req)
      if reply ~= nil then
        self.used[i] = used + 1
        return self:normalize(reply, req)
      end
    end
  end
  reply = resolve(self.rules.default, req)
  if reply == nil then
    reply = M.echo(req)
  end
  return self:normalize(reply, req)
end

function Script:next_tool_id()
  self.tool_ids = self.tool_ids + 1
  return "toolu_offline_" .. self.tool_ids
end

local function copy(t)
  local out = {}
  for k, v in pairs(t) do
    out[k] = v
  end
  return out
end

-- About four bytes a token, like English text; the CLI only adds these up for its cost report.
-- A text given as a list of strings streams one delta per element (`_pieces`, never sent as a field).
local function pieces_block(block, field, value)
  if type(value) == "table" then
    block[field] = table.concat(value)
    block._pieces = value
  else
    block[field] = tostring(value)
  end
  return block
end

local function estimate_tokens(bytes)
  return math.max(1, math.floor((bytes + 3) / 4))
end

---@param reply any what a rule gave: string, or table (see the module contract)
---@param req ClaudeTestingRequest
---@return table normalized
function Script:normalize(reply, req)
  if type(reply) == "string" then
    reply = { text = reply }
  end
  if type(reply) ~= "table" then
    error("a reply must be a string, a table or a function returning one, not " .. type(reply), 0)
  end
  local status = tonumber(reply.status) or 200
  if status >= 400 then
    local err = reply.error
    if type(err) == "string" then
      err = { message = err }
    end
    err = err or {}
    return {
      status = status,
      headers = reply.headers,
      first_byte_delay_ms = reply.first_byte_delay_ms,
      error = { type = err.type or ERROR_TYPES[status] or "api_error", message = err.message or "offline error" },
    }
  end
  local content = {}
  if reply.content then
    if type(reply.content) == "string" then
      content[1] = { type = "text", text = reply.content }
    else
      for _, b in ipairs(reply.content) do
        content[#content + 1] = copy(b)
      end
    end
  else
    if reply.thinking then
      content[#content + 1] =
        pieces_block({ type = "thinking", signature = reply.signature }, "thinking", reply.thinking)
    end
    if reply.text then
      content[#content + 1] = pieces_block({ type = "text" }, "text", reply.text)
    end
    local uses = reply.tool_use
    if uses and uses[1] == nil then
      uses = { uses }
    end
    for _, u in ipairs(uses or {}) do
      content[#content + 1] = { type = "tool_use", id = u.id, name = u.name, input = u.input }
    end
  end
  local has_tool, out_chars = false, 0
  for _, b in ipairs(content) do
    if b.type == "tool_use" then
      has_tool = true
      if type(b.name) ~= "string" then
        error("a tool_use reply needs a name", 0)
      end
      b.id = b.id or self:next_tool_id()
      b.input = b.input or {}
      out_chars = out_chars + #json.encode(b.input)
    elseif b.type == "thinking" then
      b.thinking = b.thinking or ""
      -- The CLI keeps thinking blocks only when they carry a signature.
      b.signature = b.signature or "offline-signature"
      out_chars = out_chars + #b.thinking
    elseif b.type == "text" then
      b.text = tostring(b.text or "")
      out_chars = out_chars + #b.text
    end
  end
  self.message_ids = self.message_ids + 1
  local usage = copy(reply.usage or {})
  usage.input_tokens = usage.input_tokens or estimate_tokens(#json.encode(req.messages) + #req.system)
  usage.output_tokens = usage.output_tokens or estimate_tokens(out_chars)
  return {
    status = 200,
    headers = reply.headers,
    delay_ms = tonumber(reply.delay_ms) or 0,
    first_byte_delay_ms = tonumber(reply.first_byte_delay_ms) or 0,
    message = {
      id = reply.id or ("msg_offline_" .. self.message_ids),
      model = reply.model or req.model,
      content = content,
      stop_reason = reply.stop_reason or (has_tool and "tool_use" or "end_turn"),
      usage = usage,
      chunk_size = tonumber(reply.chunk_size),
    },
  }
end

return M
