"""Run Rego unit tests (`test_*` rules in `*_test.rego`) through the embedded engine, like
`opa test`: each test rule is evaluated on its own; true passes, undefined or false fails."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from enum import Enum

from cctv_policy.engine.base import EngineError
from cctv_policy.engine.policies import PolicySet

_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)


class Outcome(str, Enum):
    passed = "pass"
    failed = "fail"
    error = "error"


@dataclass(frozen=True)
class RegoTestResult:
    package: str
    name: str
    file: str
    line: int
    outcome: Outcome
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class RegoTest:
    package: str
    name: str
    file: str
    line: int


def discover(policies: PolicySet) -> list[RegoTest]:
    tests: list[RegoTest] = []
    for module in policies.modules:
        if not module.is_test:
            continue
        package = _PACKAGE.search(module.source)
        if not package:
            continue
        seen: set[str] = set()
        for match in _TEST_RULE.finditer(module.source):
            name = match.group(1)
            if name in seen:  # a test may be defined incrementally; it is one test
                continue
            seen.add(name)
            line = module.source.count("\n", 0, match.start()) + 1
            tests.append(RegoTest(package.group(1), name, module.path, line))
    return tests


def run_rego_tests(policies: PolicySet, name_filter: str | None = None) -> list[RegoTestResult]:
    """Compile every module (policies and tests) once, then evaluate each test rule."""
    from cctv_policy.engine.embedded import EmbeddedEngine

    engine = EmbeddedEngine(policies)
    results: list[RegoTestResult] = []
    try:
        for test in discover(policies):
            if name_filter and not re.search(name_filter, f"{test.package}.{test.name}"):
                continue
            results.append(_run_one(engine, test))
    finally:
        engine.close()
    return results


def _run_one(engine: object, test: RegoTest) -> RegoTestResult:
    started = time.perf_counter()
    outcome, detail = Outcome.failed, ""
    try:
        rows = engine.query(f"result := data.{test.package}.{test.name}")  # type: ignore[attr-defined]
        if rows and rows[0].get("result") is True:
            outcome = Outcome.passed
        elif rows:
            detail = f"evaluated to {rows[0].get('result')!r}"
        else:
            detail = "undefined"
    except EngineError as exc:
        outcome, detail = Outcome.error, str(exc)
    return RegoTestResult(test.package, test.name, test.file, test.line, outcome,
                          time.perf_counter() - started, detail)
