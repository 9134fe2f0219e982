"""An OPA bundle of the rule book and the registry, for OPA servers that serve the authz
decision (data.cctv.authz.decision) on their own.

Contents (a gzip'd tarball, as `opa build` writes one):
- the policies without their tests, at their paths under the policy directory (cctv/*.rego);
- cctv_registry/data.json: the registry as the authz policy reads it (authz.decide.registry_data:
  the input document, the valid approvals and their scopes, the person -> request indexes);
- .manifest: revision = the registry's git commit and the policy version; roots cctv and
  cctv_registry (the bundle owns those paths of data, nothing else); metadata saying what was
  built from what;
- .signatures.json when a signing key is given (signing.py).

Nothing is built from a registry that `check` does not pass: input errors and errors both
refuse the bundle, so a registry that breaks the rule book is never published.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cctv_policy.authz.decide import DATA_PATH, registry_data
from cctv_policy.bundle.signing import SIGNATURES_FILE, SigningKey, signatures_document
from cctv_policy.evaluation import Evaluation
from cctv_policy.gate import RegistryNotEnforceable, require_provenance

POLICY_ROOT = "cctv"
ROOTS = (POLICY_ROOT, DATA_PATH)
DATA_FILE = f"{DATA_PATH}/data.json"
MANIFEST_FILE = ".manifest"


class BundleRefused(Exception):
    """The registry breaks the rule book: no bundle is built from it (exit 3)."""


@dataclass(frozen=True)
class Bundle:
    files: dict[str, bytes]  # name inside the bundle (no leading slash) -> content
    revision: str

    @property
    def signed(self) -> bool:
        return SIGNATURES_FILE in self.files

    def tarball(self) -> bytes:
        """The bundle as a .tar.gz; the same files give the same bytes (no times, no owners)."""
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, content in sorted(self.files.items()):
                info = tarfile.TarInfo(f"/{name}")  # OPA's own writer puts a leading slash
                info.size, info.mode, info.mtime = len(content), 0o644, 0
                tar.addfile(info, io.BytesIO(content))
        return gzip.compress(raw.getvalue(), mtime=0)


def build_bundle(evaluation: Evaluation, signing_key: SigningKey | None = None) -> Bundle:
    """The bundle of this evaluation's rule book and registry. Raises RegistryNotEnforceable
    (input errors) or BundleRefused (errors) when `check` does not pass."""
    _require_check_passes(evaluation)
    if evaluation.policies is None:
        raise ValueError("a bundle needs the evaluation's policy set (Evaluation.open)")
    files = {
        module.path: module.source.encode()
        for module in evaluation.policies.without_tests().modules
    }
    data = _json_bytes(registry_data(evaluation))
    commit = registry_commit(evaluation.registry.root)
    revision = f"registry {commit}; policies {evaluation.policy_version}"
    files[DATA_FILE] = data
    files[MANIFEST_FILE] = _json_bytes(
        {
            "revision": revision,
            "roots": list(ROOTS),
            "rego_version": 1,
            "metadata": {
                "built_by": "cctv-policy bundle",
                "built_at": evaluation.input["now"],
                "registry_commit": commit,
                "policy_version": evaluation.policy_version,
                "data_sha256": hashlib.sha256(data).hexdigest(),
            },
        }
    )
    if signing_key is not None:
        files[SIGNATURES_FILE] = signatures_document(files, signing_key)
    return Bundle(files, revision)


def _require_check_passes(evaluation: Evaluation) -> None:
    errors = evaluation.input_errors()
    if errors:
        raise RegistryNotEnforceable(errors)
    result = evaluation.check()
    if result.errors:
        first = result.errors[0]
        raise BundleRefused(
            f"the registry breaks the rule book ({len(result.errors)} error(s), first: "
            f"{first.file} {first.code}: {first.message}); a registry that `cctv-policy check` "
            "does not pass is never published: fix it first"
        )
    require_provenance(evaluation)


def _json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, indent=1).encode()


def registry_commit(root: Path) -> str:
    """`git:<commit>` of the registry when committed and clean; `+uncommitted` when it has
    local changes; `not-in-git` outside a repository."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--", ".")
    except (OSError, subprocess.SubprocessError):
        return "not-in-git"
    return f"git:{commit}" + ("+uncommitted" if dirty else "")
