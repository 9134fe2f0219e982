"""Markdown and HTML renderings of the inspection report."""

from __future__ import annotations

import html
from collections import Counter

from cctv_policy.output import printable
from cctv_policy.reports.device_health_render import health_html, health_markdown
from cctv_policy.reports.feedback_render import feedback_html, feedback_markdown
from cctv_policy.reports.inspection import Inspection
from cctv_policy.reports.register_render import register_html, register_markdown

PALETTE = [
    "#2b6cb0",
    "#dd6b20",
    "#38a169",
    "#805ad5",
    "#d53f8c",
    "#319795",
    "#b7791f",
    "#e53e3e",
    "#4a5568",
    "#2c7a7b",
]


def _period(r: Inspection) -> str:
    return f"{r.period[0]:%Y-%m-%d} to {r.period[1]:%Y-%m-%d}"


def render_markdown(r: Inspection) -> str:
    out = [
        f"# CCTV inspection report, {_period(r)}",
        "",
        f"Generated {r.now:%Y-%m-%d %H:%M} UTC; policies {r.policy_version}; "
        f"retention {r.retention_days} days.",
        "",
        "## Cameras",
        "",
        "| camera | zone | storage | oldest footage (days) | compliance |",
        "|---|---|---|---|---|",
    ]
    for c in r.cameras:
        age = f"{c.age_days:.1f}" if c.age_days is not None else "not read"
        flag = (
            " **over retention**"
            if c.over_retention(r.retention_days)
            else (f" (kept by {c.kept_by})" if c.kept_by else "")
        )
        out.append(
            f"| {c.id} {printable(c.name)} | {c.zone} | {c.storage} | {age}{flag} | "
            f"{', '.join(c.problems) or 'ok'} |"
        )
    out += ["", "## Unmanaged footage", ""] + (
        [f"- {t}: `{printable(name)}`: {why}" for t, name, why in r.unmanaged]
        or ["none: every entry on the storage read is a camera of that storage"]
    )
    out += health_markdown(r)
    out += [
        "",
        "## Requests by unit and outcome",
        "",
        "| unit | approved | rejected | pending |",
        "|---|---|---|---|",
    ]
    for unit, counts in sorted(r.outcomes_by_unit.items()):
        out.append(
            f"| {unit} | {counts['approved']} | {counts['rejected']} | {counts['pending']} |"
        )
    out += ["", "## Requests by purpose", ""] + [f"- {p}: {n}" for p, n in r.purposes.most_common()]
    out += [
        "",
        "## Grants and revocations",
        "",
        f"{len(r.grants)} grants, {len(r.revokes)} revocations in the period.",
    ]
    out += [f"- grant {g.get('grant')} ({g.get('rule')})" for g in r.grants]
    out += ["", "## Extractions", ""] + (
        [
            f"- {e.get('request')} supervised by {e.get('supervisor')}: {e.get('files')} files"
            for e in r.extractions
        ]
        or ["none"]
    )
    out += ["", "## Overdue usage reports", ""] + (
        [f"- {d.request} ({d.unit}, {d.applicant}): {d.days_late} days late" for d in r.owed]
        or ["none"]
    )
    out += ["", "## Violations", ""] + (
        [f"- {code}: {n}" for code, n in r.violations.items()] or ["none"]
    )
    out += feedback_markdown(r)
    out += register_markdown(r)
    out += ["", "## Audit log", "", _audit_line(r), ""]
    return "\n".join(out)


def _audit_line(r: Inspection) -> str:
    if r.audit is None:
        return "no audit log given"
    if r.audit.ok:
        return f"intact: {r.audit.result.entries} entries, hash chain verified against the anchor"
    return r.audit.describe()


def age_chart(r: Inspection) -> str:
    """Horizontal bars: oldest footage age per camera against the retention line."""
    rows = [c for c in r.cameras if c.age_days is not None]
    if not rows:
        return "<p>Footage age was not read (no reachable storage).</p>"
    bar_h, left, width = 18, 190, 520
    scale_max = max(r.retention_days * 1.5, max(c.age_days or 0 for c in rows) * 1.1)
    height = len(rows) * bar_h + 40
    parts = [
        f'<svg class="chart" id="age-chart" role="img" width="{left + width + 60}" '
        f'height="{height}" aria-label="Oldest footage per camera">'
    ]
    for i, c in enumerate(rows):
        y = 10 + i * bar_h
        w = width * (c.age_days or 0) / scale_max
        color = (
            "#e53e3e"
            if c.over_retention(r.retention_days)
            else "#dd6b20"
            if c.kept_by
            else "#2b6cb0"
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" font-size="11">'
            f"{html.escape(c.id)}</text>"
        )
        parts.append(
            f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{bar_h - 5}" '
            f'fill="{color}"><title>{html.escape(c.id)}: {c.age_days:.1f} days</title></rect>'
        )
        parts.append(
            f'<text x="{left + w + 4:.1f}" y="{y + 13}" font-size="10">{c.age_days:.1f}</text>'
        )
    x = left + width * r.retention_days / scale_max
    parts.append(
        f'<line x1="{x:.1f}" y1="5" x2="{x:.1f}" y2="{height - 25}" stroke="#e53e3e" '
        'stroke-dasharray="4 3"/>'
    )
    parts.append(
        f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" font-size="11" '
        f'fill="#e53e3e">retention {r.retention_days} days</text></svg>'
    )
    return "".join(parts)


