--- Which libuv binding the offline model server runs on.
---
--- Contract: `resolve(given)` returns `given` when it is not nil (a luv-compatible module: `require("luv")`,
--- `vim.uv`, `vim.loop`), else Neovim's `vim.uv` or `vim.loop` when running inside Neovim, else `require("luv")`.
--- It raises when none is available, since nothing here can work without an event loop.
---
--- Example: `local uv = require("claude_agent_sdk.testing.uv").resolve(opts.uv)`

local M = {}

---@param given table|nil a luv-compatible module chosen by the caller
---@return table uv the module to use
--- Example: `local uv = resolve(nil)  -- vim.uv in Neovim, luv elsewhere`
function M.resolve(given)
  if given then
    return given
  end
  local vim = rawget(_G, "vim")
  if type(vim) == "table" and (vim.uv or vim.loop) then
    return vim.uv or vim.loop
  end
  local ok, luv = pcall(require, "luv")
  if not ok then
    error("claude_agent_sdk.testing needs luv (Debian: lua-luv) or Neovim's vim.uv", 3)
  end
  return luv
end

return M
