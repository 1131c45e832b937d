#!/usr/bin/env bash
# Install code-server 4.100.3 (VS Code 1.100.3 in the browser; the newest release whose
# engines.node is 20) into a cache directory outside the repository, offline apart from the
# npm registry and Debian's packages. Idempotent: does nothing when it is already there.
#   bash editors/vscode/test/install-code-server.sh      -> prints the code-server binary path
# Cache: $ERD_CODE_SERVER_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/erd-lsp/code-server-4.100.3)
set -euo pipefail
VERSION=4.100.3
CACHE=${ERD_CODE_SERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/erd-lsp/code-server-$VERSION}
BIN="$CACHE/node_modules/.bin/code-server"

if [ -x "$BIN" ] && [ -f "$CACHE/.installed" ]; then
  echo "$BIN"
  exit 0
fi

apt_install() {
  # $@: Debian packages; installs only the missing ones (needs root, as on CI and dev machines)
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -q >&2 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}" >&2
}
# native modules (kerberos, node-pty, argon2) build with node-gyp against the node headers
apt_install build-essential pkg-config python3 libkrb5-dev ripgrep

mkdir -p "$CACHE"
# @vscode/ripgrep's postinstall downloads rg from GitHub, which is unreachable here; it looks
# first in $TMPDIR/vscode-ripgrep-cache-<its version>/, so seed that with Debian's rg.
RG_CACHE="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
RG_TAR="$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -f "$RG_TAR" ]; then
  mkdir -p "$RG_CACHE"
  t=$(mktemp -d)
  cp "$(command -v rg)" "$t/rg"
  tar czf "$RG_TAR" -C "$t" rg
  rm -rf "$t"
fi
cd "$CACHE"
[ -f package.json ] || echo '{"name":"erd-lsp-code-server-cache","private":true}' > package.json
# unsafe_perm: code-server's postinstall refuses to run as root without it;
# yes: node-pty's postinstall runs `npx node-gyp`, and ~/.npmrc may say yes=false.
echo "installing code-server $VERSION into $CACHE (about 2 minutes)" >&2
npm_config_unsafe_perm=true npm_config_yes=true \
  npm install --no-save --no-audit --no-fund --loglevel=error "code-server@$VERSION" >&2
printf 'auth: none\ncert: false\n' > config.yaml  # so that --version writes no ~/.config/code-server
"$BIN" --config "$CACHE/config.yaml" --version >&2
touch .installed
echo "$BIN"
