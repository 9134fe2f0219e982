#!/usr/bin/env bash
# The main job on the bundled example registry with embedded defaults (embedded OPA engine,
# filesystem storage, generated demo footage): check -> footage -> plan -> apply -> verify.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
CLI=.venv/bin/cctv-policy
DEMO=${DEMO_DIR:-demo}
rm -rf "$DEMO" && mkdir -p "$DEMO/nas-main"

echo "== 1. check the registry (the pull-request gate)"
$CLI check --registry registry

echo "== 2. generate 40 days of synthetic footage for the cameras on nas-main"
$CLI demo footage --registry registry --target nas-main --root "$DEMO/nas-main" --days 40 \
  --silent CAM-LAB-02  # a camera that stopped recording three days ago (CAMERA_SILENT)

echo "== 3. plan (dry run: nothing changes)"
$CLI plan --registry registry --storage-root "nas-main=$DEMO/nas-main" --out "$DEMO/plan.json"

echo "== 4. apply the reviewed plan"
$CLI apply --registry registry --storage-root "nas-main=$DEMO/nas-main" --plan "$DEMO/plan.json" \
  --audit-log "$DEMO/audit.jsonl" --yes

echo "== 5. verify the audit log"
$CLI audit verify --audit-log "$DEMO/audit.jsonl"

echo "== 6. the inspection report (open $DEMO/inspection.html in a browser)"
$CLI report --registry registry --storage-root "nas-main=$DEMO/nas-main" \
  --audit-log "$DEMO/audit.jsonl" --from 2026-09-01T00:00:00+08:00 --format html --out "$DEMO/inspection.html"
$CLI report --registry registry --storage-root "nas-main=$DEMO/nas-main" \
  --audit-log "$DEMO/audit.jsonl" --from 2026-09-01T00:00:00+08:00 --out "$DEMO/inspection.md"
