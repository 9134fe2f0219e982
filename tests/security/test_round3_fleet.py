"""The OPA fleet, attacked through the real `opa run --server` loading the real signed bundle
(issue #26, third round).

- A network caller never chooses "now": no path an OPA server with the bundle exposes answers
  differently when the caller adds `input.now`; the fleet decision uses the server's clock.
- The bundle carries only what decisions need: no names, e-mails, descriptions, report
  summaries, hold reasons, violations, nor a person id in clear.
- A replayed old bundle stops granting once its short validity is over.
- The revision never claims a clean commit whose content differs from what was bundled.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import yaml
from botocore.config import Config

from testing.ceph_rgw import OWNER_KEY, OWNER_SECRET, CephRgw, RgwUnavailable
from testing.helpers import DEMO_REGISTRY, git
from testing.live_registry import (
    ENDED,
    FLEET,
    IN_PERIOD,
    inside_use_period,
    live_registry,
    question,
)
from testing.opa_fleet import wait_for, write_config
from testing.real_opa import OpaServer
from tests.bundle.test_bundle import build, members, write_key


@pytest.fixture
def live(tmp_path: Path) -> Path:
    """The demo registry with one approval in its use period now and one whose ended."""
    return live_registry(tmp_path / "registry")


def fleet_server(registry: Path, tmp_path: Path, *extra: str) -> OpaServer:
    key = write_key(tmp_path / "signing.pem")
    bundle = tmp_path / "cctv.tar.gz"
    code, output = build(registry, bundle, "--signing-key", str(key), *extra)
    assert code == 0, output
    return OpaServer(
        ["--bundle", str(bundle), "--verification-key", str(key.with_suffix(".pub"))]
    ).start()


def whole_data(server: OpaServer, input: dict[str, Any]) -> Any:
    """Every document the server offers (POST /v1/data), evaluated with this input."""
    response = requests.post(f"{server.url}/v1/data", json={"input": input}, timeout=30)
    response.raise_for_status()
    return response.json().get("result")


# 1. A network caller never chooses "now".


def test_no_path_of_the_fleet_answers_differently_for_a_callers_now(live, tmp_path):
    server = fleet_server(live, tmp_path)
    try:
        asked = question(live, ENDED)
        plain = whole_data(server, asked)
        replayed = whole_data(server, {**asked, "now": inside_use_period(live, ENDED)})
        assert replayed == plain, "input.now changes what the OPA server answers"
        listed = requests.get(f"{server.url}/v1/data", timeout=30).json()["result"]
        assert set(listed["cctv"]) == {"access", "fleet"}, "only the fleet's packages"
    finally:
        server.stop()


def test_the_fleet_decides_with_the_servers_clock(live, tmp_path):
    server = fleet_server(live, tmp_path)
    try:
        ended = question(live, ENDED)
        replay = {**ended, "now": inside_use_period(live, ENDED)}
        denied = server.decide(FLEET, replay)
        assert denied is not None and denied["allow"] is False, denied
        assert server.decide(FLEET, ended)["allow"] is False
        granted = server.decide(FLEET, question(live, IN_PERIOD))
        assert granted == {
            "allow": True,
            "request": IN_PERIOD,
            "reason": granted["reason"],
        }, granted
        assert (
            server.decide(FLEET, {**question(live, IN_PERIOD), "camera": "CAM-LIB-02"})["allow"]
            is False
        )
    finally:
        server.stop()


# 2. The bundle carries only what decisions need.


def _private_values(registry: Path) -> set[str]:
    """Names, e-mails, descriptions, reasons, summaries and person ids of the registry."""
    values: set[str] = set()
    people = yaml.safe_load((registry / "people.yaml").read_text())["people"]
    for person in people:
        values |= {person["id"], person["name"], *person.get("git_identities", [])}
    for folder, fields in {
        "requests": ("purpose",),
        "decisions": ("reasons", "conditions"),
        "reports": ("summary",),
        "holds": ("reason",),
        "violations": ("description", "action"),
    }.items():
        for path in (registry / folder).glob("*.yaml"):
            document = yaml.safe_load(path.read_text())
            for field in fields:
                values |= _strings(document.get(field))
    return {v for v in values if len(v) > 3 and v not in {"incident_investigation"}}


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()


def test_the_bundle_of_the_example_registry_carries_no_personal_details(tmp_path):
    bundle = tmp_path / "cctv.tar.gz"
    code, output = build(DEMO_REGISTRY, bundle)
    assert code == 0, output
    files = members(bundle)
    text = "\n".join(content.decode("utf-8") for content in files.values())
    leaked = sorted(v for v in _private_values(DEMO_REGISTRY) if v in text)
    assert not leaked, f"the bundle publishes {leaked[:5]}"
    data = json.loads(files["cctv_registry/data.json"])
    keys = _keys(data)
    for field in ("name", "description", "summary", "reason", "reasons", "people", "reports"):
        assert field not in keys, f"the bundle's data has {field!r}"
    for field in ("violations", "holds", "requests", "git_identities", "purpose", "conditions"):
        assert field not in keys, f"the bundle's data has {field!r}"


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | set().union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value)) if value else set()
    return set()


SYSTEM_AUTHZ = Path(__file__).resolve().parents[2] / "docs" / "fleet" / "system-authz.rego"
VMS_TOKEN = "vms-token-" + "x" * 32


@contextmanager
def bundle_service(folder: Path) -> Iterator[str]:
    """A plain HTTP server on 127.0.0.1 handing out the files of `folder` (a bundle service)."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_documented_api_authorization_serves_the_decision_only(live, tmp_path):
    """OPA as the README runs it: the bundle from a bundle service (config file), the API
    authorization policy as a file on the command line."""
    key = write_key(tmp_path / "signing.pem")
    (tmp_path / "bundles").mkdir()
    assert build(live, tmp_path / "bundles" / "cctv.tar.gz", "--signing-key", str(key))[0] == 0
    with bundle_service(tmp_path / "bundles") as url:
        config = {
            "services": {"bundles": {"url": url}},
            "bundles": {"cctv": {"service": "bundles", "resource": "cctv.tar.gz"}},
            "keys": {"default": {"algorithm": "RS256", "key": key.with_suffix(".pub").read_text()}},
        }
        args = ["--config-file", str(write_config(tmp_path / "opa.json", config))]
        args += ["--authentication=token", "--authorization=basic", str(SYSTEM_AUTHZ)]
        server = OpaServer(args, {"CCTV_OPA_VMS_TOKEN": VMS_TOKEN}).start()
        try:
            _ask_with_and_without_the_token(server, live)
        finally:
            server.stop()


