"""A throwaway single-node Ceph cluster with a RADOS Gateway on 127.0.0.1, for tests.

One monitor, one memstore OSD (data in RAM), one radosgw, cephx off, everything under one
directory. Starts in a few seconds. Needs Debian's radosgw, ceph-mon, ceph-osd, ceph-common
(.ci/run installs them). Users: `owner` (bucket owner, may manage policies) and one user per
name passed to add_user (recipients in grant tests).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

BINARIES = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "monmaptool")
OWNER_KEY, OWNER_SECRET = "OWNERACCESSKEY000001", "ownersecret000000000000000000000000000001"


class RgwUnavailable(Exception):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _conf(base: Path, fsid: str, mon_port: int, rgw_port: int, lc_interval: int) -> str:
    data = base / "data"
    return f"""[global]
fsid = {fsid}
mon host = [v2:127.0.0.1:{mon_port}]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
run dir = {base}/run
pid file = {base}/run/$name.pid
admin socket = {base}/run/$cluster-$name.asok
log file = {base}/log/$name.log
keyring = /dev/null
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
ms bind ipv6 = false
# A lifecycle "day" lasts this many seconds, for radosgw and for `radosgw-admin lc process`
# alike: with it in [client.rgw.a] only, the admin process counts real days, and a bucket
# whose run radosgw started is skipped as "in progress" for two of them.
rgw lc debug interval = {lc_interval}

[mon]
mon data = {data}/mon.$id
paxos propose interval = 0.05
paxos min wait = 0.01

[osd]
osd data = {data}/osd.$id
osd objectstore = memstore
memstore device bytes = 1073741824
osd memory target = 939524096

[client.rgw.a]
rgw data = {data}/rgw.a
# with cephx off radosgw must not ask for a secure monitor session, or it hangs for minutes
ms mon client mode = crc
rgw frontends = beast endpoint=127.0.0.1:{rgw_port}
rgw init timeout = 60
rgw enable lc threads = true
rgw s3 auth use sts = true
rgw sts key = abcdefghijklmnop
rgw dynamic resharding = false
"""


@dataclass
class CephRgw:
    base: Path
    lc_interval: int = 5
    endpoint: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def _run(self, *argv: str, timeout: float = 60) -> str:
        return subprocess.run(
            argv, env=self.env, capture_output=True, text=True, check=True, timeout=timeout
        ).stdout

    def start(self) -> CephRgw:
        missing = [b for b in BINARIES if not shutil.which(b)]
        if missing:
            raise RgwUnavailable(
                f"Ceph binaries missing: {', '.join(missing)} (install radosgw "
                "ceph-mon ceph-osd ceph-common; .ci/run does)"
            )
        for sub in ("data/mon.a", "data/osd.0", "data/rgw.a", "run", "log"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        mon_port, rgw_port = _free_port(), _free_port()
        fsid = str(uuid.uuid4())
        conf = self.base / "ceph.conf"
        conf.write_text(_conf(self.base, fsid, mon_port, rgw_port, self.lc_interval))
        self.env = {**os.environ, "CEPH_CONF": str(conf)}
        monmap = self.base / "run" / "monmap"
        self._run(
            "monmaptool",
            "--create",
            "--fsid",
            fsid,
            "--addv",
            "a",
            f"[v2:127.0.0.1:{mon_port}]",
            str(monmap),
        )
        self._run("ceph-mon", "--mkfs", "-i", "a", "--monmap", str(monmap))
        self._run("ceph-mon", "-i", "a")
        self._wait(lambda: self._ok("ceph", "-s", "--connect-timeout", "2"), 30, "ceph-mon")
        osd_uuid = str(uuid.uuid4())
        osd_id = self._run("ceph", "osd", "new", osd_uuid).strip()
        self._run("ceph-osd", "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid)
        self._run("ceph-osd", "-i", osd_id)
        self._wait(
            lambda: '"num_up_osds":1' in self._out("ceph", "osd", "stat", "-f", "json"),
            60,
            "ceph-osd",
        )
        self._run("radosgw", "-n", "client.rgw.a")
        self.endpoint = f"http://127.0.0.1:{rgw_port}"
        self._wait(lambda: _port_open(rgw_port), 120, "radosgw")
        self._run(
            "radosgw-admin",
            "user",
            "create",
            "--uid=owner",
            "--display-name=Owner",
            f"--access-key={OWNER_KEY}",
            f"--secret={OWNER_SECRET}",
        )
        self._run("radosgw-admin", "caps", "add", "--uid=owner", "--caps=roles=*;users=*;buckets=*")
        return self

    def add_user(self, uid: str) -> tuple[str, str]:
        key = ("K" + uid.upper().replace(".", "").replace("-", "") + "0" * 20)[:20]
        secret = ("s" + uid.replace(".", "") + "0" * 40)[:40]
        self._run(
            "radosgw-admin",
            "user",
            "create",
            f"--uid={uid}",
            f"--display-name={uid}",
            f"--access-key={key}",
            f"--secret={secret}",
        )
        return key, secret

    def lc_process(self) -> None:
        self._run("radosgw-admin", "lc", "process", timeout=120)

    def stop(self) -> None:
        for pidfile in sorted((self.base / "run").glob("*.pid")):
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        time.sleep(0.5)
        for pidfile in sorted((self.base / "run").glob("*.pid")):
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
        shutil.rmtree(self.base, ignore_errors=True)

    def _ok(self, *argv: str) -> bool:
        return subprocess.run(argv, env=self.env, capture_output=True, timeout=30).returncode == 0

    def _out(self, *argv: str) -> str:
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=30).stdout

    def _wait(self, ready, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.25)
        raise RgwUnavailable(f"{what} did not come up in {seconds:.0f} s; see {self.base}/log")


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False
