"""The device health section of the inspection report: Markdown, and HTML with an SVG chart
of the hours since each camera's newest footage against the silence threshold."""

from __future__ import annotations

import html

from cctv_policy.reports.inspection import Inspection

_HEAD = ["camera", "newest footage (UTC)", "hours since", "largest gap (hours)", "last service"]


def _hours_since(r: Inspection, camera: str) -> float | None:
    newest = r.health[camera].newest
    return None if newest is None else (r.now - newest).total_seconds() / 3600


def _rows(r: Inspection) -> list[list[str]]:
    silent = {s.camera for s in r.silent}
    rows = []
    for camera in sorted(r.health):
        health = r.health[camera]
        since = _hours_since(r, camera)
        gap = health.largest_gap
        service = r.last_service.get(camera)
        rows.append(
            [
                camera + (" SILENT" if camera in silent else ""),
                f"{health.newest:%Y-%m-%d %H:%M}" if health.newest else "no footage",
                f"{since:.1f}" if since is not None else "-",
                f"{gap.hours:.1f} from {gap.start:%m-%d %H:%M}" if gap else "none",
                f"{service[0]:%Y-%m-%d} by {service[1]}" if service else "never recorded",
            ]
        )
    return rows


def health_markdown(r: Inspection) -> list[str]:
    out = ["", "## Device health", ""]
    if not r.health:
        return [*out, "not read (no reachable storage)"]
    out += [
        f"A camera is silent after {r.silent_after_hours} hours without footage (CAMERA_SILENT).",
        "",
        "| " + " | ".join(_HEAD) + " |",
        "|---" * len(_HEAD) + "|",
    ]
    out += ["| " + " | ".join(row) + " |" for row in _rows(r)]
    out += [""] + ([f"- **{s.camera}**: {s.message}" for s in r.silent] or ["no silent camera"])
    return out


def health_chart(r: Inspection) -> str:
    """Horizontal bars: hours since the newest footage, red past the silence threshold."""
    if not r.health:
        return "<p>Device health was not read (no reachable storage).</p>"
    silent = {s.camera for s in r.silent}
    cameras = sorted(r.health)
    bar_h, left, width = 18, 190, 520
    known = [h for c in cameras if (h := _hours_since(r, c)) is not None]
    scale_max = max([r.silent_after_hours * 2.0, *(h * 1.1 for h in known)])
    height = len(cameras) * bar_h + 40
    parts = [
        f'<svg class="chart" id="health-chart" role="img" width="{left + width + 90}" '
        f'height="{height}" aria-label="Hours since the newest footage per camera">'
    ]
    for i, camera in enumerate(cameras):
        y = 10 + i * bar_h
        since = _hours_since(r, camera)
        w = width if since is None else width * min(since, scale_max) / scale_max
        color = "#e53e3e" if camera in silent else "#38a169"
        label = "no footage" if since is None else f"{since:.1f} h"
        parts.append(
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" font-size="11">'
            f"{html.escape(camera)}</text>"
            f'<rect x="{left}" y="{y + 2}" width="{max(w, 1):.1f}" height="{bar_h - 5}" '
            f'fill="{color}"><title>{html.escape(camera)}: {label}</title></rect>'
            f'<text x="{left + max(w, 1) + 4:.1f}" y="{y + 13}" font-size="10">{label}</text>'
        )
    x = left + width * r.silent_after_hours / scale_max
    parts.append(
        f'<line x1="{x:.1f}" y1="5" x2="{x:.1f}" y2="{height - 25}" stroke="#e53e3e" '
        f'stroke-dasharray="4 3"/><text x="{x:.1f}" y="{height - 10}" text-anchor="middle" '
        f'font-size="11" fill="#e53e3e">silent after {r.silent_after_hours} hours</text></svg>'
    )
    return "".join(parts)


def health_html(r: Inspection) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in _HEAD)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td><span class="bad">{e(c)}</span></td>'
            if c.endswith(" SILENT")
            else f"<td>{e(c)}</td>"
            for c in row
        )
        + "</tr>"
        for row in _rows(r)
    )
    silent = "".join(f"<li>{e(s.message)}</li>" for s in r.silent)
    return (
        f"<h2>Device health</h2>{health_chart(r)}"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        + (f'<ul class="bad">{silent}</ul>' if silent else "<p>No silent camera.</p>")
    )
