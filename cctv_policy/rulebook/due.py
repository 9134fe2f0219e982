"""Usage reports due and overdue, as the policy computes them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from cctv_policy.engine.base import EngineError
from cctv_policy.rulebook.evaluation import Evaluation

DUE_ENTRYPOINT = "cctv/reports/due_reports"


class DueReport(BaseModel):
    request: str
    applicant: str
    unit: str
    due: datetime
    days_late: int
    state: str


def due_reports(evaluation: Evaluation) -> list[DueReport]:
    raw = evaluation.evaluate(DUE_ENTRYPOINT)
    if not isinstance(raw, list):
        raise EngineError("data.cctv.reports.due_reports is not a set")
    return sorted(
        (DueReport.model_validate(item) for item in raw),
        key=lambda d: (d.unit, -d.days_late, d.due, d.request),
    )
