"""Ask the policies what to enforce, and hold the answer to a strict shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from cctv_policy.engine.base import EngineError
from cctv_policy.registry.types import Timestamp
from cctv_policy.rulebook.evaluation import Evaluation

ENFORCE_ENTRYPOINT = "cctv/enforce/decision"


class Window(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    cameras: tuple[str, ...]
    from_: Timestamp
    to: Timestamp

    def __init__(self, **data: Any) -> None:
        if "from" in data:
            data["from_"] = data.pop("from")
        super().__init__(**data)

    def covers(self, camera: str, start: datetime, end: datetime) -> bool:
        """True when [start, end) of this camera overlaps the window."""
        return camera in self.cameras and start < self.to and self.from_ < end


class Protection(Window):
    id: str
    rule: str
    until: Timestamp
    request: str | None = None
    hold: str | None = None


class GrantDecision(Window):
    id: str
    rule: str
    request: str
    recipient: str
    starts: Timestamp
    ends: Timestamp


class EnforcementDecision(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    retention_days: int
    protections: tuple[Protection, ...]
    grants: tuple[GrantDecision, ...]


def enforcement_decision(evaluation: Evaluation) -> EnforcementDecision:
    """What to enforce (data.cctv.enforce.decision), over the run's one input document.

    Raises EngineError (fail closed) when the engine fails, the decision is undefined, or it
    does not have the expected shape.
    """
    raw = evaluation.evaluate(ENFORCE_ENTRYPOINT)
    try:
        return EnforcementDecision.model_validate(raw)
    except ValidationError as exc:
        raise EngineError(f"data.cctv.enforce.decision has the wrong shape: {exc}") from exc
