"""The unit feedback section of the inspection report (R12): what each unit reported on its
use of footage, period by period, and which units owe feedback."""

from __future__ import annotations

import html

from cctv_policy.reports.inspection import Inspection

_HEAD = ["unit", "period", "submitted", "summary", "suggestions"]


def _rows(r: Inspection) -> list[list[str]]:
    return [
        [
            f.unit,
            f.period,
            f"{f.submitted_at:%Y-%m-%d} by {f.submitted_by}",
            f.summary,
            "; ".join(f.suggestions) or "-",
        ]
        for f in sorted(r.feedback, key=lambda f: (f.period, f.unit))
    ]


def feedback_markdown(r: Inspection) -> list[str]:
    out = ["", "## Unit feedback", ""]
    rows = _rows(r)
    if rows:
        out += ["| " + " | ".join(_HEAD) + " |", "|---" * len(_HEAD) + "|"]
        out += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        out.append("no feedback recorded")
    return [*out, "", "Feedback overdue:", ""] + ([f"- {m}" for m in r.feedback_owed] or ["none"])


def feedback_html(r: Inspection) -> str:
    e = html.escape
    rows = _rows(r)
    head = "".join(f"<th>{e(h)}</th>" for h in _HEAD)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    table = (
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        if rows
        else "<p>no feedback recorded</p>"
    )
    owed = "".join(f"<li>{e(m)}</li>" for m in r.feedback_owed)
    return f'<h2 id="unit-feedback">Unit feedback</h2>{table}<p>Feedback overdue:</p>' + (
        f'<ul class="bad">{owed}</ul>' if owed else "<p>none</p>"
    )
