"""Approval provenance from git history: was each decision and hold written by the person it
names, and was each request filed when it says?

Who may act is taken from the trust base (`--trust-base REF`, default HEAD): people.yaml and
config.yaml as committed there, never from the change under review, so a pull request cannot
add its author's e-mail to an officer's identities. Each decision, hold and request is
attributed to the one commit that wrote its current content (git_history: the last change on
the branch, or inside the pull request a merge brought in; an older commit that once wrote the
same bytes is no alibi for a revoked approval restored). That commit's
author and committer must both be identities of the named person (the decider, the hold's
creator, the request's applicant or the `submitted_by` who filed it for them), or a configured
trusted committer.
With `require_signed_commits` a decision's or hold's commit must carry a good SSH signature by a
key listed for that person (an allowed-signers file built from the base's people.yaml; requests
are filed by teachers, who need not sign); unsigned, or signed by anyone else, is an error.
Merge approvals with merge commits, not squash or rebase on GitHub (both rewrite the commit
that the officer signed).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cctv_policy.provenance.codeowners import LOCATIONS, unowned_by_location
from cctv_policy.provenance.git_history import (
    Commit,
    ProvenanceUnavailable,
)
from cctv_policy.provenance.git_history import git as _git
from cctv_policy.provenance.repository import (
    Repository,
    TrustBase,
    added_at,
    allowed_signers,
    load_trust_base,
    uncommitted,
    writers,
)
from cctv_policy.registry.loader import LoadedRegistry, Source
from cctv_policy.rules.changes import revision_problem
from cctv_policy.violations import Severity, Violation

__all__ = ["ProvenanceUnavailable", "check_provenance"]


def check_provenance(
    registry: LoadedRegistry,
    trust_ref: str = "HEAD",
    now: datetime | None = None,
    opened_at: datetime | None = None,
    honour_opt_out: bool = True,
) -> list[Violation]:
    """`opened_at`: when the pull request under check was opened (GitHub's clock, not the
    applicant's): a request it adds counts as filed no earlier (REQUEST_BACKDATED).
    `honour_opt_out`: a trust base whose config says `provenance: {required: false}` is only
    warned about (PROVENANCE_NOT_REQUIRED), its history not read (the enforcement gate reads
    the setting itself and passes False)."""
    assert registry.config is not None
    repo = Repository.of(registry.root)
    base = load_trust_base(repo, trust_ref)
    if honour_opt_out and not base.config.provenance.required:
        return [_not_required(base)]
    violations = _shared_keys(base)
    with tempfile.TemporaryDirectory(prefix="cctv-signers-") as tmp:
        signers = allowed_signers(base, Path(tmp)) if base.config.require_signed_commits else None
        written = writers(repo, _PINNED_FOLDERS, signers)
    dirty = uncommitted(repo, _PINNED_FOLDERS)
    for (kind, doc_id), source in sorted(registry.sources.items()):
        who = _who_may_write(registry, kind, doc_id)
        if who is not None:
            violations += _written_by(
                registry, base, source, f"{kind}:{doc_id}", who, written.get(source.file), dirty
            )
    violations += _backdated(registry, base, repo, dirty, now or datetime.now(UTC), opened_at)
    violations += _unowned(repo, registry, base.ref)
    violations += _revision_undated(registry, base, now or datetime.now(UTC))
    return violations


# The folders whose documents must be written by the person they name.
_PINNED_FOLDERS = ("decisions", "holds", "requests", "waivers")


@dataclass(frozen=True)
class Writer:
    """Who may write a document: the person it names in its `field`."""

    named: str
    field: str


def _who_may_write(registry: LoadedRegistry, kind: str, doc_id: str) -> Writer | None:
    if kind == "decision":
        return Writer(registry.decisions[doc_id].decided_by, "decided_by")
    if kind == "hold":
        return Writer(registry.holds[doc_id].created_by, "created_by")
    if kind == "waiver":  # reviewed like a decision (#28)
        return Writer(registry.waivers[doc_id].decided_by, "decided_by")
    if kind == "request":
        # Filed by the applicant, or by whoever says so in submitted_by (an officer filing for
        # a teacher must: the filer is one of the duties kept apart, R5/R10).
        request = registry.requests[doc_id]
        if request.submitted_by:
            return Writer(request.submitted_by, "submitted_by")
        return Writer(request.applicant, "applicant")
    return None


def _not_required(base: TrustBase) -> Violation:
    return Violation(
        code="PROVENANCE_NOT_REQUIRED",
        severity=Severity.warning,
        subject="config:config",
        file="config.yaml",
        line=1,
        field="provenance",
        message=f"config.yaml at {base.ref} says provenance.required: false: who wrote "
        "the decisions and holds is not verified, here or where approvals act (apply, serve, "
        "bundle, extract); only a registry without a trustworthy git history keeps that",
    )


def _revision_undated(registry: LoadedRegistry, base: TrustBase, now: datetime) -> list[Violation]:
    """A revision of the rule book's parameters is published before it applies (R13)."""
    assert registry.config is not None
    problem = revision_problem(registry.config, base.config, now)
    if problem is None:
        return []
    line, column = registry.position(Source("config.yaml"), ("effective_from",))
    return [
        Violation(
            code="CONFIG_EFFECTIVE_FROM_PAST",
            severity=Severity.error,
            subject="config:config",
            file="config.yaml",
            line=line,
            column=column,
            field="effective_from",
            message=f"compared with {base.ref}, {problem}",
        )
    ]


def _written_by(
    registry: LoadedRegistry,
    base: TrustBase,
    source: Source,
    subject: str,
    who: Writer,
    commit: Commit | None,
    dirty: set[str],
) -> list[Violation]:
    """The file's current content must come from a commit by the person it names: authored
    and committed by them, signed by their key when required. The commit is the one that wrote
    the current content (git_history.last_writers), never an older one that once wrote the
    same bytes."""
    line, column = registry.position(source, (who.field,))

    def violation(code: str, severity: Severity, message: str) -> Violation:
        return Violation(
            code=code,
            severity=severity,
            subject=subject,
            file=source.file,
            line=line,
            column=column,
            field=who.field,
            message=message,
        )

    if commit is None or source.file in dirty:
        return [
            violation(
                "PROVENANCE_UNCOMMITTED",
                Severity.warning,
                f"{source.file} has changes that are not committed, so who wrote it "
                "cannot be verified",
            )
        ]
    signed = base.config.require_signed_commits and not subject.startswith("request:")
    problems = _commit_problems(base, commit, {who.named}, who.named, source.file, signed)
    return [violation(code, Severity.error, message) for code, message in problems]


def _commit_problems(
    base: TrustBase, commit: Commit, allowed: set[str], names: str, file: str, signed: bool
) -> list[tuple[str, str]]:
    identities = {
        i.lower(): pid
        for pid in allowed
        if pid in base.people
        for i in base.people[pid].git_identities
    }
    trusted = {i.lower() for i in base.config.trusted_committers}
    problems = []
    author = identities.get(commit.author_email.lower())
    if author is None:
        problems.append(
            (
                "PROVENANCE_MISMATCH",
                f"{file} must be written by {names}, but its content comes from commit "
                f"{commit.sha[:10]} authored by {commit.author_name} "
                f"<{commit.author_email}>, who is none of them by people.yaml at the "
                f"trust base {base.ref}",
            )
        )
    committer = commit.committer_email.lower()
    if committer not in identities and committer not in trusted:
        problems.append(
            (
                "PROVENANCE_MISMATCH",
                f"{file}: commit {commit.sha[:10]} was committed by "
                f"{commit.committer_name} <{commit.committer_email}> (a rewritten or "
                f"amended commit?), who is neither {names} nor a trusted committer",
            )
        )
    if signed:
        if commit.signature != "G":
            problems.append(
                (
                    "PROVENANCE_UNSIGNED",
                    f"{file} comes from commit {commit.sha[:10]}, which has no good "
                    "signature by a key listed in people.yaml (git %G? = "
                    f"{commit.signature}); config requires signed commits",
                )
            )
        elif commit.signer not in allowed:
            problems.append(
                (
                    "PROVENANCE_WRONG_SIGNER",
                    f"{file} must be written by {names}, but commit {commit.sha[:10]} "
                    f"is signed by {commit.signer}'s key",
                )
            )
        elif author is not None and commit.signer != author:
            problems.append(
                (
                    "PROVENANCE_WRONG_SIGNER",
                    f"{file}: commit {commit.sha[:10]} is authored as {author} but "
                    f"signed by {commit.signer}'s key",
                )
            )
    return problems


def _backdated(
    registry: LoadedRegistry,
    base: TrustBase,
    repo: Repository,
    dirty: set[str],
    now: datetime,
    opened_at: datetime | None,
) -> list[Violation]:
    """REQUEST_BACKDATED: filed "in advance" (R4) only on paper. A request is filed when the
    commit adding it says, but a request the branch adds (not at the trust base) no earlier
    than the pull request was opened, and an uncommitted one now."""
    tolerance = timedelta(hours=base.config.backdating_tolerance_hours)
    added = added_at(repo, "requests")
    at_base = set(
        _git(
            repo.top, "ls-tree", "-r", "--name-only", base.ref, "--", repo.path("requests")
        ).splitlines()
    )
    found = []
    for request_id, request in sorted(registry.requests.items()):
        source = registry.sources[("request", request_id)]
        filed = now if source.file in dirty or source.file not in added else added[source.file]
        if opened_at is not None and repo.path(source.file) not in at_base:
            filed = max(filed, opened_at)
        if request.submitted_at < filed - tolerance:
            line, column = registry.position(source, ("submitted_at",))
            found.append(
                Violation(
                    code="REQUEST_BACKDATED",
                    severity=Severity.error,
                    subject=f"request:{request_id}",
                    file=source.file,
                    line=line,
                    column=column,
                    field="submitted_at",
                    message=f"request {request_id} says it was submitted at "
                    f"{request.submitted_at.isoformat()}, but it was filed (committed) at "
                    f"{filed.isoformat()}, more than {tolerance} later; write the real "
                    "submission time (a request is filed in advance only if it really is, R4)",
                )
            )
    return found


def _unowned(repo: Repository, registry: LoadedRegistry, trust_ref: str) -> list[Violation]:
    """Every CODEOWNERS a forge could use, as the trust base has it (the branch under review
    cannot loosen it): GitHub, GitLab and Gitea each read the first of their own locations."""
    texts = {}
    for location in LOCATIONS:
        try:
            texts[location] = _git(repo.top, "show", f"{trust_ref}:{location}")
        except ProvenanceUnavailable:
            continue
    assert registry.config is not None
    office = registry.config.security_office_owners
    found = unowned_by_location(repo.top, registry.root, texts or {LOCATIONS[0]: ""}, office)
    return [
        Violation(
            code="PROVENANCE_TRUST_ROOT_UNOWNED",
            severity=Severity.warning,
            subject="repository",
            file=os.path.relpath(repo.top / location, registry.root),
            line=1,
            message=f"{location} at {trust_ref} does not make the security office owner of "
            f"{', '.join(roots[:8])}{' ...' if len(roots) > 8 else ''}: a pull request "
            "could change who may decide, what a camera may see or where footage may go "
            "without their review",
        )
        for location, roots in found.items()
    ]


def _shared_keys(base: TrustBase) -> list[Violation]:
    """A signing key listed for two people makes their signatures indistinguishable."""
    owners: dict[str, list[str]] = {}
    for person in base.people.values():
        for key in person.signing_keys:
            owners.setdefault(" ".join(key.split()[:2]), []).append(person.id)
    return [
        Violation(
            code="PROVENANCE_SHARED_KEY",
            severity=Severity.error,
            subject=f"person:{ids[0]}",
            file="people.yaml",
            line=1,
            message=f"one signing key is listed for {', '.join(ids)}: their commits "
            "cannot be told apart; give each person their own key",
        )
        for ids in owners.values()
        if len(ids) > 1
    ]
