"""The cctv-policy commands a CI file runs, as (subcommand, flags), to compare forges."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

# Output formats only one forge can show (annotations, code scanning, Code Quality, JUnit):
# a command writing one of them is that forge's report, not a check the others must repeat.
FORGE_ONLY_FORMATS = {"github", "sarif", "gitlab", "junit"}


def scripts_of_workflow(path: Path) -> list[str]:
    document = yaml.safe_load(path.read_text())
    return [
        step["run"] for job in document["jobs"].values() for step in job["steps"] if "run" in step
    ]


def scripts_of_gitlab(path: Path) -> list[str]:
    document = yaml.safe_load(path.read_text())
    scripts: list[str] = []
    for job in document.values():
        if isinstance(job, dict):
            for key in ("before_script", "script", "after_script"):
                scripts += _lines(job.get(key))
    return scripts


def _lines(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(line) for line in value]


def commands(scripts: Iterable[str]) -> set[tuple[str, frozenset[str]]]:
    found = set()
    for script in scripts:
        for line in script.replace("\\\n", " ").splitlines():
            for match in re.finditer(r"\.venv/bin/cctv-policy ((?:[a-z][a-z-]* )*)(.*)", line):
                words = shlex.split(match.group(2).split("||")[0].split(">")[0], comments=True)
                flags = [w for w in words if w.startswith("--")]
                fmt = words[words.index("--format") + 1] if "--format" in words else "text"
                if fmt in FORGE_ONLY_FORMATS:
                    continue
                found.add((match.group(1).strip(), frozenset(flags)))
    return found
