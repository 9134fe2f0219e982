"""Second round against the serve watcher: a change the registry loader sees must change the
fingerprint, or a registry refused once stays refused after it was put right, and the last good
snapshot keeps answering for ever (since round 3 less the approvals revoked meanwhile, but
nothing approved meanwhile arrives).

The loader refuses a registry with an empty sub-folder of a document folder, a FIFO, or a file
named `.git` below the top; the fingerprint listed neither folders nor anything but files and
links, and pruned every `.git` at any depth, so taking the stray entry away again was not seen."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from cctv_policy.authz import registry_state
from cctv_policy.authz.decide import question
from cctv_policy.authz.reload import RegistryWatcher, ServeState, SnapshotLoader
from cctv_policy.registry.types import parse_rfc3339
from testing.serving import ALLOWED, SERVE_NOW
from tests.conftest import DEMO_REGISTRY

DECISION = "decisions/REQ-2026-0042.yaml"


def _folder(path: Path) -> Callable[[], None]:
    path.mkdir()
    return path.rmdir


def _fifo(path: Path) -> Callable[[], None]:
    os.mkfifo(path)
    return path.unlink


def _file(path: Path) -> Callable[[], None]:
    path.write_text("")
    return path.unlink


STRAYS = {
    "empty sub-folder": ("decisions/drafts", _folder),
    "fifo": ("decisions/pipe", _fifo),
    "file named .git": ("decisions/.git", _file),
}


@pytest.fixture(params=["find", "python"])
def lister(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":
        monkeypatch.setattr(registry_state, "FIND_ROWS", ("cctv-policy-no-such-find",))
    return str(request.param)


@pytest.mark.slow
@pytest.mark.parametrize("stray", sorted(STRAYS))
def test_a_refused_registry_put_right_is_loaded(tmp_path: Path, lister: str, stray: str):
    registry = Path(shutil.copytree(DEMO_REGISTRY, tmp_path / "registry"))
    loader = SnapshotLoader(registry)
    state = ServeState(loader.load(SERVE_NOW))
    events: list[str] = []
    watcher = RegistryWatcher(state, loader, 1, lambda: SERVE_NOW, lambda e, **_: events.append(e))
    q = question("t.wang", "CAM-LIB-01", parse_rfc3339(ALLOWED["at"]), SERVE_NOW)
    assert state.snapshot.authorizer.evaluate(q).allow

    decision = registry / DECISION
    decision.write_text(decision.read_text().replace("decision: approved", "decision: rejected"))
    name, make = STRAYS[stray]
    take_away = make(registry / name)  # committed along with the revocation by mistake
    assert not watcher.poll() and events == ["serve_registry_refused"]
    # The last good registry still answers, less the approval revoked since (#26).
    assert not state.snapshot.authorizer.evaluate(q).allow

    take_away()  # put right
    assert watcher.poll(), "the registry put right was not seen"
    assert events[-1] == "serve_registry_reloaded" and state.degraded is None
    assert not state.snapshot.authorizer.evaluate(q).allow, "the revoked approval still allows"
