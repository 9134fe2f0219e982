"""The serve watcher notices every change to the registry, however it was made: an edit in place
that keeps the size and sets the mtime back, a file swapped for a link, a new file deep down.
Both ways of listing the tree (GNU find in a child process, and Python where there is none) are
held to this; git's own folder is not part of the registry and never counts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cctv_policy.authz import registry_state
from cctv_policy.authz.registry_state import fingerprint
from tests.conftest import DEMO_REGISTRY

DECISION = "decisions/REQ-2026-0042.yaml"


@pytest.fixture(params=["find", "python"])
def lister(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "find":
        assert shutil.which("find"), "GNU find is part of every supported system"
    else:
        monkeypatch.setattr(registry_state, "FIND_ROWS", ("cctv-policy-no-such-find",))
    return str(request.param)


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DEMO_REGISTRY, tmp_path / "registry"))


def test_find_is_what_lists_the_tree_when_there_is_one(registry: Path):
    assert registry_state._rows_by_find(registry) is not None


def test_nothing_changed_is_the_same_fingerprint(registry: Path, lister: str):
    assert fingerprint(registry) == fingerprint(registry)


def test_an_edit_in_place_with_the_mtime_set_back_is_seen(registry: Path, lister: str):
    path = registry / DECISION
    text = path.read_bytes()
    before = os.stat(path)
    seen = fingerprint(registry)
    forged = text.replace(b"approved", b"rejected") if b"approved" in text else text[::-1]
    assert len(forged) == len(text)
    with open(path, "r+b") as handle:  # same inode, same size
        handle.write(forged)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the old mtime
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns
    assert fingerprint(registry) != seen


def test_a_file_swapped_for_a_link_is_seen(registry: Path, lister: str, tmp_path: Path):
    path = registry / DECISION
    seen = fingerprint(registry)
    elsewhere = tmp_path / "elsewhere.yaml"
    shutil.copy2(path, elsewhere)
    path.unlink()
    path.symlink_to(elsewhere)
    assert fingerprint(registry) != seen


def test_a_new_file_deep_down_is_seen(registry: Path, lister: str):
    seen = fingerprint(registry)
    (registry / "requests" / "2026" / "deep").mkdir(parents=True)
    (registry / "requests" / "2026" / "deep" / "x.yaml").write_text("id: x\n")
    assert fingerprint(registry) != seen


def test_git_internals_do_not_count(registry: Path, lister: str):
    (registry / ".git").mkdir()
    seen = fingerprint(registry)
    (registry / ".git" / "index").write_bytes(b"changed by every git command")
    assert fingerprint(registry)[1] == seen[1]
