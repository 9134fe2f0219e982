#!/usr/bin/env python3
"""Open, or comment on, the issue that tells people a Gitea/Forgejo Actions run failed.

Gitea has no `gh` and (before 1.26) no failure() step condition: the workflow's last step runs
`if: always()` and calls this only when the run did not mark itself done. Standard library
only (the run may have failed before the venv existed). Environment: SERVER (github.server_url),
REPO (owner/name), TOKEN (the job's token, or a secret with issue write access), TITLE, BODY.
Exit 0 when the issue was opened or commented on, 1 when the forge refused.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any


def call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    api = f"{os.environ['SERVER'].rstrip('/')}/api/v1/repos/{os.environ['REPO']}"
    request = urllib.request.Request(
        api + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Authorization": f"token {os.environ['TOKEN']}",
            "Content-Type": "application/json",
        },
        method=method,
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def main() -> int:
    title, body = os.environ["TITLE"], os.environ["BODY"]
    try:
        open_issues = call("GET", "/issues?state=open&type=issues&limit=50")
        same = [issue for issue in open_issues if issue.get("title") == title]
        if same:
            call("POST", f"/issues/{same[0]['number']}/comments", {"body": body})
        else:
            call("POST", "/issues", {"title": title, "body": body})
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        print(f"gitea-tell: could not open or update the issue: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