def _ask_with_and_without_the_token(server: OpaServer, live: Path) -> None:
    asked = {"input": question(live, IN_PERIOD)}
    data = f"{server.url}/v1/data"

    def status(method: str, path: str, token: str | None = VMS_TOKEN) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = requests.request(method, path, json=asked, headers=headers, timeout=10)
        return response.status_code

    def decision() -> Any:
        headers = {"Authorization": f"Bearer {VMS_TOKEN}"}
        return requests.post(f"{data}/cctv/fleet/decision", json=asked, headers=headers).json()

    wait_for(lambda: "result" in decision(), 20, "the bundle is activated")
    assert decision()["result"]["allow"] is True
    assert status("POST", f"{data}/cctv/fleet/decision", token=None) == 401
    assert status("POST", f"{data}/cctv/fleet/allow", token="y" * 42) == 401
    for token in (None, VMS_TOKEN):
        assert status("GET", f"{data}/cctv_registry", token) == 401
        assert status("POST", data, token) == 401
        assert status("PUT", f"{server.url}/v1/policies/x", token) == 401


# 3. An old bundle put back stops granting after its validity.


def test_an_expired_bundle_denies_an_approval_it_contains(live, tmp_path):
    server = fleet_server(live, tmp_path, "--valid-for", "6s")
    try:
        asked = question(live, IN_PERIOD)
        assert server.decide(FLEET, asked)["allow"] is True, "fresh: the approval grants"
        manifest = json.loads(members(tmp_path / "cctv.tar.gz")[".manifest"])
        valid_until = datetime.fromisoformat(manifest["metadata"]["valid_until"])
        time.sleep(max(0.0, (valid_until - datetime.now(UTC)).total_seconds()) + 1)
        expired = server.decide(FLEET, asked)
        assert expired["allow"] is False, expired
        assert "expired" in expired["reason"]
    finally:
        server.stop()


@pytest.fixture(scope="module")
def rgw() -> Iterator[CephRgw]:
    server = CephRgw(Path(tempfile.mkdtemp(prefix="cctv-rgw-fleet-")))
    try:
        server.start()
    except RgwUnavailable as exc:
        server.stop()
        pytest.skip(f"no Ceph RADOS Gateway: {exc}")
    yield server
    server.stop()


