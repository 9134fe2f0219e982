"""Scheduling (engine/scheduling.py): the rule book's parts shared out over new embedded
engines give what each part gives evaluated alone; the costs are Python data that name only
parts the rule book has."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cctv_policy.engine import EngineError, EngineUndefined, scheduling
from cctv_policy.engine.scheduling import PART_COSTS, evaluate_union, share_out
from cctv_policy.registry import load_registry
from cctv_policy.registry.input_doc import build_input, canonical_json
from cctv_policy.rulebook.check import CHECK_PARTS
from tests.conftest import DEMO_REGISTRY, NOW


def _parts(engine) -> list[str]:
    return [CHECK_PARTS.part.format(name) for name in engine.evaluate(CHECK_PARTS.names, {})]


def test_every_cost_is_of_a_part_the_rule_book_names(embedded_engine):
    """A cost keyed by a part that was renamed would silently cost 1."""
    assert set(PART_COSTS) <= set(_parts(embedded_engine))
    assert all(cost > 0 for cost in PART_COSTS.values())


def test_parts_side_by_side_equal_one_at_a_time(embedded_engine, monkeypatch):
    """The parts in engines of their own (input held as data) give what each part gives
    evaluated alone, whatever the costs say; an undefined one fails closed."""
    monkeypatch.setattr(scheduling, "SIDE_BY_SIDE_FROM", 0)
    document = build_input(load_registry(DEMO_REGISTRY), NOW)
    encoded = canonical_json(document)
    entrypoints = _parts(embedded_engine)
    alone = [embedded_engine.evaluate(e, document) for e in entrypoints]
    for costs in ({}, {e: float(i + 1) for i, e in enumerate(entrypoints)}):
        monkeypatch.setattr(scheduling, "PART_COSTS", costs)
        apart = scheduling._evaluate_side_by_side(
            embedded_engine, entrypoints, document, encoded, 2
        )
        assert apart == alone
    with pytest.raises(EngineUndefined):
        scheduling._evaluate_side_by_side(
            embedded_engine, [*entrypoints, "cctv/check/no_such_part"], document, encoded, 2
        )


@given(st.lists(st.floats(min_value=0.1, max_value=100), min_size=1, max_size=30))
def test_share_out_keeps_every_item_once_and_balances(costs: list[float]):
    items = [f"part{i}" for i in range(len(costs))]
    groups = share_out(items, costs, 2)
    assert sorted(item for group in groups for item in group) == sorted(items)
    cost = dict(zip(items, costs, strict=True))
    totals = [sum(cost[item] for item in group) for group in groups]
    # greedy, costliest first: no group exceeds the other by more than the costliest item
    assert max(totals) - min(totals) <= max(costs) + 1e-9


def test_a_small_input_is_evaluated_in_one_engine(embedded_engine, monkeypatch):
    """Below SIDE_BY_SIDE_FROM bytes of input no new engine is made (each compiles the rule
    book first, which costs more than it saves); above, the parts go to new engines."""
    monkeypatch.setattr(scheduling, "MAX_SIDE_BY_SIDE", 2)
    document = build_input(load_registry(DEMO_REGISTRY), NOW)
    encoded = canonical_json(document)
    made: list[list[str]] = []
    apart = scheduling._in_new_engine

    def counting(engine, group, input, encoded):
        made.append(group)
        return apart(engine, group, input, encoded)

    monkeypatch.setattr(scheduling, "_in_new_engine", counting)
    assert len(encoded) < scheduling.SIDE_BY_SIDE_FROM
    small = evaluate_union(embedded_engine, CHECK_PARTS, document, encoded)
    assert made == []
    monkeypatch.setattr(scheduling, "SIDE_BY_SIDE_FROM", 0)
    assert sorted(map(str, evaluate_union(embedded_engine, CHECK_PARTS, document, encoded))) == (
        sorted(map(str, small))
    )
    assert sorted(e for group in made for e in group) == sorted(_parts(embedded_engine))


def test_the_input_loaded_from_its_json_reads_as_the_input(embedded_engine, monkeypatch):
    """The new engines are handed the input's canonical JSON: what they read must be the
    input, also for text JSON writes as escapes (non-ASCII, non-BMP) and for a lone
    surrogate, which must fail as the library fails it, never turn into another text."""
    document = build_input(load_registry(DEMO_REGISTRY), NOW)
    first = next(iter(document["requests"]))
    entrypoints = _parts(embedded_engine)

    def apart(names: list[str], input: dict, encoded: bytes) -> list:
        return scheduling._evaluate_side_by_side(embedded_engine, names, input, encoded, 2)

    for text in ("学生食堂 incident", "camera 📹 moved"):
        changed = {**document, "requests": {**document["requests"]}}
        changed["requests"][first] = {**changed["requests"][first], "unit": text}
        encoded = canonical_json(changed)
        alone = [embedded_engine.evaluate(e, changed) for e in entrypoints]
        assert apart(entrypoints, changed, encoded) == alone
        seen = scheduling._in_new_engine(
            embedded_engine, ["cctv/check/parts/requests"], changed, encoded
        )
        assert seen == [embedded_engine.evaluate("cctv/check/parts/requests", changed)]
    lone = {**document, "requests": {**document["requests"]}}
    lone["requests"][first] = {**lone["requests"][first], "unit": "x\ud800y"}
    with pytest.raises(EngineError):
        apart(entrypoints, lone, canonical_json(lone))


def test_an_engine_holding_data_is_never_copied(policies):
    """serve's engine holds the registry as data: a new engine would lack it."""
    from cctv_policy.engine.embedded import EmbeddedEngine

    engine = EmbeddedEngine(policies.without_tests())
    try:
        assert scheduling.side_by_side(engine, None) == scheduling.MAX_SIDE_BY_SIDE
        engine.add_data({"anything": 1})
        assert scheduling.side_by_side(engine, None) == 1
    finally:
        engine.close()
