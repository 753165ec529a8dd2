#!/bin/sh
# Install what the project needs on a fresh Debian machine, idempotently:
# Debian packages (only the missing ones) and the real Claude Code CLI from
# npm into the project's own folder (default .deps/): the version matrix's
# two pinned CLIs, the oldest supported one in DEPS/node_modules (the
# default CLI of the tests and the demo) and the newest tested one in
# DEPS/newest/node_modules.
#   sh spec/support/setup.sh DEPS_DIR CLI_VERSION [CLI_VERSION_NEWEST]
set -eu
DEPS=${1:-.deps}
CLI_VERSION=${2:-2.1.197}
CLI_VERSION_NEWEST=${3:-}

# hyperfine and time are for make bench.
PKGS="build-essential pkg-config lua5.4 liblua5.4-dev luajit libluajit-5.1-dev lua-cjson lua-luv lua-busted libcjson-dev neovim luarocks valgrind clang libclang-rt-dev hyperfine time"
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
