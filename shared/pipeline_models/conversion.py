"""Converting decoded JSON into Structs while collecting *every* problem, not just the first.

msgspec stops at the first error. :func:`convert_collecting` first tries msgspec as is (the
fast path for valid input); on failure it descends into the parts msgspec can describe — Struct
fields, tagged unions, optionals, lists, tuples and dict values — and converts each part on its
own, rooting msgspec's ``$``-relative paths at the part's path. Where it cannot descend (a leaf,
or a container-level constraint such as a minimum length), msgspec's own error is reported.
"""

import types
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec

from pipeline_models.problems import Problem, join_index, join_key, split_msgspec_error

MISSING_FIELD = "missing required field"


def convert_collecting(raw: Any, type_: Any, *, path: str) -> tuple[Any, list[Problem]]:
    """Convert ``raw`` to ``type_``; return the value (None on failure) and every problem.

    Args:
        raw: decoded JSON (dicts, lists, strings, numbers, booleans, None).
        type_: any type msgspec converts to.
        path: where ``raw`` sits in the whole document (``$.steps[2]``).
    """
    try:
        return msgspec.convert(raw, type_), []
    except msgspec.ValidationError as error:
        return None, _detailed(raw, type_, path=path) or [split_msgspec_error(error, prefix=path)]


def _problems(raw: Any, type_: Any, *, path: str) -> list[Problem]:
    return convert_collecting(raw, type_, path=path)[1]


def _detailed(raw: Any, type_: Any, *, path: str) -> list[Problem]:
    """Problems found by descending into ``type_``; empty when there is nothing to descend."""
    type_ = _unwrap(type_)
    origin = get_origin(type_)
    if origin is Union or isinstance(type_, types.UnionType):
        return _union_problems(raw, get_args(type_), path=path)
    if _is_struct(type_) and isinstance(raw, dict):
        return _struct_problems(raw, type_, path=path)
    if origin in (list, tuple) and isinstance(raw, list):
        return _sequence_problems(raw, get_args(type_), path=path)
    if origin is dict and isinstance(raw, dict):
        value_type = get_args(type_)[1]
        found: list[Problem] = []
        for key, value in raw.items():
            found += _problems(value, value_type, path=join_key(path, str(key)))
        return found
    return []


def _unwrap(type_: Any) -> Any:
    """Strip ``Annotated`` and ``NewType`` wrappers (their constraints stay with msgspec)."""
    while True:
        if get_origin(type_) is Annotated:
            type_ = get_args(type_)[0]
        elif hasattr(type_, "__supertype__"):
            type_ = type_.__supertype__
        else:
            return type_


def _is_struct(type_: Any) -> bool:
    return isinstance(type_, type) and issubclass(type_, msgspec.Struct)


def _union_problems(raw: Any, options: tuple[Any, ...], *, path: str) -> list[Problem]:
    options = tuple(option for option in options if option is not type(None))
    if raw is None:
        return []
    if len(options) == 1:
        return _problems(raw, options[0], path=path)
    structs = [option for option in options if _is_struct(_unwrap(option))]
    if not isinstance(raw, dict) or not structs:
        return []
    if len(structs) == 1:
        return _problems(raw, structs[0], path=path)
    return _tagged_problems(raw, [_unwrap(struct) for struct in structs], path=path)


def _tagged_problems(raw: dict[str, Any], structs: list[Any], *, path: str) -> list[Problem]:
    """Dispatch a tagged union by its tag, naming the known tags when it is missing or wrong."""
    tag_field: str = structs[0].__struct_config__.tag_field
    by_tag = {struct.__struct_config__.tag: struct for struct in structs}
    known = ", ".join(sorted(by_tag))
    tag_path = join_key(path, tag_field)
    if tag_field not in raw:
        return [Problem(path=tag_path, message=f"{MISSING_FIELD}; known {tag_field}s: {known}")]
    tag = raw[tag_field]
    if not isinstance(tag, str) or tag not in by_tag:
        return [
            Problem(
                path=tag_path, message=f"unknown {tag_field} {tag!r}; known {tag_field}s: {known}"
            )
        ]
    return _problems(raw, by_tag[tag], path=path)


def _struct_problems(raw: dict[str, Any], struct: Any, *, path: str) -> list[Problem]:
    found: list[Problem] = []
    for field in msgspec.structs.fields(struct):
        field_path = join_key(path, field.encode_name)
        if field.encode_name in raw:
            found += _problems(raw[field.encode_name], field.type, path=field_path)
        elif field.required:
            found.append(Problem(path=field_path, message=MISSING_FIELD))
    return found


def _sequence_problems(raw: list[Any], args: tuple[Any, ...], *, path: str) -> list[Problem]:
    if len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis):
        item_types = [args[0]] * len(raw)
    elif len(args) == len(raw):
        item_types = list(args)
    else:
        return []
    found: list[Problem] = []
    for index, (item, item_type) in enumerate(zip(raw, item_types, strict=True)):
        found += _problems(item, item_type, path=join_index(path, index))
    return found
