"""What to write to bring a live object to the desired one: a JSON merge patch, or nothing.

"Write only differences" (Knative's reconcilers): compare the desired manifest with the object
read back, and patch only when they differ. The comparison looks at `metadata.labels`,
`metadata.annotations`, `metadata.ownerReferences` and `spec`; everything else is the server's
(`status`, `resourceVersion`, `uid`, `generation`, `managedFields`, `creationTimestamp`, …).

* A field we set must have the same value live. Quantities under `resources` compare by value,
  since Knative's webhook rewrites them canonically (`0.5` → `500m`).
* A field only the live object has is a default somebody else added (Knative's `traffic`, the
  container's `name`, probe thresholds, `sink.ref.namespace`, …) and is left alone — except
  where *we* decide presence: our labels and annotations (:func:`is_managed_key`), the pod's
  `volumes` and the container's `volumeMounts`, the source's `net`, `delivery.timeout` and
  `delivery.deadLetterSink`, and the sink's `auth`. Those are removed (`null` in the patch)
  when the desired object no longer has them.
* Empty values (`None`, `{}`, `[]`, `""`, and mappings of only those) count as absent: Go's
  encoder writes a struct field such as `net: {sasl: {user: {}}}` even when it is unset.
* Lists are compared element by element and replaced whole when they differ (merge-patch
  semantics); a dict difference becomes a nested patch of just that difference.
"""

from collections.abc import Mapping
from typing import Any, Final

from events_api.triggers.knative import labels
from events_api.triggers.knative.container_resources import parse_quantity
from events_api.triggers.knative.manifest_errors import InvalidResourceRequest

Path = tuple[str, ...]

_ITEM: Final = "[]"
_COMPARED_METADATA: Final = ("labels", "annotations", "ownerReferences")
_MANAGED_KEY_PREFIXES: Final = (f"{labels.PREFIX}/", "autoscaling.knative.dev/")
_MANAGED_KEYS: Final = frozenset(
    {labels.MANAGED_BY, labels.PART_OF, labels.VISIBILITY_LABEL, labels.KEY_TYPE_LABEL}
)
_KEY_MAPS: Final = frozenset(
    {
        ("metadata", "labels"),
        ("metadata", "annotations"),
        ("spec", "template", "metadata", "labels"),
        ("spec", "template", "metadata", "annotations"),
    }
)
# Optional fields whose presence is ours to decide: absent from the desired object = remove.
_OWNED_OPTIONAL: Final = frozenset(
    {
        ("spec", "template", "spec", "volumes"),
        ("spec", "template", "spec", "containers", _ITEM, "volumeMounts"),
        ("spec", "net"),
        ("spec", "delivery", "timeout"),
        ("spec", "delivery", "deadLetterSink"),
        ("spec", "auth"),
    }
)
_OWNED_SUBTREES: Final = (("spec", "net"), ("spec", "delivery", "deadLetterSink"), ("spec", "auth"))


class _Same:
    """Marks "no difference" (`None` is a meaningful patch value: delete)."""


_SAME: Final = _Same()


def is_managed_key(key: str) -> bool:
    """Tell whether a label or annotation key is one this product sets (and may remove)."""
    return key in _MANAGED_KEYS or key.startswith(_MANAGED_KEY_PREFIXES)


def patch_for(current: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON merge patch (RFC 7386) that brings `current` to `desired`, or None when equal.

    Args:
        current: the object as read from the API server (with server-set fields and defaults).
        desired: the object as a builder made it.
    """
    patch: dict[str, Any] = {}
    desired_meta = desired.get("metadata") or {}
    current_meta = current.get("metadata") or {}
    meta_patch = _diff_mapping(
        {key: current_meta.get(key) for key in _COMPARED_METADATA},
        {key: desired_meta.get(key) for key in _COMPARED_METADATA},
        ("metadata",),
    )
    if not isinstance(meta_patch, _Same):
        patch["metadata"] = meta_patch
    spec_patch = _diff(current.get("spec"), desired.get("spec"), ("spec",))
    if not isinstance(spec_patch, _Same):
        patch["spec"] = spec_patch
    return patch or None


def desired_differs(current: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """Tell whether `current` must be written to become `desired` (see :func:`patch_for`)."""
    return patch_for(current, desired) is not None


def _diff(current: Any, desired: Any, path: Path) -> Any:
    """The merge patch turning `current` into `desired` at `path`, or `_SAME`."""
    if _is_empty(desired):
        return None if _removable(path) and not _is_empty(current) else _SAME
    if isinstance(desired, Mapping):
        if not isinstance(current, Mapping):
            return _plain(desired)
        return _diff_mapping(current, desired, path)
    if isinstance(desired, list):
        if not isinstance(current, list) or len(current) != len(desired):
            return _plain(desired)
        item_path = (*path, _ITEM)
        same = all(
            isinstance(_diff(now, want, item_path), _Same)
            for now, want in zip(current, desired, strict=True)
        )
        return _SAME if same else _plain(desired)
    return _SAME if _equal_scalars(current, desired, path) else desired


def _diff_mapping(current: Mapping[str, Any], desired: Mapping[str, Any], path: Path) -> Any:
    patch: dict[str, Any] = {}
    for key, want in desired.items():
        change = _diff(current.get(key), want, (*path, key))
        if not isinstance(change, _Same):
            patch[key] = change
    for key, now in current.items():
        if key not in desired and _removable((*path, key)) and not _is_empty(now):
            patch[key] = None
    return patch or _SAME


def _removable(path: Path) -> bool:
    """Whether a field at `path` that the desired object lacks must be removed."""
    if path[:-1] in _KEY_MAPS:
        return is_managed_key(path[-1])
    if path in _OWNED_OPTIONAL:
        return True
    return any(path[: len(tree)] == tree and len(path) > len(tree) for tree in _OWNED_SUBTREES)


def _equal_scalars(current: Any, desired: Any, path: Path) -> bool:
    if current == desired and type(current) is type(desired):
        return True
    if len(path) >= 2 and path[-2] in ("requests", "limits") and isinstance(current, str | int):
        try:
            return parse_quantity(str(current)) == parse_quantity(str(desired))
        except InvalidResourceRequest:
            return False
    return False


def _is_empty(value: Any) -> bool:
    """None, "", [], or a mapping of nothing but empty values (Go writes `net: {tls: {}}`)."""
    if isinstance(value, Mapping):
        return all(_is_empty(item) for item in value.values())
    return value is None or (isinstance(value, list | str) and len(value) == 0)


def _plain(value: Any) -> Any:
    """`value` as plain JSON, without empty members (a merge patch would keep them as set)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items() if not _is_empty(item)}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
