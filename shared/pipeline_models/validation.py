"""Validating a submitted pipeline spec, reporting every problem with its JSON path.

msgspec stops at the first error, so validation runs in stages and collects as it goes:

1. bytes → JSON values (a syntax error ends validation here: there is nothing to walk);
2. unknown fields anywhere in the document (``strict_fields``, on for request bodies);
3. conversion of ``name``/``description``, of ``options`` and of each step on its own
   (:mod:`pipeline_models.conversion` descends further to report every bad field);
4. semantic checks of what converted: options (:mod:`pipeline_models.option_checks`), step ids,
   needs, templates, references and cycles (:mod:`pipeline_models.step_checks`);
5. once all that is clean, the size of the runner's environment variable
   (:mod:`pipeline_models.envelope`).
"""

from typing import Any

import msgspec

from pipeline_models.conversion import MISSING_FIELD, convert_collecting
from pipeline_models.envelope import spec_env_size_problem
from pipeline_models.errors import SpecInvalid
from pipeline_models.option_checks import option_problems
from pipeline_models.options import PipelineOptions
from pipeline_models.pipeline import MAX_STEPS, PipelineSpec
from pipeline_models.problems import ROOT, Problem, split_msgspec_error
from pipeline_models.step_checks import duplicate_id_problems, step_problems, steps_path
from pipeline_models.steps import Step
from pipeline_models.unknown_fields import unknown_field_problems

_DECODER = msgspec.json.Decoder()
_FIELD_TYPES = {field.encode_name: field.type for field in msgspec.structs.fields(PipelineSpec)}


def validate_pipeline_spec(
    document: bytes | bytearray | memoryview | str | object, *, strict_fields: bool = True
) -> PipelineSpec:
    """Validate a pipeline spec and return it, or raise with every problem found.

    Args:
        document: the JSON text (bytes or str), or already-decoded JSON values (a dict).
        strict_fields: report fields no Struct declares (on for external request bodies; off
            between our own services, which skip unknown fields for schema evolution).

    Raises:
        SpecInvalid: with one :class:`Problem` per problem, each at its JSON path.
    """
    raw = _load(document)
    if not isinstance(raw, dict):
        raise SpecInvalid((Problem(path=ROOT, message="expected a JSON object"),))
    problems: list[Problem] = []
    if strict_fields:
        problems += unknown_field_problems(raw, PipelineSpec)
    for name in ("name", "description"):
        if name in raw:
            problems += convert_collecting(raw[name], _FIELD_TYPES[name], path=f"$.{name}")[1]
        elif name == "name":
            problems.append(Problem(path="$.name", message=MISSING_FIELD))
    options, options_problems = convert_collecting(
        raw.get("options", {}), PipelineOptions, path="$.options"
    )
    problems += options_problems
    if options is not None:
        problems += option_problems(options)
    problems += _steps_problems(raw, options=options)
    if problems:
        raise SpecInvalid(tuple(problems))
    return _finish(raw)


def _load(document: object) -> Any:
    if not isinstance(document, bytes | bytearray | memoryview | str):
        return document
    try:
        return _DECODER.decode(document)
    except msgspec.DecodeError as error:
        raise SpecInvalid((Problem(path=ROOT, message=f"malformed JSON: {error}"),)) from error


def _steps_problems(raw: dict[str, Any], *, options: PipelineOptions | None) -> list[Problem]:
    if "steps" not in raw:
        return [Problem(path="$.steps", message=MISSING_FIELD)]
    raw_steps = raw["steps"]
    if not isinstance(raw_steps, list):
        return [Problem(path="$.steps", message="expected an array of steps")]
    if not raw_steps:
        return [Problem(path="$.steps", message="a pipeline needs at least one step")]
    if len(raw_steps) > MAX_STEPS:
        return [Problem(path="$.steps", message=f"at most {MAX_STEPS} steps are allowed")]
    problems: list[Problem] = []
    converted: list[tuple[int, Step]] = []
    for index, raw_step in enumerate(raw_steps):
        step, found = convert_collecting(raw_step, Step, path=steps_path(index))
        problems += found
        if step is not None:
            converted.append((index, step))
    raw_ids = [item.get("id") if isinstance(item, dict) else None for item in raw_steps]
    problems += duplicate_id_problems(raw_ids)
    known_ids = [raw_id for raw_id in raw_ids if isinstance(raw_id, str)]
    problems += step_problems(converted, known_ids=known_ids, options=options)
    return problems


def _finish(raw: dict[str, Any]) -> PipelineSpec:
    """Build the spec from a document every check passed, then check the runner env size."""
    try:
        spec = msgspec.convert(raw, PipelineSpec)
    except msgspec.ValidationError as error:  # pragma: no cover - the staged checks found none
        raise SpecInvalid((split_msgspec_error(error, prefix=ROOT),)) from error
    if reason := spec_env_size_problem(spec):
        raise SpecInvalid((Problem(path=ROOT, message=reason),))
    return spec
