"""Machine JSON: {"violations": [...], "summary": {...}}."""

from __future__ import annotations

import json

from cctv_policy.checks.renderers.base import display_path
from cctv_policy.rulebook.check import CheckResult


def render(result: CheckResult, prefix: str) -> str:
    violations = []
    for v in result.violations:
        item = v.model_dump(mode="json")
        item["file"] = display_path(prefix, v.file)
        violations.append(item)
    waived = [
        {
            **w.violation.model_dump(mode="json"),
            "file": display_path(prefix, w.violation.file),
            "waiver": w.waiver,
            "until": w.until.isoformat(),
        }
        for w in result.waived
    ]
    document = {"violations": violations, "waived": waived, "summary": result.summary()}
    return json.dumps(document, indent=2)
