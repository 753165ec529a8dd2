-- Transcript lines shaped like the CLI's (2.1.197), for the specs that read
-- and change session files (sessions_spec, session_mutations_spec).
local json = require("claude_agent_sdk.json")

local M = {}

-- One JSON line with its keys in the given order: obj({ "k", v, "k2", v2 }).
function M.obj(kv)
  local parts = {}
  for i = 1, #kv, 2 do
    parts[#parts + 1] = json.encode(kv[i]) .. ":" .. json.encode(kv[i + 1])
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

local null = json.null
local obj = M.obj

function M.user(sid, uuid, parent, content, extra)
  local kv = {
    "parentUuid",
    parent or null,
    "isSidechain",
    false,
    "type",
    "user",
    "message",
    { role = "user", content = content },
    "uuid",
    uuid,
    "timestamp",
    "2026-11-21T13:27:17.070Z",
    "userType",
    "external",
    "entrypoint",
    "sdk-lua",
    "cwd",
    "/proj/alpha",
    "sessionId",
    sid,
    "version",
    "2.1.197",
    "gitBranch",
    "main",
  }
  for _, v in ipairs(extra or {}) do
    kv[#kv + 1] = v
  end
  return obj(kv)
end

function M.assistant(sid, uuid, parent, text, extra)
  local kv = {
    "parentUuid",
    parent or null,
    "isSidechain",
    false,
    "message",
    {
      type = "message",
      role = "assistant",
      model = "claude-opus-4-8",
      id = "msg_" .. uuid,
      content = json.array({ { type = "text", text = text } }),
      stop_reason = "end_turn",
    },
    "requestId",
    "req_" .. uuid,
    "type",
    "assistant",
    "uuid",
    uuid,
    "timestamp",
    "2026-11-21T13:27:18.000Z",
    "userType",
    "external",
    "cwd",
    "/proj/alpha",
    "sessionId",
    sid,
    "version",
    "2.1.197",
    "gitBranch",
    "main",
  }
  for _, v in ipairs(extra or {}) do
    kv[#kv + 1] = v
  end
  return obj(kv)
end

--- Write lines to path (one per line); mtime (seconds) sets its modification time.
function M.write(path, lines, mtime)
  local f = assert(io.open(path, "wb"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  if mtime then
    assert(os.execute("touch -d @" .. mtime .. " '" .. path .. "'"))
  end
end

return M
