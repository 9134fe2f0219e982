"""The decision service put together: registry snapshot, group-committed audit log, the HTTP
app, uvicorn, and the registry watcher. `cctv-policy serve` runs one; tests start one in a thread.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from cctv_policy.audit.log import AuditLog
from cctv_policy.authz.clock import ServeClock
from cctv_policy.authz.commit import GroupCommitter
from cctv_policy.authz.forward_auth import ForwardAuthSettings
from cctv_policy.authz.http import DecisionApp, Limits
from cctv_policy.authz.reload import RegistryWatcher, ServeState, SnapshotLoader
from cctv_policy.authz.server import DecisionServer, TlsFiles
from cctv_policy.engine import EngineChoice
from cctv_policy.heap import settle_heap
from cctv_policy.httpserve.guards import HostRule


class ServeOptions(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    registry_dir: Path
    audit_log: Path
    host: str = "127.0.0.1"
    port: int = 8181
    reload_interval: float = 5.0
    tls: TlsFiles | None = None
    tokens: tuple[bytes, ...] = ()
    allowed_hosts: tuple[str, ...] = ()  # Host names answered besides addresses (guards.py)
    limits: Limits = Limits()
    engine: EngineChoice = EngineChoice()
    forward_auth: ForwardAuthSettings = ForwardAuthSettings()  # the viewing point's proxies


def audit_problem(path: Path) -> str | None:
    """Why the audit log cannot be opened for appending, or None."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640))
    except OSError as exc:
        return f"the audit log cannot be opened for writing ({exc.strerror})"
    return None


class DecisionService:
    """Loading the first snapshot raises what SnapshotLoader.load raises (the caller refuses
    to serve); binding raises OSError.

    `clock` is for tests (the system clock otherwise): no option of the command line sets it,
    and the decisions made on an injected clock are logged as replays."""

    def __init__(self, options: ServeOptions, clock: ServeClock | None = None) -> None:
        self.options = options
        self.clock = clock or ServeClock()
        self.audit = AuditLog(options.audit_log, keep_open=True)
        self.loader = SnapshotLoader(options.registry_dir, options.engine)
        self.audit.policy_version = self.loader.policies.version
        self.state = ServeState(self.loader.load(self.clock.wall()))
        self.committer = GroupCommitter(self.audit)
        self.app = DecisionApp(
            self.state,
            self.committer,
            self.clock,
            options.limits,
            options.tokens,
            HostRule.for_binding(options.host, options.allowed_hosts),
            options.forward_auth,
        )
        self.app.audit_problem = lambda: audit_problem(options.audit_log)
        self.server = DecisionServer(
            self.app, options.host, options.port, options.limits, options.tls
        )
        # The watcher reads the wall clock as it is: a clock set back only keeps approvals
        # dated ahead invalid longer, and decisions are refused meanwhile (clock.py).
        self.watcher = RegistryWatcher(
            self.state, self.loader, options.reload_interval, self.clock.wall, self.committer.append
        )

    @property
    def url(self) -> str:
        return self.server.url

    def _started(self) -> None:
        settle_heap()
        snapshot = self.state.snapshot
        self.committer.append(
            "serve_started",
            url=self.url,
            tls=self.options.tls is not None,
            tokens=len(self.options.tokens),
            allowed_hosts=list(self.options.allowed_hosts),
            injected_clock=self.clock.injected,
            registry_revision=snapshot.revision.digest,
            registry_commit=snapshot.revision.commit,
            registry_check_peak_mib=snapshot.check_peak_mib,
            reload_interval=self.options.reload_interval,
        )
        self.watcher.start()

    def serve_forever(self) -> None:
        self._started()
        try:
            self.server.serve_forever()
        finally:
            self._shut_down()

    def start_in_thread(self) -> DecisionService:
        self._started()
        self.server.start_in_thread()
        return self

    def stop(self) -> None:
        self.server.stop()
        self._shut_down()

    def _shut_down(self) -> None:
        self.watcher.stop()
        self.committer.stop()
        self.audit.close()
