#!/bin/sh
# Install what the project needs on a fresh Debian machine, idempotently:
# Debian packages (only the missing ones) and the real Claude Code CLI from
# npm into the project's own folder (default .deps/): the version matrix's
# two pinned CLIs, the oldest supported one in DEPS/node_modules (the
# default CLI of the tests and the demo) and the newest tested one in
# DEPS/newest/node_modules; and the official TypeScript SDK in DEPS/bench-ts
# (the peer that make bench times, and the official SDK whose session figures
# versions_spec holds the library's equal to).
# StyLua for make lint comes from npm too (DEPS/stylua, pinned).
#   sh spec/support/setup.sh DEPS_DIR CLI_VERSION [CLI_VERSION_NEWEST [TS_SDK_VERSION [STYLUA_VERSION]]]
set -eu
DEPS=${1:-.deps}
CLI_VERSION=${2:-2.1.197}
CLI_VERSION_NEWEST=${3:-}
TS_SDK_VERSION=${4:-}
STYLUA_VERSION=${5:-}

# hyperfine and time are for make bench; lua-check (luacheck) and clang-format for make lint;
# redis-server for the session-store specs (the Redis store against a real server).
PKGS="build-essential pkg-config lua5.4 liblua5.4-dev luajit libluajit-5.1-dev lua-cjson lua-luv lua-busted libcjson-dev neovim luarocks valgrind clang libclang-rt-dev hyperfine time lua-check clang-format redis-server"
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

# install_cli DIR VERSION: the CLI at DIR/node_modules/.bin/claude, in its own
# npm project (a package.json of its own, so npm never climbs to a parent's).
install_cli() {
  cli="$1/node_modules/.bin/claude"
  if [ -x "$cli" ] && "$cli" -v 2>/dev/null | grep -q "^$2 "; then
    return 0
  fi
  echo "setup: installing @anthropic-ai/claude-code@$2 into $1"
  mkdir -p "$1"
  [ -f "$1/package.json" ] || echo '{"name":"claude-agent-sdk-lua-deps","private":true}' > "$1/package.json"
  npm install --prefix "$1" --no-audit --no-fund --loglevel=error "@anthropic-ai/claude-code@$2" >/dev/null
  "$cli" -v
}

install_cli "$DEPS" "$CLI_VERSION"
[ -z "$CLI_VERSION_NEWEST" ] || install_cli "$DEPS/newest" "$CLI_VERSION_NEWEST"

# install_ts_sdk DIR VERSION: the official TypeScript SDK, without its bundled
# CLI (--omit=optional): the pinned CLIs above are the ones it is pointed at.
install_ts_sdk() {
  pkg="$1/node_modules/@anthropic-ai/claude-agent-sdk/package.json"
  if [ -f "$pkg" ] && grep -q "\"version\": \"$2\"" "$pkg"; then
    return 0
  fi
  echo "setup: installing @anthropic-ai/claude-agent-sdk@$2 into $1"
  mkdir -p "$1"
  [ -f "$1/package.json" ] || echo '{"name":"claude-agent-sdk-lua-bench-ts","private":true}' > "$1/package.json"
  npm install --prefix "$1" --omit=optional --no-audit --no-fund --loglevel=error \
    "@anthropic-ai/claude-agent-sdk@$2" >/dev/null
}

[ -z "$TS_SDK_VERSION" ] || install_ts_sdk "$DEPS/bench-ts" "$TS_SDK_VERSION"

# install_stylua DIR VERSION: StyLua's npm package carries the native binary.
install_stylua() {
  bin="$1/node_modules/.bin/stylua"
  if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -qx "stylua $2"; then
    return 0
  fi
  echo "setup: installing @johnnymorganz/stylua-bin@$2 into $1"
  mkdir -p "$1"
  [ -f "$1/package.json" ] || echo '{"name":"claude-agent-sdk-lua-stylua","private":true}' > "$1/package.json"
  npm install --prefix "$1" --no-audit --no-fund --loglevel=error "@johnnymorganz/stylua-bin@$2" >/dev/null
  "$bin" --version
}

[ -z "$STYLUA_VERSION" ] || install_stylua "$DEPS/stylua" "$STYLUA_VERSION"
