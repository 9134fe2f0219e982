"""Issue 26: the storage runner and manual runs act only from the default branch, with the
whole history (provenance), and the pull-request gate verifies provenance by default."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
DEFAULT_BRANCH_ONLY = (
    "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)"
)


def load(name: str) -> dict[Any, Any]:
    return yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())


def self_hosted_or_manual_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path in WORKFLOWS:
        document = yaml.safe_load(path.read_text())
        manual = "workflow_dispatch" in (document[True] or {})  # PyYAML reads `on` as True
        for name, job in document["jobs"].items():
            if manual or "self-hosted" in str(job.get("runs-on")):
                found.append((path.name, name, job))
    return found


def test_there_are_storage_jobs_to_guard():
    names = {(workflow, job) for workflow, job, _ in self_hosted_or_manual_jobs()}
    assert {("enforce.yml", "enforce"), ("publish-bundle.yml", "publish")} <= names


@pytest.mark.parametrize(
    ("workflow", "job"),
    [(workflow, name) for workflow, name, _ in self_hosted_or_manual_jobs()],
)
def test_storage_and_manual_jobs_run_only_from_the_default_branch(workflow: str, job: str):
    condition = " ".join(str(load(workflow)["jobs"][job].get("if", "")).split())
    assert DEFAULT_BRANCH_ONLY in condition, f"{workflow} {job}: if: {condition!r}"


@pytest.mark.parametrize("workflow", ["enforce.yml", "publish-bundle.yml"])
def test_acting_jobs_check_out_the_whole_history(workflow: str):
    """apply and bundle verify provenance in git history: a shallow clone has none."""
    for job in load(workflow)["jobs"].values():
        checkout = next(s for s in job["steps"] if "actions/checkout" in s.get("uses", ""))
        assert checkout["with"].get("fetch-depth") == 0, workflow


def test_the_pull_request_gate_verifies_provenance_against_the_base():
    steps = load("policy-check.yml")["jobs"]["registry"]["steps"]
    gate = next(s for s in steps if "--format github" in s.get("run", ""))
    assert "--verify-provenance" in gate["run"] and '--trust-base "$BASE_SHA"' in gate["run"]
    assert '--opened-at "$PR_CREATED_AT"' in gate["run"]
    env = load("policy-check.yml")["jobs"]["registry"]["env"]
    assert env["PR_CREATED_AT"] == "${{ github.event.pull_request.created_at }}"
