#!/usr/bin/env bash
# The whole test suite: Rego tests through the embedded engine, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/cctv-policy test policies
.venv/bin/python -m pytest "$@"
