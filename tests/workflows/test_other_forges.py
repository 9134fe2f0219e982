"""Issue 28: a school on GitLab or Gitea/Forgejo gets the same gate and the same storage jobs.

.gitlab-ci.yml is read by GitLab's published CI schema (vendored by check-jsonschema from
GitLab's repository); the Gitea workflows use none of the workflow features Gitea Actions
ignores or lacks (each listed with the reason from Gitea's documentation); every forge runs
the cctv-policy commands of the GitHub workflows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.workflows.forge_commands import commands, scripts_of_gitlab, scripts_of_workflow
from tests.workflows.test_workflows import tool

GITLAB = REPO / ".gitlab-ci.yml"
GITEA = sorted((REPO / ".gitea" / "workflows").glob("*.yml"))
GITHUB = REPO / ".github" / "workflows"
COMPARISON = "docs.gitea.com/usage/actions/comparison"


def gitlab() -> dict[str, Any]:
    return yaml.safe_load(GITLAB.read_text())


def test_gitlab_ci_passes_gitlabs_published_schema():
    result = subprocess.run(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.gitlab-ci",
            "--data-transform",
            "gitlab-ci",
            str(GITLAB),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def gitlab_jobs() -> dict[str, dict[str, Any]]:
    return {
        name: job
        for name, job in gitlab().items()
        if isinstance(job, dict) and not name.startswith(".") and ("script" in job)
    }


def resolved(name: str) -> dict[str, Any]:
    """A job with what it `extends` merged in (one level, as this file uses it)."""
    document = gitlab()
    job = document[name]
    base = document.get(job.get("extends", ""), {})
    return {**base, **job}


def test_the_merge_request_job_verifies_provenance_against_the_target_branch():
    job = resolved("registry")
    assert job["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert job["variables"]["TRUST_BASE"] == "$CI_MERGE_REQUEST_DIFF_BASE_SHA"
    assert gitlab()["variables"]["GIT_DEPTH"] == "0"
    gate = job["script"][-1]
    assert '--verify-provenance --trust-base "$TRUST_BASE"' in " ".join(gate.split())
    reports = job["artifacts"]["reports"]
    assert reports == {
        "codequality": "gl-code-quality-report.json",
        "junit": "cctv-policy-junit.xml",
    }
    assert job["artifacts"]["when"] == "always"  # the reports of a failed check are shown
    script = " ".join(job["script"])
    assert "--format gitlab --out gl-code-quality-report.json" in " ".join(script.split())
    assert "--format junit --out cctv-policy-junit.xml" in " ".join(script.split())


@pytest.mark.parametrize("name", ["publish-bundle", "enforce"])
def test_gitlab_storage_jobs_run_only_from_the_default_branch_one_at_a_time(name: str):
    job = resolved(name)
    assert job["rules"][0] == {"if": "$CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH", "when": "never"}
    assert job["tags"] == ["cctv-storage"] and job["resource_group"] == name
    assert job["cache"] == []  # nothing another pipeline wrote
    assert "manual" not in json.dumps(job["rules"])  # nobody clicks to let it run


@pytest.mark.parametrize("name", sorted(gitlab_jobs()))
def test_every_gitlab_job_has_a_timeout(name: str):
    assert re.fullmatch(r"\d+ (minutes|hours?)", resolved(name).get("timeout", "")), name


def test_gitlab_enforcement_reports_rule_errors_without_stopping():
    check = next(line for line in resolved("enforce")["script"] if "cctv-policy check" in line)
    assert "|| " in check  # apply's own gate decides what stops enforcement
    assert "cctv_policy.enforce.summary" in " ".join(resolved("enforce")["after_script"])


def github_commands(*names: str) -> set[tuple[str, frozenset[str]]]:
    found: set[tuple[str, frozenset[str]]] = set()
    for name in names:
        found |= commands(scripts_of_workflow(GITHUB / name))
    return found


def test_gitlab_runs_the_same_commands_as_github():
    """All but --opened-at: GitLab has no variable for when a merge request was opened, so a
    request's backdating is measured against its commit there (README "Forges")."""
    wanted = github_commands("policy-check.yml", "enforce.yml", "publish-bundle.yml")
    wanted = {(cmd, flags - {"--opened-at"}) for cmd, flags in wanted}
    assert wanted <= commands(scripts_of_gitlab(GITLAB))


