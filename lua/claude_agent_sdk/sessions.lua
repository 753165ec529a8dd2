--- Past sessions, read from the CLI's transcript files, like the Python SDK's
--- `list_sessions`, `get_session_info` and `get_session_messages`.
--
-- The CLI writes one JSON-lines transcript per session to
-- `<config>/projects/<sanitized cwd>/<session id>.jsonl`, where <config> is
-- $CLAUDE_CONFIG_DIR or ~/.claude, and <sanitized cwd> is the working
-- directory with every character other than [A-Za-z0-9] replaced by "-"
-- (past 200 characters: cut to 200, plus "-" and a hash).
--
-- Listing reads only the head and the tail (64 KiB each) of every file, and
-- takes the metadata from there as the Python SDK does: the title (custom
-- title, else AI title), the summary (title, else the last prompt, else a
-- `summary` entry, else the first prompt), the first meaningful prompt,
-- the git branch, the cwd, the tag and the creation time.  Sidechain
-- transcripts and files without any of those are skipped.  Reading a
-- session's messages parses the whole file and follows the `parentUuid`
-- links back from the newest main-chain leaf, so rewound or abandoned
-- branches are left out; it returns the visible user and assistant entries
-- (no meta, sidechain or team entries) oldest first.
--
-- Every function takes an options table.  `config_dir` overrides the config
-- directory (by default $CLAUDE_CONFIG_DIR, else $HOME/.claude): a process
-- cannot set its own environment from plain Lua, and a CLI started with
-- `env = { HOME = h }` writes under `h .. "/.claude"`.
--
-- Differences from the Python SDK: no Unicode NFC normalization of paths;
-- a path is made canonical lexically and, only when no project directory
-- matches it, with realpath(3) (symlinks); timestamps without an offset are
-- read as UTC.  As in the Python SDK, git worktrees are found by running
-- `git worktree list --porcelain` (pass `include_worktrees = false` to skip
-- that process): through the core's process layer, with no shell; inside a
-- task (claude.run / claude.spawn, Neovim included) the task yields while
-- git runs, elsewhere the call blocks; git missing, failing or taking over
-- GIT_TIMEOUT_MS means no worktrees.  The rest is plain file I/O that does
-- not block for long: in Neovim, call it outside of hot paths.
--
--   local sessions = require("claude_agent_sdk.sessions")
--   for _, s in ipairs(sessions.list_sessions({ directory = "/path/to/project", limit = 10 })) do
--     print(s.session_id, os.date("%c", math.floor(s.last_modified / 1000)), s.summary)
--   end
--   for _, m in ipairs(sessions.get_session_messages(id, { directory = "/path/to/project" })) do
--     print(m.type, m.message.content)
--   end

local core = require("claude_agent_sdk.core")
local json = require("claude_agent_sdk.json")
local errors = require("claude_agent_sdk.errors")
local messages = require("claude_agent_sdk.messages")
local check = require("claude_agent_sdk.check")
local async = require("claude_agent_sdk.async")
local loop = require("claude_agent_sdk.loop")

local null = json.null
local M = {}

--- Bytes read from each end of a transcript for the listing.
M.LITE_READ_BUF_SIZE = 65536
--- Longest sanitized directory name before the hash suffix.
M.MAX_SANITIZED_LENGTH = 200

---@class SDKSessionInfo
---@field session_id string
---@field summary string            custom title, last prompt, summary or first prompt
---@field last_modified number      milliseconds since the epoch (file mtime)
---@field file_size number|nil      bytes
---@field custom_title string|nil   user-set title, else the AI-generated one
---@field first_prompt string|nil   first meaningful user prompt (200 characters at most)
---@field git_branch string|nil
---@field cwd string|nil
---@field tag string|nil
---@field created_at number|nil     milliseconds since the epoch (first timestamp in the file)

---@class SessionMessage
---@field type "user"|"assistant"
---@field uuid string
---@field session_id string
---@field message table             the raw API message (role, content, ...); JSON null stays claude.null
---@field parent_tool_use_id nil    always nil for a top-level session

-- Python-style truthiness of a decoded JSON value.
local function truthy(v)
  return v ~= nil and v ~= null and v ~= false and v ~= "" and v ~= 0 and not (type(v) == "table" and next(v) == nil)
end

local function nonempty_string(v)
  if type(v) == "string" and v ~= "" then
    return v
  end
  return nil
end

---------------------------------------------------------------------------
-- Options

local function check_options(fname, opts, allowed)
  if opts == nil then
    return {}
  end
  if type(opts) ~= "table" then
    errors.raise("InvalidOptionError", fname .. ": options must be a table, got " .. type(opts))
  end
  for k, v in pairs(opts) do
    local want = allowed[k]
    if not want then
      errors.raise("InvalidOptionError", fname .. ": unknown option " .. tostring(k), { key = k })
    end
    if type(v) ~= want then
      errors.raise(
        "InvalidOptionError",
        fname .. ": option " .. k .. " must be a " .. want .. ", got " .. type(v),
        { key = k }
      )
    end
    -- counts are whole and finite; paths reach the OS, which stops at a NUL
    if want == "number" then
      check.number(fname, "opts." .. k, v, { integer = true, min = 0 })
    end
    if want == "string" then
      check.string(fname, "opts." .. k, v, { path = true })
    end
  end
  return opts
end

-- A session id must be a string; one that is not a UUID names no session
-- (nil / {} as in the Python SDK), and is never used in a path.
local function check_id(fname, session_id)
  check.string(fname, "session_id", session_id)
end

local function config_dir_of(opts)
  local dir = nonempty_string(opts.config_dir) or nonempty_string(os.getenv("CLAUDE_CONFIG_DIR"))
  if dir then
    return dir
  end
  local home = nonempty_string(os.getenv("HOME"))
  if not home then
    errors.raise("ClaudeSDKError", "cannot find the Claude config directory: set HOME or CLAUDE_CONFIG_DIR")
  end
  return home .. "/.claude"
end

local function projects_dir_of(opts)
  return config_dir_of(opts) .. "/projects"
end

---------------------------------------------------------------------------
-- Paths

local UUID_PATTERN = "^"
  .. ("%x"):rep(8)
  .. "%-"
  .. ("%x"):rep(4)
  .. "%-"
  .. ("%x"):rep(4)
  .. "%-"
  .. ("%x"):rep(4)
  .. "%-"
  .. ("%x"):rep(12)
  .. "$"

--- True when s looks like a session id (a UUID).
---@param s any
---@return boolean
function M.is_uuid(s)
  return type(s) == "string" and s:find(UUID_PATTERN) ~= nil
end

