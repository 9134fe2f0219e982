"""Layout: the one place a key becomes (camera, start, seconds) and back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

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
        "CAM-A/2026/11/18/20261118T0\u0660\u0661300Z_120s.mp4",  # Arabic-Indic digits
        "CAM-A/2026/11/18/20261118T063000Z_1\uff12\uff10s.mp4",  # fullwidth digits
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


# Layouts a day folder can be read under: the usual one, local time, the camera in the name,
# the length before the time, and two whose names do not sort in time order (the fast path
# must step aside for those).
DAY_LAYOUTS = [
    Layout(NESTED),
    Layout(LOCAL, "Asia/Shanghai"),
    Layout("{camera}/{start:%Y/%m/%d}/{camera}_{start:%H%M%SZ}_{seconds}.mp4"),
    Layout("{camera}/{start:%Y/%m/%d}/{seconds}s_{start:%H-%M-%SZ}.mp4"),
    Layout("{camera}/{start:%Y/%m/%d}/{start:%M%H%SZ}_{seconds}.mp4"),
    Layout("{camera}/{start:%Y/%m/%d}/{start:%H%M%SZ}-{start:%H}_{seconds}.mp4"),
]
DAY = date(2026, 11, 18)
# The fields of a segment starting 22:33:44, each changed into a time of day that does not exist.
IMPOSSIBLE_TIMES = [("22", "24"), ("22", "29"), ("33", "60"), ("33", "99"), ("44", "60")]
# Characters a name is changed by: ASCII digits, an Arabic-Indic three and a fullwidth one
# (`\d` matches both), layout punctuation, a line break.
MUTATIONS = "0123456789\u0663\uff11Z_-x\n"


@st.composite
def day_folders(draw: st.DrawFn) -> tuple[Layout, list[str]]:
    """A layout and the sorted names of one camera-day folder: segments of that day (mostly
    of one length), some changed by a character, some of another camera or day."""
    layout = draw(st.sampled_from(DAY_LAYOUTS))
    zone = ZoneInfo(layout.timezone) if layout.timezone else UTC
    segment = st.tuples(
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 59),
        st.sampled_from([180] * 5 + [60]),
    )
    names = []
    for hour, minute, second, length in draw(st.lists(segment, min_size=1, max_size=30)):
        start = datetime(DAY.year, DAY.month, DAY.day, hour, minute, second, tzinfo=zone)
        camera, when = draw(
            st.sampled_from(
                [("CAM-A", start)] * 8 + [("CAM-B", start), ("CAM-A", start - timedelta(days=1))]
            )
        )
        key = layout.key(camera, when, length)
        names.append(key.rpartition("/")[2])
    if draw(st.booleans()):  # a time of day that does not exist (hour 24, minute 60, ...)
        start = datetime(DAY.year, DAY.month, DAY.day, 22, 33, 44, tzinfo=zone)
        name = layout.key("CAM-A", start, 180).rpartition("/")[2]
        field, wrong = draw(st.sampled_from(IMPOSSIBLE_TIMES))
        names.append(name.replace(field, wrong))
    for _ in range(draw(st.integers(0, 2))):
        index = draw(st.integers(0, len(names) - 1))
        name = names[index]
        at = draw(st.integers(0, len(name) - 1))
        names[index] = name[:at] + draw(st.sampled_from(MUTATIONS)) + name[at + 1 :]
    return layout, sorted(set(names))


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(day_folders())
@example(  # an Arabic-Indic zero sorts after "15": the latest segment looked like 10:00's
    (
        DAY_LAYOUTS[0],
        [
            "20261118T010000Z_180s.mp4",
            "20261118T150000Z_180s.mp4",
            "20261118T1\u06600000Z_180s.mp4",
        ],
    )
)
@example(  # an Arabic-Indic three in a minute: `\d` matches it, the slow reading refuses it
    (
        DAY_LAYOUTS[0],
        [f"20261118T{hour:02d}0000Z_180s.mp4" for hour in (0, 1)]
        + ["20261118T015\u066300Z_180s.mp4", "20261118T020000Z_180s.mp4"],
    )
)
def test_a_day_folder_read_in_one_match_agrees_with_reading_every_name(
    folder: tuple[Layout, list[str]],
) -> None:
    """The fast reading of a day folder (one regular expression over all names, no fields
    taken out) gives the same earliest and latest end as taking every name apart, or steps
    aside; it never accepts a folder that the slow reading refuses."""
    layout, names = folder
    prefix = layout.day_prefix("CAM-A", DAY)
    assert prefix is not None
    fast = layout._one_length_day(prefix, names, "\n".join(names), "CAM-A")
    if any("\n" in name for name in names):
        assert layout.day_ends(prefix, names, "CAM-A") is None
        return
    slow = layout._any_lengths_day(prefix, names, "CAM-A")
    event("fast path" if fast is not None else "slow path")
    assert fast is None or fast == slow
    assert layout.day_ends(prefix, names, "CAM-A") == slow
    # Both against the keys parsed one by one: a folder is read whole only if every name is
    # a segment of that camera and day, and its ends are those segments' ends.
    parsed = [layout.parse(prefix + name) for name in names]
    bounds = layout.day_bounds(DAY)
    if slow is not None and bounds is not None:
        assert all(p is not None and p[0] == "CAM-A" for p in parsed)
        ends = [int((p[1] - bounds[0]).total_seconds()) + p[2] for p in parsed if p]
        assert slow == (min(ends), max(ends))


@pytest.mark.parametrize("layout", DAY_LAYOUTS, ids=range(len(DAY_LAYOUTS)))
def test_a_usual_day_folder_takes_the_fast_path_where_names_sort_in_time_order(
    layout: Layout,
) -> None:
    zone = ZoneInfo(layout.timezone) if layout.timezone else UTC
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=zone)
    names = sorted(
        layout.key("CAM-A", start + timedelta(minutes=3 * i), 180).rpartition("/")[2]
        for i in range(480)
    )
    prefix = layout.day_prefix("CAM-A", DAY)
    assert prefix is not None
    fast = layout._one_length_day(prefix, names, "\n".join(names), "CAM-A")
    in_time_order = layout.pattern.count("%H") == 1 and "%M%H" not in layout.pattern
    assert fast == ((180, 86400) if in_time_order else None)
    assert layout.day_ends(prefix, names, "CAM-A") == (180, 86400)
