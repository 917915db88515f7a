"""Checks across a spec's steps: ids, needs, templates, references, cycles, per-type rules.

Runs after each step was converted on its own, so one broken step does not hide the problems
of the others. Ids of steps that failed conversion still count as known (their ``id`` as
written), so a typo in one step does not also flag every step that needs it.
"""

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from pipeline_models.errors import TemplateSyntaxError
from pipeline_models.expressions import is_template, parse_template
from pipeline_models.graph import find_cycles
from pipeline_models.ids import StepId
from pipeline_models.options import PipelineOptions
from pipeline_models.problems import Problem, join_index, join_key
from pipeline_models.retry import retry_policy_problem
from pipeline_models.steps import FilterStep, HttpStep, KafkaStep, StatusRange, Step
from pipeline_models.templating import step_templates
from pipeline_models.topics import kafka_topic_problem

FILTER_CONDITION_MESSAGE = (
    "a filter condition must be exactly one expression, e.g. ${{ event.data.amount > `100` }}"
)


def steps_path(index: int) -> str:
    """The path of step ``index`` in a spec."""
    return join_index("$.steps", index)


def duplicate_id_problems(raw_ids: Sequence[Any]) -> list[Problem]:
    """A problem for every step whose ``id`` (as written) was already used by an earlier step."""
    first_seen: dict[str, int] = {}
    found: list[Problem] = []
    for index, raw_id in enumerate(raw_ids):
        if not isinstance(raw_id, str):
            continue
        if raw_id in first_seen:
            found.append(
                Problem(
                    path=join_key(steps_path(index), "id"),
                    message=f"duplicate step id {raw_id!r}, first used at "
                    f"{steps_path(first_seen[raw_id])}",
                )
            )
        else:
            first_seen[raw_id] = index
    return found


def step_problems(
    steps: Sequence[tuple[int, Step]],
    *,
    known_ids: Sequence[str],
    options: PipelineOptions | None,
) -> list[Problem]:
    """Every problem of the converted ``steps`` (``(index, step)`` pairs), cycles included.

    Args:
        steps: the steps that converted, with their index in the spec.
        known_ids: every step id as written in the spec, converted or not.
        options: the spec's options when they converted (for timeout checks).
    """
    known = set(known_ids)
    found: list[Problem] = []
    edges: dict[StepId, list[StepId]] = {}
    for index, step in steps:
        path = steps_path(index)
        found += _needs_problems(step, path=path, known=known)
        found += _type_problems(step, path=path, options=options)
        template_problems, references = _template_problems(step, path=path, known=known)
        found += template_problems
        dependencies = [*step.needs, *sorted(references)]
        if step.id not in edges:
            edges[step.id] = [dep for dep in dependencies if dep in known and dep != step.id]
    positions = {step.id: index for index, step in reversed(steps)}
    for cycle in find_cycles(list(edges), edges):
        found.append(
            Problem(
                path=steps_path(positions[cycle[0]]),
                message=f"dependency cycle: {' -> '.join(cycle)} (each step needs the next, "
                "through `needs` or an expression)",
            )
        )
    return found


def _needs_problems(step: Step, *, path: str, known: set[str]) -> list[Problem]:
    found: list[Problem] = []
    for index, need in enumerate(step.needs):
        need_path = join_index(join_key(path, "needs"), index)
        if need == step.id:
            found.append(Problem(path=need_path, message="a step cannot need itself"))
        elif need not in known:
            found.append(Problem(path=need_path, message=_unknown_step(need, known)))
    return found


def _unknown_step(step_id: str, known: set[str]) -> str:
    return f"unknown step {step_id!r}; the steps are: {', '.join(sorted(known))}"


def _template_problems(
    step: Step, *, path: str, known: set[str]
) -> tuple[list[Problem], set[StepId]]:
    found: list[Problem] = []
    references: set[StepId] = set()
    for sub_path, text in step_templates(step):
        template_path = path + sub_path
        try:
            template = parse_template(text)
        except TemplateSyntaxError as error:
            found.append(Problem(path=template_path, message=str(error)))
            continue
        for reference in sorted(template.references):
            if reference == step.id:
                found.append(
                    Problem(path=template_path, message="a step cannot read its own output")
                )
            elif reference not in known:
                message = f"expression references {_unknown_step(reference, known)}"
                found.append(Problem(path=template_path, message=message))
            references.add(reference)
    if isinstance(step, FilterStep) and (
        not is_template(step.condition) or not _is_whole(step.condition)
    ):
        found.append(Problem(path=join_key(path, "condition"), message=FILTER_CONDITION_MESSAGE))
    return found, references


def _is_whole(text: str) -> bool:
    try:
        return parse_template(text).whole
    except TemplateSyntaxError:
        return True  # the syntax error is reported already


def _type_problems(step: Step, *, path: str, options: PipelineOptions | None) -> list[Problem]:
    found: list[Problem] = []
    if reason := retry_policy_problem(step.retry):
        found.append(
            Problem(path=join_key(join_key(path, "retry"), "max_backoff_seconds"), message=reason)
        )
    if options is not None and step.timeout_seconds is not None:
        limit = options.timeouts.request_timeout_seconds
        if step.timeout_seconds > limit:
            found.append(
                Problem(
                    path=join_key(path, "timeout_seconds"),
                    message=f"must not exceed timeouts.request_timeout_seconds ({limit} s)",
                )
            )
    if isinstance(step, KafkaStep) and (reason := kafka_topic_problem(step.topic)):
        found.append(Problem(path=join_key(path, "topic"), message=reason))
    if isinstance(step, HttpStep):
        found += _http_problems(step, path=path)
    return found


def _http_problems(step: HttpStep, *, path: str) -> list[Problem]:
    found: list[Problem] = []
    for index, accepted in enumerate(step.accept_status):
        if isinstance(accepted, StatusRange) and accepted.min > accepted.max:
            found.append(
                Problem(
                    path=join_index(join_key(path, "accept_status"), index),
                    message=f"min ({accepted.min}) must not exceed max ({accepted.max})",
                )
            )
    if not is_template(step.url):
        parts = urlsplit(step.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            found.append(
                Problem(path=join_key(path, "url"), message="must be an absolute http(s) URL")
            )
    return found
