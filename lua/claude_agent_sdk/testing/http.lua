--- HTTP/1.1 for the offline model server, without I/O: a request parser fed with bytes, and response writers
--- that return strings.
---
--- Contract: `http.parser()` returns a parser; `parser:feed(bytes)` consumes any number of bytes (a request may
--- arrive one byte at a time, several may arrive in one read) and returns the list of requests completed by them,
--- or `nil, message, status` when the stream is not HTTP we accept (the caller answers `status` and closes). A
--- request is `{ method, target, path, query, version, headers, body, keep_alive }`; header names are lower case,
--- repeated headers are joined with ", ". Bodies are framed by Content-Length or by chunked transfer coding
--- (trailers are read and dropped); a request with neither has an empty body. Limits: 64 KiB of head, 256 MiB of
--- body. `keep_alive` follows HTTP/1.1 (on unless "Connection: close"; HTTP/1.0 only with "keep-alive").
---
--- Example: `for _, req in ipairs(assert(p:feed(data))) do respond(req) end`

local M = {}

local MAX_HEAD = 64 * 1024
local MAX_BODY = 256 * 1024 * 1024

M.reasons = {
  [200] = "OK",
  [204] = "No Content",
  [400] = "Bad Request",
  [401] = "Unauthorized",
  [403] = "Forbidden",
  [404] = "Not Found",
  [405] = "Method Not Allowed",
  [408] = "Request Timeout",
  [413] = "Payload Too Large",
  [429] = "Too Many Requests",
  [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error",
  [501] = "Not Implemented",
  [502] = "Bad Gateway",
  [503] = "Service Unavailable",
  [504] = "Gateway Timeout",
  [529] = "Overloaded",
}

---@class ClaudeTestingHttpRequest
---@field method string "GET", "POST", ...
---@field target string the request target as sent, e.g. "/v1/messages?beta=true"
---@field path string the target without its query string
---@field query string|nil the query string without "?"
---@field version string "1.1" or "1.0"
---@field headers table<string,string> lower-case names
---@field body string the decoded (de-chunked) body
---@field keep_alive boolean whether the connection stays open after the response

---@class ClaudeTestingHttpParser
---@field private buf string unconsumed bytes
---@field private state string "head" | "length" | "chunk_size" | "chunk_data" | "chunk_crlf" | "trailer"
local Parser = {}
Parser.__index = Parser

---@return ClaudeTestingHttpParser
--- Example: `local p = http.parser()`
function M.parser()
  return setmetatable({ buf = "", state = "head" }, Parser)
end

local function parse_head(head)
  local lines = {}
  for line in (head .. "\r\n"):gmatch("(.-)\r?\n") do
    lines[#lines + 1] = line
  end
  local method, target, version = (lines[1] or ""):match("^(%u+) (%S+) HTTP/(%d%.%d)$")
  if not method then
    return nil, "malformed request line"
  end
  local headers = {}
  for i = 2, #lines do
    local name, value = lines[i]:match("^([^:%s]+):%s*(.-)%s*$")
    if not name then
      return nil, "malformed header line"
    end
    name = name:lower()
    headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
  end
  local path, query = target:match("^([^?]*)%??(.*)$")
  local conn = (headers["connection"] or ""):lower()
  local keep_alive
  if version == "1.0" then
    keep_alive = conn:find("keep-alive", 1, true) ~= nil
  else
    keep_alive = conn:find("close", 1, true) == nil
  end
  return {
    method = method,
    target = target,
    path = path,
    query = query ~= "" and query or nil,
    version = version,
    headers = headers,
    keep_alive = keep_alive,
  }
end

-- Start the body of self.req, as its headers say.
function Parser:begin_body()
  local te = (self.req.headers["transfer-encoding"] or ""):lower()
  self.parts, self.size = {}, 0
  if te:find("chunked", 1, true) then
    self.state = "chunk_size"
    return true
  end
  if te ~= "" and te ~= "identity" then
    return nil, "unsupported transfer-encoding: " .. te, 501
  end
  local cl = self.req.headers["content-length"]
  local n = cl and tonumber(cl:match("^%d+$")) or (cl == nil and 0 or nil)
  if not n then
    return nil, "bad content-length", 400
  end
  if n > MAX_BODY then
    return nil, "body too large", 413
  end
  self.want = n
  self.state = "length"
  return true
end

-- Take up to n bytes of the buffer into the body.
function Parser:take(n)
  local piece = self.buf:sub(1, n)
  self.buf = self.buf:sub(n + 1)
  self.parts[#self.parts + 1] = piece
  self.size = self.size + #piece
  return #piece
end

function Parser:finish(done)
  local req = self.req
  req.body = table.concat(self.parts)
  self.req, self.parts, self.state = nil, nil, "head"
  done[#done + 1] = req
end

-- One step of the state machine; returns true when it made progress, false when it needs more bytes,
-- or nil, err, status on bad input.
function Parser:step(done)
  local state = self.state
  if state == "head" then
    local stop = self.buf:find("\r\n\r\n", 1, true)
    local skip = 4
    if not stop then
      stop, skip = self.buf:find("\n\n", 1, true), 2
    end
    if not stop then
      if #self.buf > MAX_HEAD then
        return nil, "request head too large", 431
      end
      return false
    end
    local head = self.buf:sub(1, stop - 1):gsub("^[\r\n]+", "")
    self.buf = self.buf:sub(stop + skip)
    local req, err = parse_head(head)
    if not req then
      return nil, err, 400
    end
    self.req = req
    local ok, berr, status = self:begin_body()
    if not ok then
      return nil, berr, status
    end
    return true
  elseif state == "length" then
    if self.size >= self.want then
      self:finish(done)
      return true
    end
    if #self.buf == 0 then
      return false
    end
    self:take(self.want - self.size)
    return true
  elseif state == "chunk_size" or state == "chunk_crlf" or state == "trailer" then
    local eol = self.buf:find("\n", 1, true)
    if not eol then
      if #self.buf > MAX_HEAD then
        return nil, "chunk line too long", 400
      end
      return false
    end
    local line = self.buf:sub(1, eol - 1):gsub("\r$", "")
    self.buf = self.buf:sub(eol + 1)
    if state == "chunk_crlf" then
      if line ~= "" then
        return nil, "missing CRLF after chunk", 400
      end
      self.state = "chunk_size"
    elseif state == "trailer" then
      if line == "" then
        self:finish(done)
      end
    else
      local hex = line:match("^%s*(%x+)")
      if not hex then
        return nil, "bad chunk size", 400
      end
      local n = tonumber(hex, 16)
      if self.size + n > MAX_BODY then
        return nil, "body too large", 413
      end
      if n == 0 then
        self.state = "trailer"
      else
        self.want, self.state = self.size + n, "chunk_data"
      end
    end
    return true
  else -- chunk_data
    if self.size >= self.want then
      self.state = "chunk_crlf"
      return true
    end
    if #self.buf == 0 then
      return false
    end
    self:take(self.want - self.size)
    return true
  end
end

---@param data string bytes read from the connection
---@return ClaudeTestingHttpRequest[]|nil requests the requests these bytes completed (often empty)
---@return string|nil err why the stream was rejected
---@return integer|nil status the HTTP status to answer before closing
--- Example: `local reqs, err, status = parser:feed(chunk)`
function Parser:feed(data)
  if self.failed then
    return nil, self.failed, 400
  end
  self.buf = self.buf .. data
  local done = {}
  while true do
    local progressed, err, status = self:step(done)
    if progressed == nil then
      self.failed = err
      return nil, err, status
    end
    if not progressed then
      break
    end
  end
  return done
end

---@param status integer HTTP status code
---@param headers table<string,string|number> response headers (names as they should be written)
---@return string head the status line and headers, ending with the blank line
--- Example: `sock:write(http.head(200, { ["Content-Length"] = #body }) .. body)`
function M.head(status, headers)
  local out = { string.format("HTTP/1.1 %d %s\r\n", status, M.reasons[status] or "Status") }
  local names = {}
  for name in pairs(headers) do
    names[#names + 1] = name
  end
  table.sort(names)
  for _, name in ipairs(names) do
    out[#out + 1] = name .. ": " .. tostring(headers[name]) .. "\r\n"
  end
  out[#out + 1] = "\r\n"
  return table.concat(out)
end

---@param data string a piece of a chunked body (empty gives the last chunk)
---@return string bytes the chunk as it goes on the wire
--- Example: `sock:write(http.chunk("event: ping\n\n"))`
function M.chunk(data)
  if data == "" then
    return "0\r\n\r\n"
  end
  return string.format("%x\r\n", #data) .. data .. "\r\n"
end

return M