-- The UTF-16 code units of a UTF-8 string, as the CLI (JavaScript) sees it.
-- Invalid bytes count as one unit each.
local function utf16_units(s)
  local units, n, i, len = {}, 0, 1, #s
  while i <= len do
    local c = s:byte(i)
    local cp, size = c, 1
    if c >= 0xF0 and c <= 0xF4 and i + 3 <= len then
      cp = (c - 0xF0) * 0x40000
        + (s:byte(i + 1) - 0x80) * 0x1000
        + (s:byte(i + 2) - 0x80) * 0x40
        + (s:byte(i + 3) - 0x80)
      size = 4
    elseif c >= 0xE0 and c <= 0xEF and i + 2 <= len then
      cp = (c - 0xE0) * 0x1000 + (s:byte(i + 1) - 0x80) * 0x40 + (s:byte(i + 2) - 0x80)
      size = 3
    elseif c >= 0xC2 and c <= 0xDF and i + 1 <= len then
      cp = (c - 0xC0) * 0x40 + (s:byte(i + 1) - 0x80)
      size = 2
    end
    if cp >= 0x10000 then
      local v = cp - 0x10000
      n = n + 1
      units[n] = 0xD800 + math.floor(v / 0x400)
      n = n + 1
      units[n] = 0xDC00 + v % 0x400
    else
      n = n + 1
      units[n] = cp
    end
    i = i + size
  end
  return units
end

local DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"

