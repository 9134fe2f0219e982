#!/usr/bin/env bash
# The whole test suite: lint and types, the Rego toolchain (opa fmt, opa check --strict, opa test
# with a coverage floor, and our runner agreeing with opa test), then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
bash scripts/build_tools.sh  # a no-op when .tools/bin/opa matches its pin
.tools/bin/opa fmt --diff --fail policies
.tools/bin/opa check --strict policies
.venv/bin/python -m testing.opa_toolchain --floor 95 policies
.venv/bin/python -m pytest "$@"
