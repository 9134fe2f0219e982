"""Run Rego unit tests (`test_*` rules in `*_test.rego`) through the embedded engine, like
`opa test`: each test rule is evaluated on its own; true passes, undefined or false fails."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from enum import StrEnum

from cctv_policy.engine.base import Engine, EngineError
from cctv_policy.engine.policies import PolicySet

_PACKAGE = re.compile(r"^\s*package\s+([\w.]+)", re.MULTILINE)
_TEST_HEAD = re.compile(r"\s*(test_\w+)\b")


class Outcome(StrEnum):
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
        for name, line in _rule_heads(module.source):
            if name in seen:  # a test may be defined incrementally; it is one test
                continue
            seen.add(name)
            tests.append(RegoTest(package.group(1), name, module.path, line))
    return tests


def _rule_heads(source: str) -> list[tuple[str, int]]:
    """(name, line) of every test_ rule head, indented or not: a line that starts with a
    test_ name while no brace, bracket or parenthesis is open (comments and strings aside)."""
    heads = []
    depth = 0
    for number, line in enumerate(source.splitlines(), start=1):
        code = _code_only(line)
        if depth == 0:
            match = _TEST_HEAD.match(code)
            if match:
                heads.append((match.group(1), number))
        depth = max(
            0, depth + sum(code.count(c) for c in "{[(") - sum(code.count(c) for c in "}])")
        )
    return heads


def _code_only(line: str) -> str:
    """The line without its comment and without the contents of its strings."""
    out, quote, escaped = [], "", False
    for char in line:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
                out.append(char)
            continue
        if char == "#":
            break
        if char in '"`':
            quote = char
        out.append(char)
    return "".join(out)


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


def _run_one(engine: Engine, test: RegoTest) -> RegoTestResult:
    started = time.perf_counter()
    outcome, detail = Outcome.failed, ""
    try:
        rows = engine.query(f"result := data.{test.package}.{test.name}")
        if rows and rows[0].get("result") is True:
            outcome = Outcome.passed
        elif rows:
            detail = f"evaluated to {rows[0].get('result')!r}"
        else:
            detail = "undefined"
    except EngineError as exc:
        outcome, detail = Outcome.error, str(exc)
    return RegoTestResult(
        test.package,
        test.name,
        test.file,
        test.line,
        outcome,
        time.perf_counter() - started,
        detail,
    )
