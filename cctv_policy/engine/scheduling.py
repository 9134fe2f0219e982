"""How a run's evaluations are scheduled over the engines: the one place that knows.

Engines only evaluate (base.Engine). Whether a run asks for everything in one batched call or
shares a union's parts out to evaluate side by side, how many at once and which part costs
what are decided here, from what was measured (bench/check_bench.py, bench/sweep_bench.py):

- the embedded OPA evaluates a query on one thread and compiles the rule book once per
  distinct query (about 0.025 s), so on a small input one query for everything a run needs is
  cheapest; on a large input the parts go to new engines of their own, one per core, each
  holding the input as data (a new engine compiles the rule book first, about 0.07 s, which
  only pays from SIDE_BY_SIDE_FROM bytes of input);
- an OPA server keeps the rule book compiled between requests: the parts go as requests at
  once, whatever the input's size;
- any other engine (a school's own adapter, a test's) is asked in one batched call.

Why engine/ and not rulebook/: this is about the engines' costs and threads, shared by every
reader of the rule book; the rule book (Rego) carries no costs, and readers never ask an
engine how it works (rulebook/check.py and rulebook/evaluation.py call this module).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cctv_policy.engine.base import Engine, EngineError, EngineUndefined, dotted

# The embedded engine works on this many groups of parts at once, each in an engine of its
# own (one OPA evaluation is single-threaded, and the library releases the GIL while it runs).
MAX_SIDE_BY_SIDE = max(1, min(os.cpu_count() or 1, 4))
# Below this size of input (its canonical JSON) one embedded engine evaluates everything
# itself (bench/sweep_bench.py's 50 cameras: the gate took 0.12 s in two new engines).
SIDE_BY_SIDE_FROM = 1 << 20
# Requests sent at once to an OPA server (it evaluates them concurrently).
SERVER_REQUESTS_AT_ONCE = 4

# What each part of the rule book's check costs to evaluate, relative to the others, on a
# large registry (bench/check_bench.py: 10,000 requests). Parts are shared out costliest
# first; a part not listed costs 1.
PART_COSTS: dict[str, float] = {
    "cctv/check/parts/requests": 100,
    "cctv/check/parts/decisions": 40,
    "cctv/check/parts/references": 20,
    "cctv/check/parts/register": 20,
    "cctv/check/parts/feedback": 20,
    "cctv/check/parts/attachments": 20,
    "cctv/check/parts/cameras": 10,
    "cctv/check/parts/reports": 10,
    "cctv/check/parts/devices": 5,
}


@dataclass(frozen=True)
class Union:
    """An entrypoint that is a set, the union of parts the rule book names: `names` (a set
    of names, e.g. cctv/check/part_names) and `part` (each part's entrypoint, with {} for
    the name). A rule book that names no parts is evaluated whole."""

    whole: str
    names: str
    part: str


def evaluate_union(
    engine: Engine, union: Union, input: dict[str, Any], encoded: bytes | None = None
) -> list[Any]:
    """The union's members: its named parts side by side where that pays, else the whole in
    one evaluation (`encoded`: the input's canonical JSON, when known; an unknown size counts
    as large). A part or whole that is not a set, or empty part names, is an EngineError: a
    rule book that did not run must never look like a pass."""
    at_once = side_by_side(engine, None if encoded is None else len(encoded))
    names = _part_names(engine, union) if at_once > 1 else None
    if names is None:
        return _a_set(f"data.{dotted(union.whole)}", engine.evaluate(union.whole, input))
    entrypoints = [union.part.format(name) for name in names]
    values = _evaluate_side_by_side(engine, entrypoints, input, encoded, at_once)
    return [
        member
        for name, value in zip(names, values, strict=True)
        for member in _a_set(f"rule book part {name}", value)
    ]


def evaluate_together(
    engine: Engine, entrypoints: Sequence[str], input: dict[str, Any], encoded: bytes
) -> dict[str, Any]:
    """The entrypoints in one batched call, where the engine would not share out the work
    anyway (the embedded OPA compiles the rule book once per distinct query: apply's gate and
    decision then cost one compile, not four). Empty where it would (each is then evaluated
    on its own, a union's parts side by side) and where the call fails (each then fails with
    its own error)."""
    if not entrypoints or side_by_side(engine, len(encoded)) > 1:
        return {}
    try:
        values = engine.evaluate_many(list(entrypoints), input)
    except EngineError:
        return {}
    return dict(zip(entrypoints, values, strict=True))


def side_by_side(engine: Engine, size: int | None) -> int:
    """How many evaluations to run at once for an input of `size` bytes (None: unknown)."""
    from cctv_policy.engine.embedded import EmbeddedEngine

    if isinstance(engine, EmbeddedEngine):
        small = size is not None and size < SIDE_BY_SIDE_FROM
        # An engine holding data (serve's) evaluates on its own: new engines need a copy.
        return 1 if engine.holds_data or small else MAX_SIDE_BY_SIDE
    # Without the OPA server module loaded no engine is one (importing it costs ~0.1 s).
    server = sys.modules.get("cctv_policy.engine.opa_server")
    if server is not None and isinstance(engine, server.OpaServerEngine):
        return SERVER_REQUESTS_AT_ONCE
    return 1


def _evaluate_side_by_side(
    engine: Engine,
    entrypoints: list[str],
    input: dict[str, Any],
    encoded: bytes | None,
    at_once: int,
) -> list[Any]:
    from cctv_policy.engine.embedded import EmbeddedEngine

    if not isinstance(engine, EmbeddedEngine):
        with ThreadPoolExecutor(max_workers=min(len(entrypoints), at_once)) as pool:
            return list(
                pool.map(lambda entrypoint: engine.evaluate(entrypoint, input), entrypoints)
            )
    count = min(len(entrypoints), at_once)
    if count < 2:
        return engine.evaluate_many(entrypoints, input)
    groups = share_out(entrypoints, [PART_COSTS.get(e, 1.0) for e in entrypoints], count)
    with ThreadPoolExecutor(max_workers=count) as pool:
        results = list(
            pool.map(lambda group: _in_new_engine(engine, group, input, encoded), groups)
        )
    values: dict[str, Any] = {}
    for group, result in zip(groups, results, strict=True):
        values.update(zip(group, result, strict=True))
    return [values[entrypoint] for entrypoint in entrypoints]


def _in_new_engine(
    engine: Any, entrypoints: list[str], input: dict[str, Any], encoded: bytes | None
) -> list[Any]:
    """The entrypoints in a new embedded engine with `engine`'s rule book, holding the input
    as data (loading a document as data costs OPA about a third of taking it as a query's
    input: 0.25 s against 0.8 s for bench/check_bench.py's registry)."""
    from cctv_policy.engine.embedded import EmbeddedEngine

    worker = EmbeddedEngine(engine.policies)
    try:
        worker.hold_input(input, encoded)
        return worker.evaluate_held(entrypoints)
    finally:
        worker.close()


def share_out(items: Sequence[str], costs: Sequence[float], count: int) -> list[list[str]]:
    """Items into `count` groups of about equal total cost: the costliest first, each into the
    group that costs least so far."""
    groups: list[list[str]] = [[] for _ in range(count)]
    totals = [0.0] * count
    for cost, item in sorted(zip(costs, items, strict=True), key=lambda pair: -pair[0]):
        lightest = totals.index(min(totals))
        groups[lightest].append(item)
        totals[lightest] += cost
    return groups


def _part_names(engine: Engine, union: Union) -> list[str] | None:
    """The rule book's part names; None when it names none."""
    try:
        names = engine.evaluate(union.names, {})
    except EngineUndefined:
        return None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise EngineError(f"data.{dotted(union.names)} is not a set of part names")
    return names


def _a_set(what: str, value: Any) -> list[Any]:
    """A set as OPA returns it (a JSON array), or EngineError: never read as no violations."""
    if not isinstance(value, list):
        raise EngineError(f"{what} returned {type(value).__name__}, not a set")
    return value
