"""The runner container's `resources`: a tenant's requests, bounded by the operator's settings.

A pipeline may ask for CPU and memory *requests* (`options.resources`); the settings give the
defaults, the largest request allowed (`max_cpu_request`, `max_memory_request`) and the limits.
A request above its bound raises :class:`ResourceRequestTooLarge` (the API answers 422); a
request above the default limit raises that limit to the request, since Kubernetes refuses a
request above its limit. Values are written as given; they are only parsed to compare them.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Literal

from events_api.triggers.knative.manifest_errors import (
    InvalidResourceRequest,
    ResourceRequestTooLarge,
)
from events_api.triggers.knative.settings import KnativeSettings
from pipeline_models import ResourceRequests

Resource = Literal["cpu", "memory"]

_SUFFIXES: dict[str, Decimal] = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_QUANTITY = re.compile(
    r"\+?(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?:(?P<suffix>[KMGTPE]i|[numkMGTPE])|[eE](?P<exponent>[+-]?[0-9]+))?"
)


def parse_quantity(text: str) -> Decimal:
    """The value of a non-negative Kubernetes quantity (`250m` → 0.25, `1Gi` → 1073741824).

    Raises:
        InvalidResourceRequest: `text` is not a quantity.
    """
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise InvalidResourceRequest(
            f"{text!r} is not a Kubernetes quantity; write e.g. '250m' or '0.5' for CPU and "
            "'256Mi' or '1Gi' for memory"
        )
    try:
        number = Decimal(match["number"])
        if match["exponent"] is not None:
            return number.scaleb(int(match["exponent"]))
    except InvalidOperation as error:
        raise InvalidResourceRequest(f"{text!r} is out of range for a quantity") from error
    return number * _SUFFIXES[match["suffix"] or ""]


def container_resources(
    asked: ResourceRequests, *, settings: KnativeSettings
) -> dict[str, dict[str, str]]:
    """`requests` and `limits` for the runner container.

    Raises:
        ResourceRequestTooLarge: a request exceeds `max_cpu_request` / `max_memory_request`.
        InvalidResourceRequest: a request (or a setting) is not a quantity.
    """
    cpu_request, cpu_limit = _bounded(
        "cpu",
        asked.cpu,
        default=settings.cpu_request,
        bound=settings.max_cpu_request,
        limit=settings.cpu_limit,
    )
    memory_request, memory_limit = _bounded(
        "memory",
        asked.memory,
        default=settings.memory_request,
        bound=settings.max_memory_request,
        limit=settings.memory_limit,
    )
    return {
        "requests": {"cpu": cpu_request, "memory": memory_request},
        "limits": {"cpu": cpu_limit, "memory": memory_limit},
    }


def _bounded(
    resource: Resource, asked: str | None, *, default: str, bound: str, limit: str
) -> tuple[str, str]:
    """(request, limit) for one resource."""
    request = default if asked is None else asked
    if asked is not None and parse_quantity(asked) > parse_quantity(bound):
        raise ResourceRequestTooLarge(resource, requested=asked, bound=bound)
    if parse_quantity(request) > parse_quantity(limit):
        limit = request
    return request, limit
