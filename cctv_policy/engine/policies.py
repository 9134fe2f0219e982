"""Finding the Rego modules and stamping their version on every decision."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path


def bundled_policy_dir() -> Path:
    """The rule book shipped inside the package (in a checkout: a link to policies/)."""
    return Path(str(files("cctv_policy") / "policies")).resolve()


@dataclass(frozen=True)
class PolicyModule:
    path: str  # relative to the policy directory, e.g. "cctv/requests.rego"
    source: str

    @property
    def is_test(self) -> bool:
        return self.path.endswith("_test.rego")


@dataclass(frozen=True)
class PolicySet:
    root: Path
    modules: tuple[PolicyModule, ...]

    def without_tests(self) -> PolicySet:
        return PolicySet(self.root, tuple(m for m in self.modules if not m.is_test))

    @property
    def version(self) -> str:
        """git SHA of the policy tree when committed and clean, else a content hash.

        Both identify exactly the rules that decided; the content hash also covers an
        uncommitted working tree, which the git SHA alone would misreport.
        """
        digest = hashlib.sha256()
        for module in sorted(self.without_tests().modules, key=lambda m: m.path):
            digest.update(module.path.encode() + b"\0" + module.source.encode() + b"\0")
        content = f"sha256:{digest.hexdigest()[:16]}"
        tree = _git_tree_sha(self.root)
        return f"git:{tree[:12]} {content}" if tree else content


def load_policies(root: Path | str | None = None) -> PolicySet:
    root = Path(root) if root else bundled_policy_dir()
    if not root.is_dir():
        raise FileNotFoundError(f"policy directory {root} does not exist")
    modules = tuple(
        PolicyModule(str(p.relative_to(root)), p.read_text(encoding="utf-8"))
        for p in sorted(root.rglob("*.rego"))
    )
    if not modules:
        raise FileNotFoundError(f"no .rego files under {root}")
    return PolicySet(root, modules)


def _git_tree_sha(root: Path) -> str | None:
    """The committed tree SHA of `root`, or None if not in git or it has local changes."""
    try:
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "."],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        if dirty.strip():
            return None
        return (
            subprocess.run(
                ["git", "rev-parse", "HEAD:./"],
                cwd=root,
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        return None
