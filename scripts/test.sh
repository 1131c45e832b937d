#!/usr/bin/env bash
# Set up everything the tests need from the project's own files, then run them.
#   bash scripts/test.sh [pytest args...]
# - a virtualenv in .venv with the package and its test extras
# - Mermaid 12.3.0 (pinned in tests/mermaid/package-lock.json) for the differential tests
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
if command -v npm >/dev/null 2>&1; then
  if [ ! -d tests/mermaid/node_modules/mermaid ] || [ tests/mermaid/package-lock.json -nt tests/mermaid/node_modules/.package-lock.json ]; then
    (cd tests/mermaid && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ -f tests/textmate/package.json ] && { [ ! -d tests/textmate/node_modules/vscode-textmate ] || [ tests/textmate/package-lock.json -nt tests/textmate/node_modules/.package-lock.json ]; }; then
    (cd tests/textmate && npm ci --no-audit --no-fund --loglevel=error)
  fi
  export ERD_REQUIRE_MERMAID=${ERD_REQUIRE_MERMAID:-1}
else
  echo "npm not found: the differential tests against Mermaid will be skipped" >&2
fi
# Emacs + Eglot for tests/e2e/test_emacs.py: ERD_INSTALL_EDITORS=1 installs them (as root, with apt-get) when missing
if [ "${ERD_INSTALL_EDITORS:-}" = 1 ] && ! dpkg -s emacs-nox elpa-eglot >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends emacs-nox elpa-eglot \
      || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends emacs-nox elpa-eglot; }
  else
    echo "ERD_INSTALL_EDITORS=1: installing emacs-nox elpa-eglot needs root and apt-get; skipping" >&2
  fi
fi
set +e
.venv/bin/python -m pytest "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
# the VS Code extension: built and packaged as a .vsix (ERD_BUILD_VSIX=1), and tried in
# real VS Code (code-server + Chromium, ERD_RUN_CODE_SERVER=1): about 1 minute, 4-5 on a fresh machine
if [ "${ERD_BUILD_VSIX:-}" = 1 ]; then
  (cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error && npm run package) || code=1
  [ -f editors/vscode/erd-lsp.vsix ] || { echo "the .vsix was not built" >&2; code=1; }
fi
if [ "${ERD_RUN_CODE_SERVER:-}" = 1 ]; then
  bash editors/vscode/test/run-code-server.sh || code=1
fi
exit "$code"
