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
    """Repository-relative paths that must be owned: every file there is in each trust root,
    and a made-up new file of each kind (.yaml and .yml), since a pull request adds files."""
    rel = registry.resolve().relative_to(repo.resolve()).as_posix()
    base = "" if rel == "." else rel + "/"
    roots = [
        f"{base}{name}" for name in ("people.yaml", "cameras.yaml", "storage.yaml", "config.yaml")
    ]
    for folder in ("decisions", "holds", "requests"):
        roots += [f"{base}{folder}/NEW-0000.yaml", f"{base}{folder}/NEW-0000.yml"]
        if (registry / folder).is_dir():
            roots += sorted(f"{base}{folder}/{p.name}" for p in (registry / folder).iterdir())
    roots.append(".github/workflows/new.yml")
    for folder, example in (
        ("policies", "cctv/new.rego"),
        ("cctv_policy", "new.py"),
        ("storage_backends", "new.py"),
        ("scripts", "new.sh"),
    ):
        if (repo / folder).is_dir():
            roots.append(f"{folder}/{example}")
    if (repo / "pyproject.toml").is_file():
        roots.append("pyproject.toml")
    codeowners = find(repo)
    roots.append(codeowners.relative_to(repo).as_posix() if codeowners else LOCATIONS[0])
    return list(dict.fromkeys(roots))


def unowned_trust_roots(
    repo: Path, registry: Path, text: str | None = None, office: list[str] | None = None
) -> list[str]:
    """Trust roots whose owners are not only the security office.

    The office is `office` (config.security_office_owners) or, when that is not set, whoever
    owns decisions/. Any listed owner can approve a pull request alone, so an extra owner
    weakens a root as much as a missing one. `text`: CODEOWNERS as the trust base has it
    (default: the file in the working tree)."""
    if text is None:
        path = find(repo)
        text = path.read_text(encoding="utf-8") if path else ""
    rules = parse(text)
    roots = trust_roots(repo, registry)
    reference = set(office or owners_of(rules, roots[4]))
    if not reference:
        return roots
    return [
        root
        for root in roots
        if not owners_of(rules, root) or not set(owners_of(rules, root)) <= reference
    ]
