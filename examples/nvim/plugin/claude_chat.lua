-- claude_chat: the commands of the example plugin (the code is in lua/claude_chat/init.lua).
--
-- Neovim sources this file at startup when examples/nvim is on 'runtimepath'. It only defines commands and an
-- autocommand, so the SDK (and the C module) load on first use, not at every start of the editor.
--   :ClaudeAsk {prompt}   ask Claude; the answer streams into the claude://chat buffer
--   :ClaudeInterrupt      stop the answer being streamed
-- On VimLeavePre the CLI is stopped (disconnect), so no `claude` process outlives the editor.

if vim.g.loaded_claude_chat then
  return
end
vim.g.loaded_claude_chat = true

vim.api.nvim_create_user_command("ClaudeAsk", function(cmd)
  require("claude_chat").ask(cmd.args)
end, { nargs = "+", desc = "Ask Claude; the answer streams into the claude://chat buffer" })

vim.api.nvim_create_user_command("ClaudeInterrupt", function()
  require("claude_chat").interrupt()
end, { desc = "Stop Claude's current answer" })

vim.api.nvim_create_autocmd("VimLeavePre", {
  group = vim.api.nvim_create_augroup("claude_chat", { clear = true }),
  desc = "Stop the claude CLI",
  callback = function()
    -- Not loaded yet means never used: nothing to stop, and no reason to load the SDK now.
    local chat = package.loaded["claude_chat"]
    if chat then
      chat.stop()
    end
  end,
})
