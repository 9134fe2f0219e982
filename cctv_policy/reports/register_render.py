"""The violations register section of the inspection report (R12): what was found, what was
done, by whom, when it was closed; and detected violations still missing from the register."""

from __future__ import annotations

import html

from cctv_policy.reports.inspection import Inspection

_HEAD = ["entry", "rule", "about", "found", "action", "closed"]


def _rows(r: Inspection) -> list[list[str]]:
    return [
        [
            entry.id,
            entry.rule + (f" {entry.code}" if entry.code else ""),
            entry.subject or "-",
            f"{entry.found_at:%Y-%m-%d} by {entry.found_by}",
            entry.action or "(none yet)",
            f"{entry.closed_at:%Y-%m-%d}" if entry.closed_at else "OPEN",
        ]
        for entry in sorted(r.register, key=lambda e: e.found_at)
    ]


def _late(r: Inspection) -> list[str]:
    return [
        f"{u.subject} {u.code} (visible since {u.since[:10]}): {u.message}" for u in r.unregistered
    ]


def register_markdown(r: Inspection) -> list[str]:
    out = ["", "## Violations register", ""]
    rows = _rows(r)
    if rows:
        out += ["| " + " | ".join(_HEAD) + " |", "|---" * len(_HEAD) + "|"]
        out += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        out.append("no entries")
    out += ["", f"Detected violations not in the register after {r.register_within_days} days:", ""]
    return out + ([f"- {line}" for line in _late(r)] or ["none"])


def register_html(r: Inspection) -> str:
    e = html.escape
    rows = _rows(r)
    head = "".join(f"<th>{e(h)}</th>" for h in _HEAD)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    table = (
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        if rows
        else "<p>no entries</p>"
    )
    late = "".join(f"<li>{e(line)}</li>" for line in _late(r))
    return (
        f'<h2 id="violations-register">Violations register</h2>{table}'
        f"<p>Detected violations not in the register after {r.register_within_days} days:</p>"
        + (f'<ul class="bad">{late}</ul>' if late else "<p>none</p>")
    )
