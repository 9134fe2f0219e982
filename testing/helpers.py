"""Small helpers shared by tests that write registries by hand."""

from __future__ import annotations

from pathlib import Path

from cctv_policy.registry import yaml_source
from cctv_policy.registry.canonical import document_sha256
from storage_backends.layout import Layout

# The example registry's NAS layout (registry/storage.yaml).
DEMO_LAYOUT = Layout("{camera}/{start:%Y/%m/%d}/{start:%Y%m%dT%H%M%SZ}_{seconds}s.mp4")
DEMO_REGISTRY = Path(__file__).resolve().parents[1] / "registry"


def footage_keys(root: Path) -> set[str]:
    """The footage files under a NAS root, as keys (the tool's own .cctv-policy folder left out)."""
    return {
        p.relative_to(root).as_posix() for p in root.rglob("*.mp4") if ".cctv-policy" not in p.parts
    }


def apply_argv(nas: Path, audit: Path, *extra: str, registry: Path = DEMO_REGISTRY) -> list[str]:
    """`cctv-policy apply --yes` on the example registry with its NAS target at `nas`."""
    return [
        "apply",
        "--yes",
        "--registry",
        str(registry),
        "--storage-root",
        f"nas-main={nas}",
        "--audit-log",
        str(audit),
        *extra,
    ]


def request_digest(registry: Path, request_id: str) -> str:
    return document_sha256(
        yaml_source.parse(
            (registry / "requests" / f"{request_id}.yaml").read_text(encoding="utf-8")
        )
    )


def pin_decision(registry: Path, request_id: str) -> None:
    """Give a hand-written decision the request_sha256 of its request, as `decide` would."""
    path = registry / "decisions" / f"{request_id}.yaml"
    text = path.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(
        f"{text}\nrequest_sha256: {request_digest(registry, request_id)}\n", encoding="utf-8"
    )


EMAIL = "{}@campus.example.edu"  # the demo's people.yaml git_identities


def git(
    repo: Path,
    *args: str,
    person: str | None = None,
    committer: str | None = None,
    date: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> str:
    """Run git in `repo` as `person` (author; also committer unless `committer` is given)."""
    import subprocess

    committer = committer or person
    env = {
        "GIT_AUTHOR_NAME": person or "setup",
        "GIT_COMMITTER_NAME": committer or "setup",
        "GIT_AUTHOR_EMAIL": EMAIL.format(person) if person else "setup@example.org",
        "GIT_COMMITTER_EMAIL": EMAIL.format(committer) if committer else "setup@example.org",
        "PATH": "/usr/bin:/bin",
        "HOME": str(repo),
        **(extra_env or {}),
    }
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout


PROVENANCE_OPT_OUT = "provenance: {required: false}\n"


def require_provenance(registry: Path) -> None:
    """Take the example's opt-out out of config.yaml: provenance is required, as in a school."""
    config = registry / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(PROVENANCE_OPT_OUT, ""))


def campus_repo(root: Path, registry: Path) -> Path:
    """`registry` committed to a new git repository at `root` as the security office would:
    the core files by an admin, each request by its applicant when it was submitted, each
    decision and hold by the person it names."""
    import shutil

    import yaml

    shutil.copytree(registry, root / "registry")
    require_provenance(root / "registry")
    (root / ".github").mkdir()
    shutil.copy(
        Path(__file__).resolve().parents[1] / ".github" / "CODEOWNERS",
        root / ".github" / "CODEOWNERS",
    )
    git(root, "init", "-q", "-b", "main")
    git(
        root,
        "add",
        "--",
        ".github",
        *[f"registry/{n}" for n in ("config.yaml", "people.yaml", "cameras.yaml", "storage.yaml")],
    )
    git(root, "commit", "-q", "-m", "campus", date="2026-01-01T00:00:00+08:00")
    documents = sorted((root / "registry").glob("*/*.y*ml"))
    by_time = []
    for path in documents:
        data = yaml.load(path.read_text(), Loader=yaml.BaseLoader)
        folder = path.parent.name
        if folder == "requests":
            by_time.append((data["submitted_at"], path, data["applicant"]))
        elif folder in ("decisions", "waivers"):
            by_time.append((data["decided_at"], path, data["decided_by"]))
        elif folder == "holds":
            by_time.append((data["created_at"], path, data["created_by"]))
        elif folder == "violations":
            by_time.append((data["found_at"], path, data["found_by"]))
        elif folder == "feedback":
            by_time.append((data["submitted_at"], path, data["submitted_by"]))
        elif folder == "maintenance":
            by_time.append((data["performed_at"], path, data["performed_by"]))
        else:
            by_time.append((data["submitted_at"], path, data["submitted_by"]))
    from cctv_policy.registry.types import parse_rfc3339

    for when, path, person in sorted(by_time, key=lambda t: parse_rfc3339(t[0])):
        git(root, "add", str(path.relative_to(root)))
        git(root, "commit", "-q", "-m", path.stem, person=person, date=when)
    return root


