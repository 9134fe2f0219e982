"""The official OPA toolchain on the rule book, for scripts/test.sh:

    python -m testing.opa_toolchain [--floor 95] POLICY_DIR

runs `opa test` (every test passes), `opa test --coverage` (at least --floor percent of the
lines of the policies, test files not counted) and `cctv-policy test`, and fails unless both
runners pass exactly the same set of tests. Exit 0 when all hold, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testing.real_opa import opa_binary

DEFAULT_FLOOR = 95.0


@dataclass(frozen=True)
class Coverage:
    covered: int
    not_covered: int
    uncovered_lines: tuple[str, ...]  # "file:line" of the policy lines no test reaches

    @property
    def percent(self) -> float:
        total = self.covered + self.not_covered
        return 100.0 * self.covered / total if total else 0.0


def _opa_json(*args: str) -> Any:
    result = subprocess.run([str(opa_binary()), *args], capture_output=True, text=True, timeout=600)
    try:
        return json.loads(result.stdout)
    except ValueError:
        raise SystemExit(f"opa {' '.join(args)} failed: {result.stderr or result.stdout}") from None


def policy_coverage(report: dict[str, Any]) -> Coverage:
    """Lines of the policies (not of *_test.rego) that the tests cover, from `opa test
    --coverage`'s report."""
    covered = not_covered = 0
    uncovered: list[str] = []
    for path, file in sorted(report.get("files", {}).items()):
        if path.endswith("_test.rego"):
            continue
        covered += file.get("covered_lines", 0)
        not_covered += file.get("not_covered_lines", 0)
        for span in file.get("not_covered", []):
            rows = range(span["start"]["row"], span["end"]["row"] + 1)
            uncovered.extend(f"{path}:{row}" for row in rows)
    return Coverage(covered, not_covered, tuple(uncovered))


def opa_passed(results: list[dict[str, Any]]) -> set[str]:
    """`data.<package>.<test>` of each test `opa test --format json` reports as passed (its
    package already starts with `data.`)."""
    return {
        f"{r['package']}.{r['name']}"
        for r in results
        if not r.get("fail") and not r.get("error") and not r.get("skip")
    }


def our_passed(policy_dir: Path) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-m", "cctv_policy.cli", "test", "--format", "json", str(policy_dir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        results = json.loads(result.stdout)
    except ValueError:
        raise SystemExit(f"cctv-policy test failed: {result.stderr or result.stdout}") from None
    return {f"data.{r['package']}.{r['name']}" for r in results if r["outcome"] == "pass"}


def gate(policy_dir: Path, floor: float) -> list[str]:
    """What is wrong with the rule book by the official toolchain (empty when nothing)."""
    problems = []
    results = _opa_json("test", "--format", "json", str(policy_dir))
    failing = [f"{r['package']}.{r['name']}" for r in results if r.get("fail") or r.get("error")]
    if failing:  # opa reports no coverage while a test fails
        problems.append(f"opa test: {len(failing)} failing: {', '.join(failing)}")
    else:
        problems.extend(_coverage_problems(policy_dir, floor))
    ours, theirs = our_passed(policy_dir), opa_passed(results)
    if ours != theirs:
        problems.append(
            "cctv-policy test and opa test disagree: passed only by opa: "
            f"{sorted(theirs - ours)}; passed only by cctv-policy: {sorted(ours - theirs)}"
        )
    print(
        f"opa test: {len(theirs)}/{len(results)} passed; cctv-policy test agrees: {ours == theirs}"
    )
    return problems


def _coverage_problems(policy_dir: Path, floor: float) -> list[str]:
    coverage = policy_coverage(_opa_json("test", "--coverage", str(policy_dir)))
    print(
        f"opa test --coverage: {coverage.percent:.2f}% of policy lines "
        f"({coverage.covered}/{coverage.covered + coverage.not_covered}, floor {floor:g}%)"
    )
    if coverage.percent >= floor:
        return []
    return [
        f"opa test --coverage: {coverage.percent:.2f}% of policy lines covered, below the "
        f"floor of {floor:g}%; not covered: {', '.join(coverage.uncovered_lines)}"
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testing.opa_toolchain")
    parser.add_argument("policy_dir", type=Path)
    parser.add_argument("--floor", type=float, default=DEFAULT_FLOOR)
    arguments = parser.parse_args(argv)
    problems = gate(arguments.policy_dir, arguments.floor)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
