#!/bin/sh
# helptags.sh DIR: write DIR/tags for the help files DIR/*.txt, as Neovim's `:helptags DIR` would (the same lines
# in the same order), without Neovim. The SDK's rock runs it on doc/ before LuaRocks copies doc/ into the rock's
# directory, so `:help claude_agent_sdk` works wherever that directory is put on 'runtimepath' (rocks.nvim,
# require("claude_agent_sdk.install").runtimepath()), a tree nobody may write to included. spec/nvim_install_spec.lua
# compares its output with Neovim's.
#
# Vim's rule: a tag is *name* with white space or the line's start before it and white space or the line's end
# after it, name holding no space, tab, "|" or "*"; a tags line is "name<Tab>file<Tab>/*name*" with "\" and "/"
# escaped in the pattern; the lines sorted bytewise (Vim sorts with strcmp).
set -e
cd "$1"
LC_ALL=C awk '{
  for (i = 1; i <= NF; i++) {
    if ($i !~ /^\*[^|*]+\*$/) continue
    tag = substr($i, 2, length($i) - 2); pat = tag
    gsub(/\\/, "\\\\&", pat); gsub(/\//, "\\\\&", pat)
    printf "%s\t%s\t/*%s*\n", tag, FILENAME, pat
  }
}' *.txt | LC_ALL=C sort > tags
