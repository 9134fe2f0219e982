"""Real servers for integration tests, started by fixtures. A missing server skips with the
reason; .ci/run installs the Debian packages so that CI always has them."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from testing.ceph_rgw import OWNER_KEY, OWNER_SECRET, CephRgw, RgwUnavailable


def _running_rgw(prefix: str) -> Iterator[CephRgw]:
    server = CephRgw(Path(tempfile.mkdtemp(prefix=prefix)), lc_interval=4)
    try:
        server.start()
    except RgwUnavailable as exc:
        server.stop()
        pytest.skip(f"no Ceph RADOS Gateway: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rgw() -> Iterator[CephRgw]:
    yield from _running_rgw("cctv-rgw-")


def client(endpoint: str, key: str, secret: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


@pytest.fixture
def lifecycle_rgw() -> Iterator[CephRgw]:
    """A Ceph RGW of its own for a lifecycle test: RGW works through the lifecycle queue one
    bucket at a time, and buckets left by earlier tests can keep it busy for minutes."""
    yield from _running_rgw("cctv-rgw-lc-")


@pytest.fixture(scope="session")
def owner(rgw: CephRgw):
    return client(rgw.endpoint, OWNER_KEY, OWNER_SECRET)


@pytest.fixture
def owner_env(rgw: CephRgw, monkeypatch):
    """The enforcer finds the endpoint and the owner's credentials in its environment."""
    monkeypatch.setenv("CCTV_S3_ENDPOINT", rgw.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", OWNER_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", OWNER_SECRET)
