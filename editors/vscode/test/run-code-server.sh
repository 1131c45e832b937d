#!/usr/bin/env bash
# End-to-end test of the VS Code extension in real VS Code: code-server 4.100.3 (VS Code
# 1.100.3 in the browser), driven by headless Chromium through playwright-core.
#
#   bash editors/vscode/test/run-code-server.sh
#
# 1. installs code-server into a cache outside the repository (install-code-server.sh;
#    about 2 minutes the first time) and Debian's chromium when it is missing;
# 2. builds the .vsix (npm ci && npm run package in editors/vscode);
# 3. installs it into code-server with a fresh user-data and extensions directory, with
#    erdLsp.pythonPath pointing at the repository's venv (.venv/bin/python, or $ERD_PYTHON);
# 4. opens a workspace holding seed 003 as state.md and a small shop.mmd, and checks
#    (test/cs-test.mjs): the two E002 conflict diagnostics in the Problems panel, the
#    Mermaid language mode and the status bar item, F12 (definition), Ctrl+Space (completion),
#    the error message for a Python without erd_lsp and the restart when the setting is fixed;
# 5. leaves screenshots in editors/vscode/test/artifacts/ (diagnostics.png is committed).
#
# Environment: ERD_PYTHON (the Python with erd_lsp), ERD_SERVER_PATH (when set, used as
# erdLsp.serverPath instead), ERD_CODE_SERVER_CACHE (the code-server install), CHROMIUM (the
# browser binary), ERD_KEEP_WORK=1 (keep the temporary directory).
# Exit code 0 when every check passed. About 40 s once code-server is installed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
EXT=$(dirname "$HERE")
REPO=$(cd "$EXT/../.." && pwd)
ARTIFACTS="$HERE/artifacts"
PY=${ERD_PYTHON:-$REPO/.venv/bin/python}

step() { echo "== $*" >&2; }

step "erd-lsp server: $PY"
"$PY" -m erd_lsp --version >&2 || { echo "$PY cannot run erd_lsp (bash scripts/test.sh creates .venv)" >&2; exit 2; }

step "code-server"
CS=$(bash "$HERE/install-code-server.sh" | tail -n 1)

CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$CHROMIUM" ]; then
  step "installing Debian's chromium"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -q >&2 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium >&2
  CHROMIUM=$(command -v chromium)
fi
export CHROMIUM

npm_ci_if_needed() { # $1: a directory with package-lock.json; $2: a package that must be installed
  if [ ! -d "$1/node_modules/$2" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error) >&2
  fi
}

step "building the .vsix"
npm_ci_if_needed "$EXT" vscode-languageclient
(cd "$EXT" && npm run --silent package) >&2
VSIX="$EXT/erd-lsp.vsix"
npm_ci_if_needed "$HERE" playwright-core

WORK=$(mktemp -d "${TMPDIR:-/tmp}/erd-code-server.XXXXXX")
CS_PID=
cleanup() {
  if [ -n "$CS_PID" ]; then
    kill -TERM -- "-$CS_PID" 2>/dev/null || kill -TERM "$CS_PID" 2>/dev/null || true
    wait "$CS_PID" 2>/dev/null || true
  fi
  if [ "${ERD_KEEP_WORK:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

step "workspace and settings in $WORK"
mkdir -p "$WORK/data/User" "$WORK/extensions" "$WORK/ws"
cp "$REPO/tests/data/seeds/003_1a83fdde10ac1a71.txt" "$WORK/ws/state.md"
cat > "$WORK/ws/shop.mmd" <<'EOF'
erDiagram
    CUSTOMER {
        string name
        string email UK
    }
    ORDER {
        int id PK
        int customer_id FK
    }
    LINE_ITEM {
        int order_id FK
        int quantity
    }
    CUSTOMER ||--o{ ORDER : places
    ORDER ||--|{ LINE_ITEM : contains

EOF
"$PY" - "$WORK/data/User/settings.json" "$PY" "${ERD_SERVER_PATH:-}" <<'EOF'
import json, sys
settings = {
    "erdLsp.pythonPath": sys.argv[2],
    "erdLsp.serverPath": sys.argv[3],
    "erdLsp.trace.server": "off",
    # passed as initializationOptions: an empty select is left out, W102 is ignored
    "erdLsp.select": [],
    "erdLsp.ignore": ["W102"],
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "extensions.ignoreRecommendations": True,
    "update.mode": "none",
    "git.enabled": False,
    "chat.commandCenter.enabled": False,
    "editor.wordBasedSuggestions": "off",
    "editor.minimap.enabled": False,
    "window.commandCenter": False,
}
json.dump(settings, open(sys.argv[1], "w"), indent=2)
EOF
printf 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n' > "$WORK/config.yaml"

step "installing $VSIX"
"$CS" --config "$WORK/config.yaml" --user-data-dir "$WORK/data" --extensions-dir "$WORK/extensions" \
  --install-extension "$VSIX" --force >&2
"$CS" --config "$WORK/config.yaml" --user-data-dir "$WORK/data" --extensions-dir "$WORK/extensions" \
  --list-extensions --show-versions >&2

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
step "starting code-server on 127.0.0.1:$PORT"
setsid "$CS" --config "$WORK/config.yaml" --auth none --bind-addr "127.0.0.1:$PORT" \
  --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  --user-data-dir "$WORK/data" --extensions-dir "$WORK/extensions" "$WORK/ws" > "$WORK/code-server.log" 2>&1 &
CS_PID=$!
for _ in $(seq 1 120); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz" || true)" = 200 ]; then break; fi
  if ! kill -0 "$CS_PID" 2>/dev/null; then cat "$WORK/code-server.log" >&2; echo "code-server exited" >&2; exit 1; fi
  sleep 0.5
done

step "driving it with Chromium ($CHROMIUM)"
mkdir -p "$ARTIFACTS"
find "$ARTIFACTS" -name '*.png' ! -name diagnostics.png -delete  # no stale screenshots
set +e
CS_URL="http://127.0.0.1:$PORT/?folder=$WORK/ws" OUT_DIR="$ARTIFACTS" ERD_PYTHON_PATH="$PY" node "$HERE/cs-test.mjs"
code=$?
set -e
if [ "$code" -ne 0 ]; then
  echo "---- code-server log (tail)" >&2
  tail -n 30 "$WORK/code-server.log" >&2
  for log in $(find "$WORK/data/logs" -type f -path '*erd-lsp*' -name '*.log' 2>/dev/null); do
    echo "---- $log" >&2
    tail -n 40 "$log" >&2
  done
fi
echo "screenshots: $ARTIFACTS" >&2
exit "$code"
