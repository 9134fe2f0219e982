"""`new request`: by flags (scripts), by the issue form's body (the same file), and once through
a real terminal (tmux)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cctv_policy.cli.main import cli
from cctv_policy.cli.new import PROMPTS
from cctv_policy.office.intake import FORM_LABELS
from tests.conftest import NOW_TEXT, REPO
from tests.workflows.test_workflows import tool

FORM = REPO / ".github/ISSUE_TEMPLATE/footage-request.yml"
ANSWERS = {
    "applicant": "t.wang",
    "purpose": "lost_property",
    "description": "书包在校门口丢失 / bag lost at the main gate",
    "cameras": "CAM-GATE-01",
    "footage_from": "2026-11-24 16:00",
    "footage_to": "2026-11-24 17:00",
    "mode": "view_supervised",
    "recipients": "t.wang",
    "starts": "2026-11-26 09:00",
    "ends": "2026-11-26 17:00",
}
FLAGS = {
    "cameras": "--camera",
    "recipients": "--recipient",
    "footage_from": "--from",
    "footage_to": "--to",
}


def flags(answers: dict[str, str]) -> list[str]:
    out = []
    for key, value in answers.items():
        out += [FLAGS.get(key, "--" + key.replace("_", "-")), value]
    return out


def new_request(registry: Path, *args: str):
    return CliRunner().invoke(
        cli, ["new", "request", "--registry", str(registry), "--now", NOW_TEXT, *args]
    )


def check(registry: Path) -> int:
    return (
        CliRunner().invoke(cli, ["check", "--registry", str(registry), "--now", NOW_TEXT]).exit_code
    )


def test_flags_write_a_request_that_passes_check(registry_copy: Path):
    result = new_request(registry_copy, *flags(ANSWERS))
    assert result.exit_code == 0, result.output
    written = registry_copy / "requests/REQ-2026-0048.yaml"  # the next free id
    document = yaml.safe_load(written.read_text())
    assert document["unit"] == "student-affairs"  # the applicant's unit, from people.yaml
    assert "from: 2026-11-24T16:00:00+08:00" in written.read_text()  # campus time, offset
    assert "$schema=../schemas/request.schema.json" in written.read_text()
    assert check(registry_copy) == 0


def issue_body(answers: dict[str, str]) -> str:
    parts = [
        f"### {FORM_LABELS[key]}\n\n{answers.get(key) or '_No response_'}\n" for key in FORM_LABELS
    ]
    return "\n".join(parts)


def test_the_issue_form_gives_the_same_file(registry_copy: Path, tmp_path: Path):
    other = tmp_path / "other"
    shutil.copytree(registry_copy, other)
    people = other / "people.yaml"  # the filing account must be the applicant's
    people.write_text(
        people.read_text().replace(
            "git_identities: [t.wang@campus.example.edu]",
            "git_identities: [t.wang@campus.example.edu]\n    github: t-wang",
        )
    )
    assert new_request(registry_copy, *flags(ANSWERS)).exit_code == 0
    body = tmp_path / "body.md"
    body.write_text(issue_body(ANSWERS))
    result = new_request(other, "--from-issue", str(body), "--filed-by", "t-wang")
    assert result.exit_code == 0, result.output
    name = "requests/REQ-2026-0048.yaml"
    assert (other / name).read_bytes() == (registry_copy / name).read_bytes()


def test_the_form_asks_what_the_conversion_reads():
    form = yaml.safe_load(FORM.read_text())
    labels = {item["id"]: item["attributes"]["label"] for item in form["body"] if "id" in item}
    assert labels == FORM_LABELS
    checked = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-issue-forms", str(FORM)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout


def test_unknown_camera_writes_nothing(registry_copy: Path):
    result = new_request(registry_copy, *flags(ANSWERS | {"cameras": "CAM-NOPE"}))
    assert result.exit_code == 3 and "CAM-NOPE" in result.output
    assert not (registry_copy / "requests/REQ-2026-0048.yaml").exists()


def test_without_a_terminal_a_missing_answer_is_a_usage_error(registry_copy: Path):
    answers = dict(ANSWERS)
    del answers["purpose"]
    result = new_request(registry_copy, *flags(answers))
    assert result.exit_code == 2 and "--purpose" in result.output


def test_a_problem_the_rule_book_finds_is_shown_with_exit_1(registry_copy: Path):
    result = new_request(
        registry_copy, "--lang", "zh", *flags(ANSWERS | {"ends": "2027-03-26 17:00"})
    )
    assert result.exit_code == 1
    assert "REQUEST_USE_TOO_LONG" in result.output and "使用期" in result.output


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_interactive_in_a_real_terminal(registry_copy: Path):
    """Answers typed into a real terminal (tmux), in Chinese, choosing by number."""
    session = f"cctv-new-{time.monotonic_ns()}"
    command = (
        f"{sys.executable} -m cctv_policy.cli new request --lang zh --registry "
        f"{registry_copy} --now {NOW_TEXT}; sleep 30"
    )
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50", command],
        check=True,
        cwd=REPO,
    )
    answers = (
        "t.wang",
        "lost_property",
        "书包丢失",
        "1",
        "2026-11-24 16:00",
        "2026-11-24 17:00",
        "1",
        "t.wang",
        "2026-11-26 09:00",
        "2026-11-26 17:00",
    )
    try:
        for asked, answer in enumerate(answers, start=1):
            _wait_for_question(session, asked)
            subprocess.run(["tmux", "send-keys", "-t", session, answer, "Enter"], check=True)
        written = registry_copy / "requests/REQ-2026-0048.yaml"
        deadline = time.monotonic() + 60
        # Wait for the whole file: it is created first, then written.
        while time.monotonic() < deadline and not (
            written.exists() and "CAM-" in written.read_text() and _screen(session).count("\n") > 1
        ):
            time.sleep(0.2)
        time.sleep(0.5)
        screen = _screen(session)
        assert written.exists(), screen
        assert "申请人" in screen and "Main gate" in screen  # questions, choices by name
        assert "CAM-GATE-01" in written.read_text()
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    assert check(registry_copy) == 0


def _screen(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-S", "-", "-t", session], capture_output=True, text=True
    ).stdout


def _wait_for_question(session: str, count: int) -> None:
    """Until the terminal shows the count-th question, waiting for an answer."""
    questions = [text.zh for text in PROMPTS.values()]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        screen = _screen(session)
        shown = sum(1 for line in screen.splitlines() if any(q in line for q in questions))
        if shown >= count and screen.rstrip().endswith(":"):
            return
        time.sleep(0.1)
    raise AssertionError(f"question {count} was not asked:\n{_screen(session)}")
