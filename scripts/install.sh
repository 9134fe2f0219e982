#!/usr/bin/env bash
# Creates .venv in the checkout and installs cctv-policy with its test dependencies.
# Idempotent: a second run only checks that everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
LOG=.venv/install.log
pip_quiet() {  # keep pip's chatter in a log; show it only if something fails
  if ! .venv/bin/python -m pip install --quiet "$@" >>"$LOG" 2>&1; then
    cat "$LOG" >&2; echo "install failed: see above ($LOG)" >&2; exit 1
  fi
}
pip_quiet --upgrade pip
pip_quiet -e '.[test]'
# The embedded OPA engine: the real OPA Go library (v1.20) behind a C-shared bridge. Its wheel is
# py3-none (pure ctypes + a Linux .so, no CPython ABI) but declares Requires-Python >=3.14, which
# pip enforces even though the code runs on 3.11. We pin this one wheel and skip only that check,
# with --no-deps so nothing else bypasses pip's resolver.
pip_quiet --no-deps --ignore-requires-python 'opa-golib-python-bindings==0.4.4'
.venv/bin/python -c 'import opa_bindings, cctv_policy' 
# Byte-compile the package as pip does for an installed wheel: an editable install leaves that
# to the first run, which never happens where PYTHONDONTWRITEBYTECODE is set (CI, containers),
# and then every command compiles ~50 modules first (0.05 s of each `cctv-policy apply`).
.venv/bin/python -m compileall -q cctv_policy storage_backends >/dev/null
# The official opa CLI (tools/opa), built from source once per machine and again only when its
# pin changes (scripts/build_tools.sh; about 2 minutes on a fresh 2-core machine, downloads
# included). The tool itself does not need it (the embedded engine is the OPA library);
# scripts/test.sh and `opa run` servers do.
if command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ]; then
  bash scripts/build_tools.sh
else
  echo "install.sh: no Go on this machine, so .tools/bin/opa is not built (scripts/test.sh needs it)" >&2
fi
