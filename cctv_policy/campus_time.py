"""Times as people on campus read them: the campus zone by its name and its UTC offset, e.g.
`2026-12-08 09:00 (北京时间, UTC+08:00)`. Never a zone abbreviation: "CST" is China, Cuba and
the US Midwest at once."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

# Zones whose people name them in their own words; any other zone is shown by its IANA name.
_ZONE_NAMES = {
    "Asia/Shanghai": {"zh": "北京时间", "en": "Beijing time"},
    "Asia/Hong_Kong": {"zh": "香港时间", "en": "Hong Kong time"},
    "Asia/Taipei": {"zh": "台北时间", "en": "Taipei time"},
    "UTC": {"zh": "协调世界时", "en": "UTC"},
}


def campus_time(moment: datetime, zone: str, lang: Literal["zh", "en"] = "zh") -> str:
    """`moment` in the campus zone, to the minute, with the zone's name and offset."""
    local = moment.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z") or "+0000"
    name = _ZONE_NAMES.get(zone, {}).get(lang, zone)
    return f"{local:%Y-%m-%d %H:%M} ({name}, UTC{offset[:3]}:{offset[3:]})"
