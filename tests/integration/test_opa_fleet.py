"""An OPA fleet on an existing distribution mechanism, shown on Ceph RGW with the real opa:
`cctv-policy bundle --publish s3:campus-s3` puts the signed bundle on the school's S3 storage,
an OPA server polls it through its bundle service (S3 request signing with environment
credentials) and sends its decision logs to `cctv-policy decision-log-ingest`.

Publish; OPA answers DENY. Merge the approval (a commit) and publish again; the same OPA
process answers ALLOW within its polling interval, and both decisions are in the audit log
with the revision (registry commit) that decided them.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cctv_policy.audit.log import verify_log
from cctv_policy.bundle.decision_logs import EVENT
from cctv_policy.bundle.publish import DEFAULT_OBJECT_KEY
from cctv_policy.cli.main import cli
from testing.ceph_rgw import OWNER_KEY, OWNER_SECRET
from testing.helpers import git
from testing.live_registry import FLEET, IN_PERIOD, VIEWER, live_registry, question
from testing.opa_fleet import (
    IngestProcess,
    audit_entries,
    decision_log_config,
    merged,
    s3_bundle_config,
    wait_for,
    write_config,
)
from testing.real_opa import OpaServer
from tests.bundle.test_bundle import write_key

pytestmark = pytest.mark.integration
BUCKET = "cctv-fleet"
APPROVAL = f"decisions/{IN_PERIOD}.yaml"  # approves the request asked about
POLLING_SECONDS = 2
TOKEN = "fleet-decision-log-token"


def campus_registry(root, approval: Path):
    """The demo registry with a request in its use period now (OPA decides on its own clock),
    in git, pointed at the test bucket, before the approval is merged (kept at `approval`)."""
    registry = live_registry(root / "registry")
    storage = registry / "storage.yaml"
    storage.write_text(storage.read_text().replace("bucket: cctv-footage", f"bucket: {BUCKET}"))
    shutil.move(registry / APPROVAL, approval)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "registry without the approval")
    return registry


def publish(registry, key) -> str:
    result = CliRunner().invoke(
        cli,
        [
            "bundle",
            "--registry",
            str(registry),
            "--publish",
            "s3:campus-s3",
            "--signing-key",
            str(key),
            "--key-id",
            "campus",
        ],
    )
    assert result.exit_code == 0, result.output
    return result.output


def answered(audit_log: Path) -> list[dict]:
    """The logged decisions that have a result: one asked while the first bundle was still
    being activated is logged without one (the poll that waits for the bundle asks it)."""
    return [e for e in audit_entries(audit_log, EVENT) if e.get("result") is not None]


def test_opa_polls_the_published_bundle_and_logs_its_decisions(
    rgw, owner, owner_env, tmp_path, monkeypatch
):
    owner.create_bucket(Bucket=BUCKET)
    root = tmp_path / "campus"
    registry = campus_registry(root, tmp_path / "approval.yaml")
    granted = question(registry, IN_PERIOD)
    key = write_key(tmp_path / "signing.pem")
    assert "published s3://cctv-fleet/campus/bundles/cctv-policy.tar.gz" in publish(registry, key)
    first_commit = git(root, "rev-parse", "HEAD").strip()

    ingest = IngestProcess(tmp_path / "audit.jsonl", TOKEN).start()
    config = merged(
        s3_bundle_config(
            rgw.endpoint,
            BUCKET,
            f"campus/{DEFAULT_OBJECT_KEY}",
            "campus",
            key.with_suffix(".pub").read_text(),
            POLLING_SECONDS,
        ),
        decision_log_config(ingest.url, TOKEN),
    )
    opa_env = {
        "AWS_ACCESS_KEY_ID": OWNER_KEY,
        "AWS_SECRET_ACCESS_KEY": OWNER_SECRET,
        "AWS_REGION": "us-east-1",
    }
    server = OpaServer(["--config-file", str(write_config(tmp_path / "opa.json", config))], opa_env)
    server.start()
    try:
        wait_for(lambda: server.decide(FLEET, granted) is not None, 30, "bundle")
        assert server.decide(FLEET, granted)["allow"] is False
        pid = server.process.pid

        shutil.copy(tmp_path / "approval.yaml", registry / APPROVAL)  # the approval is merged
        git(root, "add", ".")
        git(root, "commit", "-q", "-m", "approve REQ-2026-0042")
        second_commit = git(root, "rev-parse", "HEAD").strip()
        publish(registry, key)
        published_at = time.monotonic()
        waited = wait_for(
            lambda: server.decide(FLEET, granted)["allow"] is True,
            POLLING_SECONDS * 5,
            "ALLOW after the approval was published",
        )
        print(f"OPA answered ALLOW {time.monotonic() - published_at:.1f} s after publishing")
        assert waited <= POLLING_SECONDS * 5
        assert server.process is not None and server.process.pid == pid
        assert server.process.poll() is None, "the same OPA process, never restarted"

        def both_logged() -> bool:
            answers = {e["result"]["allow"] for e in answered(ingest.audit_log)}
            return answers == {True, False}

        wait_for(both_logged, 20, "the DENY and the ALLOW in the audit log")
    finally:
        server.stop()
        ingest.stop()

    entries = audit_entries(ingest.audit_log, EVENT)
    revisions = {
        e["result"]["allow"]: e["bundle_revisions"]["cctv"] for e in answered(ingest.audit_log)
    }
    assert revisions[False].startswith(f"registry git:{first_commit}; ")
    assert revisions[True].startswith(f"registry git:{second_commit}; ")
    assert all(e["input"]["principal"] == VIEWER for e in entries)
    assert verify_log(ingest.audit_log).ok
