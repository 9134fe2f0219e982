"""The enforcement job's summary: what the plan called for beside what apply did, as Markdown.

Reads `plan --out plan.json` and `apply --format json > applied.json`; either may be missing or
empty (a refused plan, an apply that stopped), and the table says so instead of failing: the
summary step runs after a failure too. Usage (in a workflow):

    .venv/bin/python -m cctv_policy.enforce.summary plan.json applied.json >> "$GITHUB_STEP_SUMMARY"
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# The rows of the table: apply's counts (cli APPLIED_ACTIONS). Deletions are counted in files,
# as apply counts them: a plan's delete-day action stands for its `count` files.
ROWS = ("hold", "revoke", "grant", "release", "delete")


def read_document(path: Path) -> dict[str, Any] | None:
    """A JSON document, or None when the file is missing, empty or not a JSON object."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def planned_counts(plan: dict[str, Any]) -> dict[str, int]:
    counts = dict.fromkeys(ROWS, 0)
    for action in plan.get("actions", []):
        if action.get("action") == "delete-day":
            counts["delete"] += int(action.get("count", 0))
        elif action.get("action") in counts:
            counts[action["action"]] += 1
    return counts


def markdown(plan: dict[str, Any] | None, applied: dict[str, Any] | None) -> str:
    lines = ["### cctv-policy enforcement", ""]
    if plan is None:
        return "\n".join([*lines, "No plan: `cctv-policy plan` did not finish (see its log).", ""])
    planned = planned_counts(plan)
    done = applied.get("done", {}) if applied else {}
    lines += [
        f"Plan at {plan.get('now', '?')}, retention {plan.get('retention_days', '?')} days, "
        f"policies {plan.get('policy_version', '?')}.",
        "",
        "| action | planned | done |",
        "|---|---:|---:|",
    ]
    for row in ROWS:
        lines.append(f"| {row} | {planned[row]} | {done.get(row, 0) if applied else '-'} |")
    lines += ["", *_notes(plan, applied), ""]
    return "\n".join(lines)


def _notes(plan: dict[str, Any], applied: dict[str, Any] | None) -> list[str]:
    notes = []
    for field, what in (
        ("grants_refused", "grants refused by the safety floor"),
        ("blocked_by_floor", "deletions blocked by the safety floor"),
        ("unmanaged", "unmanaged entries on the targets"),
        ("unparsable", "unparsable keys"),
    ):
        if plan.get(field):
            notes.append(f"- {len(plan[field])} {what} (see plan.json)")
    if applied is None:
        notes.append("- **apply did not finish**: nothing after the refusal was done (see its log)")
        return notes
    notes.append(f"- whole camera-days deleted: {applied.get('whole_days', 0)}")
    notes.append(f"- already gone: {applied.get('already_gone', 0)}")
    refused = applied.get("refused") or {}
    notes.append(f"- refused at apply: {len(refused)}")
    head = applied.get("audit_head") or {}
    notes.append(
        f"- audit log `{applied.get('audit_log', '?')}` head "
        f"{head.get('seq', '?')}:{str(head.get('hash', ''))[:12]}"
    )
    return notes


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m cctv_policy.enforce.summary PLAN APPLIED", file=sys.stderr)
        return 2
    plan, applied = (read_document(Path(arg)) for arg in argv)
    print(markdown(plan, applied))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