def month_chart(r: Inspection) -> str:
    """Stacked columns: requests per month, by unit."""
    if not r.per_month_unit:
        return "<p>No requests in the period.</p>"
    units = sorted({u for counts in r.per_month_unit.values() for u in counts})
    colors = {u: PALETTE[i % len(PALETTE)] for i, u in enumerate(units)}
    col_w, chart_h, left = 70, 200, 40
    peak = max(sum(c.values()) for c in r.per_month_unit.values())
    width = left + col_w * len(r.per_month_unit) + 220
    parts = [
        f'<svg class="chart" id="month-chart" role="img" width="{width}" '
        f'height="{chart_h + 50}" aria-label="Requests per month per unit">'
    ]
    for i, (month, counts) in enumerate(r.per_month_unit.items()):
        x, y = left + i * col_w + 10, float(chart_h + 10)
        for unit in units:
            h = chart_h * counts.get(unit, 0) / peak
            if h:
                y -= h
                parts.append(
                    f'<rect x="{x}" y="{y:.1f}" width="{col_w - 20}" height="{h:.1f}" '
                    f'fill="{colors[unit]}"><title>{html.escape(unit)} {month}: '
                    f"{counts[unit]}</title></rect>"
                )
        parts.append(
            f'<text x="{x + (col_w - 20) / 2}" y="{chart_h + 28}" text-anchor="middle" '
            f'font-size="11">{month}</text>'
        )
    for j, unit in enumerate(units):
        ly = 15 + j * 16
        lx = left + col_w * len(r.per_month_unit) + 20
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{colors[unit]}"/>'
            f'<text x="{lx + 14}" y="{ly + 9}" font-size="11">{html.escape(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(r: Inspection) -> str:
    e = html.escape

    def table(head: list[str], rows: list[list[str]]) -> str:
        th = "".join(f"<th>{e(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
        return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"

    camera_rows = []
    for c in r.cameras:
        age = f"{c.age_days:.1f}" if c.age_days is not None else "not read"
        if c.kept_by:
            age += f" (kept by {e(c.kept_by)})"
        status = ", ".join(c.problems) or "ok"
        cls = ' class="bad"' if c.problems or c.over_retention(r.retention_days) else ""
        camera_rows.append(
            [f"<span{cls}>{e(c.id)}</span> {e(c.name)}", e(c.zone), e(c.storage), age, e(status)]
        )
    outcome_rows = [
        [e(u), str(n["approved"]), str(n["rejected"]), str(n["pending"])]
        for u, n in sorted(r.outcomes_by_unit.items())
    ]
    owed = [[e(d.request), e(d.unit), e(d.applicant), str(d.days_late)] for d in r.owed]
    violations = [[e(code), str(n)] for code, n in Counter(r.violations).most_common()]
    audit_cls = "ok" if r.audit is not None and r.audit.ok else "bad"
    cameras_table = table(
        ["camera", "zone", "storage", "oldest footage (days)", "compliance"], camera_rows
    )
    unmanaged = [[e(t), e(printable(n)), e(w)] for t, n, w in r.unmanaged]
    unmanaged_table = table(["storage", "entry", "why"], unmanaged) if unmanaged else "<p>none</p>"
    owed_table = (
        table(["request", "unit", "applicant", "days late"], owed) if owed else "<p>none</p>"
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>CCTV inspection report {e(_period(r))}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;color:#1a202c}}
table{{border-collapse:collapse;margin:.5em 0 1.5em}}td,th{{border-bottom:1px solid #e2e8f0;
padding:.25em .8em;text-align:left;font-size:.9em}}.bad{{color:#c53030;font-weight:600}}
.ok{{color:#2f855a;font-weight:600}}.chart{{display:block;margin:1em 0}}</style></head><body>
<h1>CCTV inspection report</h1>
<p>Period {e(_period(r))}; generated {r.now:%Y-%m-%d %H:%M} UTC; policies
{e(r.policy_version)}; retention {r.retention_days} days.</p>
<p>Audit log: <span class="{audit_cls}">{e(_audit_line(r))}</span></p>
<h2>Footage age per camera</h2>{age_chart(r)}
{health_html(r)}
<h2>Requests per month, by unit</h2>{month_chart(r)}
<h2>Requests by unit and outcome</h2>
{table(["unit", "approved", "rejected", "pending"], outcome_rows)}
<h2>Cameras</h2>{cameras_table}
<h2>Grants and extractions</h2><p>{len(r.grants)} grants, {len(r.revokes)} revocations,
{len(r.extractions)} supervised extractions in the period.</p>
<h2>Unmanaged footage</h2>{unmanaged_table}
<h2>Overdue usage reports</h2>{owed_table}
<h2>Violations</h2>{table(["code", "count"], violations) if violations else "<p>none</p>"}
{feedback_html(r)}
{register_html(r)}
</body></html>
"""
