" :checkhealth claude_agent_sdk for the SDK installed as a rock. Neovim looks for Lua health checks on
" 'runtimepath' only (lua/claude_agent_sdk/health.lua), and a rock's Lua files are on package.path instead;
" the rock's own directory (rockspec: copy_directories) holds this file and doc/, and
" require("claude_agent_sdk.install").runtimepath() puts it on 'runtimepath'. In a checkout Neovim finds
" both this and the Lua file, which it prefers; either runs the same check.
function! health#claude_agent_sdk#check() abort
  lua require("claude_agent_sdk.health").check()
endfunction
