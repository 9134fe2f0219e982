"""The official OPA toolchain gate of scripts/test.sh (testing/opa_toolchain.py), run with the
real opa binary: it refuses a rule book whose tests leave policy lines uncovered, fail, or
that the two test runners read differently. scripts/test.sh runs the gate on the shipped rule
book once per run (opa test, then our runner checked against it), so no test here repeats it."""

from __future__ import annotations

from pathlib import Path

from testing.opa_toolchain import gate

RULES = """package cctv.sample

double(n) := n * 2

half(n) := n / 2
"""
ONE_TEST = """package cctv.sample_test

import data.cctv.sample

test_double if sample.double(2) == 4
"""


def _policies(tmp_path: Path, tests: str) -> Path:
    (tmp_path / "cctv").mkdir()
    (tmp_path / "cctv" / "sample.rego").write_text(RULES)
    (tmp_path / "cctv" / "sample_test.rego").write_text(tests)
    return tmp_path


def test_uncovered_policy_lines_fail_the_floor(tmp_path):
    problems = gate(_policies(tmp_path, ONE_TEST), floor=95)
    assert len(problems) == 1
    assert "50.00% of policy lines covered, below the floor of 95%" in problems[0]
    assert "sample.rego:5" in problems[0]


def test_a_failing_test_is_reported(tmp_path):
    failing = ONE_TEST + "\ntest_half if sample.half(4) == 3\n"
    problems = gate(_policies(tmp_path, failing), floor=0)
    assert problems == ["opa test: 1 failing: data.cctv.sample_test.test_half"]
