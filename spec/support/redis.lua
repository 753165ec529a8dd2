-- A real redis-server for the session-store specs: on a free port, in a
-- temporary directory (its append-only file there, fsync'd on every write,
-- so a server killed with SIGKILL and started again has every acknowledged
-- write), stopped and removed by stop().
local uv = require("luv")
local h = require("support.helpers")

local M = {}

--- The path of redis-server, or nil (then the specs say they are pending).
function M.server_path()
  local p = io.popen("command -v redis-server 2>/dev/null")
  local out = p and p:read("*l")
  if p then
    p:close()
  end
  return out ~= "" and out or nil
end

local function free_port()
  local tcp = uv.new_tcp()
  tcp:bind("127.0.0.1", 0)
  local port = tcp:getsockname().port
  tcp:close()
  uv.run("nowait")
  return port
end

local function ping(port)
  local tcp = uv.new_tcp()
  local ok = false
  local done = false
  tcp:connect("127.0.0.1", port, function(err)
    if err then
      done = true
      return
    end
    tcp:read_start(function(_, data)
      ok = data ~= nil and data:find("PONG", 1, true) ~= nil
      done = true
    end)
    tcp:write("PING\r\n")
  end)
  local t = uv.new_timer()
  t:start(500, 0, function()
    done = true
  end)
  while not done do
    uv.run("once")
  end
  t:close()
  tcp:close()
  uv.run("nowait")
  return ok
end

--- Start a server; returns { port, dir, pid(), kill(), start(), stop() }.
function M.start()
  local srv = { port = free_port(), dir = h.tmpdir() }
  -- A child of ours through luv (not daemonized: libuv reaps it, so a
  -- killed server leaves no zombie behind).
  function srv.start()
    local args = {
      "--port",
      tostring(srv.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      srv.dir,
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--save",
      "",
      "--logfile",
      srv.dir .. "/redis.log",
    }
    srv.exited = false
    srv.handle = uv.spawn(M.server_path(), { args = args, cwd = srv.dir }, function()
      srv.exited = true
      if srv.handle then
        srv.handle:close()
        srv.handle = nil
      end
    end)
    assert(srv.handle, "cannot start redis-server")
    for _ = 1, 100 do
      if ping(srv.port) then
        return
      end
      uv.sleep(50)
    end
    error("redis-server did not answer on port " .. srv.port .. ": " .. (h.read_file(srv.dir .. "/redis.log") or ""))
  end
  function srv.pid()
    return srv.handle and srv.handle:get_pid()
  end
  --- SIGKILL, and wait until it is gone (reaped).
  function srv.kill()
    if srv.handle then
      srv.handle:kill("sigkill")
      local t = uv.new_timer()
      t:start(5000, 0, function() end)
      while not srv.exited do
        uv.run("once")
      end
      t:close()
      uv.run("nowait")
    end
  end
  function srv.signal(sig)
    if srv.handle then
      srv.handle:kill(sig)
    end
  end
  function srv.stop()
    srv.kill()
    os.execute("rm -rf " .. h.sh_quote(srv.dir))
  end
  srv.start()
  return srv
end

return M
