"""An OPA bundle of the rule book and the registry, for OPA servers that serve the fleet's
decision (data.cctv.fleet.decision) on their own clock.

Contents (a gzip'd tarball, as `opa build` writes one):
- the fleet's policies only (fleet_data.FLEET_MODULES: cctv/access.rego, cctv/fleet.rego), so
  that no path of an OPA server reads a caller's input.now;
- cctv_registry/data.json: only what the decision reads (fleet_data.fleet_data: the valid
  approvals and their scopes, person -> request indexes keyed by SHA-256, the bundle's
  validity);
- .manifest: revision = the registry's git commit and the policy version; roots cctv and
  cctv_registry (the bundle owns those paths of data, nothing else); metadata saying what was
  built from what, and when the bundle stops granting (valid_until);
- .signatures.json when a signing key is given (signing.py).

Nothing is built from a registry that `check` does not pass: input errors and errors both
refuse the bundle, so a registry that breaks the rule book is never published.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cctv_policy.bundle.fleet_data import DATA_PATH, DEFAULT_VALID_FOR, FLEET_MODULES, fleet_data
from cctv_policy.bundle.revision import registry_commit
from cctv_policy.bundle.signing import SIGNATURES_FILE, SigningKey, signatures_document
from cctv_policy.rulebook.evaluation import Evaluation
from cctv_policy.rulebook.gate import RegistryNotEnforceable, require_provenance

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
    registry_commit: str = "not-in-git"  # revision.registry_commit of the registry
    issued_at: str = ""  # RFC 3339 UTC: when it was built; it grants until valid_until

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


def build_bundle(
    evaluation: Evaluation,
    signing_key: SigningKey | None = None,
    valid_for: timedelta = DEFAULT_VALID_FOR,
) -> Bundle:
    """The bundle of this evaluation's rule book and registry, granting for `valid_for` from
    the evaluation's now (the machine's clock). Raises RegistryNotEnforceable (input errors)
    or BundleRefused (errors) when `check` does not pass."""
    _require_check_passes(evaluation)
    if evaluation.policies is None:
        raise ValueError("a bundle needs the evaluation's policy set (Evaluation.open)")
    files = _fleet_modules(evaluation)
    issued_at = datetime.fromisoformat(evaluation.input["now"].replace("Z", "+00:00"))
    document = fleet_data(evaluation, issued_at, valid_for)
    data = _json_bytes(document)
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
                "built_at": document["bundle"]["issued_at"],
                "valid_until": document["bundle"]["valid_until"],
                "registry_commit": commit,
                "policy_version": evaluation.policy_version,
                "data_sha256": hashlib.sha256(data).hexdigest(),
            },
        }
    )
    if signing_key is not None:
        files[SIGNATURES_FILE] = signatures_document(files, signing_key)
    return Bundle(files, revision, commit, document["bundle"]["issued_at"])


def _fleet_modules(evaluation: Evaluation) -> dict[str, bytes]:
    assert evaluation.policies is not None
    modules = {m.path: m.source.encode() for m in evaluation.policies.without_tests().modules}
    missing = [path for path in FLEET_MODULES if path not in modules]
    if missing:
        raise ValueError(f"the policy set has no {', '.join(missing)}: no fleet bundle")
    return {path: modules[path] for path in FLEET_MODULES}


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
