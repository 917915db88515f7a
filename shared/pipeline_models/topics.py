"""Kafka topic name rules, so the API rejects at creation what Kafka would reject later.

Kafka accepts 1..249 characters of ``[a-zA-Z0-9._-]``, except the names ``.`` and ``..``.
Note: Kafka also treats ``.`` and ``_`` as colliding in metric names (``a.b`` and ``a_b`` cannot
both exist on one cluster); that is a cluster-side concern and not checked here.
"""

import re

MAX_TOPIC_LENGTH = 249
_TOPIC = re.compile(r"[a-zA-Z0-9._-]+")


def kafka_topic_problem(name: str) -> str | None:
    """Say why Kafka would reject the topic ``name``, or None when it is valid."""
    if not name:
        return "a Kafka topic name must not be empty"
    if len(name) > MAX_TOPIC_LENGTH:
        return f"a Kafka topic name has at most {MAX_TOPIC_LENGTH} characters, got {len(name)}"
    if name in (".", ".."):
        return f"{name!r} is not a valid Kafka topic name"
    if _TOPIC.fullmatch(name) is None:
        return "a Kafka topic name may only contain ASCII letters, digits, '.', '_' and '-'"
    return None


def is_kafka_topic(name: str) -> bool:
    """Tell whether Kafka accepts ``name`` as a topic name."""
    return kafka_topic_problem(name) is None
