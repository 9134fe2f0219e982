"""Approval provenance from git history: was each decision and hold written by the person it
names, and was each request filed when it says?

Who may act is taken from the trust base (`--trust-base REF`, default HEAD): people.yaml and
config.yaml as committed there, never from the change under review, so a pull request cannot
add its author's e-mail to an officer's identities. For each decision and hold, the commit that
last changed it is found in full history (`--topo-order`, merges shown with `--cc`, so an
"evil merge" that edits a decision while merging is itself the last change). Its author and its
committer must both be identities of the named person (or a configured trusted committer).
With `require_signed_commits` the commit must carry a good SSH signature by a key listed for
that person (an allowed-signers file built from the base's people.yaml); unsigned, or signed by
anyone else, is an error. Merge approvals with merge commits, not squash or rebase on GitHub
(both rewrite the commit that the officer signed).
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from pydantic import ValidationError

from cctv_policy.checks.codeowners import unowned_trust_roots
from cctv_policy.registry import yaml_source
from cctv_policy.registry.loader import LoadedRegistry, Source
from cctv_policy.registry.models import Config, PeopleFile, Person
from cctv_policy.violations import Severity, Violation

_FIELDS = ("%H", "%ae", "%an", "%ce", "%cn", "%G?", "%GS", "%at")


class ProvenanceUnavailable(Exception):
    """The registry is not in a git repository, the trust base cannot be read, or git failed."""


@dataclass(frozen=True)
class Commit:
    sha: str
    author_email: str
    author_name: str
    committer_email: str
    committer_name: str
    signature: str  # git's %G?: G good (by an allowed signer), U unknown key, N none, B bad...
    signer: str  # %GS: the allowed-signers principal, i.e. the person id whose key signed
    authored_at: datetime


@dataclass(frozen=True)
class TrustBase:
    ref: str
    people: dict[str, Person]
    config: Config


@dataclass
class Repository:
    top: Path
    registry_rel: str  # the registry folder relative to the top, "" at the top

    @classmethod
    def of(cls, registry_root: Path) -> Repository:
        root = registry_root.resolve()
        try:
            top = Path(_git(root, "rev-parse", "--show-toplevel").strip())
            _git(top, "rev-parse", "--verify", "HEAD")
        except ProvenanceUnavailable as exc:
            raise ProvenanceUnavailable(
                f"{registry_root} is not in a git repository with history; --verify-provenance "
                "needs one (in CI check out with fetch-depth: 0)") from exc
        rel = root.relative_to(top).as_posix()
        return cls(top, "" if rel == "." else rel + "/")

    def path(self, registry_file: str) -> str:
        return self.registry_rel + registry_file

    def show(self, ref: str, registry_file: str) -> str:
        return _git(self.top, "show", f"{ref}:{self.path(registry_file)}")


def load_trust_base(repo: Repository, ref: str) -> TrustBase:
    try:
        people = PeopleFile.model_validate(yaml_source.parse(repo.show(ref, "people.yaml")))
        config = Config.model_validate(yaml_source.parse(repo.show(ref, "config.yaml")))
    except (ProvenanceUnavailable, yaml_source.YamlError, ValidationError, yaml.YAMLError) as exc:
        raise ProvenanceUnavailable(
            f"cannot read people.yaml and config.yaml at the trust base {ref!r} ({exc}); pass "
            "--trust-base with the pull request's base commit") from exc
    return TrustBase(ref, {p.id: p for p in people.people}, config)


def last_changes(repo: Repository, folders: tuple[str, ...], signers: Path | None
                 ) -> dict[str, Commit]:
    """registry file -> the commit that last changed its content (merges included)."""
    config = ["-c", f"gpg.ssh.allowedSignersFile={signers}"] if signers else []
    fields = _FIELDS if signers else tuple(f if f not in ("%G?", "%GS") else "-" for f in _FIELDS)
    output = _git(repo.top, *config, "log", "--topo-order", "--cc", "--name-only",
                  "--no-renames", "--format=%x1e" + "%x1f".join(fields), "--",
                  *[repo.path(f) for f in folders])
    changes: dict[str, Commit] = {}
    for header, names in _records(output):
        commit = _commit(header)
        for name in names:
            if name.startswith(repo.registry_rel):
                changes.setdefault(name[len(repo.registry_rel):], commit)
    return changes


def added_at(repo: Repository, folder: str) -> dict[str, datetime]:
    """registry file -> author time of the commit that (last) added it."""
    output = _git(repo.top, "log", "--topo-order", "--diff-filter=A", "--no-renames",
                  "--name-only", "--format=%x1e%H%x1f%at", "--", repo.path(folder))
    found: dict[str, datetime] = {}
    for header, names in _records(output):
        when = datetime.fromtimestamp(int(header.split("\x1f")[1]), UTC)
        for name in names:
            if name.startswith(repo.registry_rel):
                found.setdefault(name[len(repo.registry_rel):], when)
    return found


def uncommitted(repo: Repository, folders: tuple[str, ...]) -> set[str]:
    """Registry files whose working copy differs from HEAD (modified, added or untracked)."""
    output = _git(repo.top, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--",
                  *[repo.path(f) for f in folders])
    names = set()
    for item in output.split("\0"):
        name = item[3:]
        if name.startswith(repo.registry_rel):
            names.add(name[len(repo.registry_rel):])
    return names


def check_provenance(registry: LoadedRegistry, trust_ref: str = "HEAD",
                     now: datetime | None = None) -> list[Violation]:
    assert registry.config is not None
    repo = Repository.of(registry.root)
    base = load_trust_base(repo, trust_ref)
    with tempfile.TemporaryDirectory(prefix="cctv-signers-") as tmp:
        signers = _allowed_signers(base, Path(tmp)) if base.config.require_signed_commits else None
        changes = last_changes(repo, ("decisions", "holds"), signers)
    dirty = uncommitted(repo, ("decisions", "holds", "requests"))
    violations = []
    for (kind, doc_id), source in sorted(registry.sources.items()):
        if kind == "decision":
            person = registry.decisions[doc_id].decided_by
            violations += _signed_by(registry, base, source, f"{kind}:{doc_id}", person,
                                     "decided_by", changes.get(source.file), source.file in dirty)
        elif kind == "hold":
            person = registry.holds[doc_id].created_by
            violations += _signed_by(registry, base, source, f"{kind}:{doc_id}", person,
                                     "created_by", changes.get(source.file), source.file in dirty)
    violations += _backdated(registry, base, repo, dirty, now or datetime.now(UTC))
    violations += _unowned(repo, registry)
    return violations


def _signed_by(registry: LoadedRegistry, base: TrustBase, source: Source, subject: str,
               person: str, field: str, change: Commit | None, dirty: bool) -> list[Violation]:
    line, column = registry.position(source, (field,))

    def violation(code: str, severity: Severity, message: str) -> Violation:
        return Violation(code=code, severity=severity, subject=subject, file=source.file,
                         line=line, column=column, field=field, message=message)

    if change is None or dirty:
        return [violation("PROVENANCE_UNCOMMITTED", Severity.warning,
                          f"{source.file} has changes that are not committed, so who wrote it "
                          "cannot be verified")]
    known = base.people.get(person)
    if known is None:
        return [violation("PROVENANCE_MISMATCH", Severity.error,
                          f"{source.file} names {person}, who is not in people.yaml at the "
                          f"trust base {base.ref}")]
    identities = {i.lower() for i in known.git_identities}
    committers = identities | {i.lower() for i in base.config.trusted_committers}
    found = []
    if change.author_email.lower() not in identities:
        found.append(violation(
            "PROVENANCE_MISMATCH", Severity.error,
            f"{source.file} names {person} but was last changed by commit {change.sha[:10]} "
            f"authored by {change.author_name} <{change.author_email}>, which is not one of "
            f"{person}'s git identities in people.yaml"))
    if change.committer_email.lower() not in committers:
        found.append(violation(
            "PROVENANCE_MISMATCH", Severity.error,
            f"{source.file} names {person} but commit {change.sha[:10]} was committed by "
            f"{change.committer_name} <{change.committer_email}> (a rewritten or amended "
            f"commit?), who is neither {person} nor a trusted committer"))
    if base.config.require_signed_commits:
        if change.signature != "G":
            found.append(violation(
                "PROVENANCE_UNSIGNED", Severity.error,
                f"{source.file} was last changed by commit {change.sha[:10]}, which has no good "
                f"signature by a key listed for anyone in people.yaml (git %G? = "
                f"{change.signature}); config requires signed commits: {person} must sign it"))
        elif change.signer != person:
            found.append(violation(
                "PROVENANCE_WRONG_SIGNER", Severity.error,
                f"{source.file} names {person} but commit {change.sha[:10]} is signed by "
                f"{change.signer}'s key"))
    return found


def _backdated(registry: LoadedRegistry, base: TrustBase, repo: Repository, dirty: set[str],
               now: datetime) -> list[Violation]:
    """REQUEST_BACKDATED: filed "in advance" (R4) only on paper."""
    tolerance = timedelta(hours=base.config.backdating_tolerance_hours)
    added = added_at(repo, "requests")
    found = []
    for request_id, request in sorted(registry.requests.items()):
        source = registry.sources[("request", request_id)]
        filed = now if source.file in dirty or source.file not in added else added[source.file]
        if request.submitted_at < filed - tolerance:
            line, column = registry.position(source, ("submitted_at",))
            found.append(Violation(
                code="REQUEST_BACKDATED", severity=Severity.error,
                subject=f"request:{request_id}", file=source.file, line=line, column=column,
                field="submitted_at",
                message=f"request {request_id} says it was submitted at "
                        f"{request.submitted_at.isoformat()}, but it was filed (committed) at "
                        f"{filed.isoformat()}, more than {tolerance} later; write the real "
                        "submission time (a request is filed in advance only if it really is, R4)"))
    return found


def _unowned(repo: Repository, registry: LoadedRegistry) -> list[Violation]:
    roots = unowned_trust_roots(repo.top, registry.root)
    if not roots:
        return []
    return [Violation(
        code="PROVENANCE_TRUST_ROOT_UNOWNED", severity=Severity.warning, subject="repository",
        file="CODEOWNERS", line=1,
        message=f"CODEOWNERS does not give {', '.join(roots)} the same owners as decisions/ "
                "(the security office): a pull request could change who may decide, what a "
                "camera may see or where footage may go without their review")]


def _allowed_signers(base: TrustBase, folder: Path) -> Path:
    """git's SSH allowed-signers file: principal = person id, so %GS names the person."""
    lines = [f'{person.id} namespaces="git" {key}' for person in base.people.values()
             for key in person.signing_keys]
    path = folder / "allowed_signers"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _records(output: str) -> list[tuple[str, list[str]]]:
    records = []
    for record in output.split("\x1e")[1:]:
        header, _, names = record.partition("\n")
        records.append((header, [n for n in names.splitlines() if n.strip()]))
    return records


def _commit(header: str) -> Commit:
    sha, ae, an, ce, cn, signature, signer, at = header.split("\x1f")
    return Commit(sha, ae, an, ce, cn, signature, signer,
                  datetime.fromtimestamp(int(at), UTC))


def _git(cwd: Path, *args: str) -> str:
    try:
        return subprocess.run(["git", "-c", "log.showSignature=false", *args], cwd=cwd,
                              capture_output=True, text=True, check=True, timeout=300).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise ProvenanceUnavailable(f"git {' '.join(args[:2])} failed: {detail.strip()}") from exc
