-- luacheck configuration (make lint). The library runs on Lua 5.4 and on LuaJIT (Neovim), so the standard
-- globals are the union of both. Neovim's `vim` is checked for before use; its option tables are written to.
std = "lua54+luajit"
max_line_length = 120
-- StyLua keeps code within 120 columns; a long string or a trailing comment is its own business.
max_string_line_length = false
max_comment_line_length = false
globals = { "vim" }
-- `self` unused in a method is the method's shape, not a mistake.
self = false

exclude_files = { ".deps/", "build/", ".cache/" }

-- Specs: busted's globals; they replace io.popen and os.execute to prove the library never calls them, and
-- shadow freely inside nested describe blocks.
files["spec/"] = { std = "+busted", ignore = { "122/io", "122/os", "211", "212", "241", "311", "421", "431" } }
-- Examples mirror the Python SDK's callback signatures (hook_input, tool_use_id, context) even where one goes unused,
-- and keep the Python examples' commented-out branches.
files["examples/"] = { unused_args = false, ignore = { "542" } }
