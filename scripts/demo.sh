#!/usr/bin/env bash
# The main job on the bundled example registry with embedded defaults:
# install, then check the demo campus with the embedded OPA engine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/cctv-policy check --registry registry "$@"
