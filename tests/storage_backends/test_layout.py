"""Layout: the one place a key becomes (camera, start, seconds) and back."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from storage_backends.layout import Layout, LayoutError

NESTED = "{camera}/{start:%Y/%m/%d}/{start:%Y%m%dT%H%M%SZ}_{seconds}s.mp4"


def test_key_and_parse_round_trip() -> None:
    layout = Layout(NESTED)
    start = datetime(2026, 11, 18, 6, 30, tzinfo=UTC)
    key = layout.key("CAM-A", start, 120)
    assert key == "CAM-A/2026/11/18/20261118T063000Z_120s.mp4"
    assert layout.parse(key) == ("CAM-A", start, 120)
    assert layout.matches(key)


@pytest.mark.parametrize(
    "key",
    [
        "CAM-A/2026/11/19/20261118T063000Z_120s.mp4",  # the folder disagrees with the name
        "CAM-A/2026/11/18/20261118T063000Z_120s.mp4.part",  # a suffix after the pattern
        "CAM-A/2026/11/18/20261118T063000Z_120s.mp4\n",  # a newline: `$` would accept it
        "CAM-A/2026/11/18/20261318T063000Z_120s.mp4",  # month 13
        "../2026/11/18/20261118T063000Z_120s.mp4",
    ],
)
def test_keys_that_are_not_footage_do_not_parse(key: str) -> None:
    assert Layout(NESTED).parse(key) is None


LOCAL = "{camera}/{start:%Y/%m/%d}/{start:%Y%m%d-%H%M%S}_{seconds}s.mp4"


def test_a_layout_must_say_which_clock_it_is_on() -> None:
    with pytest.raises(LayoutError, match="which clock"):
        Layout(LOCAL)


def test_local_time_folders_are_read_in_their_zone() -> None:
    layout = Layout(LOCAL, "Asia/Shanghai")
    camera, start, _ = layout.parse("CAM-A/2026/11/18/20261118-083000_60s.mp4") or ("", None, 0)
    assert camera == "CAM-A" and start == datetime(2026, 11, 18, 0, 30, tzinfo=UTC)
    assert layout.ambiguity(start) == 0


def test_an_hour_that_happens_twice_is_ambiguous() -> None:
    layout = Layout(LOCAL, "Europe/Berlin")
    parsed = layout.parse("CAM-A/2026/10/25/20261025-023000_60s.mp4")
    assert parsed is not None
    assert layout.ambiguity(parsed[1]) > 0


def test_day_prefix_round_trip() -> None:
    layout = Layout(NESTED)
    prefix = layout.day_prefix("CAM-A", date(2026, 11, 18))
    assert prefix == "CAM-A/2026/11/18/"
    assert layout.parse_day_prefix("CAM-A", prefix) == date(2026, 11, 18)
    assert (
        Layout("{camera}/{start:%Y%m%dT%H%M%SZ}_{seconds}.mp4").day_prefix(
            "CAM-A", date(2026, 11, 18)
        )
        is None
    )


@pytest.mark.parametrize(
    "pattern",
    [
        # camera not first: footage cannot be listed by camera
        "{start:%Y/%m/%d}/{camera}/{start:%H%M%SZ}_{seconds}.mp4",
        "{camera}/{start:%Y%m%dZ}_{seconds}.mp4",  # start not to the second
        "{camera}/{start:%Y%m%dT%H%M%SZ}.mp4",  # no length
        "{camera}/{start:%Y%m%dT%H%M%S%jZ}_{seconds}.mp4",  # an unsupported directive
    ],
)
def test_layouts_that_cannot_be_enforced_are_refused(pattern: str) -> None:
    with pytest.raises(LayoutError):
        Layout(pattern)
