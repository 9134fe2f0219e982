#!/usr/bin/env bash
# The whole test suite: lint and types, the Rego toolchain (opa fmt, opa check --strict, opa test
# with a coverage floor, and our runner agreeing with opa test), then pytest.
#
#   bash scripts/test.sh            everything (the README's test command; CI runs it)
#   bash scripts/test.sh --quick    a developer's loop: lint, types, `opa test`, and pytest without
#                                   the tests marked slow or integration (real Ceph RGW, OPA servers),
#                                   on every core (pytest-xdist)
# Any further arguments go to pytest (e.g. `bash scripts/test.sh --quick tests/enforce -x`).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=false
if [ "${1:-}" = "--quick" ]; then
  quick=true
  shift
fi
bash scripts/install.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
bash scripts/build_tools.sh  # a no-op when .tools/bin/opa matches its pin
.tools/bin/opa fmt --diff --fail policies
.tools/bin/opa check --strict policies
if $quick; then
  .tools/bin/opa test policies
  exec .venv/bin/python -m pytest -n auto -m "not slow and not integration" "$@"
fi
.venv/bin/python -m testing.opa_toolchain --floor 95 policies
.venv/bin/python -m pytest "$@"
