"""Finding fields a request body has but our Structs do not know, each with its path.

Our Structs skip unknown fields, so that services of different versions can talk (schema
evolution). External request bodies are stricter: a misspelt ``timeout_second`` must not be
silently ignored. :func:`unknown_field_problems` walks a decoded document alongside the type's
``msgspec.inspect`` description — Structs, tagged unions (by their tag value), optionals,
lists, tuples, sets and dict values — and reports every key no Struct declares. Values of the
wrong shape are left to the conversion, which reports them.
"""

from functools import cache
from typing import Any

from msgspec import inspect as mi

from pipeline_models.problems import Problem, join_index, join_key


def unknown_field_problems(raw: Any, type_: Any, *, path: str = "$") -> list[Problem]:
    """Every object key in ``raw`` that ``type_`` does not declare, as problems.

    Args:
        raw: decoded JSON.
        type_: the type ``raw`` will be converted to (e.g. ``PipelineSpec``).
        path: where ``raw`` sits in the whole document.
    """
    return _walk(raw, _type_info(type_), path)


@cache
def _type_info(type_: Any) -> mi.Type:
    return mi.type_info(type_)


def _walk(raw: Any, info: mi.Type, path: str) -> list[Problem]:
    resolved = _resolve(raw, info)
    if isinstance(resolved, mi.StructType) and isinstance(raw, dict):
        return _struct(raw, resolved, path)
    if isinstance(resolved, mi.DictType) and isinstance(raw, dict):
        found: list[Problem] = []
        for key, value in raw.items():
            found += _walk(value, resolved.value_type, join_key(path, str(key)))
        return found
    if isinstance(raw, list) and (item_infos := _item_infos(resolved, len(raw))) is not None:
        return _items(raw, item_infos, path)
    return []


def _resolve(raw: Any, info: mi.Type) -> mi.Type | None:
    """Strip metadata and pick the union member ``raw`` will be converted to."""
    info = _strip(info)
    if isinstance(info, mi.UnionType):
        chosen = _choose(raw, info.types)
        return None if chosen is None else _resolve(raw, chosen)
    return info


def _item_infos(info: mi.Type | None, length: int) -> list[mi.Type] | None:
    """Types of the items of a sequence of ``length`` items, or None if not a sequence."""
    if isinstance(info, mi.ListType | mi.VarTupleType | mi.SetType | mi.FrozenSetType):
        return [info.item_type] * length
    if isinstance(info, mi.TupleType) and len(info.item_types) == length:
        return list(info.item_types)
    return None


def _items(raw: list[Any], infos: list[mi.Type], path: str) -> list[Problem]:
    found: list[Problem] = []
    for index, (item, item_info) in enumerate(zip(raw, infos, strict=True)):
        found += _walk(item, item_info, join_index(path, index))
    return found


def _struct(raw: dict[Any, Any], info: mi.StructType, path: str) -> list[Problem]:
    fields = {field.encode_name: field for field in info.fields}
    allowed = set(fields)
    if info.tag_field is not None:
        allowed.add(info.tag_field)
    found: list[Problem] = []
    for key, value in raw.items():
        name = str(key)
        if name in fields:
            found += _walk(value, fields[name].type, join_key(path, name))
        elif name not in allowed:
            known = ", ".join(sorted(allowed))
            found.append(
                Problem(path=join_key(path, name), message=f"unknown field; known fields: {known}")
            )
    return found


def _choose(raw: Any, options: tuple[mi.Type, ...]) -> mi.Type | None:
    """The union member ``raw`` will be converted to, as far as its shape tells."""
    candidates = [_strip(option) for option in options]
    if isinstance(raw, dict):
        structs = [c for c in candidates if isinstance(c, mi.StructType)]
        if len(structs) == 1:
            return structs[0]
        for struct in structs:
            if struct.tag_field is not None and raw.get(struct.tag_field) == struct.tag:
                return struct
        dicts = [c for c in candidates if isinstance(c, mi.DictType)]
        return dicts[0] if dicts and not structs else None
    if isinstance(raw, list):
        sequences = [
            c
            for c in candidates
            if isinstance(c, mi.ListType | mi.VarTupleType | mi.TupleType | mi.SetType)
        ]
        return sequences[0] if sequences else None
    return None


def _strip(info: mi.Type) -> mi.Type:
    while isinstance(info, mi.Metadata):
        info = info.type
    return info
