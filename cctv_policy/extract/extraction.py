"""`extract`: copy exactly an approved request's footage to an approved target, supervised."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cctv_policy.audit.log import AuditLog
from cctv_policy.extract.clips import (
    CameraFiles,
    CutOptions,
    check_reachable,
    package_camera,
    require_tools,
    stage,
)
from cctv_policy.extract.errors import ExtractRefused
from cctv_policy.extract.manifest import public_pem, write_signed_at
from cctv_policy.extract.supervisor import (
    SupervisorKeyRefused,
    check_supervisor_key,
    openssh_public,
)
from cctv_policy.registry.approvals import (
    ApprovedScope,
    NotValidlyApproved,
    approved_scope,
    duties_problem,
)
from cctv_policy.registry.loader import LoadedRegistry
from cctv_policy.registry.models import Role, UseMode
from cctv_policy.registry.types import format_utc
from cctv_policy.rulebook.evaluation import Evaluation
from cctv_policy.rulebook.gate import RegistryNotEnforceable, require_enforceable
from cctv_policy.targets import make_backends
from storage_backends.base import Backend, Segment
from storage_backends.fdtree import DIR_FLAGS, DirectoryWalker, exists_at, remove_tree_at
from storage_backends.listing import segments_in

__all__ = ["ExtractRefused", "Scope", "run_extraction"]


def run_extraction(
    evaluation: Evaluation,
    request_id: str,
    supervisor: str,
    destination: str,
    root_overrides: dict[str, Path],
    key: Ed25519PrivateKey,
    audit: AuditLog,
    supervisor_key: Ed25519PrivateKey | None = None,
    watermark: bool = False,
) -> Path:
    """The whole extraction at evaluation.now: the enforcement gate, the approval (rule book
    and floor), the destination (R7), ffmpeg, then one clip per camera cut to the window with
    its signed manifest. A refusal is written to the audit log (when it can be) and raised:
    RegistryNotEnforceable or ExtractRefused; nothing is copied. `watermark` (or the
    decision's conditions.watermark) burns the request, recipients and time into every frame."""
    registry = evaluation.registry
    try:
        require_enforceable(evaluation)
        scope = check_allowed(
            registry, request_id, supervisor, evaluation.now, evaluation.valid_approvals()
        )
        target_dir = resolve_destination(registry, destination, root_overrides)
        try:
            check_supervisor_key(registry, supervisor, supervisor_key)
        except SupervisorKeyRefused as exc:
            raise ExtractRefused(str(exc)) from exc
        cut = _cut_options(registry, request_id, scope, evaluation.now, watermark)
    except (RegistryNotEnforceable, ExtractRefused) as exc:
        audit.record_refusal(
            "extract_refused", request=request_id, supervisor=supervisor, reason=str(exc)
        )
        raise
    sources = {registry.cameras[c].storage for c in scope.cameras}
    backends: dict[str, Backend] = {}
    for target_id in sorted(sources):
        backends.update(make_backends(registry, target_id, root_overrides)[0])
    audit.policy_version = evaluation.policy_version
    try:
        return extract(
            registry,
            request_id,
            supervisor,
            target_dir,
            evaluation.now,
            backends,
            key,
            audit,
            evaluation.policy_version,
            scope,
            supervisor_key,
            cut,
        )
    except ExtractRefused as exc:  # found while cutting: the package was removed
        audit.record_refusal(
            "extract_refused", request=request_id, supervisor=supervisor, reason=str(exc)
        )
        raise


def _cut_options(
    registry: LoadedRegistry, request_id: str, scope: Scope, now: datetime, watermark: bool
) -> CutOptions:
    text = None
    if watermark or registry.decisions[request_id].conditions.watermark:
        recipients = ", ".join(registry.requests[request_id].use.recipients)
        text = f"{request_id} for {recipients}\nextracted {format_utc(now)}"
    return CutOptions(require_tools(), scope.start, scope.end, text)


@dataclass(frozen=True)
class Scope:
    cameras: tuple[str, ...]
    start: datetime
    end: datetime


def check_allowed(
    registry: LoadedRegistry,
    request_id: str,
    supervisor: str,
    now: datetime,
    policy_valid: set[str],
) -> Scope:
    """The approved scope to copy, or ExtractRefused. Both the rule book (policy_valid, from
    data.cctv.approvals.valid) and the approval floor must find the approval valid."""
    try:
        approved = approved_scope(registry, request_id)
    except NotValidlyApproved as exc:
        raise ExtractRefused(f"{exc}: only validly approved footage may be extracted") from exc
    if request_id not in policy_valid:
        raise ExtractRefused(
            f"the rule book does not find the approval of {request_id} valid "
            "(run `cctv-policy check`)"
        )
    if not approved.in_use_period(now):
        raise ExtractRefused(
            f"{request_id} may be used only from "
            f"{approved.use_starts.isoformat()} to "
            f"{approved.use_ends.isoformat()}; it is {now.isoformat()}"
        )
    if approved.mode is UseMode.view_supervised:
        raise ExtractRefused(
            f"{request_id} was approved for supervised viewing only; "
            "copies need mode export_copy or share_external"
        )
    _check_supervisor(registry, approved, supervisor)
    return Scope(approved.cameras, approved.start, approved.end)


def _check_supervisor(registry: LoadedRegistry, approved: ApprovedScope, supervisor: str) -> None:
    person = registry.people.get(supervisor)
    if person is None:
        raise ExtractRefused(f"supervisor {supervisor!r} is not in people.yaml")
    if not {Role.supervisor, Role.security_office} & set(person.roles):
        raise ExtractRefused(
            f"{supervisor} may not supervise extractions (needs the "
            "supervisor or security_office role)"
        )
    request = registry.requests[approved.request]
    if supervisor == request.applicant or supervisor in approved.recipients:
        raise ExtractRefused(
            f"{supervisor} is the applicant or a recipient of "
            f"{approved.request} and cannot supervise its extraction"
        )
    if approved.supervised_by and approved.supervised_by != supervisor:
        raise ExtractRefused(
            f"the approval names {approved.supervised_by} as supervisor, not {supervisor}"
        )
    # The supervisor present, not only the one the decision names (it may name none).
    problem = duties_problem(registry, request, registry.decisions[approved.request], supervisor)
    if problem:
        raise ExtractRefused(f"{problem}: {supervisor} cannot supervise this extraction")


def resolve_destination(
    registry: LoadedRegistry, destination: str, root_overrides: dict[str, Path]
) -> Path:
    """A target id, or a directory inside an approved filesystem target that holds no cameras
    (R7: copies go to the school's approved storage; never into a footage target, where a
    package would look like footage and escape retention). The destination is always the
    root storage.yaml gives: --storage-root may say where footage is read from, never where a
    copy goes (it would turn any folder, a USB stick included, into "the export target")."""
    footage_targets = {camera.storage for camera in registry.cameras.values()}
    roots = {}
    for target_id, target in registry.targets.items():
        if target.kind == "filesystem" and target.approved and target_id not in footage_targets:
            roots[target_id] = Path(target.root or "").resolve()
    if destination in root_overrides and destination in roots:
        raise ExtractRefused(
            f"--storage-root {destination}=... may not move where copies go: "
            f"extraction writes to {roots[destination]} as storage.yaml says"
        )
    if destination in registry.targets:
        if destination in footage_targets:
            raise ExtractRefused(
                f"{destination} holds camera footage; extraction packages go "
                "to an approved export target (e.g. nas-export), never into a "
                "footage target"
            )
        if destination not in roots:
            raise ExtractRefused(
                f"{destination} is not an approved filesystem target; footage "
                "may only be copied to the school's approved storage (R7)"
            )
        return roots[destination]
    path = Path(destination).resolve()
    for target_id in footage_targets:
        footage_target = registry.targets.get(target_id)
        if footage_target is None or footage_target.kind != "filesystem":
            continue
        footage = root_overrides.get(target_id, Path(footage_target.root or "")).resolve()
        if path == footage or footage in path.parents or path in footage.parents:
            raise ExtractRefused(
                f"{destination} overlaps the footage of {target_id} "
                f"({footage}); packages never go among footage"
            )
    for root in roots.values():
        if path == root or root in path.parents:
            return path
    raise ExtractRefused(
        f"{destination} is not inside an approved storage target "
        f"({', '.join(sorted(roots))}); no personal devices (R7)"
    )


def extract(
    registry: LoadedRegistry,
    request_id: str,
    supervisor: str,
    destination: Path,
    now: datetime,
    backends: dict[str, Backend],
    key: Ed25519PrivateKey,
    audit: AuditLog,
    policy_version: str,
    scope: Scope,
    supervisor_key: Ed25519PrivateKey | None = None,
    cut: CutOptions | None = None,
) -> Path:
    """One clip per camera cut to the window, in <destination>/<request>-<time>/ with a signed
    manifest (see clips.py; whole segments only for files ffmpeg cannot read, said so).

    Every file is created through directory descriptors with O_NOFOLLOW|O_EXCL: whoever else can
    write the export folder may spoil the package (verify will say so), but cannot turn our
    writes into writes anywhere else. Segments are staged for ffmpeg in a private work folder
    beside the package, on the approved target (R7), and removed however the run ends."""
    cut = cut or CutOptions(require_tools(), scope.start, scope.end)
    name = f"{request_id}-{now.strftime('%Y%m%dT%H%M%SZ')}"
    staging, work = f".{name}.partial", f".{name}.work"
    dest_fd = _open_destination(destination)
    try:
        if exists_at(dest_fd, name):
            raise ExtractRefused(f"{destination / name} already exists")
        segments = _segments(registry, backends, scope)
        audit.append(
            "extract_started",
            request=request_id,
            supervisor=supervisor,
            destination=str(destination / name),
            files=len(segments),
        )
        for folder in (staging, work):
            remove_tree_at(dest_fd, folder)
            os.mkdir(folder, 0o700, dir_fd=dest_fd)
        try:
            files, methods = _write_files(
                dest_fd,
                (staging, work),
                scope.cameras,
                segments,
                backends,
                cut,
                lambda entry: audit.append(
                    "extract_file", request=request_id, supervisor=supervisor, **entry
                ),
            )
            document = {
                "request": request_id,
                "supervisor": supervisor,
                **({"supervisor_key": openssh_public(supervisor_key)} if supervisor_key else {}),
                "extracted_at": format_utc(now),
                "policy_version": policy_version,
                "cameras": list(scope.cameras),
                "from": format_utc(scope.start),
                "to": format_utc(scope.end),
                "methods": methods,
                **({"watermark": cut.watermark} if cut.watermark else {}),
                "files": files,
                "public_key": public_pem(key),
            }
            with DirectoryWalker.at(dest_fd, staging) as sink:
                write_signed_at(sink.open(""), document, key, supervisor_key)
            os.rename(staging, name, src_dir_fd=dest_fd, dst_dir_fd=dest_fd)
        except BaseException:
            remove_tree_at(dest_fd, staging)
            raise
        finally:
            remove_tree_at(dest_fd, work)
    finally:
        os.close(dest_fd)
    audit.append(
        "extract_finished",
        request=request_id,
        supervisor=supervisor,
        destination=str(destination / name),
        files=len(files),
    )
    return destination / name


def _write_files(
    dest_fd: int,
    folders: tuple[str, str],
    cameras: tuple[str, ...],
    segments: list[tuple[str, Segment]],
    backends: dict[str, Backend],
    cut: CutOptions,
    on_file: Callable[[dict[str, object]], object],
) -> tuple[list[dict[str, object]], dict[str, dict[str, str]]]:
    """Each camera's clip (or whole segments, said so) into the staging folder."""
    files: list[dict[str, object]] = []
    methods: dict[str, dict[str, str]] = {}
    staging, work = folders
    with (
        DirectoryWalker.at(dest_fd, staging, create=True) as sink,
        DirectoryWalker.at(dest_fd, work) as workdir,
    ):
        work_fd = workdir.open("")
        check_reachable(work_fd)
        for camera in cameras:
            staged = [
                stage(backends[target], target, segment, work_fd, cut.tools, index)
                for index, (target, segment) in enumerate(segments)
                if segment.camera == camera
            ]
            written: CameraFiles = package_camera(camera, staged, cut, work_fd, sink)
            for entry in written.files:
                on_file(entry)
                files.append(entry)
            methods[camera] = written.method
            for leftover in os.listdir(work_fd):
                os.unlink(leftover, dir_fd=work_fd)
    return files, methods


def _open_destination(destination: Path) -> int:
    try:
        fd = os.open(destination, DIR_FLAGS)
    except OSError as exc:
        raise ExtractRefused(
            f"the export folder {destination} cannot be opened as a folder "
            f"({exc.strerror}; a symbolic link is not followed)"
        ) from exc
    if os.fstat(fd).st_mode & stat.S_IWOTH:
        os.close(fd)
        raise ExtractRefused(
            f"the export folder {destination} is writable by everyone; "
            "packages of footage do not go there (chmod o-w)"
        )
    return fd


def _segments(
    registry: LoadedRegistry, backends: dict[str, Backend], scope: Scope
) -> list[tuple[str, Segment]]:

    found = []
    for camera in scope.cameras:
        target_id = registry.cameras[camera].storage
        if target_id not in backends:
            raise ExtractRefused(f"the storage of {camera} ({target_id}) is not reachable here")
        found += [
            (target_id, s) for s in segments_in(backends[target_id], camera, scope.start, scope.end)
        ]
    return sorted(found, key=lambda item: (item[1].camera, item[1].start))
