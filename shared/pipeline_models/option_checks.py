"""Checks of pipeline options that single-field constraints cannot express.

Ranges of single fields live on the Structs (msgspec ``Meta``); this module checks how fields
fit together and with the platform: scale bounds, the delivery timeout against the request
timeout, the retry schedule's length, dead-letter sinks, topic names and resource quantities.
"""

from urllib.parse import urlsplit

from pipeline_models.options import (
    DeadLetter,
    PipelineOptions,
    ScalingOptions,
    delivery_backoff_total_seconds,
    delivery_timeout_seconds,
)
from pipeline_models.problems import Problem, join_key
from pipeline_models.quantities import quantity_problem
from pipeline_models.topics import kafka_topic_problem

MAX_DELIVERY_BACKOFF_SECONDS = 24 * 3600.0
"""A record failing every attempt must not hold its partition longer than a day."""


def option_problems(options: PipelineOptions, *, path: str = "$.options") -> list[Problem]:
    """Every cross-field problem in ``options``; field paths are rooted at ``path``."""
    problems: list[Problem] = []
    if options.event is not None and (reason := kafka_topic_problem(options.event)):
        problems.append(Problem(path=join_key(path, "event"), message=reason))
    problems += _scaling_problems(options.scaling, path=join_key(path, "scaling"))
    problems += _delivery_problems(options, path=join_key(path, "delivery"))
    resources_path = join_key(path, "resources")
    for name, value in (("cpu", options.resources.cpu), ("memory", options.resources.memory)):
        if value is not None and (reason := quantity_problem(value)):
            problems.append(Problem(path=join_key(resources_path, name), message=reason))
    return problems


def _scaling_problems(scaling: ScalingOptions, *, path: str) -> list[Problem]:
    problems: list[Problem] = []
    if scaling.max_scale != 0 and scaling.min_scale > scaling.max_scale:
        problems.append(
            Problem(
                path=join_key(path, "min_scale"),
                message=(
                    f"min_scale ({scaling.min_scale}) must not exceed max_scale "
                    f"({scaling.max_scale}); max_scale 0 means unlimited"
                ),
            )
        )
    target = scaling.target_concurrency
    limit = scaling.container_concurrency
    if target is not None and limit != 0 and target > limit:
        problems.append(
            Problem(
                path=join_key(path, "target_concurrency"),
                message=(
                    f"target_concurrency ({target}) must not exceed container_concurrency "
                    f"({limit}), the hard per-pod limit"
                ),
            )
        )
    return problems


def _delivery_problems(options: PipelineOptions, *, path: str) -> list[Problem]:
    problems: list[Problem] = []
    delivery = options.delivery
    request_timeout = options.timeouts.request_timeout_seconds
    if delivery_timeout_seconds(options) > request_timeout:
        problems.append(
            Problem(
                path=join_key(path, "timeout_seconds"),
                message=(
                    f"the delivery timeout ({delivery.timeout_seconds} s) must not exceed "
                    f"timeouts.request_timeout_seconds ({request_timeout} s): Knative would cut "
                    "the request first"
                ),
            )
        )
    total = delivery_backoff_total_seconds(delivery)
    if total > MAX_DELIVERY_BACKOFF_SECONDS:
        problems.append(
            Problem(
                path=join_key(path, "retry"),
                message=(
                    f"{delivery.retry} retries with {delivery.backoff_policy} backoff of "
                    f"{delivery.backoff_delay_seconds} s wait {total:.0f} s in total; a failing "
                    "record would hold its partition longer than a day — lower retry or the delay"
                ),
            )
        )
    if delivery.dead_letter is not None:
        problems += _dead_letter_problems(delivery.dead_letter, path=join_key(path, "dead_letter"))
    return problems


def _dead_letter_problems(dead_letter: DeadLetter, *, path: str) -> list[Problem]:
    if (dead_letter.topic is None) == (dead_letter.uri is None):
        return [Problem(path=path, message="set exactly one of `topic` and `uri`")]
    if dead_letter.topic is not None and (reason := kafka_topic_problem(dead_letter.topic)):
        return [Problem(path=join_key(path, "topic"), message=reason)]
    if dead_letter.uri is not None:
        parts = urlsplit(dead_letter.uri)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return [
                Problem(
                    path=join_key(path, "uri"),
                    message="the dead-letter uri must be an absolute http:// or https:// URI",
                )
            ]
    return []
