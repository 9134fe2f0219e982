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

# Where each forge looks for the file, in its order; it uses the first it finds. Gitea reads
# its rules as Go regular expressions, the others as gitignore-like patterns.
FORGE_LOCATIONS = {
    "github": (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"),
    "gitlab": ("CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS"),
    "gitea": ("CODEOWNERS", "docs/CODEOWNERS", ".gitea/CODEOWNERS"),
}
LOCATIONS = tuple(dict.fromkeys(loc for locs in FORGE_LOCATIONS.values() for loc in locs))
REGEX_LOCATIONS = frozenset({".gitea/CODEOWNERS"})
# A GitLab section header: optional `^`, [name], optional [approvals], default owners.
_SECTION = re.compile(r"^(\^)?\[([^\]]+)\](?:\[\d+\])?\s*(.*)$")


@dataclass(frozen=True)
class Rule:
    pattern: str
    regex: re.Pattern[str] | None  # None: a Go regexp Python cannot read (Gitea skips it)
    owners: tuple[str, ...]
    line: int
    section: str = ""
    optional: bool = False  # a GitLab ^[section]: its owners' approval is not required
    negative: bool = False  # a Gitea !rule: owns every path it does NOT match
    union: bool = False  # Gitea: every matching rule's owners count, not the last one's


def find(repo: Path) -> Path | None:
    for location in LOCATIONS:
        if (repo / location).is_file():
            return repo / location
    return None


def dialect_of(location: str) -> str:
    return "gitea" if location in REGEX_LOCATIONS else "glob"


def parse(text: str, dialect: str = "glob") -> list[Rule]:
    if dialect == "gitea":
        return _parse_gitea(text)
    rules, section, optional, defaults = [], "", False, ()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        header = _SECTION.match(line)
        if header:
            optional, section = bool(header.group(1)), header.group(2)
            defaults = tuple(header.group(3).split())
            continue
        if not line:
            continue
        pattern, *owners = line.split()
        rule_owners = tuple(owners) or defaults
        rules.append(Rule(pattern, _regex(pattern), rule_owners, number, section, optional))
    return rules


def _parse_gitea(text: str) -> list[Rule]:
    rules = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.split(r"(?<!\\)#", raw, maxsplit=1)[0].strip()
        if not line:
            continue
        tokens = [_unescape(t) for t in re.split(r"(?<!\\)\s+", line)]
        pattern, owners = tokens[0], tuple(tokens[1:])
        negative = pattern.startswith("!")
        try:
            regex: re.Pattern[str] | None = re.compile(f"^{pattern.removeprefix('!')}$")
        except re.error:
            regex = None
        rules.append(Rule(pattern, regex, owners, number, negative=negative, union=True))
    return rules


def _unescape(token: str) -> str:
    return re.sub(r"\\([# \\])", r"\1", token)


def _matches(rule: Rule, path: str) -> bool:
    if rule.regex is None:
        return False
    return bool(rule.regex.fullmatch(path)) != rule.negative


def approver_groups(rules: list[Rule], path: str) -> list[tuple[str, ...]]:
    """The groups of owners that must each approve a change to `path`: GitHub, the last
    matching rule; GitLab, the last match of each required section; Gitea, every match."""
    if rules and rules[0].union:
        found = [owner for rule in rules if _matches(rule, path) for owner in rule.owners]
        return [tuple(dict.fromkeys(found))] if found else []
    last: dict[str, Rule] = {}
    for rule in rules:
        if _matches(rule, path):
            last[rule.section] = rule
    return [rule.owners for rule in last.values() if not rule.optional and rule.owners]


def owners_of(rules: list[Rule], path: str) -> tuple[str, ...]:
    """The owners of a repository-relative path (the first group that must approve)."""
    groups = approver_groups(rules, path)
    return groups[0] if groups else ()


def office_must_approve(rules: list[Rule], path: str, office: set[str]) -> bool:
    """Some group that must approve is the office alone: any listed owner can approve for
    their group, so an extra owner in a group weakens it as much as a missing one."""
    return any(set(group) <= office for group in approver_groups(rules, path))


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
    roots += [".github/workflows/new.yml", ".gitlab-ci.yml"]
    roots += [".gitea/workflows/new.yml", ".forgejo/workflows/new.yml"]
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
    roots += list(LOCATIONS)  # a new file where a forge looks first replaces the owners
    return list(dict.fromkeys(roots))


def unowned_trust_roots(
    repo: Path,
    registry: Path,
    text: str | None = None,
    office: list[str] | None = None,
    location: str = LOCATIONS[0],
) -> list[str]:
    """Trust roots the security office need not approve, by one CODEOWNERS file (`text`, read
    as a file at `location`) or, when `text` is None, by any CODEOWNERS file in the working
    tree (each forge uses a different one: every one must hold).

    The office is `office` (config.security_office_owners) or, when that is not set, whoever
    owns decisions/. Any listed owner can approve for their group alone, so an extra owner
    weakens a root as much as a missing one."""
    if text is None:
        texts = {
            loc: (repo / loc).read_text(encoding="utf-8")
            for loc in LOCATIONS
            if (repo / loc).is_file()
        }
        found = unowned_by_location(repo, registry, texts or {location: ""}, office)
        return list(dict.fromkeys(root for roots in found.values() for root in roots))
    rules = parse(text, dialect_of(location))
    roots = trust_roots(repo, registry)
    reference = set(office or owners_of(rules, roots[4]))
    if not reference:
        return roots
    return [root for root in roots if not office_must_approve(rules, root, reference)]


def unowned_by_location(
    repo: Path, registry: Path, texts: dict[str, str], office: list[str] | None = None
) -> dict[str, list[str]]:
    """For each CODEOWNERS file (location -> text), the trust roots it leaves unowned."""
    found = {
        location: unowned_trust_roots(repo, registry, text, office, location)
        for location, text in texts.items()
    }
    return {location: roots for location, roots in found.items() if roots}