@pytest.mark.parametrize("name", ["policy-check.yml", "enforce.yml", "publish-bundle.yml"])
def test_gitea_runs_the_same_commands_as_github(name: str):
    assert github_commands(name) <= commands(scripts_of_workflow(REPO / ".gitea/workflows" / name))


# What Gitea Actions does not support, each with Gitea's reason. A predicate sees the whole
# workflow document and its text.
Unsupported = Callable[[dict[Any, Any], str], bool]


def _jobs(document: dict[Any, Any]) -> list[dict[str, Any]]:
    return list(document.get("jobs", {}).values())


def _steps(document: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in _jobs(document) for step in job.get("steps", [])]


UNSUPPORTED: list[tuple[str, str, Unsupported]] = [
    (
        "concurrency",
        f"ignored by Gitea Actions ({COMPARISON})",
        lambda d, _: "concurrency" in d or any("concurrency" in j for j in _jobs(d)),
    ),
    ("run-name", f"ignored by Gitea Actions ({COMPARISON})", lambda d, _: "run-name" in d),
    (
        "permissions",
        f"ignored by Gitea Actions ({COMPARISON})",
        lambda d, _: "permissions" in d or any("permissions" in j for j in _jobs(d)),
    ),
    (
        "timeout-minutes",
        f"jobs.<id>.timeout-minutes is ignored ({COMPARISON})",
        lambda d, _: any("timeout-minutes" in j for j in _jobs(d)),
    ),
    (
        "continue-on-error",
        f"jobs.<id>.continue-on-error is ignored ({COMPARISON})",
        lambda d, _: any("continue-on-error" in x for x in _jobs(d) + _steps(d)),
    ),
    (
        "environment",
        f"jobs.<id>.environment is ignored: no protection rules ({COMPARISON})",
        lambda d, _: any("environment" in j for j in _jobs(d)),
    ),
    (
        "complex runs-on",
        f"only `runs-on: xyz` or `runs-on: [xyz]` ({COMPARISON})",
        lambda d, _: any(not isinstance(j["runs-on"], str | list) for j in _jobs(d)),
    ),
    (
        "workflow_dispatch",
        f"ignored by Gitea 1.20 ({COMPARISON}, version 1.20)",
        lambda d, _: "workflow_dispatch" in (d.get(True) or {}),
    ),
    (
        "hashFiles",
        f"not supported: always the empty string ({COMPARISON})",
        lambda _, t: "hashFiles(" in t,
    ),
    (
        "failure() / success() / cancelled()",
        f"only always() is supported ({COMPARISON})",
        lambda _, t: bool(re.search(r"\b(failure|success|cancelled)\(\)", t)),
    ),
    (
        "annotations (::warning, --format github)",
        f"creating annotations is not supported ({COMPARISON})",
        lambda _, t: "::warning" in t or "::error" in t or "--format github" in t,
    ),
    (
        "job summary",
        "Gitea shows no job summary: $GITHUB_STEP_SUMMARY goes nowhere",
        lambda _, t: "GITHUB_STEP_SUMMARY" in t,
    ),
    ("code scanning upload", "Gitea has no code scanning", lambda _, t: "upload-sarif" in t),
    (
        "actions without a host",
        f"a bare owner/name is fetched from the instance's DEFAULT_ACTIONS_URL ({COMPARISON})",
        lambda d, _: any(
            not s["uses"].startswith(("https://", "./")) for s in _steps(d) if "uses" in s
        ),
    ),
    (
        "default_branch from the event",
        "Gitea builds its own event payloads; the default branch is named instead",
        lambda _, t: "repository.default_branch" in t,
    ),
]


def test_there_are_gitea_workflows():
    assert {p.name for p in GITEA} == {"policy-check.yml", "enforce.yml", "publish-bundle.yml"}


