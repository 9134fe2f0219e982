"""SARIF 2.1.0 for code-scanning upload; each violation code is a rule.

Rules carry their title and fix (messages.RULES, in the run's language), a help link to the
code's entry in docs/codes.md and a default level. File URIs are relative to the repository
(where the workflow runs) and percent-encoded; partialFingerprints let code scanning follow a
problem when lines move.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from urllib.parse import quote

from cctv_policy import __version__
from cctv_policy.checks.renderers.base import display_path
from cctv_policy.messages import RULES, rule_name
from cctv_policy.rulebook.check import CheckResult
from cctv_policy.violations import Violation

CODES_DOC = "docs/codes.md"


def render(result: CheckResult, prefix: str) -> str:
    codes = sorted({v.code for v in result.violations})
    severities = {v.code: v.severity.value for v in result.violations}
    results = [_result(v, codes.index(v.code), prefix) for v in result.ordered]
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cctv-policy",
                        "version": __version__,
                        "rules": [_rule(code, severities[code]) for code in codes],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": _srcroot()}},
                "results": results,
                "properties": {"policyVersion": result.policy_version},
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _rule(code: str, severity: str) -> dict[str, object]:
    rule: dict[str, object] = {
        "id": code,
        "name": rule_name(code),
        "defaultConfiguration": {"level": severity},
    }
    known = RULES.get(code)
    if known is not None:
        rule["shortDescription"] = {"text": known.title.en}
        rule["fullDescription"] = {"text": f"{known.title.en}. Fix: {known.fix.en}."}
        rule["help"] = {"text": f"{known.title.zh}。{known.fix.zh}。 {known.fix.en}."}
    base = _help_base()
    if base:
        rule["helpUri"] = f"{base}/{CODES_DOC}#{code.lower()}"
    return rule


def _result(v: Violation, index: int, prefix: str) -> dict[str, object]:
    region: dict[str, int] = {"startLine": v.line or 1}
    if v.column:
        region["startColumn"] = v.column
    uri = repository_uri(display_path(prefix, v.file))
    fingerprint = hashlib.sha256(f"{v.code}\0{uri}\0{v.subject}\0{v.field}".encode()).hexdigest()
    message = v.message + (f" -> {v.fix}" if v.fix else "")
    return {
        "ruleId": v.code,
        "ruleIndex": index,
        "level": v.severity.value,
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {"cctvPolicyProblem/v1": fingerprint},
        "properties": {"subject": v.subject},
    }


def repository_uri(path: str) -> str:
    """A file as a percent-encoded URI relative to the working directory (the repository root
    in a workflow); a path outside it keeps its absolute form as a file: URI."""
    resolved = Path(path).absolute()
    try:
        relative = resolved.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return resolved.as_uri()
    return quote(relative, safe="/")


def _srcroot() -> str:
    return Path.cwd().absolute().as_uri().rstrip("/") + "/"


def _help_base() -> str | None:
    """The repository's files on GitHub at this commit, when run in a workflow."""
    server, repository = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    if not (server and repository):
        return None
    sha = os.environ.get("GITHUB_SHA") or "HEAD"
    return f"{server}/{quote(repository, safe='/')}/blob/{quote(sha)}"
