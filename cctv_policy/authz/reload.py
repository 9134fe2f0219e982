"""Live registry reload for `serve`: watch, re-check, swap only a registry that passes the gate.

The server answers from a Snapshot: an Authorizer built from one registry revision. A watcher
thread polls the registry (git HEAD and every file's type, times, size and inode); when something
changed it loads and checks the registry again, and swaps the new snapshot in (one reference
assignment, so a request sees the old or the new registry, never a mix) only when it has no
input errors. Otherwise the last good snapshot keeps answering, less every approval whose
request or decision file changed since (a revocation counts at once: backing.py), readiness
reports degraded, and the audit log records why.

The valid approvals are computed once per snapshot, and one rule behind them reads the clock:
a decision dated more than an hour after now decides nothing until then (DECISION_IN_FUTURE in
policies/cctv/decisions.rego). A snapshot therefore knows the moment it goes stale and is rebuilt
then, so that answer never stays frozen at load time.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from cctv_policy.audit.log import AuditError
from cctv_policy.authz.backing import withdrawn
from cctv_policy.authz.decide import Authorizer
from cctv_policy.authz.lean import scope_from_json
from cctv_policy.authz.registry_state import (
    Fingerprint,
    RegistryRevision,
    fingerprint,
)
from cctv_policy.authz.url_schemes import viewed_from_json
from cctv_policy.authz.validate import CheckRequest, check_in_child
from cctv_policy.engine import EngineChoice, EngineError
from cctv_policy.engine.policies import PolicySet
from cctv_policy.heap import settle_heap
from cctv_policy.registry.loader import RegistryNotFound
from cctv_policy.rulebook.gate import RegistryNotEnforceable
from storage_backends.layout import LayoutError

# After a swap, the old snapshot is left this long for requests still answering from it.
SETTLE_AFTER_SWAP = 2.0


@dataclass(frozen=True)
class Snapshot:
    authorizer: Authorizer
    revision: RegistryRevision
    fingerprint: Fingerprint
    loaded_at: datetime
    recheck_at: datetime | None  # when the clock-dependent part of the answer changes
    # approval -> digests of the files that back it, read before loading (backing.py)
    backing: dict[str, dict[str, str | None]] = field(default_factory=dict, repr=False)
    withdrawn: frozenset[str] = frozenset()  # approvals taken back since, files changed
    check_peak_mib: int | None = None  # the peak memory of the process that checked it

    def without(self, approvals: frozenset[str]) -> Snapshot:
        """This snapshot less some approvals (none of them can allow any more)."""
        return replace(self, authorizer=self.authorizer.without(approvals), withdrawn=approvals)


class ServeState:
    """What every request reads: the snapshot in use and, if the newest registry could not be
    used, why not. `clean` is the last snapshot whose registry checked clean; `snapshot` is it,
    less the approvals whose files changed since (when a newer registry could not be used)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.clean = snapshot
        self.degraded: str | None = None

    def swap(self, snapshot: Snapshot) -> None:
        self.snapshot = self.clean = snapshot
        self.degraded = None


class SnapshotLoader:
    """Loads, checks and builds a snapshot of one registry directory."""

    def __init__(self, registry_dir: Path, engine: EngineChoice | None = None) -> None:
        self.registry_dir = registry_dir
        self._engine = engine or EngineChoice()
        self.policies: PolicySet = self._engine.policies()

    def load(self, now: datetime) -> Snapshot:
        """Raises RegistryNotEnforceable, RegistryNotFound, EngineError or OSError.

        The registry is loaded and checked in a child process (validate.py); this one keeps
        only the engine with the lean data and the floor's approvals."""
        seen = fingerprint(self.registry_dir)
        facts, data = check_in_child(CheckRequest.of(self.registry_dir, now, self._engine))
        if facts.get("policy_version") != self.policies.version:
            raise EngineError("the policies changed while the registry was being checked")
        try:
            floor = {scope.request: scope for scope in map(scope_from_json, facts["floor"])}
            read = RegistryRevision(str(facts["revision"]["digest"]), facts["revision"]["commit"])
            recheck = facts["recheck_at"]
            recheck_at = None if recheck is None else datetime.fromisoformat(recheck)
            backed = {str(k): dict(v) for k, v in facts["backing"].items()}
            viewed = viewed_from_json(facts["viewed"])
        except (KeyError, TypeError, ValueError, AttributeError, LayoutError) as exc:
            raise EngineError(f"the registry check answered something else: {exc!r}") from exc
        authorizer = Authorizer.from_checked(data, floor, viewed, self.policies)
        peak = facts.get("peak_rss_mib")
        peak_mib = peak if isinstance(peak, int) else None
        return Snapshot(authorizer, read, seen, now, recheck_at, backed, check_peak_mib=peak_mib)


