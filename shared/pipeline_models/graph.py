"""The step graph: which step waits for which, in what order they may run, and cycles.

A step depends on the steps in its ``needs`` and on every step its expressions reference
(``steps.<id>``, inferred by :mod:`pipeline_models.references`). Edges point from a step to
what it needs; a cycle is written in that direction, ``a -> b -> a`` meaning *a needs b and b
needs a*. Everything here is pure and deterministic: ties are broken by declaration order, so
the same spec always yields the same order and the same reported cycle.
"""

import heapq
from collections.abc import Iterable, Mapping, Sequence

import msgspec

from pipeline_models.errors import StepGraphError
from pipeline_models.ids import StepId
from pipeline_models.steps import Step
from pipeline_models.templating import step_references


class StepGraph(msgspec.Struct, frozen=True, kw_only=True):
    """Dependencies between the steps of one (valid) pipeline spec."""

    order: tuple[StepId, ...]
    """A topological order: every step after all it needs; ties in declaration order."""
    needs: dict[StepId, tuple[StepId, ...]]
    """Direct dependencies of each step, explicit and inferred."""
    dependents: dict[StepId, tuple[StepId, ...]]
    """Direct dependents of each step (the reverse of ``needs``)."""

    def roots(self) -> tuple[StepId, ...]:
        """Steps that need nothing and can start at once, in declaration order."""
        return tuple(step for step in self.order if not self.needs[step])

    def dependents_of(self, step: StepId) -> frozenset[StepId]:
        """Every step that directly or transitively depends on ``step``."""
        found: set[StepId] = set()
        pending = list(self.dependents[step])
        while pending:
            current = pending.pop()
            if current not in found:
                found.add(current)
                pending.extend(self.dependents[current])
        return frozenset(found)


def step_dependencies(steps: Sequence[Step]) -> dict[StepId, tuple[StepId, ...]]:
    """Each step's direct dependencies: its ``needs`` in order, then inferred ones sorted."""
    dependencies: dict[StepId, tuple[StepId, ...]] = {}
    for step in steps:
        explicit = list(dict.fromkeys(step.needs))
        inferred = sorted(step_references(step) - set(explicit))
        dependencies[step.id] = (*explicit, *inferred)
    return dependencies


def find_cycles(
    ids: Sequence[StepId], needs: Mapping[StepId, Iterable[StepId]]
) -> list[tuple[StepId, ...]]:
    """Cycles among ``ids``, each as a path that repeats its first step (``a, b, a``).

    At least one cycle is reported for every group of steps that cannot be ordered; each starts
    at its earliest-declared step. Dependencies on ids not in ``ids`` are ignored.
    """
    position = {step: index for index, step in enumerate(ids)}
    edges = {step: [dep for dep in needs.get(step, ()) if dep in position] for step in ids}
    stuck = set(ids) - set(_kahn_order(ids, edges, position))
    cycles: list[tuple[StepId, ...]] = []
    walked: set[StepId] = set()
    for start in ids:
        if start not in stuck or start in walked:
            continue
        path: list[StepId] = []
        on_path: dict[StepId, int] = {}
        current = start
        while current not in on_path and current not in walked:
            on_path[current] = len(path)
            path.append(current)
            # A stuck step always needs another stuck step, so the walk cannot dead-end.
            current = next(dep for dep in edges[current] if dep in stuck)
        walked.update(path)
        if current in on_path:
            cycles.append(_rotate(path[on_path[current] :], position))
    return cycles


def _rotate(cycle: list[StepId], position: Mapping[StepId, int]) -> tuple[StepId, ...]:
    first = min(range(len(cycle)), key=lambda index: position[cycle[index]])
    rotated = cycle[first:] + cycle[:first]
    return (*rotated, rotated[0])


def _kahn_order(
    ids: Sequence[StepId],
    edges: Mapping[StepId, Sequence[StepId]],
    position: Mapping[StepId, int],
) -> list[StepId]:
    """Topological order of the steps that can be ordered; steps in or after cycles are left out."""
    waiting = {step: len(set(edges[step])) for step in ids}
    dependents: dict[StepId, list[StepId]] = {step: [] for step in ids}
    for step in ids:
        for dep in set(edges[step]):
            dependents[dep].append(step)
    ready = [position[step] for step in ids if waiting[step] == 0]
    heapq.heapify(ready)
    order: list[StepId] = []
    while ready:
        step = ids[heapq.heappop(ready)]
        order.append(step)
        for dependent in dependents[step]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, position[dependent])
    return order


def graph_from_dependencies(
    ids: Sequence[StepId], needs: Mapping[StepId, Sequence[StepId]]
) -> StepGraph:
    """Build the graph of steps ``ids`` (declaration order) with direct dependencies ``needs``.

    Raises:
        StepGraphError: on duplicate ids, a dependency on an unknown step, or a cycle.
    """
    position = {step: index for index, step in enumerate(ids)}
    if len(position) != len(ids):
        raise StepGraphError("step ids must be unique")
    for step in ids:
        unknown = [dep for dep in needs.get(step, ()) if dep not in position]
        if unknown:
            raise StepGraphError(f"step {step!r} needs unknown steps {unknown}")
    edges = {step: tuple(dict.fromkeys(needs.get(step, ()))) for step in ids}
    if cycles := find_cycles(ids, edges):
        raise StepGraphError(
            f"the steps form a dependency cycle: {' -> '.join(cycles[0])}", cycle=cycles[0]
        )
    dependents: dict[StepId, list[StepId]] = {step: [] for step in ids}
    for step in ids:
        for dep in edges[step]:
            dependents[dep].append(step)
    return StepGraph(
        order=tuple(_kahn_order(ids, edges, position)),
        needs=edges,
        dependents={step: tuple(found) for step, found in dependents.items()},
    )


def build_step_graph(steps: Sequence[Step]) -> StepGraph:
    """Build the graph of a validated spec's steps (explicit and inferred dependencies).

    Raises:
        StepGraphError: as :func:`graph_from_dependencies`.
        TemplateSyntaxError: when a template does not parse (validated specs never do).
    """
    return graph_from_dependencies([step.id for step in steps], step_dependencies(steps))
