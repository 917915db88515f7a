"""The package's error tree and the API's machine-readable error body.

Errors raised by this package (all carry ``permanent``: retrying the same input cannot help)::

    PipelineModelsError                 base of everything raised here
    ├── SpecInvalid                     a pipeline spec has problems; ``.problems`` lists them all
    ├── InvalidVersionSelector          ``pipeline_version`` is not "latest" or a positive integer
    ├── TemplateSyntaxError             a ``${{ … }}`` template cannot be parsed (``.position``)
    ├── ExpressionError                 an expression failed while being evaluated
    ├── StepGraphError                  steps need an unknown step or form a cycle (``.cycle``)
    └── ContractError                   the runner's environment cannot be decoded

:class:`ErrorCode` lists the codes the events API puts in ``{"error": CODE, "message": TEXT}``
answers; HTTP statuses are chosen by the API's exception handlers, not here.
"""

from enum import StrEnum
from typing import ClassVar

import msgspec

from pipeline_models.ids import StepId
from pipeline_models.problems import Problem


class PipelineModelsError(Exception):
    """Base of every error this package raises."""

    permanent: ClassVar[bool] = True
    """True when retrying the same input cannot succeed (true for every error here)."""


class SpecInvalid(PipelineModelsError):
    """A pipeline spec failed validation; :attr:`problems` holds every problem found."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        self.problems = problems
        listed = "; ".join(f"{p.path}: {p.message}" for p in problems)
        super().__init__(f"the pipeline spec is invalid ({len(problems)} problems): {listed}")


class InvalidVersionSelector(PipelineModelsError, ValueError):
    """A version selector other than ``latest`` or a positive decimal integer."""


class TemplateSyntaxError(PipelineModelsError, ValueError):
    """A template or its JMESPath expression cannot be parsed."""

    def __init__(self, message: str, *, position: int) -> None:
        self.position = position
        """Offset in the template string where the problem starts."""
        super().__init__(message)


class ExpressionError(PipelineModelsError):
    """Evaluating an expression failed (e.g. a function got the wrong type); permanent."""


class StepGraphError(PipelineModelsError):
    """The steps' dependencies cannot be ordered."""

    def __init__(self, message: str, *, cycle: tuple[StepId, ...] = ()) -> None:
        self.cycle = cycle
        """The cycle found, first step repeated at the end (``a, b, a``); empty otherwise."""
        super().__init__(message)


class ContractError(PipelineModelsError):
    """The runner's environment is missing, malformed, or from an incompatible version."""


class ErrorCode(StrEnum):
    """The ``error`` codes of the events API's JSON error bodies."""

    PIPELINE_HAS_NO_EVENT_OPTION = "pipeline_has_no_event_option"
    VALIDATION_FAILED = "validation_failed"
    NOT_FOUND = "not_found"
    PIPELINE_NOT_FOUND = "pipeline_not_found"
    VERSION_NOT_FOUND = "version_not_found"
    TRIGGER_NOT_FOUND = "trigger_not_found"
    INVALID_VERSION = "invalid_version"
    INVALID_PARAMETER = "invalid_parameter"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    PRECONDITION_FAILED = "precondition_failed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    MALFORMED_BODY = "malformed_body"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    TOO_MANY_REQUESTS = "too_many_requests"
    TRIGGER_FAILED = "trigger_failed"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    INTERNAL_ERROR = "internal_error"


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The JSON body of every error answer: ``{"error": CODE, "message": TEXT}``."""

    error: str
    """One of :class:`ErrorCode`; typed ``str`` so clients decode codes added later."""
    message: str
    """A sentence for humans that says what went wrong and what to do."""
    problems: tuple[Problem, ...] | None = None
    """Every validation problem, for ``validation_failed``; omitted otherwise."""
