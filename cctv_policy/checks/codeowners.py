"""CODEOWNERS as GitHub reads it, and whether every trust root of a registry is owned.

A trust root is a file whose change changes who may do what: people (roles, git identities,
signing keys), cameras (zones decide R1), storage (approved targets), config, decisions, holds,
the policies, the workflows, and CODEOWNERS itself. Each must be owned by the same owners as
decisions/ (the security office), or a pull request could change it without their review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Where GitHub looks for the file, in its order of precedence.
LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")


@dataclass(frozen=True)
class Rule:
    pattern: str
    regex: re.Pattern[str]
    owners: tuple[str, ...]
    line: int


def find(repo: Path) -> Path | None:
    for location in LOCATIONS:
        if (repo / location).is_file():
            return repo / location
    return None


def parse(text: str) -> list[Rule]:
    rules = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        pattern, *owners = line.split()
        rules.append(Rule(pattern, _regex(pattern), tuple(owners), number))
    return rules


def owners_of(rules: list[Rule], path: str) -> tuple[str, ...]:
    """The owners of a repository-relative path: the last matching rule wins."""
    for rule in reversed(rules):
        if rule.regex.fullmatch(path):
            return rule.owners
    return ()


def _regex(pattern: str) -> re.Pattern[str]:
    directory = pattern.endswith("/")
    body = pattern.strip("/")
    anchored = pattern.startswith("/") or "/" in body
    out = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    core = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    suffix = "/.*" if directory else "(?:/.*)?"
    return re.compile(prefix + core + suffix)


def trust_roots(repo: Path, registry: Path) -> list[str]:
    """Repository-relative example paths that must be owned (a file inside each folder)."""
    rel = registry.resolve().relative_to(repo.resolve()).as_posix()
    base = "" if rel == "." else rel + "/"
    roots = [f"{base}{name}" for name in ("people.yaml", "cameras.yaml", "storage.yaml",
                                           "config.yaml")]
    roots += [f"{base}decisions/REQ-0000.yaml", f"{base}holds/HOLD-0000.yaml",
              ".github/workflows/any.yml"]
    if (repo / "policies").is_dir():
        roots.append("policies/cctv/any.rego")
    codeowners = find(repo)
    roots.append(codeowners.relative_to(repo).as_posix() if codeowners else LOCATIONS[0])
    return roots


def unowned_trust_roots(repo: Path, registry: Path) -> list[str]:
    """Trust roots not owned by (at least) the owners of decisions/."""
    path = find(repo)
    if path is None:
        return trust_roots(repo, registry)
    rules = parse(path.read_text(encoding="utf-8"))
    roots = trust_roots(repo, registry)
    reference = set(owners_of(rules, roots[4]))  # decisions/
    if not reference:
        return roots
    return [root for root in roots if not reference <= set(owners_of(rules, root))]
