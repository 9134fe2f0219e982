"""Progress: periodic plain lines when standard error is not a terminal."""

from __future__ import annotations

import io

import pytest

from cctv_policy.cli.progress import INTERVAL_ENV, progress


def test_lines_every_interval_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(INTERVAL_ENV, "0")
    stream = io.StringIO()
    with progress("listing", "cameras", 4, stream) as advance:
        for camera in ("CAM-A", "CAM-B", "CAM-C", "CAM-D"):
            advance(1, camera)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("listing: 1/4 cameras (25%), at CAM-A")
    assert lines[-1].startswith("listing: 4/4 cameras (100%)")


def test_quiet_when_faster_than_the_interval(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(INTERVAL_ENV, "3600")
    stream = io.StringIO()
    with progress("applying", "actions", 2, stream) as advance:
        advance(2, None)
    assert stream.getvalue() == ""


def test_control_characters_in_a_label_are_escaped(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(INTERVAL_ENV, "0")
    stream = io.StringIO()
    with progress("listing", "cameras", 1, stream) as advance:
        advance(1, "CAM\n::error::x")
    assert "\n::error" not in stream.getvalue()