@pytest.mark.parametrize(("feature", "reason"), [(f, r) for f, r, _ in UNSUPPORTED])
@pytest.mark.parametrize("path", GITEA, ids=lambda p: p.name)
def test_gitea_workflows_use_nothing_gitea_lacks(path: Path, feature: str, reason: str):
    text = "\n".join(
        line.split(" #")[0]
        for line in path.read_text().splitlines()
        if not line.lstrip().startswith("#")
    )
    uses = dict((f, p) for f, _, p in UNSUPPORTED)[feature]
    assert not uses(yaml.safe_load(path.read_text()), text), f"{path.name}: {feature}: {reason}"


def test_the_unsupported_list_catches_the_github_workflows():
    """The list can fail: the GitHub workflows use much of what it names."""
    caught = set()
    for path in GITHUB.glob("*.yml"):
        document, text = yaml.safe_load(path.read_text()), path.read_text()
        caught |= {feature for feature, _, uses in UNSUPPORTED if uses(document, text)}
    assert {"concurrency", "permissions", "environment", "actions without a host"} <= caught
    assert {"failure() / success() / cancelled()", "job summary", "timeout-minutes"} <= caught


@pytest.mark.parametrize("name", ["enforce.yml", "publish-bundle.yml"])
def test_gitea_storage_jobs_run_from_main_and_tell_a_person(name: str):
    [job] = yaml.safe_load((REPO / ".gitea/workflows" / name).read_text())["jobs"].values()
    assert job["if"] == "github.ref == 'refs/heads/main'"
    checkout = job["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0
    tell = job["steps"][-1]
    assert tell["if"] == "always()" and "gitea-tell.py" in tell["run"]
    done = [s for s in job["steps"] if s.get("run") == 'touch "$DONE"']
    assert done and "if" not in done[0]  # marked only when every step before succeeded
    assert "flock" in json.dumps(job["steps"])  # two runs never overlap (no concurrency)


class _FakeGitea(BaseHTTPRequestHandler):
    issues: list[dict[str, Any]]
    calls: list[tuple[str, str, Any]]

    def _answer(self, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(200 if self.command == "GET" else 201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.calls.append(("GET", self.path, self.headers["Authorization"]))
        self._answer(self.issues)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append(("POST", self.path, body))
        self._answer({"number": 7})

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_gitea() -> Iterator[tuple[str, type[_FakeGitea]]]:
    handler = type("Handler", (_FakeGitea,), {"issues": [], "calls": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def tell(url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SERVER": url,
        "REPO": "school/registry",
        "TOKEN": "t0k",
        "TITLE": "cctv-policy enforcement failed",
        "BODY": "run 5 failed",
    }
    return subprocess.run(
        [sys.executable, str(REPO / "scripts/forge/gitea-tell.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_failed_gitea_run_opens_an_issue_then_comments_on_it(fake_gitea):
    url, handler = fake_gitea
    assert tell(url).returncode == 0
    assert handler.calls[0] == (
        "GET",
        "/api/v1/repos/school/registry/issues?state=open&type=issues&limit=50",
        "token t0k",
    )
    assert handler.calls[1] == (
        "POST",
        "/api/v1/repos/school/registry/issues",
        {"title": "cctv-policy enforcement failed", "body": "run 5 failed"},
    )
    handler.issues.append({"number": 7, "title": "cctv-policy enforcement failed"})
    assert tell(url).returncode == 0
    assert handler.calls[-1] == (
        "POST",
        "/api/v1/repos/school/registry/issues/7/comments",
        {"body": "run 5 failed"},
    )


def test_a_forge_that_refuses_is_reported_not_hidden():
    result = tell("http://127.0.0.1:9")  # nothing listens on the discard port
    assert result.returncode == 1 and "could not open or update the issue" in result.stderr


def test_readme_documents_each_forge():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Forges", 1)[1].split("\n## ", 1)[0]
    for words in (
        "GitLab",
        "Gitea",
        "Forgejo",
        ".forgejo/workflows",
        "Pipeline status emails",
        "code owner",
        "Protected",
        "--opened-at",
    ):
        assert words in section, words
