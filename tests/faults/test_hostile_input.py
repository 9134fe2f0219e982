"""Hostile or careless input gets a named error and a documented exit code, never a
traceback (issue 9, hole 8), including a fuzz over registry mutations."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cctv_policy.cli.main import cli
from tests.conftest import DEMO_REGISTRY, NOW_TEXT


def check(registry: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["check", "--registry", str(registry), "--now", NOW_TEXT])
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "where,old,new",
    [
        (
            "holds/HOLD-2026-0002.yaml",
            "until: 2027-01-31T23:59:59+08:00",
            "until: 2999-12-31T23:59:59+08:00",
        ),
        (
            "holds/HOLD-2026-0002.yaml",
            "until: 2027-01-31T23:59:59+08:00",
            "until: 9999-12-31T23:59:59-05:00",
        ),
        (
            "requests/REQ-2026-0042.yaml",
            "submitted_at: 2026-11-20T09:30:00+08:00",
            "submitted_at: 0001-01-01T00:00:00+08:00",
        ),
        ("config.yaml", "timezone: Asia/Shanghai", "timezone: Mars/Olympus_Mons"),
    ],
)
def test_out_of_range_values_are_schema_errors_with_their_line(
    registry_copy: Path, where: str, old: str, new: str
):
    path = registry_copy / where
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    code, output = check(registry_copy)
    assert code == 3 and "E_SCHEMA" in output and where in output


def test_a_folder_named_like_a_document_is_named(registry_copy: Path):
    (registry_copy / "requests" / "REQ-2026-0099.yaml").mkdir()
    code, output = check(registry_copy)
    assert code == 3 and "requests/REQ-2026-0099.yaml/" in output and "sub-folders" in output


def test_yaml_tags_are_schema_errors(registry_copy: Path):
    path = registry_copy / "requests/REQ-2026-0042.yaml"
    path.write_text(path.read_text().replace("recipients: [t.wang]", "recipients: !!set {t.wang}"))
    code, output = check(registry_copy)
    assert code == 3 and "special YAML type" in output and "REQ-2026-0042.yaml:" in output


def test_a_malformed_reviewed_plan_is_bad_input(tmp_path: Path):
    plan = tmp_path / "plan.json"
    plan.write_text('{"actions": [{"action": "rm -rf"}]}')
    result = CliRunner().invoke(
        cli, ["apply", "--yes", "--plan", str(plan), "--registry", str(DEMO_REGISTRY)]
    )
    assert result.exit_code == 3 and "not a plan" in result.output


def test_unknown_exception_is_a_named_error_not_a_traceback(monkeypatch, registry_copy: Path):
    import cctv_policy.rulebook.evaluation as check_module

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(check_module, "run_check", boom)
    result = CliRunner().invoke(cli, ["check", "--registry", str(registry_copy)])
    assert result.exit_code == 2 and "internal error (RuntimeError: disk on fire)" in result.output


# -- extraction packages -----------------------------------------------------------------------


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A package signed by a key of its own: what anyone could make."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cctv_policy.extract.manifest import public_pem, write_signed

    folder = tmp_path / "REQ-2026-0038-forged"
    (folder / "CAM-SPT-01").mkdir(parents=True)
    (folder / "CAM-SPT-01" / "a.mp4").write_bytes(b"forged")
    import hashlib

    key = Ed25519PrivateKey.generate()
    write_signed(
        folder,
        {
            "request": "REQ-2026-0038",
            "supervisor": "m.guo",
            "public_key": public_pem(key),
            "files": [
                {
                    "path": "CAM-SPT-01/a.mp4",
                    "size": 6,
                    "sha256": hashlib.sha256(b"forged").hexdigest(),
                }
            ],
        },
        key,
    )
    return folder


def verify(folder: Path, *extra: str):
    result = CliRunner().invoke(cli, ["extract", "verify", str(folder), *extra])
    assert ("Traceback" not in result.output and result.exception in (None,)) or isinstance(
        result.exception, SystemExit
    )
    return result


def test_unpinned_verification_has_its_own_exit_code(package: Path, tmp_path: Path):
    result = verify(package)
    assert result.exit_code == 4 and "UNPINNED" in result.output
    CliRunner().invoke(cli, ["extract", "keygen", "--out", str(tmp_path / "office")])
    pinned = verify(package, "--public-key", str(tmp_path / "office.pub"))
    assert pinned.exit_code == 1 and "signature" in pinned.output


@pytest.mark.parametrize(
    "manifest",
    [
        b"not json",
        b"[]",
        b'{"files": "x"}',
        b'{"request": "R", "supervisor": "s", "public_key": "nope", "files": []}',
    ],
)
def test_malformed_manifests_are_tampered_not_tracebacks(package: Path, manifest: bytes):
    (package / "MANIFEST.json").write_bytes(manifest)
    result = verify(package)
    assert result.exit_code == 1 and "TAMPERED" in result.output


def test_manifest_paths_are_confined_to_the_package(package: Path, tmp_path: Path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cctv_policy.extract.manifest import public_pem, write_signed

    (tmp_path / "secret.txt").write_text("outside")
    key = Ed25519PrivateKey.generate()
    write_signed(
        package,
        {
            "request": "R",
            "supervisor": "s",
            "public_key": public_pem(key),
            "files": [{"path": "../secret.txt", "size": 7, "sha256": "0" * 64}],
        },
        key,
    )
    result = verify(package)
    assert result.exit_code == 1 and "outside the package" in result.output


def test_the_rego_test_runner_finds_indented_tests(tmp_path: Path):
    shutil.copytree(Path(__file__).resolve().parents[2] / "policies", tmp_path / "policies")
    (tmp_path / "policies" / "cctv" / "extra_test.rego").write_text(
        "package cctv.extra_test\n\nimport rego.v1\n\n  test_indented_fails if {\n\t1 == 2\n  }\n"
    )
    result = CliRunner().invoke(cli, ["test", "--run", "extra_test", str(tmp_path / "policies")])
    assert result.exit_code == 1 and "test_indented_fails" in result.output


# -- fuzz ------------------------------------------------------------------------------------

FILES = [
    "config.yaml",
    "people.yaml",
    "cameras.yaml",
    "storage.yaml",
    "requests/REQ-2026-0042.yaml",
    "decisions/REQ-2026-0042.yaml",
    "holds/HOLD-2026-0002.yaml",
    "reports/REQ-2026-0021.yaml",
]
NASTY = st.sampled_from(
    [
        "\t",
        ": ",
        "- ",
        "{",
        "]",
        "!!binary AA==",
        "9999-12-31T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "\x00",
        "\ufeff",
        "&a",
        "*a",
        "<<: *a",
        "null",
        "~",
        "[]",
        "{}",
        "'",
        '"',
        "\\u202e",
        "é",
        "REQ-2026-0042",
        "../../etc/passwd",
        "t.wang",
        "2026-11-20T09:30:00",
        "1e999",
        "-1",
        "\n  extra: field\n",
        "\n---\nid: x\n",
        "%YAML 1.1\n",
        "? complex\n",
    ]
)


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(
        st.tuples(st.sampled_from(FILES), st.floats(0, 1), NASTY, st.booleans()),
        min_size=1,
        max_size=4,
    )
)
def test_no_registry_mutation_gives_a_traceback(tmp_path_factory, edits):
    registry = tmp_path_factory.mktemp("fuzz") / "registry"
    shutil.copytree(DEMO_REGISTRY, registry)
    for name, where, text, replace in edits:
        path = registry / name
        raw = path.read_bytes()
        cut = int(len(raw) * where)
        end = cut + len(text.encode()) if replace else cut
        path.write_bytes(raw[:cut] + text.encode("utf-8", "surrogatepass") + raw[end:])
    code, _ = check(registry)
    assert code in (0, 1, 2, 3)
    for command in (["plan", "--format", "json"], ["reports", "due"]):
        result = CliRunner().invoke(cli, [*command, "--registry", str(registry), "--now", NOW_TEXT])
        assert result.exit_code in (0, 1, 2, 3), result.output
        assert "Traceback" not in result.output and "internal error" not in result.output, (
            result.output
        )


def test_an_unknown_key_that_looks_like_a_class_name_is_named_not_a_crash(registry_copy: Path):
    """Found by the fuzz test above: a top-level key starting with a capital letter (here an id
    pasted before a comment) was dropped from the error's path like a union branch name, and
    naming the unknown field then failed (IndexError)."""
    storage = registry_copy / "storage.yaml"
    storage.write_text("REQ-2026-0042" + storage.read_text())
    code, output = check(registry_copy)
    assert code == 3 and "REQ-2026-0042" in output and "storage.yaml:1" in output, output


@pytest.mark.parametrize("key", ["null", "~", "1", "1.5", "true"])
def test_a_key_that_is_not_text_is_a_schema_error(registry_copy: Path, key: str):
    """Found by the fuzz test above: `null: x` in a request crashed every command (the
    request's digest could not sort None among its keys)."""
    path = registry_copy / "requests/REQ-2026-0042.yaml"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:3], f"{key}: x", *lines[3:]]) + "\n")
    code, output = check(registry_copy)
    assert code == 3 and "field names must be text" in output
    assert "REQ-2026-0042.yaml:4:1" in output
    for command in (["plan", "--format", "json"], ["reports", "due"]):
        result = CliRunner().invoke(
            cli, [*command, "--registry", str(registry_copy), "--now", NOW_TEXT]
        )
        assert "internal error" not in result.output, result.output
        assert result.exit_code == (3 if command[0] == "plan" else 0), result.output
