"""The registry's git repository as provenance reads it: the trust base (who may act, as
committed at a trusted ref), the commit that wrote each file's current content, when each file
was added, which files differ from the commit, and git's allowed-signers file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from cctv_policy.provenance.git_history import (
    Commit,
    Paths,
    ProvenanceUnavailable,
    last_writers,
    records,
)
from cctv_policy.provenance.git_history import git as _git
from cctv_policy.provenance.working_tree import TreeUnreadable, differing_files
from cctv_policy.registry import yaml_source
from cctv_policy.registry.models import Config, PeopleFile, Person


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
                "needs one (in CI check out with fetch-depth: 0)"
            ) from exc
        if _git(top, "rev-parse", "--is-shallow-repository").strip() == "true":
            raise ProvenanceUnavailable(
                f"{registry_root} is in a shallow clone: the history that says who wrote each "
                "file is cut off (check out with fetch-depth: 0, or git fetch --unshallow)"
            )
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
            "--trust-base with the pull request's base commit"
        ) from exc
    return TrustBase(ref, {p.id: p for p in people.people}, config)


def writers(repo: Repository, folders: tuple[str, ...], signers: Path | None) -> dict[str, Commit]:
    """registry file -> the commit that wrote its current content (git_history)."""
    return last_writers(Paths(repo.top, repo.registry_rel, folders), signers)


def added_at(repo: Repository, folder: str) -> dict[str, datetime]:
    """registry file -> author time of the commit that (last) added it."""
    output = _git(
        repo.top,
        "log",
        "--topo-order",
        "--diff-filter=A",
        "--no-renames",
        "--name-only",
        "--format=%x1e%H%x1f%at",
        "--",
        repo.path(folder),
    )
    found: dict[str, datetime] = {}
    for header, names in records(output):
        when = datetime.fromtimestamp(int(header.split("\x1f")[1]), UTC)
        for name in names:
            if name.startswith(repo.registry_rel):
                found.setdefault(name[len(repo.registry_rel) :], when)
    return found


def uncommitted(repo: Repository, folders: tuple[str, ...]) -> set[str]:
    """Registry files of `folders` whose working bytes are not HEAD's: changed, added, missing,
    or hidden from `git status` (--skip-worktree, --assume-unchanged): working_tree.py."""
    try:
        differing = differing_files(repo.top / repo.registry_rel)
    except TreeUnreadable as exc:
        raise ProvenanceUnavailable(str(exc)) from exc
    return {path for path in differing if path.split("/", 1)[0] in folders}


def allowed_signers(base: TrustBase, folder: Path) -> Path:
    """git's SSH allowed-signers file: principal = person id, so %GS names the person."""
    lines = [
        f'{person.id} namespaces="git" {key}'
        for person in base.people.values()
        for key in person.signing_keys
    ]
    path = folder / "allowed_signers"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
