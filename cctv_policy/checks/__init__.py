"""The policy check: registry -> input document -> engine -> violations with file:line."""

from cctv_policy.rulebook.check import CheckResult, run_check

__all__ = ["CheckResult", "run_check"]
