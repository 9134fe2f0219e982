"""`cctv-policy bundle`, shown with the real opa binary: `opa run --server --bundle
--verification-key` loads the signed bundle and answers the fleet's decision on its own clock
(data.cctv.fleet); a bundle changed after signing, or signed by another key, is refused by OPA."""

from __future__ import annotations

import base64
import gzip
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cctv_policy.bundle.fleet_data import FLEET_MODULES
from cctv_policy.bundle.signing import file_digest
from cctv_policy.cli.main import cli
from testing.helpers import git
from testing.live_registry import FLEET, IN_PERIOD, live_registry, question
from testing.real_opa import OpaServer, OpaUnavailable, opa_binary
from tests.conftest import DATA


def write_key(path: Path, kind: str = "rsa") -> Path:
    """A private key file; its public key next to it as <name>.pub."""
    key = (
        rsa.generate_private_key(65537, 2048)
        if kind == "rsa"
        else ec.generate_private_key(ec.SECP256R1())
    )
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.with_suffix(".pub").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def build(registry: Path, out: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["bundle", "--registry", str(registry), "--out", str(out), *extra]
    )
    return result.exit_code, result.output


def members(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle) as tar:
        return {
            m.name.lstrip("/"): tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
        }


def repack(bundle: Path, files: dict[str, bytes]) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(f"/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    bundle.write_bytes(gzip.compress(raw.getvalue()))


def serve_bundle(bundle: Path, public_key: Path, *extra: str) -> OpaServer:
    return OpaServer(
        ["--bundle", str(bundle), "--verification-key", str(public_key), *extra]
    ).start()


@pytest.mark.parametrize(("kind", "algorithm"), [("rsa", "RS256"), ("ec", "ES256")])
def test_real_opa_loads_the_signed_bundle_and_answers(kind, algorithm, tmp_path):
    registry = live_registry(tmp_path / "registry")
    key = write_key(tmp_path / "signing.pem", kind)
    code, output = build(registry, tmp_path / "cctv.tar.gz", "--signing-key", str(key))
    assert code == 0, output
    server = serve_bundle(
        tmp_path / "cctv.tar.gz", key.with_suffix(".pub"), "--signing-alg", algorithm
    )
    granted = question(registry, IN_PERIOD)
    try:
        assert server.decide(FLEET, granted)["allow"] is True
        denied = server.decide(FLEET, {**granted, "camera": "CAM-LIB-02"})
        assert denied["allow"] is False
        assert "no valid approval" in denied["reason"]
    finally:
        server.stop()


def test_a_bundle_changed_after_signing_is_refused_by_opa(registry_copy, tmp_path):
    key = write_key(tmp_path / "signing.pem")
    bundle = tmp_path / "cctv.tar.gz"
    assert build(registry_copy, bundle, "--signing-key", str(key))[0] == 0
    files = members(bundle)
    data = json.loads(files["cctv_registry/data.json"])
    data["valid_approvals"]["REQ-2026-0047"] = True  # approve a request nobody approved
    files["cctv_registry/data.json"] = json.dumps(data).encode()
    repack(bundle, files)
    with pytest.raises(OpaUnavailable, match=r"cctv_registry/data\.json: digest mismatch"):
        serve_bundle(bundle, key.with_suffix(".pub"))


def test_a_policy_slipped_into_a_signed_bundle_is_refused_by_opa(registry_copy, tmp_path):
    key = write_key(tmp_path / "signing.pem")
    bundle = tmp_path / "cctv.tar.gz"
    assert build(registry_copy, bundle, "--signing-key", str(key))[0] == 0
    files = members(bundle)
    files["cctv/backdoor.rego"] = b"package cctv.backdoor\n\nallow := true\n"
    repack(bundle, files)
    with pytest.raises(OpaUnavailable, match="not included in bundle signature"):
        serve_bundle(bundle, key.with_suffix(".pub"))


def test_a_bundle_signed_by_another_key_is_refused_by_opa(registry_copy, tmp_path):
    key = write_key(tmp_path / "signing.pem")
    other = write_key(tmp_path / "other.pem")
    bundle = tmp_path / "cctv.tar.gz"
    assert build(registry_copy, bundle, "--signing-key", str(other))[0] == 0
    with pytest.raises(OpaUnavailable, match="failed to verify JWT signature"):
        serve_bundle(bundle, key.with_suffix(".pub"))


def test_the_manifest_names_the_registry_commit_and_the_policy_version(
    registry_copy, policies, tmp_path
):
    git(registry_copy, "init", "-q", "-b", "main")
    git(registry_copy, "add", ".")
    git(registry_copy, "commit", "-q", "-m", "registry")
    commit = git(registry_copy, "rev-parse", "HEAD").strip()
    bundle = tmp_path / "cctv.tar.gz"
    assert build(registry_copy, bundle)[0] == 0
    files = members(bundle)
    manifest = json.loads(files[".manifest"])
    assert manifest["revision"] == f"registry git:{commit}; policies {policies.version}"
    assert manifest["roots"] == ["cctv", "cctv_registry"]
    assert ".signatures.json" not in files
    assert sorted(n for n in files if n.endswith(".rego")) == sorted(FLEET_MODULES), (
        "the fleet's packages only"
    )
    assert set(FLEET_MODULES) <= {m.path for m in policies.without_tests().modules}

    (registry_copy / "config.yaml").write_text((registry_copy / "config.yaml").read_text() + "\n")
    assert build(registry_copy, bundle)[0] == 0
    revision = json.loads(members(bundle)[".manifest"])["revision"]
    assert revision.startswith(f"registry git:{commit}+uncommitted; ")


@pytest.mark.parametrize(
    "scenario", ["violations/DECISION_SELF_APPROVAL", "bad/unknown_camera_reference"]
)
def test_refused_while_check_reports_errors(scenario, registry_copy, tmp_path):
    shutil.copytree(DATA / scenario / "registry", registry_copy, dirs_exist_ok=True)
    out = tmp_path / "cctv.tar.gz"
    code, output = build(registry_copy, out)
    assert code == 3, output
    assert "No bundle was written or published." in output
    assert "Traceback" not in output
    assert not out.exists()


def test_no_destination_is_a_plain_error(registry_copy):
    result = CliRunner().invoke(cli, ["bundle", "--registry", str(registry_copy)])
    assert result.exit_code == 2
    assert "--out FILE and/or --publish s3:TARGET" in result.output


def _jwt_payload(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_file_hashes_match_the_ones_opa_build_signs(tmp_path):
    """OPA's own signer (`opa build --signing-key`) over data with the JSON that hashing could
    get wrong: key order, HTML characters, U+2028, controls, non-ASCII, number literals."""
    source = tmp_path / "src"
    (source / "cctv").mkdir(parents=True)
    (source / "cctv" / "x.rego").write_text("package cctv.x\n\ny := data.cctv_registry.n\n")
    (source / "cctv_registry").mkdir()
    (source / "cctv_registry" / "data.json").write_text(
        json.dumps(
            {
                "z": [1, 2.50, 1e21, -0.0, 12345678901234567890],
                "a": {"<tag>&": 'line\u2028sep\u2029 \b\f\n\t\x01 \x7f 圖書館 é "q" \\'},
                "n": None,
                "t": [True, False, [], {}],
            },
            ensure_ascii=False,
        )
    )
    (source / ".manifest").write_text(
        json.dumps({"revision": "r<1>", "roots": ["cctv", "cctv_registry"]})
    )
    key = write_key(tmp_path / "signing.pem")
    out = tmp_path / "opa-built.tar.gz"
    subprocess.run(
        [
            str(opa_binary()),
            "build",
            "--bundle",
            str(source),
            "--signing-key",
            str(key),
            "-o",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    files = members(out)
    signed = _jwt_payload(json.loads(files[".signatures.json"])["signatures"][0])["files"]
    assert {entry["name"] for entry in signed} == set(files) - {".signatures.json"}
    for entry in signed:
        assert entry["hash"] == file_digest(entry["name"], files[entry["name"]]), entry["name"]
