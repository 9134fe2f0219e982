"""Issue 28: the GitHub workflows as a school runs them. The daily enforcement waits for no
one's click and does not stop for a rule error that apply's own gate lets through; every job
has a timeout; pip downloads are cached where that is safe; the plan/apply table lands in the
job summary; a failed storage run reaches a person; README says which plan each needs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cctv_policy.engine import EngineChoice
from cctv_policy.registry.types import parse_rfc3339
from cctv_policy.rulebook.evaluation import Evaluation
from cctv_policy.rulebook.gate import require_enforceable
from testing.helpers import DEMO_REGISTRY
from tests.conftest import REPO
from tests.workflows.test_workflows import tool

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
STORAGE_WORKFLOWS = ("enforce.yml", "publish-bundle.yml")


def load(name: str) -> dict[Any, Any]:
    return yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())


def jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path.name, name, job)
        for path in WORKFLOWS
        for name, job in yaml.safe_load(path.read_text())["jobs"].items()
    ]


@pytest.mark.parametrize(("workflow", "job"), [(w, j) for w, j, _ in jobs()])
def test_every_job_has_a_timeout(workflow: str, job: str):
    """A hung S3 call or a stuck runner must not hold the concurrency group for 6 hours
    (GitHub's default), blocking the next day's enforcement."""
    minutes = load(workflow)["jobs"][job].get("timeout-minutes")
    assert isinstance(minutes, int) and 0 < minutes <= 180, f"{workflow} {job}: {minutes!r}"


def test_schemastore_requires_a_timeout_too():
    """The same rule read by check-jsonschema's own schema (not ours)."""
    result = subprocess.run(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "custom.github-workflows-require-timeout",
            *map(str, WORKFLOWS),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def setup_python_steps() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    return [
        (workflow, name, job, step)
        for workflow, name, job in jobs()
        for step in job["steps"]
        if "actions/setup-python" in step.get("uses", "")
    ]


def test_pip_downloads_are_cached_on_hosted_runners_only():
    """GitHub-hosted jobs cache pip keyed on pyproject.toml; the storage jobs (S3 credentials,
    the bundle signing key) do not restore a cache another workflow could have written (cache
    poisoning): their self-hosted runner keeps its own ~/.cache/pip between runs."""
    for workflow, name, job, step in setup_python_steps():
        options = step.get("with", {})
        if "self-hosted" in str(job["runs-on"]):
            assert "cache" not in options, f"{workflow} {name}"
        else:
            assert options.get("cache") == "pip", f"{workflow} {name}"
            assert options.get("cache-dependency-path") == "pyproject.toml", f"{workflow} {name}"


@pytest.mark.parametrize("workflow", STORAGE_WORKFLOWS)
def test_scheduled_storage_jobs_wait_for_no_reviewer(workflow: str):
    """The environment of a scheduled job is documented (README "Forges") with deployment
    branch main only and no required reviewers: a daily deletion that waits for a click does
    not happen on the day nobody clicks."""
    table = environment_table()
    for job in load(workflow)["jobs"].values():
        environment = job.get("environment")
        if environment is None:
            continue
        row = table[environment]
        assert row["deployment branches"] == "main only", row
        assert row["required reviewers"] == "none", row
        comment = (REPO / ".github" / "workflows" / workflow).read_text()
        assert "protected by required reviewers" not in comment
        assert "; required reviewers" not in comment


def environment_table() -> dict[str, dict[str, str]]:
    """README's table of environments: | environment | used by | deployment branches |
    required reviewers | holds |."""
    readme = (REPO / "README.md").read_text()
    rows: dict[str, dict[str, str]] = {}
    header: list[str] = []
    for line in readme.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if cells[:2] == ["environment", "used by"]:
            header = cells
        elif header and line.startswith("|") and not set(line) <= set("|-: "):
            rows[cells[0]] = dict(zip(header, cells, strict=False))
        elif header and not line.startswith("|"):
            header = []
    assert rows, "README has no environment table"
    return rows


def enforce_steps() -> list[dict[str, Any]]:
    return list(load("enforce.yml")["jobs"]["enforce"]["steps"])


@pytest.fixture
def rule_error_checkout(tmp_path: Path) -> Path:
    """A checkout whose registry breaks a rule (a use period too long, R4) but reads clean:
    `check` exits 1, yet apply's gate (input errors, provenance) has nothing to refuse."""
    registry = tmp_path / "registry"
    shutil.copytree(DEMO_REGISTRY, registry)
    request = registry / "requests" / "REQ-2026-0040.yaml"
    request.write_text(
        request.read_text().replace(
            "ends: 2026-11-27T17:00:00+08:00", "ends: 2027-06-27T17:00:00+08:00"
        )
    )
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    for name in ("cctv-policy", "python"):
        (tmp_path / ".venv" / "bin" / name).symlink_to(Path(sys.executable).parent / name)
    return tmp_path


def run_step(step: dict[str, Any], cwd: Path, summary: Path) -> subprocess.CompletedProcess[str]:
    """A step's script as GitHub runs it: bash --noprofile --norc -eo pipefail."""
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "RUNNER_TEMP": str(cwd)}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_rule_error_does_not_stop_the_daily_enforcement(rule_error_checkout: Path):
    """Old enforce.yml: its first step `cctv-policy check` failed on any rule error, so one
    bad request silently stopped every deletion. apply refuses what cannot be enforced on
    its own (gate.py); the check step reports the error in the summary and goes on."""
    registry = rule_error_checkout / "registry"
    now = parse_rfc3339("2026-11-25T12:00:00+08:00")
    require_enforceable(Evaluation.open(registry, EngineChoice(), now))  # the gate: no refusal
    check = next(s for s in enforce_steps() if "cctv-policy check" in s.get("run", ""))
    summary = rule_error_checkout / "summary.md"
    result = run_step(check, rule_error_checkout, summary)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not check.get("continue-on-error"), "a failing step would still read as failed"
    assert "REQUEST_USE_TOO_LONG" in summary.read_text()
    assert "::warning" in result.stdout  # seen on the run page, not only in the summary


def test_enforcement_writes_its_plan_and_apply_table_to_the_summary(tmp_path: Path):
    plan = {
        "now": "2026-11-25T04:00:00Z",
        "policy_version": "git:abc",
        "input_hash": "x",
        "retention_days": 30,
        "actions": [
            {"action": "delete-day", "target": "nas-main", "rule": "R3", "count": 4},
            {"action": "hold", "target": "nas-main", "rule": "R6", "hold": "H-1"},
        ],
        "grants_refused": [{"target": "nas-export", "key": "g", "reason": "floor"}],
    }
    applied = {
        "done": {"hold": 1, "revoke": 0, "grant": 0, "release": 0, "delete": 4},
        "whole_days": 1,
        "already_gone": 0,
        "refused": {"k": "why"},
        "audit_log": "/var/lib/cctv-policy/audit.jsonl",
        "audit_head": {"seq": 9, "hash": "f" * 64},
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    (tmp_path / "applied.json").write_text(json.dumps(applied))
    step = next(
        s
        for s in enforce_steps()
        if "GITHUB_STEP_SUMMARY" in s.get("run", "") and "plan.json" in s.get("run", "")
    )
    assert "cancelled()" in step.get("if", "")  # also after a refused apply
    # The step runs .venv/bin/python: this test's own venv (the whole folder, so that python
    # finds its pyvenv.cfg and site-packages).
    (tmp_path / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    summary = tmp_path / "summary.md"
    result = run_step(step, tmp_path, summary)
    assert result.returncode == 0, result.stderr
    table = summary.read_text()
    assert re.search(r"\| *hold *\| *1 *\| *1 *\|", table), table
    assert re.search(r"\| *delete *\| *4 *\| *4 *\|", table), table  # in files
    assert "refused" in table and "ffffffffffff" in table


def test_apply_writes_json_for_the_summary():
    apply = next(s for s in enforce_steps() if "cctv-policy apply" in s.get("run", ""))
    assert "--format json" in apply["run"] and "applied.json" in apply["run"]


@pytest.mark.parametrize("workflow", STORAGE_WORKFLOWS)
def test_a_failed_storage_run_reaches_a_person(workflow: str):
    """A failed enforcement or bundle publication opens (or comments on) an issue: GitHub's
    failure e-mail goes only to whoever last edited the schedule."""
    [job] = load(workflow)["jobs"].values()
    assert job["permissions"].get("issues") == "write"
    tell = [s for s in job["steps"] if s.get("if") == "failure()"]
    assert tell, workflow
    script = tell[-1]["run"]
    assert "gh issue create" in script and "gh issue comment" in script
    assert tell[-1]["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert job["steps"][-1] is tell[-1], "the last step, so every failure before it is seen"


def test_readme_says_which_plan_each_workflow_needs():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Forges", 1)[1].split("\n## ", 1)[0]
    for path in WORKFLOWS:
        assert path.name in section, path.name
    for plan in ("GitHub Free", "GitHub Team", "GitHub Enterprise"):
        assert plan in section, plan