def apply_at(registry: Path, roots: dict[str, Path], audit: Path, now, target=None):
    """One enforcement run (prepare + apply) on real storage at a fixed clock, through the
    library: the CLI's apply always runs on the system clock."""
    from cctv_policy.audit.log import AuditLog
    from cctv_policy.enforce.job import prepare, run_apply
    from cctv_policy.enforce.models import Scope
    from cctv_policy.engine import load_policies
    from cctv_policy.engine.embedded import EmbeddedEngine
    from cctv_policy.registry import load_registry
    from cctv_policy.rulebook.evaluation import Evaluation

    engine = EmbeddedEngine(load_policies().without_tests())
    try:
        prepared = prepare(
            Evaluation(load_registry(registry), engine, now, load_policies().version),
            Scope(target, roots),
        )
        report = run_apply(prepared, AuditLog(audit))
        return prepared, report
    finally:
        engine.close()


def point_export_target(registry: Path, exports: Path) -> None:
    """Make the registry's export target nas-export live at `exports` (extraction writes only
    where storage.yaml says, never where --storage-root says)."""
    storage = registry / "storage.yaml"
    storage.write_text(storage.read_text().replace("root: /srv/cctv/exports", f"root: {exports}"))


def extract_at(
    registry: Path,
    request_id: str,
    supervisor: str,
    destination: str,
    nas: Path,
    key: Path,
    audit: Path,
    now,
    supervisor_key=None,
    watermark: bool = False,
    skip_without_ffmpeg: bool = True,
):
    """An extraction at a fixed clock through the library (the CLI runs on the system clock).
    `supervisor_key`: the supervisor's Ed25519 private key, to countersign. Returns (exit
    code as the CLI would give it, message). Extraction needs ffmpeg: without it the test is
    skipped, saying so, unless `skip_without_ffmpeg` is False (then exit code 2)."""
    from cctv_policy.audit.log import AuditError, AuditLog
    from cctv_policy.engine import load_policies
    from cctv_policy.engine.embedded import EmbeddedEngine
    from cctv_policy.extract.errors import VideoToolsMissing
    from cctv_policy.extract.extraction import ExtractRefused, run_extraction
    from cctv_policy.extract.manifest import load_private_key
    from cctv_policy.registry import load_registry
    from cctv_policy.rulebook.evaluation import Evaluation
    from cctv_policy.rulebook.gate import RegistryNotEnforceable

    engine = EmbeddedEngine(load_policies().without_tests())
    evaluation = Evaluation(load_registry(registry), engine, now, "test")
    try:
        package = run_extraction(
            evaluation,
            request_id,
            supervisor,
            destination,
            {"nas-main": nas},
            load_private_key(key),
            AuditLog(audit),
            supervisor_key,
            watermark=watermark,
        )
        return 0, f"extracted to {package}"
    except VideoToolsMissing as exc:
        if skip_without_ffmpeg:
            import pytest

            pytest.skip(f"extraction needs ffmpeg: {exc}")
        return 2, f"{exc}. Nothing was copied."
    except ExtractRefused as exc:
        return 1, f"refused: {exc}. Nothing was copied."
    except RegistryNotEnforceable as exc:
        return 3, f"{exc}. Nothing was copied."
    except AuditError as exc:
        return 2, f"{exc}. Nothing was copied."
    finally:
        engine.close()


def demo_footage(root: Path, cameras: list[str], now, days: int = 40) -> Path:
    """Two-hour segments of `cameras` for `days` days up to `now`, in DEMO_LAYOUT."""
    from cctv_policy.demo import write_footage

    write_footage(root, DEMO_LAYOUT, cameras, now, days=days, segment_minutes=120)
    return root