class RegistryWatcher:
    """Polls the registry every `interval` seconds and swaps in a good new snapshot."""

    def __init__(
        self,
        state: ServeState,
        loader: SnapshotLoader,
        interval: float,
        clock: Callable[[], datetime],
        record: Callable[..., Any],
    ) -> None:
        self.state = state
        self.loader = loader
        self.interval = interval
        self.clock = clock
        self.record = record  # appends an audit entry: record(event, **details)
        self._refused: Fingerprint | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="registry-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.poll() and not self._stop.wait(SETTLE_AFTER_SWAP):
                    settle_heap()
            except Exception as exc:  # noqa: BLE001 - the watcher must outlive any one poll
                self.state.degraded = "the registry could not be reloaded; the audit log says why"
                self._log(
                    "serve_registry_refused",
                    reason=f"internal error: {exc}",
                    serving_revision=self.state.clean.revision.digest,
                    withdrawn_approvals=self._withdraw_changed(),
                )

    def poll(self) -> bool:
        """Whether a new snapshot was swapped in."""
        now = self.clock()
        current = self.state.clean
        seen = fingerprint(self.loader.registry_dir)
        stale = current.recheck_at is not None and now >= current.recheck_at
        if seen == self._refused or (seen == current.fingerprint and not stale):
            return False
        try:
            fresh = self.loader.load(now)
        except (RegistryNotEnforceable, RegistryNotFound, EngineError, OSError, ValueError) as exc:
            self._refuse(seen, str(exc), current)
            return False
        if fresh.fingerprint != seen or fingerprint(self.loader.registry_dir) != seen:
            return False  # changed while it was read: the next poll loads it again
        self.state.swap(fresh)
        self._refused = None
        self._log(
            "serve_registry_reloaded",
            registry_revision=fresh.revision.digest,
            registry_commit=fresh.revision.commit,
            previous_revision=current.revision.digest,
            registry_check_peak_mib=fresh.check_peak_mib,
            reason="clock" if seen == current.fingerprint else "changed",
        )
        return True

    def _refuse(self, seen: Fingerprint, reason: str, current: Snapshot) -> None:
        self._refused = seen
        taken_back = self._withdraw_changed()
        less = f", less {len(taken_back)} approval(s) changed since" if taken_back else ""
        # Readiness is unauthenticated: it says what state, the audit log says why.
        self.state.degraded = (
            f"the registry changed but cannot be used; still answering from "
            f"{current.revision.label()}{less}; the audit log says why"
        )
        self._log(
            "serve_registry_refused",
            reason=reason,
            registry_commit=seen[0],
            serving_revision=current.revision.digest,
            withdrawn_approvals=taken_back,
        )

    def _withdraw_changed(self) -> list[str]:
        """Serve the last clean snapshot less the approvals whose files changed since; the
        ones withdrawn, for the audit log."""
        clean = self.state.clean
        try:
            changed = withdrawn(self.loader.registry_dir, clean.backing)
        except Exception:  # noqa: BLE001 - what cannot be compared is withdrawn
            changed = frozenset(clean.backing)
        if changed != self.state.snapshot.withdrawn:
            self.state.snapshot = clean.without(changed) if changed else clean
        return sorted(changed)

    def _log(self, event: str, **details: Any) -> None:
        # Readiness reports the audit log; the swap (or refusal) stands either way.
        with contextlib.suppress(AuditError):
            self.record(event, **details)
