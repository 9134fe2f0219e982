#!/usr/bin/env bash
# The whole test suite: lint and types, Rego tests through the embedded engine, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/cctv-policy test policies
.venv/bin/python -m pytest "$@"
