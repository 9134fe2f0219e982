"""SARIF 2.1.0 for code-scanning upload; each violation code is a rule."""

from __future__ import annotations

import json

from cctv_policy import __version__
from cctv_policy.checks.renderers.base import display_path
from cctv_policy.checks.rulebook import CheckResult

_LEVEL = {"error": "error", "warning": "warning"}


def render(result: CheckResult, prefix: str) -> str:
    codes = sorted({v.code for v in result.violations})
    results = []
    for v in result.violations:
        region = {"startLine": v.line or 1}
        if v.column:
            region["startColumn"] = v.column
        results.append(
            {
                "ruleId": v.code,
                "ruleIndex": codes.index(v.code),
                "level": _LEVEL[v.severity.value],
                "message": {"text": v.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": display_path(prefix, v.file)},
                            "region": region,
                        }
                    }
                ],
                "properties": {"subject": v.subject},
            }
        )
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cctv-policy",
                        "version": __version__,
                        "rules": [{"id": code, "name": code} for code in codes],
                    }
                },
                "results": results,
                "properties": {"policyVersion": result.policy_version},
            }
        ],
    }
    return json.dumps(document, indent=2)