def _publish(registry: Path) -> tuple[int, str]:
    return build(registry, registry.parent / "out.tar.gz", "--publish", "s3:campus-s3")


@pytest.mark.integration
def test_the_publisher_does_not_put_an_older_bundle_in_place(rgw, tmp_path, monkeypatch):
    monkeypatch.setenv("CCTV_S3_ENDPOINT", rgw.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", OWNER_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", OWNER_SECRET)
    s3 = boto3.client(
        "s3",
        endpoint_url=rgw.endpoint,
        aws_access_key_id=OWNER_KEY,
        aws_secret_access_key=OWNER_SECRET,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    s3.create_bucket(Bucket="cctv-footage")
    registry = live_registry(tmp_path / "registry")
    approval = registry / "decisions" / f"{IN_PERIOD}.yaml"
    kept = approval.read_text()
    git(registry, "init", "-q", "-b", "main")
    git(registry, "add", ".")
    git(registry, "commit", "-q", "-m", "approved")
    approved = git(registry, "rev-parse", "HEAD").strip()
    approval.unlink()
    git(registry, "add", ".")
    git(registry, "commit", "-q", "-m", "the approval is revoked")
    revoked = git(registry, "rev-parse", "HEAD").strip()
    assert _publish(registry)[0] == 0

    (registry.parent / "out.tar.gz").unlink()
    git(registry, "checkout", "-q", approved)  # an old workflow run, re-run
    assert approval.read_text() == kept
    code, output = _publish(registry)
    assert code == 1, output
    assert "is not replaced" in output and "Traceback" not in output
    key = "campus/bundles/cctv-policy.tar.gz"
    head = s3.head_object(Bucket="cctv-footage", Key=key)
    assert head["Metadata"]["registry-commit"] == f"git:{revoked}"
    assert not (registry.parent / "out.tar.gz").exists()

    git(registry, "checkout", "-q", "main")
    assert _publish(registry)[0] == 0, "the same commit again: fine"


# 4. The revision never claims a commit whose content differs.


def _registry_in_git(tmp_path: Path, nested: bool, exclude: str = "") -> tuple[Path, str]:
    """The demo registry committed: the repository itself, or its folder registry/."""
    repo = tmp_path / "campus"
    registry = repo / "registry" if nested else repo
    shutil.copytree(DEMO_REGISTRY, registry)
    git(repo, "init", "-q", "-b", "main")
    (repo / ".git" / "info" / "exclude").write_text(exclude)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "registry")
    return registry, git(repo, "rev-parse", "HEAD").strip()


def _revision(registry: Path, tmp_path: Path) -> str:
    bundle = tmp_path / "cctv.tar.gz"
    code, output = build(registry, bundle)
    assert code == 0, output
    revision: str = json.loads(members(bundle)[".manifest"])["revision"]
    return revision


@pytest.mark.parametrize("nested", [False, True], ids=["repository", "folder"])
@pytest.mark.parametrize("hide", ["--skip-worktree", "--assume-unchanged"])
def test_a_hidden_local_change_is_not_called_the_commit(hide, nested, tmp_path):
    registry, commit = _registry_in_git(tmp_path, nested)
    assert _revision(registry, tmp_path).startswith(f"registry git:{commit}; "), "clean"
    decision = "decisions/REQ-2026-0042.yaml"
    git(registry, "update-index", hide, decision)
    path = registry / decision
    path.write_text(path.read_text().replace("Theft reported", "Nothing reported"))
    assert git(registry, "status", "--porcelain") == "", "git itself shows no change"
    revision = _revision(registry, tmp_path)
    assert not revision.startswith(f"registry git:{commit}; "), revision
    assert f"git:{commit}+uncommitted" in revision


@pytest.mark.parametrize("nested", [False, True], ids=["repository", "folder"])
def test_an_ignored_file_in_the_registry_is_not_called_the_commit(nested, tmp_path):
    registry, commit = _registry_in_git(tmp_path, nested, exclude="HOLD-2026-0009.yaml\n")
    hold = (registry / "holds" / "HOLD-2026-0002.yaml").read_text()
    (registry / "holds" / "HOLD-2026-0009.yaml").write_text(
        hold.replace("HOLD-2026-0002", "HOLD-2026-0009")
    )
    assert git(registry, "status", "--porcelain") == "", "git itself shows no change"
    assert f"git:{commit}+uncommitted" in _revision(registry, tmp_path)