--- The CLI's (JavaScript) 32-bit string hash in base 36: h = h*31 + unit,
--- wrapped to a signed 32-bit integer, then its absolute value.  Pure
--- arithmetic, so it gives the same answer on Lua 5.4 and LuaJIT.
---@param s string
---@return string
function M.simple_hash(s)
  check.string("sessions.simple_hash", "s", s)
  local h = 0 -- kept in [0, 2^32)
  for _, u in ipairs(utf16_units(s)) do
    h = (h * 31 + u) % 4294967296
  end
  if h >= 2147483648 then
    h = 4294967296 - h
  end -- |signed value|
  if h == 0 then
    return "0"
  end
  local out = {}
  while h > 0 do
    local d = h % 36
    out[#out + 1] = DIGITS36:sub(d + 1, d + 1)
    h = math.floor(h / 36)
  end
  return string.reverse(table.concat(out))
end

--- The project directory name the CLI uses for a working directory: every
--- UTF-16 unit other than [A-Za-z0-9] becomes "-"; past 200 units the name is
--- cut to 200 and gets "-" and simple_hash(path).  (The CLI built with Bun
--- hashes differently; lookups therefore accept any suffix after the cut.)
---@param path string
---@return string
function M.sanitize_path(path)
  check.string("sessions.sanitize_path", "path", path)
  local units = utf16_units(path)
  local max = M.MAX_SANITIZED_LENGTH
  local out = {}
  for i = 1, math.min(#units, max) do
    local u = units[i]
    if (u >= 48 and u <= 57) or (u >= 65 and u <= 90) or (u >= 97 and u <= 122) then
      out[i] = string.char(u)
    else
      out[i] = "-"
    end
  end
  local name = table.concat(out)
  if #units <= max then
    return name
  end
  return name .. "-" .. M.simple_hash(path)
end

local function is_dir(path)
  local st = core.stat(path)
  return st ~= nil and st.type == "directory"
end

-- Lexically canonical absolute path: no "//", ".", "..", or trailing "/".
local function normalize(path)
  local parts = {}
  for seg in path:gmatch("[^/]+") do
    if seg == ".." then
      if #parts > 0 then
        parts[#parts] = nil
      end
    elseif seg ~= "." then
      parts[#parts + 1] = seg
    end
  end
  return "/" .. table.concat(parts, "/")
end

-- The physical path of a directory (symlinks resolved, realpath(3)), or nil.
local function physical_path(path)
  local out = core.realpath(path)
  if out and is_dir(out) then
    return out
  end
  return nil
end

local function canonicalize(path)
  if path:sub(1, 1) == "/" then
    return normalize(path)
  end
  return physical_path(path) or normalize((os.getenv("PWD") or "") .. "/" .. path)
end

-- The project directory holding a working directory's sessions, or nil.
-- Long names match on their first 200 characters, whatever the hash.
local function find_project_dir(projects, path)
  local name = M.sanitize_path(path)
  local exact = projects .. "/" .. name
  if is_dir(exact) then
    return exact
  end
  local max = M.MAX_SANITIZED_LENGTH
  if #name <= max then
    return nil
  end
  local prefix = name:sub(1, max) .. "-"
  local names = core.listdir(projects)
  if not names then
    return nil
  end
  table.sort(names)
  for _, n in ipairs(names) do
    if n:sub(1, #prefix) == prefix and is_dir(projects .. "/" .. n) then
      return projects .. "/" .. n
    end
  end
  return nil
end

-- The canonical form of `directory` and its project directory (or nil).
-- Tries the physical path when the lexical one has no project directory.
local function resolve_project(projects, directory)
  local canonical = canonicalize(directory)
  local dir = find_project_dir(projects, canonical)
  if dir then
    return canonical, dir
  end
  local phys = physical_path(canonical)
  if phys and phys ~= canonical then
    dir = find_project_dir(projects, phys)
    if dir then
      return phys, dir
    end
  end
  return canonical, nil
end

-- How long git may take to list the worktrees (the Python SDK's timeout).
M.GIT_TIMEOUT_MS = 5000

-- Inside a task: yield until the run h is done or the deadline passes.  The
-- loop watches the fds the core lists (they change as pipes reach EOF) and a
-- timer for the deadline; the host loop (claude.poll) pumps it instead.
-- Returns stdout and the exit code, or nil.
local function wait_in_task(h, timeout_ms)
  local backend = loop.current()
  local deadline = backend.now() + timeout_ms
  local polls, timer, key = {}, backend.timer(), {}
  local waking
  local function on_ready()
    local wake = waking
    waking = nil
    if wake then
      wake()
    end
  end
  local ok, out, code = pcall(function()
    while true do
      local r = loop.pack(h:step(0))
      if r[1] == nil then
        return nil
      end
      if r[1] then
        return r[2], r[3]
      end
      local left = deadline - backend.now()
      if left <= 0 then
        return nil
      end
      local want = {}
      for i = 2, r.n do
        want[r[i]] = true
      end
      for fd, p in pairs(polls) do
        if not want[fd] then
          p:close()
          polls[fd] = nil
        end
      end
      async.suspend(function(wake)
        waking = wake
        for fd in pairs(want) do
          polls[fd] = polls[fd] or backend.poll(fd)
          polls[fd]:start("r", on_ready)
        end
        timer:start(left, on_ready)
        if backend.pumps then
          backend.pumps[key] = function()
            if h:step(0) == false then
              return false
            end
            on_ready()
            return true
          end
        end
      end, function()
        waking = nil
      end)
    end
  end)
  -- the watchers go before the run's fds are closed
  for fd, p in pairs(polls) do
    p:close()
    polls[fd] = nil
  end
  timer:close()
  if backend.pumps then
    backend.pumps[key] = nil
  end
  if not ok then
    error(out, 0)
  end
  return out, code
end

-- Run argv in cwd through the core's process layer (no shell): its stdout
-- and exit code, or nil when it cannot start, fails or takes longer than
-- timeout_ms (then it is killed).  Inside a task the task yields while it
-- runs; elsewhere this blocks (in the core's poll()).
local function run(argv, cwd, timeout_ms)
  local h = core.run(argv, cwd)
  if not h then
    return nil
  end
  local ok, out, code
  if async.current() then
    ok, out, code = pcall(wait_in_task, h, timeout_ms)
  else
    ok, out, code = pcall(function()
      local deadline = core.now() + timeout_ms
      while true do
        local left = deadline - core.now()
        if left <= 0 then
          return nil
        end
        local done, o, c = h:step(left)
        if done == nil then
          return nil
        end
        if done then
          return o, c
        end
      end
    end)
  end
  h:close()
  if not ok then
    error(out, 0)
  end
  return out, code
end

-- The git worktree roots of the repository holding dir ({} when not in one,
-- or when git is missing or fails).
local function worktree_paths(dir)
  local out, code = run({ "git", "worktree", "list", "--porcelain" }, dir, M.GIT_TIMEOUT_MS)
  if code ~= 0 or not out then
    return {}
  end
  local paths = {}
  for line in out:gmatch("[^\n]+") do
    local wt = line:match("^worktree (.+)$")
    if wt then
      paths[#paths + 1] = wt
    end
  end
  return paths
end

local function subdirs(projects)
  local names = core.listdir(projects)
  if not names then
    return {}
  end
  table.sort(names)
  local out = {}
  for _, n in ipairs(names) do
    if is_dir(projects .. "/" .. n) then
      out[#out + 1] = n
    end
  end
  return out
end

---------------------------------------------------------------------------
-- Field extraction from raw JSON text (works on cut lines, no full parse)

local function unescape(raw)
  if not raw:find("\\", 1, true) then
    return raw
  end
  local ok, v = pcall(json.decode, '"' .. raw .. '"')
  if ok and type(v) == "string" then
    return v
  end
  return raw
end

-- The value of the string field starting after position `from` (just past
-- the opening quote), and the position of its closing quote; nil if cut.
local function scan_string(text, from)
  local i, len = from, #text
  while i <= len do
    local c = text:byte(i)
    if c == 92 then -- backslash
      i = i + 2
    elseif c == 34 then -- quote
      return unescape(text:sub(from, i - 1)), i
    else
      i = i + 1
    end
  end
  return nil, len
end

-- The first `"key":"value"` (or `"key": "value"`) string value in text.
local function first_string_field(text, key)
  for _, pattern in ipairs({ '"' .. key .. '":"', '"' .. key .. '": "' }) do
    local idx = text:find(pattern, 1, true)
    if idx then
      local v = scan_string(text, idx + #pattern)
      if v then
        return v
      end
    end
  end
  return nil
end

-- The last such value (a match of the spaced form wins over the compact one,
-- as in the Python SDK).
local function last_string_field(text, key)
  local last
  for _, pattern in ipairs({ '"' .. key .. '":"', '"' .. key .. '": "' }) do
    local from = 1
    while true do
      local idx = text:find(pattern, from, true)
      if not idx then
        break
      end
      local v, stop = scan_string(text, idx + #pattern)
      if v then
        last = v
      end
      from = stop + 1
    end
  end
  return last
end

local function is_space(b)
  return b == 32 or (b >= 9 and b <= 13)
end

local function trim(s)
  local i = s:find("%S")
  if not i then
    return ""
  end
  local j = #s
  while j > i and is_space(s:byte(j)) do
    j = j - 1
  end
  return s:sub(i, j)
end

-- At most `max` UTF-8 characters of s, right-trimmed, plus "…" when cut.
local function truncate_chars(s, max)
  local count, i, len = 0, 1, #s
  while i <= len do
    local c = s:byte(i)
    if c < 0x80 or c >= 0xC0 then
      count = count + 1
      if count > max then
        local cut = s:sub(1, i - 1)
        local j = #cut
        while j > 0 and is_space(cut:byte(j)) do
          j = j - 1
        end
        return cut:sub(1, j) .. "\226\128\166"
      end
    end
    i = i + 1
  end
  return s
end

-- Prompts that the CLI or an IDE generated, not the user.
local function is_generated_prompt(s)
  for _, prefix in ipairs({ "<local-command-stdout>", "<session-start-hook>", "<tick>", "<goal>" }) do
    if s:sub(1, #prefix) == prefix then
      return true
    end
  end
  if s:find("^%[Request interrupted by user[^%]]*%]") then
    return true
  end
  if s:find("^%s*<ide_opened_file>.*</ide_opened_file>%s*$") then
    return true
  end
  if s:find("^%s*<ide_selection>.*</ide_selection>%s*$") then
    return true
  end
  return false
end

-- The first meaningful user prompt in the head of a transcript: no tool
-- results, meta or compact-summary entries, slash commands (the first one's
-- name is the fallback) or generated text; 200 characters at most.
local function first_prompt_of(head)
  local command_fallback
  for line in head:gmatch("[^\n]+") do
    if
      (line:find('"type":"user"', 1, true) or line:find('"type": "user"', 1, true))
      and not line:find('"tool_result"', 1, true)
      and not (line:find('"isMeta":true', 1, true) or line:find('"isMeta": true', 1, true))
      and not (line:find('"isCompactSummary":true', 1, true) or line:find('"isCompactSummary": true', 1, true))
    then
      local ok, entry = pcall(json.decode, line)
      if ok and type(entry) == "table" and entry.type == "user" and type(entry.message) == "table" then
        local content = entry.message.content
        local texts = {}
        if type(content) == "string" then
          texts[1] = content
        elseif type(content) == "table" then
          for _, b in ipairs(content) do
            if type(b) == "table" and b.type == "text" and type(b.text) == "string" then
              texts[#texts + 1] = b.text
            end
          end
        end
        for _, raw in ipairs(texts) do
          local text = trim((raw:gsub("\n", " ")))
          if text ~= "" then
            local command = text:match("<command%-name>(.-)</command%-name>")
            if command then
              command_fallback = command_fallback or command
            elseif not is_generated_prompt(text) then
              return truncate_chars(text, 200)
            end
          end
        end
      end
    end
  end
  return command_fallback
end

-- Days since 1970-01-01 of a proleptic Gregorian date.
local function days_from_civil(y, m, d)
  if m <= 2 then
    y = y - 1
  end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

--- Milliseconds since the epoch of an ISO 8601 timestamp
--- ("2026-01-02T03:04:05.678Z", an offset, or none = UTC), or nil.
---@param s string
---@return number|nil
function M.parse_timestamp(s)
  check.string("sessions.parse_timestamp", "s", s)
  local y, mo, d, rest = s:match("^(%d%d%d%d)-(%d%d)-(%d%d)(.*)$")
  if not y then
    return nil
  end
  local h, mi, sec, frac, tz = 0, 0, 0, "", ""
  if rest ~= "" then
    local hh, mm, tail = rest:match("^[T ](%d%d):(%d%d)(.*)$")
    if not hh then
      return nil
    end
    h, mi = tonumber(hh), tonumber(mm)
    local ss, tail2 = tail:match("^:(%d%d)(.*)$")
    if ss then
      sec, tail = tonumber(ss), tail2
    end
    local f, tail3 = tail:match("^[.,](%d+)(.*)$")
    if f then
      frac, tail = f, tail3
    end
    tz = tail
  end
  local offset = 0
  if tz ~= "" and tz ~= "Z" and tz ~= "z" then
    local sign, oh, om = tz:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then
      return nil
    end
    offset = (tonumber(oh) * 60 + tonumber(om)) * 60000
    if sign == "-" then
      offset = -offset
    end
  end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or sec > 60 then
    return nil
  end
  local ms = tonumber((frac .. "000"):sub(1, 3))
  local days = days_from_civil(y, mo, d)
  return ((days * 24 + h) * 60 + mi) * 60000 + sec * 1000 + ms - offset
end

---------------------------------------------------------------------------
-- Listing

-- { mtime, size, head, tail } of a transcript file, or nil when it is
-- unreadable or empty.
local function read_lite(path)
  local st = core.stat(path)
  if not st or st.type ~= "file" then
    return nil
  end
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local buf = M.LITE_READ_BUF_SIZE
  local head = f:read(buf)
  if not head or head == "" then
    f:close()
    return nil
  end
  local size = f:seek("end") or #head
  local tail = head
  if size > buf then
    f:seek("set", size - buf)
    tail = f:read(buf) or ""
  end
  f:close()
  return { mtime = math.floor(st.mtime), size = math.floor(size), head = head, tail = tail }
end

-- SDKSessionInfo from a lite read, or nil for a sidechain transcript or one
-- with nothing to show as a summary.
local function info_from_lite(session_id, lite, project_path)
  local head, tail = lite.head, lite.tail
  local first_line = head:match("^[^\n]*")
  if first_line:find('"isSidechain":true', 1, true) or first_line:find('"isSidechain": true', 1, true) then
    return nil
  end
  local function pick(...)
    for i = 1, select("#", ...) do
      local v = nonempty_string((select(i, ...)))
      if v then
        return v
      end
    end
    return nil
  end
  local custom_title = pick(
    last_string_field(tail, "customTitle"),
    last_string_field(head, "customTitle"),
    last_string_field(tail, "aiTitle"),
    last_string_field(head, "aiTitle")
  )
  local first_prompt = nonempty_string(first_prompt_of(head))
  local summary =
    pick(custom_title, last_string_field(tail, "lastPrompt"), last_string_field(tail, "summary"), first_prompt)
  if not summary then
    return nil
  end

  local tag
  local lines = {}
  for line in tail:gmatch("[^\n]+") do
    lines[#lines + 1] = line
  end
  for i = #lines, 1, -1 do
    if lines[i]:sub(1, 13) == '{"type":"tag"' then
      tag = nonempty_string(last_string_field(lines[i], "tag"))
      break
    end
  end
  local created
  local ts = first_string_field(head, "timestamp")
  if ts then
    created = M.parse_timestamp(ts)
  end

  return setmetatable({
    session_id = session_id,
    summary = summary,
    last_modified = lite.mtime,
    file_size = lite.size,
    custom_title = custom_title,
    first_prompt = first_prompt,
    git_branch = pick(last_string_field(tail, "gitBranch"), first_string_field(head, "gitBranch")),
    cwd = pick(first_string_field(head, "cwd"), project_path),
    tag = tag,
    created_at = created,
  }, messages.SDKSessionInfo)
end

local function read_sessions_in(dir, project_path, out)
  local names = core.listdir(dir)
  if not names then
    return out
  end
  for _, name in ipairs(names) do
    local id = name:match("^(.*)%.jsonl$")
    if id and M.is_uuid(id) then
      local lite = read_lite(dir .. "/" .. name)
      local info = lite and info_from_lite(id, lite, project_path)
      if info then
        out[#out + 1] = info
      end
    end
  end
  return out
end

local function dedupe(list)
  local by_id, order = {}, {}
  for _, s in ipairs(list) do
    local old = by_id[s.session_id]
    if not old then
      order[#order + 1] = s.session_id
    end
    if not old or s.last_modified > old.last_modified then
      by_id[s.session_id] = s
    end
  end
  local out = {}
  for i, id in ipairs(order) do
    out[i] = by_id[id]
  end
  return out
end

-- The page of list after `offset` items, at most `limit` long (no limit:
-- nil or 0); the list itself when nothing is cut.
local function page(list, limit, offset)
  offset = offset and offset > 0 and offset or 0
  if not (limit and limit > 0) and offset == 0 then
    return list
  end
  local out = {}
  local last = #list
  if limit and limit > 0 then
    last = math.min(last, offset + limit)
  end
  for i = offset + 1, last do
    out[#out + 1] = list[i]
  end
  return out
end

local function sort_page(list, limit, offset)
  table.sort(list, function(a, b)
    if a.last_modified ~= b.last_modified then
      return a.last_modified > b.last_modified
    end
    return a.session_id < b.session_id
  end)
  return page(list, limit, offset)
end

local function list_for_project(projects, directory, limit, offset, include_worktrees)
  local canonical, project_dir = resolve_project(projects, directory)
  local worktrees = include_worktrees and worktree_paths(canonical) or {}
  if #worktrees <= 1 then
    if not project_dir then
      return {}
    end
    return sort_page(read_sessions_in(project_dir, canonical, {}), limit, offset)
  end
  -- Sessions of every worktree of the repository, the longest (most
  -- specific) prefix winning; short names must match exactly.
  local max = M.MAX_SANITIZED_LENGTH
  local indexed = {}
  for _, wt in ipairs(worktrees) do
    indexed[#indexed + 1] = { path = wt, prefix = M.sanitize_path(wt) }
  end
  table.sort(indexed, function(a, b)
    return #a.prefix > #b.prefix
  end)
  local all, seen = {}, {}
  if project_dir then
    seen[project_dir:match("[^/]+$")] = true
    read_sessions_in(project_dir, canonical, all)
  end
  for _, name in ipairs(subdirs(projects)) do
    if not seen[name] then
      for _, wt in ipairs(indexed) do
        if name == wt.prefix or (#wt.prefix >= max and name:sub(1, #wt.prefix + 1) == wt.prefix .. "-") then
          seen[name] = true
          read_sessions_in(projects .. "/" .. name, wt.path, all)
          break
        end
      end
    end
  end
  return sort_page(dedupe(all), limit, offset)
end

---@class ListSessionsOptions
---@field directory string|nil        a project directory; nil lists the sessions of every project
---@field limit integer|nil           at most this many (after offset)
---@field offset integer|nil          skip this many of the newest first
---@field include_worktrees boolean|nil  with directory: also the sessions of the repository's other git worktrees (default true)
---@field config_dir string|nil       the CLI's config directory (default $CLAUDE_CONFIG_DIR, else $HOME/.claude)

--- Sessions with their metadata, newest first.
---   sessions.list_sessions({ directory = "/my/project", limit = 20 })
---@param opts ListSessionsOptions|nil
---@return SDKSessionInfo[]
function M.list_sessions(opts)
  opts = check_options("list_sessions", opts, {
    directory = "string",
    limit = "number",
    offset = "number",
    include_worktrees = "boolean",
    config_dir = "string",
  })
  local projects = projects_dir_of(opts)
  local limit, offset = opts.limit, opts.offset or 0
  if opts.directory and opts.directory ~= "" then
    return list_for_project(projects, opts.directory, limit, offset, opts.include_worktrees ~= false)
  end
  local all = {}
  for _, name in ipairs(subdirs(projects)) do
    read_sessions_in(projects .. "/" .. name, nil, all)
  end
  return sort_page(dedupe(all), limit, offset)
end

-- Calls fn(project_dir, project_path) for each place a session of
-- `directory` may be (the project, then the other worktrees), or for every
-- project without a directory, until fn returns a value.
local function search_projects(opts, fn)
  local projects = projects_dir_of(opts)
  local directory = opts.directory
  if directory and directory ~= "" then
    local canonical, project_dir = resolve_project(projects, directory)
    if project_dir then
      local r = fn(project_dir, canonical)
      if r ~= nil then
        return r
      end
    end
    for _, wt in ipairs(worktree_paths(canonical)) do
      if wt ~= canonical then
        local wt_dir = find_project_dir(projects, wt)
        if wt_dir then
          local r = fn(wt_dir, wt)
          if r ~= nil then
            return r
          end
        end
      end
    end
    return nil
  end
  for _, name in ipairs(subdirs(projects)) do
    local r = fn(projects .. "/" .. name, nil)
    if r ~= nil then
      return r
    end
  end
  return nil
end

---@class SessionLookupOptions
---@field directory string|nil   the project directory; nil searches every project
---@field config_dir string|nil  as for list_sessions

--- One session's metadata, or nil when it is not found, is a sidechain, or
--- has nothing to show.
---   local info = sessions.get_session_info(id, { directory = "/my/project" })
---@param session_id string
---@param opts SessionLookupOptions|nil
---@return SDKSessionInfo|nil
function M.get_session_info(session_id, opts)
  check_id("get_session_info", session_id)
  opts = check_options("get_session_info", opts, { directory = "string", config_dir = "string" })
  if not M.is_uuid(session_id) then
    return nil
  end
  local file = "/" .. session_id .. ".jsonl"
  local found = search_projects(opts, function(dir, project_path)
    local lite = read_lite(dir .. file)
    if lite then
      return { info_from_lite(session_id, lite, project_path) }
    end
    return nil
  end)
  return found and found[1] or nil
end

---------------------------------------------------------------------------
-- Messages

-- Entry types linked by uuid/parentUuid.
local CHAIN_TYPES = { user = true, assistant = true, progress = true, system = true, attachment = true }

local function parent_of(entry)
  local p = entry.parentUuid
  if type(p) == "string" and p ~= "" then
    return p
  end
  return nil
end

local function parse_entries(content)
  local entries = {}
  for line in content:gmatch("[^\n]+") do
    if line:find("%S") then
      local ok, e = pcall(json.decode, line)
      if ok and type(e) == "table" and CHAIN_TYPES[e.type] and type(e.uuid) == "string" then
        entries[#entries + 1] = e
      end
    end
  end
  return entries
end

-- The conversation, oldest first: from the newest main-chain leaf (a
-- user/assistant entry that nothing continues, not sidechain, team or meta)
-- back along parentUuid.  logicalParentUuid (compaction) is not followed:
-- the compact summary stands for what came before.
local function build_chain(entries)
  if #entries == 0 then
    return {}
  end
  local by_uuid, position, parents = {}, {}, {}
  for i, e in ipairs(entries) do
    by_uuid[e.uuid] = e
    position[e.uuid] = i
    local p = parent_of(e)
    if p then
      parents[p] = true
    end
  end
  local leaves = {}
  for _, e in ipairs(entries) do
    if not parents[e.uuid] then
      local cur, seen = e, {}
      while cur and not seen[cur.uuid] do
        seen[cur.uuid] = true
        if cur.type == "user" or cur.type == "assistant" then
          leaves[#leaves + 1] = cur
          break
        end
        local p = parent_of(cur)
        cur = p and by_uuid[p]
      end
    end
  end
  if #leaves == 0 then
    return {}
  end
  local function newest(list)
    local best = list[1]
    for i = 2, #list do
      if position[list[i].uuid] > position[best.uuid] then
        best = list[i]
      end
    end
    return best
  end
  local main = {}
  for _, l in ipairs(leaves) do
    if not truthy(l.isSidechain) and not truthy(l.teamName) and not truthy(l.isMeta) then
      main[#main + 1] = l
    end
  end
  local leaf = newest(#main > 0 and main or leaves)
  local chain, seen = {}, {}
  local cur = leaf
  while cur and not seen[cur.uuid] do
    seen[cur.uuid] = true
    chain[#chain + 1] = cur
    local p = parent_of(cur)
    cur = p and by_uuid[p]
  end
  local n = #chain
  for i = 1, math.floor(n / 2) do
    chain[i], chain[n + 1 - i] = chain[n + 1 - i], chain[i]
  end
  return chain
end

local function visible(e)
  if e.type ~= "user" and e.type ~= "assistant" then
    return false
  end
  -- compact summaries stay: they are all that is left of compacted turns
  return not truthy(e.isMeta) and not truthy(e.isSidechain) and not truthy(e.teamName)
end

---@class SessionMessagesOptions
---@field directory string|nil   the project directory; nil searches every project
---@field limit integer|nil      at most this many (after offset)
---@field offset integer|nil     skip this many from the start
---@field config_dir string|nil  as for list_sessions

--- A session's user and assistant messages, oldest first; {} when the
--- session is not found.
---   for _, m in ipairs(sessions.get_session_messages(id, { directory = cwd })) do print(m.type) end
---@param session_id string
---@param opts SessionMessagesOptions|nil
---@return SessionMessage[]
function M.get_session_messages(session_id, opts)
  check_id("get_session_messages", session_id)
  opts = check_options("get_session_messages", opts, {
    directory = "string",
    limit = "number",
    offset = "number",
    config_dir = "string",
  })
  if not M.is_uuid(session_id) then
    return {}
  end
  local file = "/" .. session_id .. ".jsonl"
  local content = search_projects(opts, function(dir)
    local st = core.stat(dir .. file)
    if not st or st.type ~= "file" then
      return nil
    end
    local f = io.open(dir .. file, "rb")
    if not f then
      return nil
    end
    local text = f:read("*a")
    f:close()
    if text and text ~= "" then
      return text
    end
    return nil
  end)
  if not content then
    return {}
  end
  local out = {}
  for _, e in ipairs(build_chain(parse_entries(content))) do
    if visible(e) then
      out[#out + 1] = setmetatable({
        type = e.type,
        uuid = e.uuid,
        session_id = nonempty_string(e.sessionId) or "",
        message = e.message ~= null and e.message or nil,
      }, messages.SessionMessage)
    end
  end
  return page(out, opts.limit, opts.offset)
end

---------------------------------------------------------------------------
-- Mutations (rename, tag, delete, fork) and subagent transcripts, like the
-- Python SDK's session_mutations.py and list_subagents / get_subagent_messages.
--
-- Every id reaches a path only after it is checked: a session id must be a
-- UUID and an agent id [A-Za-z0-9_-]+, else InvalidOptionError.  A mutation
-- of a session that is not found raises ClaudeSDKError with code "ENOENT".

--- A session id that names a file: a UUID, else InvalidOptionError (never
--- "..", "/", ...).  Shared with the session stores.
---@param fname string  the public function, for the message
---@param arg string  the argument's name
---@param v any
local function check_uuid(fname, arg, v)
  check.string(fname, arg, v)
  if not M.is_uuid(v) then
    errors.raise(
      "InvalidOptionError",
      fname .. ": " .. arg .. " must be a session UUID, got " .. check.describe(v),
      { key = arg, option = arg }
    )
  end
end

local function not_found(session_id, opts)
  local where = opts.directory and opts.directory ~= "" and (" in the project directory for " .. opts.directory)
    or " in any project directory"
  errors.raise(
    "ClaudeSDKError",
    "session " .. session_id .. " not found" .. where,
    { code = "ENOENT", session_id = session_id }
  )
end

--- The transcript of a session: its path and its project directory, or nil.
--- Empty files are skipped (a "not here, keep searching" stub).
---@param session_id string
---@param opts {directory: string|nil, config_dir: string|nil}
---@return string|nil path
---@return string|nil project_dir
local function find_session_file(session_id, opts)
  local file = "/" .. session_id .. ".jsonl"
  local found = search_projects(opts, function(dir)
    local st = core.stat(dir .. file)
    if st and st.type == "file" and st.size > 0 then
      return { dir .. file, dir }
    end
    return nil
  end)
  if found then
    return found[1], found[2]
  end
  return nil
end

local function append_line(session_id, opts, line)
  local path = find_session_file(session_id, opts)
  if not path then
    not_found(session_id, opts)
  end
  -- "r+b" never creates the file (the Python SDK opens without O_CREAT)
  local f, err = io.open(path, "r+b")
  if not f then
    errors.raise(
      "ClaudeSDKError",
      "cannot open session " .. session_id .. ": " .. tostring(err),
      { code = "EIO", session_id = session_id }
    )
  end
  local ok, werr = f:seek("end")
  if ok then
    ok, werr = f:write(line, "\n")
  end
  f:close()
  if not ok then
    errors.raise(
      "ClaudeSDKError",
      "cannot write session " .. session_id .. ": " .. tostring(werr),
      { code = "EIO", session_id = session_id }
    )
  end
end

-- A JSON object with its keys in the given order: ordered({ "k", v, ... }).
local function ordered(kv)
  local parts = {}
  for i = 1, #kv, 2 do
    parts[#parts + 1] = json.encode(kv[i]) .. ":" .. json.encode(kv[i + 1])
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- Code points the Python SDK strips from tags (format, private-use and
-- directional characters), as ranges.  Not done: NFKC normalization and
-- unassigned code points (no Unicode tables here).
local STRIP_RANGES = {
  { 0x00AD, 0x00AD },
  { 0x0600, 0x0605 },
  { 0x061C, 0x061C },
  { 0x06DD, 0x06DD },
  { 0x070F, 0x070F },
  { 0x0890, 0x0891 },
  { 0x08E2, 0x08E2 },
  { 0x180E, 0x180E },
  { 0x200B, 0x200F },
  { 0x202A, 0x202E },
  { 0x2060, 0x2064 },
  { 0x2066, 0x206F },
  { 0xE000, 0xF8FF },
  { 0xFEFF, 0xFEFF },
  { 0xFFF9, 0xFFFB },
  { 0x110BD, 0x110BD },
  { 0x110CD, 0x110CD },
  { 0x13430, 0x1343F },
  { 0x1BCA0, 0x1BCA3 },
  { 0x1D173, 0x1D17A },
  { 0xE0001, 0xE0001 },
  { 0xE0020, 0xE007F },
  { 0xF0000, 0x10FFFF },
}

local function stripped_cp(cp)
  for _, r in ipairs(STRIP_RANGES) do
    if cp >= r[1] and cp <= r[2] then
      return true
    end
  end
  return false
end

-- s (valid UTF-8) without the code points of STRIP_RANGES.
local function sanitize_unicode(s)
  local out, i, len = {}, 1, #s
  while i <= len do
    local c = s:byte(i)
    local size = c < 0x80 and 1 or c < 0xE0 and 2 or c < 0xF0 and 3 or 4
    local cp = c
    if size == 2 then
      cp = (c - 0xC0) * 0x40 + (s:byte(i + 1) - 0x80)
    elseif size == 3 then
      cp = (c - 0xE0) * 0x1000 + (s:byte(i + 1) - 0x80) * 0x40 + (s:byte(i + 2) - 0x80)
    elseif size == 4 then
      cp = (c - 0xF0) * 0x40000
        + (s:byte(i + 1) - 0x80) * 0x1000
        + (s:byte(i + 2) - 0x80) * 0x40
        + (s:byte(i + 3) - 0x80)
    end
    if not stripped_cp(cp) then
      out[#out + 1] = s:sub(i, i + size - 1)
    end
    i = i + size
  end
  return table.concat(out)
end

--- Give a session a title: appends a custom-title entry to its transcript
--- (the last one wins in list_sessions).  The title is stripped of
--- surrounding whitespace and must not be empty.
---   sessions.rename_session(id, "Parser refactor", { directory = "/my/project" })
---@param session_id string
---@param title string
---@param opts SessionLookupOptions|nil
function M.rename_session(session_id, title, opts)
  check_uuid("rename_session", "session_id", session_id)
  check.string("rename_session", "title", title, { text = true })
  opts = check_options("rename_session", opts, { directory = "string", config_dir = "string" })
  local stripped = trim(title)
  if stripped == "" then
    errors.raise("InvalidOptionError", "rename_session: title must be non-empty", { key = "title", option = "title" })
  end
  append_line(session_id, opts, ordered({ "type", "custom-title", "customTitle", stripped, "sessionId", session_id }))
end

--- Tag a session (nil clears the tag): appends a tag entry to its
--- transcript.  The tag loses format, directional and private-use
--- characters and surrounding whitespace, and must not be empty then.
---   sessions.tag_session(id, "experiment")
---@param session_id string
---@param tag string|nil
---@param opts SessionLookupOptions|nil
function M.tag_session(session_id, tag, opts)
  check_uuid("tag_session", "session_id", session_id)
  check.string("tag_session", "tag", tag, { text = true, optional = true })
  opts = check_options("tag_session", opts, { directory = "string", config_dir = "string" })
  if tag ~= nil then
    tag = trim(sanitize_unicode(tag))
    if tag == "" then
      errors.raise(
        "InvalidOptionError",
        "tag_session: tag must be non-empty (use nil to clear)",
        { key = "tag", option = "tag" }
      )
    end
  end
  append_line(session_id, opts, ordered({ "type", "tag", "tag", tag or "", "sessionId", session_id }))
end

-- Remove a directory tree without following symlinks: os.remove unlinks a
-- file, a symlink or an empty directory; only a real directory that is not
-- empty is entered.  Best effort, like shutil.rmtree(ignore_errors=True).
local ENOTEMPTY = { [39] = true, [66] = true, [17] = true } -- Linux, BSD/macOS, some others (EEXIST)
local function remove_tree(path, depth)
  local ok, _, code = os.remove(path)
  if ok or not ENOTEMPTY[code] or depth > 64 then
    return
  end
  for _, name in ipairs(core.listdir(path) or {}) do
    remove_tree(path .. "/" .. name, depth + 1)
  end
  os.remove(path)
end

--- Delete a session: removes its transcript and the sibling `<id>/`
--- directory of subagent transcripts.  There is no undo.
---   sessions.delete_session(id, { directory = "/my/project" })
---@param session_id string
---@param opts SessionLookupOptions|nil
function M.delete_session(session_id, opts)
  check_uuid("delete_session", "session_id", session_id)
  opts = check_options("delete_session", opts, { directory = "string", config_dir = "string" })
  local path, dir = find_session_file(session_id, opts)
  if not path then
    not_found(session_id, opts)
  end
  local ok, err = os.remove(path)
  if not ok then
    errors.raise(
      "ClaudeSDKError",
      "cannot delete session " .. session_id .. ": " .. tostring(err),
      { code = core.stat(path) and "EIO" or "ENOENT", session_id = session_id }
    )
  end
  local sub = dir .. "/" .. session_id
  if core.stat(sub) then
    remove_tree(sub, 0)
  end
end

--- A random (version 4) UUID from /dev/urandom.
---@return string
local function uuid4()
  local f = io.open("/dev/urandom", "rb")
  local b = f and f:read(16)
  if f then
    f:close()
  end
  if not b or #b ~= 16 then
    errors.raise("ClaudeSDKError", "cannot read /dev/urandom for a UUID", { code = "EIO" })
  end
  local bytes = { b:byte(1, 16) }
  bytes[7] = 0x40 + bytes[7] % 16
  bytes[9] = 0x80 + bytes[9] % 64
  local hex = {}
  for i = 1, 16 do
    hex[i] = ("%02x"):format(bytes[i])
  end
  local s = table.concat(hex)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" .. s:sub(17, 20) .. "-" .. s:sub(21, 32)
end

local function iso_now()
  local t = os.time()
  return os.date("!%Y-%m-%dT%H:%M:%S", t) .. ".000Z"
end

-- Entry types copied into a fork (linked by uuid/parentUuid).
local TRANSCRIPT_TYPES = { user = true, assistant = true, attachment = true, system = true, progress = true }

---@class ForkSessionOptions
---@field directory string|nil         the project directory; nil searches every project
---@field up_to_message_id string|nil  copy up to this message uuid (inclusive); nil copies everything
---@field title string|nil             the fork's title (default: the original's title + " (fork)")
---@field config_dir string|nil        as for list_sessions

---@class ForkSessionResult
---@field session_id string  the new session's id

--- Fork a session: a new transcript next to the original with the same
--- entries (no sidechains, progress entries or undo history), fresh
--- uuids, the parentUuid chain remapped, and a custom title.
---   local new_id = sessions.fork_session(id, { up_to_message_id = uuid }).session_id
---@param session_id string
---@param opts ForkSessionOptions|nil
---@return ForkSessionResult
function M.fork_session(session_id, opts)
  check_uuid("fork_session", "session_id", session_id)
  opts = check_options("fork_session", opts, {
    directory = "string",
    config_dir = "string",
    up_to_message_id = "string",
    title = "string",
  })
  local up_to = opts.up_to_message_id
  if up_to then
    check_uuid("fork_session", "up_to_message_id", up_to)
  end
  if opts.title then
    check.string("fork_session", "opts.title", opts.title, { text = true })
  end
  local path, dir = find_session_file(session_id, opts)
  if not path then
    not_found(session_id, opts)
  end
  local f = io.open(path, "rb")
  local content = f and f:read("*a")
  if f then
    f:close()
  end
  if not content or content == "" then
    not_found(session_id, opts)
  end

  local transcript, replacements = {}, {}
  for line in content:gmatch("[^\n]+") do
    if line:find("%S") then
      local ok, e = pcall(json.decode, line)
      if ok and type(e) == "table" and not json.is_array(e) then
        if TRANSCRIPT_TYPES[e.type] and type(e.uuid) == "string" then
          if not truthy(e.isSidechain) then
            transcript[#transcript + 1] = e
          end
        elseif
          e.type == "content-replacement"
          and e.sessionId == session_id
          and type(e.replacements) == "table"
          and json.is_array(e.replacements)
        then
          for _, r in ipairs(e.replacements) do
            replacements[#replacements + 1] = r
          end
        end
      end
    end
  end
  local function empty()
    errors.raise("ClaudeSDKError", "session " .. session_id .. " has no messages to fork", { session_id = session_id })
  end
  if #transcript == 0 then
    empty()
  end
  if up_to then
    local cut
    for i, e in ipairs(transcript) do
      if e.uuid == up_to then
        cut = i
        break
      end
    end
    if not cut then
      errors.raise(
        "InvalidOptionError",
        "fork_session: message " .. up_to .. " not found in session " .. session_id,
        { key = "up_to_message_id", option = "up_to_message_id" }
      )
    end
    for i = #transcript, cut + 1, -1 do
      transcript[i] = nil
    end
  end

  local mapping, by_uuid = {}, {}
  for _, e in ipairs(transcript) do
    mapping[e.uuid] = uuid4()
    by_uuid[e.uuid] = e
  end
  local writable = {}
  for _, e in ipairs(transcript) do
    if e.type ~= "progress" then
      writable[#writable + 1] = e
    end
  end
  if #writable == 0 then
    empty()
  end

  local new_id = uuid4()
  local now = iso_now()
  local lines = {}
  for i, orig in ipairs(writable) do
    -- the parent, skipping progress ancestors
    local new_parent = null
    local pid = orig.parentUuid
    local seen = {}
    while type(pid) == "string" and pid ~= "" and not seen[pid] do
      seen[pid] = true
      local parent = by_uuid[pid]
      if not parent then
        break
      end
      if parent.type ~= "progress" then
        new_parent = mapping[pid] or null
        break
      end
      pid = parent.parentUuid
    end
    local forked = {}
    for k, v in pairs(orig) do
      forked[k] = v
    end
    local logical = orig.logicalParentUuid
    if truthy(logical) then
      logical = mapping[logical] or null
    end
    forked.uuid = mapping[orig.uuid]
    forked.parentUuid = new_parent
    forked.logicalParentUuid = logical == nil and null or logical
    forked.sessionId = new_id
    if i == #writable or orig.timestamp == nil then
      forked.timestamp = now
    end
    forked.isSidechain = false
    forked.forkedFrom = { sessionId = session_id, messageUuid = orig.uuid }
    forked.teamName, forked.agentName, forked.slug, forked.sourceToolAssistantUUID = nil, nil, nil, nil
    lines[#lines + 1] = json.encode(forked)
  end
  if #replacements > 0 then
    lines[#lines + 1] = ordered({
      "type",
      "content-replacement",
      "sessionId",
      new_id,
      "replacements",
      json.array(replacements),
      "uuid",
      uuid4(),
      "timestamp",
      now,
    })
  end

  local title = opts.title and trim(opts.title) or ""
  if title == "" then
    local buf = M.LITE_READ_BUF_SIZE
    local head = content:sub(1, buf)
    local tail = content:sub(math.max(1, #content - buf + 1))
    local derived = nonempty_string(last_string_field(tail, "customTitle"))
      or nonempty_string(last_string_field(head, "customTitle"))
      or nonempty_string(last_string_field(tail, "aiTitle"))
      or nonempty_string(last_string_field(head, "aiTitle"))
      or nonempty_string(first_prompt_of(head))
    title = (derived or "Forked session") .. " (fork)"
  end
  lines[#lines + 1] =
    ordered({ "type", "custom-title", "sessionId", new_id, "customTitle", title, "uuid", uuid4(), "timestamp", now })

  local fork_path = dir .. "/" .. new_id .. ".jsonl"
  if core.stat(fork_path) then
    errors.raise("ClaudeSDKError", "fork_session: " .. fork_path .. " exists", { code = "EEXIST" })
  end
  local out, err = io.open(fork_path, "wb")
  if not out then
    errors.raise(
      "ClaudeSDKError",
      "fork_session: cannot create " .. fork_path .. ": " .. tostring(err),
      { code = "EIO" }
    )
  end
  local ok, werr = out:write(table.concat(lines, "\n"), "\n")
  out:close()
  if not ok then
    os.remove(fork_path)
    errors.raise(
      "ClaudeSDKError",
      "fork_session: cannot write " .. fork_path .. ": " .. tostring(werr),
      { code = "EIO" }
    )
  end
  return { session_id = new_id }
end

-- The subagents directory of a session (<project>/<id>/subagents), or nil
-- when the session is not found.
local function subagents_dir_of(session_id, opts)
  local path = find_session_file(session_id, opts)
  if not path then
    return nil
  end
  return path:sub(1, -7) .. "/subagents"
end

--- { agent_id, path } of every agent-<id>.jsonl under dir (nested
--- directories too, such as workflows/<run id>/), sorted by name per level.
---@param dir string
---@param out table[]|nil  appended to
---@param depth integer|nil
---@return table[]
local function collect_agent_files(dir, out, depth)
  out = out or {}
  if (depth or 0) > 16 then
    return out
  end
  local names = core.listdir(dir)
  if not names then
    return out
  end
  table.sort(names)
  for _, name in ipairs(names) do
    local p = dir .. "/" .. name
    local st = core.stat(p)
    if st and st.type == "file" then
      local id = name:match("^agent%-(.*)%.jsonl$")
      if id then
        out[#out + 1] = { id, p }
      end
    elseif st and st.type == "directory" then
      collect_agent_files(p, out, (depth or 0) + 1)
    end
  end
  return out
end

--- The ids of a session's subagents (from `<id>/subagents/agent-<aid>.jsonl`
--- next to its transcript); {} when the session is not found or has none.
---   for _, aid in ipairs(sessions.list_subagents(id)) do print(aid) end
---@param session_id string
---@param opts SessionLookupOptions|nil
---@return string[]
function M.list_subagents(session_id, opts)
  check_uuid("list_subagents", "session_id", session_id)
  opts = check_options("list_subagents", opts, { directory = "string", config_dir = "string" })
  local dir = subagents_dir_of(session_id, opts)
  if not dir then
    return {}
  end
  local out = {}
  for i, a in ipairs(collect_agent_files(dir)) do
    out[i] = a[1]
  end
  return out
end

--- A subagent's user and assistant messages, oldest first; {} when the
--- session or the subagent is not found.  parent_tool_use_id (and
--- parent_agent_id for nested subagents) come from the transcript's
--- `agent-<aid>.meta.json` sidecar when there is one.
---   local msgs = sessions.get_subagent_messages(id, agent_id, { limit = 10 })
---@param session_id string
---@param agent_id string
---@param opts SessionMessagesOptions|nil
---@return SessionMessage[]
function M.get_subagent_messages(session_id, agent_id, opts)
  check_uuid("get_subagent_messages", "session_id", session_id)
  check.string("get_subagent_messages", "agent_id", agent_id)
  if not agent_id:find("^[%w_%-]+$") then
    errors.raise(
      "InvalidOptionError",
      "get_subagent_messages: agent_id must be made of letters, digits, _ and -, got " .. check.describe(agent_id),
      { key = "agent_id", option = "agent_id" }
    )
  end
  opts = check_options("get_subagent_messages", opts, {
    directory = "string",
    limit = "number",
    offset = "number",
    config_dir = "string",
  })
  local dir = subagents_dir_of(session_id, opts)
  if not dir then
    return {}
  end
  local path
  for _, a in ipairs(collect_agent_files(dir)) do
    if a[1] == agent_id then
      path = a[2]
      break
    end
  end
  if not path then
    return {}
  end
  local f = io.open(path, "rb")
  local content = f and f:read("*a")
  if f then
    f:close()
  end
  if not content or content == "" then
    return {}
  end

  local tool_use_id, parent_agent_id
  local mf = io.open(path:sub(1, -7) .. ".meta.json", "rb")
  if mf then
    local text = mf:read("*a")
    mf:close()
    local ok, meta = pcall(json.decode, text or "")
    if ok and type(meta) == "table" then
      tool_use_id = type(meta.toolUseId) == "string" and meta.toolUseId or nil
      parent_agent_id = type(meta.parentAgentId) == "string" and meta.parentAgentId or nil
    end
  end

  -- linear: from the last user/assistant entry back along parentUuid
  local entries = parse_entries(content)
  local by_uuid = {}
  for _, e in ipairs(entries) do
    by_uuid[e.uuid] = e
  end
  local leaf
  for i = #entries, 1, -1 do
    if entries[i].type == "user" or entries[i].type == "assistant" then
      leaf = entries[i]
      break
    end
  end
  local chain, seen = {}, {}
  local cur = leaf
  while cur and not seen[cur.uuid] do
    seen[cur.uuid] = true
    table.insert(chain, 1, cur)
    local p = parent_of(cur)
    cur = p and by_uuid[p]
  end
  local out = {}
  for _, e in ipairs(chain) do
    if e.type == "user" or e.type == "assistant" then
      out[#out + 1] = setmetatable({
        type = e.type,
        uuid = e.uuid,
        session_id = nonempty_string(e.sessionId) or "",
        message = e.message ~= null and e.message or nil,
        parent_tool_use_id = tool_use_id,
        parent_agent_id = parent_agent_id,
      }, messages.SessionMessage)
    end
  end
  return page(out, opts.limit, opts.offset)
end

---------------------------------------------------------------------------
-- Shared with the session stores (session_store.lua, store_readers.lua):
-- one copy of the CLI's path rules and id checks.

--- The SessionStore project_key of a directory (default: the current one):
--- the CLI's project directory name for its physical path (symlinks
--- resolved, as the CLI sees its cwd), like the Python SDK's
--- project_key_for_directory.
---   local key = claude.project_key_for_directory("/my/project")
---@param directory string|nil
---@return string
function M.project_key_for_directory(directory)
  check.string("project_key_for_directory", "directory", directory, { optional = true, path = true })
  local canonical = canonicalize(directory or ".")
  return M.sanitize_path(physical_path(canonical) or canonical)
end

--- A random (version 4) UUID.
M.uuid4 = uuid4
--- Raise InvalidOptionError unless v is a session UUID (never `..`, `/`, ...).
M.check_session_id = check_uuid
--- The transcript path of a session and its project directory, or nil.
M.find_session_file = find_session_file
--- { agent_id, path } of every agent-<id>.jsonl under a directory.
M.collect_agent_files = collect_agent_files
--- Remove a directory tree (best effort, symlinks not followed).
---@param path string
function M.remove_tree(path)
  remove_tree(path, 0)
end

return M
