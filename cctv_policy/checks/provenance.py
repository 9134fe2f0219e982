"""Approval provenance: was each decision and hold last changed by the person it names?

Reads the registry's git history once (`git log --name-only` over decisions/ and holds/), takes
the newest commit that touched each file, and compares its author e-mail with the named
person's git_identities in people.yaml. Merge with merge commits or rebase (not squash) so that
the security officer who wrote a decision stays its author.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from cctv_policy.registry.loader import LoadedRegistry, Source
from cctv_policy.violations import Severity, Violation

SIGNED = {"G", "U"}  # git's %G?: good signature (U: good, untrusted key)


class ProvenanceUnavailable(Exception):
    """The registry is not in a git repository, or git failed."""


@dataclass(frozen=True)
class LastChange:
    commit: str
    email: str
    name: str
    signature: str


def last_changes(registry_root: Path, folders: tuple[str, ...] = ("decisions", "holds")
                 ) -> dict[str, LastChange]:
    """file path relative to the registry -> the newest commit that changed it."""
    root = registry_root.resolve()
    try:
        top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
        output = _git(top, "log", "--format=%x1e%H%x1f%ae%x1f%an%x1f%G?", "--name-only",
                      "--", *[str((root / f).relative_to(top)) for f in folders])
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ProvenanceUnavailable(
            f"{registry_root} is not in a git repository with history; --verify-provenance "
            "needs one (in CI check out with fetch-depth: 0)") from exc
    prefix = str(root.relative_to(top))
    prefix = "" if prefix == "." else prefix + "/"
    changes: dict[str, LastChange] = {}
    for record in output.split("\x1e")[1:]:
        header, _, names = record.partition("\n")
        commit, email, name, signature = header.split("\x1f")
        for line in names.splitlines():
            if line.startswith(prefix) and line[len(prefix):] not in changes:
                changes[line[len(prefix):]] = LastChange(commit, email, name, signature)
    return changes


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          timeout=120).stdout


def check_provenance(registry: LoadedRegistry) -> list[Violation]:
    assert registry.config is not None
    changes = last_changes(registry.root)
    identities = {pid: {i.lower() for i in p.git_identities} for pid, p in registry.people.items()}
    named = [(f"decisions/{rid}.yaml", f"decision:{rid}", d.decided_by, "decided_by")
             for rid, d in registry.decisions.items()]
    named += [(f"holds/{hid}.yaml", f"hold:{hid}", h.created_by, "created_by")
              for hid, h in registry.holds.items()]
    violations = []
    for file, subject, person, field in named:
        line, column = registry.position(Source(file), (field,))
        change = changes.get(file)
        if change is None:
            violations.append(Violation(
                code="PROVENANCE_UNCOMMITTED", severity=Severity.warning, subject=subject,
                file=file, line=line, column=column, field=field,
                message=f"{file} is not committed, so who wrote it cannot be verified"))
            continue
        if change.email.lower() not in identities.get(person, set()):
            violations.append(Violation(
                code="PROVENANCE_MISMATCH", severity=Severity.error, subject=subject,
                file=file, line=line, column=column, field=field,
                message=f"{file} names {person} but was last changed by commit "
                        f"{change.commit[:10]} of {change.name} <{change.email}>, which is not "
                        f"one of {person}'s git identities in people.yaml"))
        if registry.config.require_signed_commits and change.signature not in SIGNED:
            violations.append(Violation(
                code="PROVENANCE_UNSIGNED", severity=Severity.warning, subject=subject,
                file=file, line=line, column=column, field=field,
                message=f"{file} was last changed by commit {change.commit[:10]}, which has no "
                        f"good signature (git %G? = {change.signature}); config asks for signed "
                        "commits"))
    return violations
