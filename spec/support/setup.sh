#!/bin/sh
# Install what the project needs on a fresh Debian machine, idempotently:
# Debian packages (only the missing ones) and the real Claude Code CLI from
# npm into the project's own folder (default .deps/), pinned to one version.
#   sh spec/support/setup.sh DEPS_DIR CLI_VERSION
set -eu
DEPS=${1:-.deps}
CLI_VERSION=${2:-2.1.197}

PKGS="build-essential pkg-config lua5.4 liblua5.4-dev luajit libluajit-5.1-dev lua-cjson lua-luv lua-busted libcjson-dev neovim luarocks valgrind clang libclang-rt-dev"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: need root (or sudo) to install:$missing" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

CLI="$DEPS/node_modules/.bin/claude"
if [ -x "$CLI" ] && "$CLI" -v 2>/dev/null | grep -q "^$CLI_VERSION "; then
  exit 0
fi
echo "setup: installing @anthropic-ai/claude-code@$CLI_VERSION into $DEPS"
mkdir -p "$DEPS"
[ -f "$DEPS/package.json" ] || echo '{"name":"claude-agent-sdk-lua-deps","private":true}' > "$DEPS/package.json"
npm install --prefix "$DEPS" --no-audit --no-fund --loglevel=error "@anthropic-ai/claude-code@$CLI_VERSION" >/dev/null
"$CLI" -v
