"""The step graph: order, dependents, cycles."""

from collections.abc import Mapping, Sequence

import pytest

from pipeline_models import (
    LogStep,
    Step,
    StepGraphError,
    StepId,
    TransformStep,
    build_step_graph,
    find_cycles,
)
from pipeline_models.graph import graph_from_dependencies


def ids(*names: str) -> list[StepId]:
    return [StepId(name) for name in names]


def edges(mapping: Mapping[str, Sequence[str]]) -> dict[StepId, list[StepId]]:
    return {StepId(key): ids(*values) for key, values in mapping.items()}


def test_order_respects_explicit_and_inferred_dependencies() -> None:
    steps: list[Step] = [
        TransformStep(id=StepId("c"), output="${{ steps.b }}"),
        LogStep(id=StepId("b"), message="x", needs=(StepId("a"),)),
        LogStep(id=StepId("a"), message="x"),
        LogStep(id=StepId("d"), message="x"),
    ]
    graph = build_step_graph(steps)
    assert graph.order == ("a", "b", "c", "d")
    assert graph.needs == {"c": ("b",), "b": ("a",), "a": (), "d": ()}
    assert graph.roots() == ("a", "d")
    assert graph.dependents_of(StepId("a")) == {"b", "c"}
    assert graph.dependents_of(StepId("c")) == frozenset()


def test_order_is_declaration_order_among_independent_steps() -> None:
    graph = graph_from_dependencies(ids("z", "y", "x"), edges({}))
    assert graph.order == ("z", "y", "x")


def test_diamond() -> None:
    graph = graph_from_dependencies(
        ids("top", "left", "right", "bottom"),
        edges({"left": ["top"], "right": ["top"], "bottom": ["right", "left"]}),
    )
    assert graph.order == ("top", "left", "right", "bottom")
    assert graph.dependents_of(StepId("top")) == {"left", "right", "bottom"}
    assert graph.dependents[StepId("top")] == ("left", "right")


@pytest.mark.parametrize(
    ("order", "needs", "cycles"),
    [
        (["a", "b"], {"a": ["b"], "b": ["a"]}, [("a", "b", "a")]),
        (["a"], {"a": ["a"]}, [("a", "a")]),
        (["a", "b", "c"], {"a": ["c"], "b": ["a"], "c": ["b"]}, [("a", "c", "b", "a")]),
        # Rotated to start at the earliest-declared step of the cycle.
        (["x", "b", "a"], {"x": ["a"], "a": ["b"], "b": ["a"]}, [("b", "a", "b")]),
        # Two independent cycles, each reported.
        (
            ["a", "b", "c", "d", "e"],
            {"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"], "e": ["a"]},
            [("a", "b", "a"), ("c", "d", "c")],
        ),
        (["a", "b"], {"a": ["b"]}, []),
        (["a"], {"a": ["unknown"]}, []),
    ],
)
def test_find_cycles(
    order: list[str], needs: dict[str, list[str]], cycles: list[tuple[str, ...]]
) -> None:
    assert find_cycles(ids(*order), edges(needs)) == cycles


def test_graph_refuses_cycles() -> None:
    with pytest.raises(StepGraphError, match="a -> b -> a") as caught:
        graph_from_dependencies(ids("a", "b"), edges({"a": ["b"], "b": ["a"]}))
    assert caught.value.cycle == ("a", "b", "a")


def test_graph_refuses_unknown_and_duplicate_steps() -> None:
    with pytest.raises(StepGraphError, match="unknown"):
        graph_from_dependencies(ids("a"), edges({"a": ["b"]}))
    with pytest.raises(StepGraphError, match="unique"):
        graph_from_dependencies(ids("a", "a"), edges({}))


def test_large_chain_is_fast_and_ordered() -> None:
    names = [f"s{index}" for index in range(500)]
    needs = {names[i]: [names[i - 1]] for i in range(1, 500)}
    graph = graph_from_dependencies(ids(*reversed(names)), edges(needs))
    assert graph.order == tuple(names)
    assert len(graph.dependents_of(StepId("s0"))) == 499
