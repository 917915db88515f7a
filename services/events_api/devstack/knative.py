"""Knative's API objects and admission rules, without Knative: for a bare kube-apiserver.

The test cluster is a kube-apiserver with etcd and nothing else: no Knative controllers, no
webhooks. Two Go programs in `tools/knative` (built once, cached by content) stand in for what a
Knative installation adds at the API level:

- `knative-crds` prints the CustomResourceDefinitions of Serving's Service and
  eventing-kafka-broker's KafkaSource and KafkaSink, their schemas generated from Knative's own Go
  types (see `tools/knative/internal/crds` for how they differ from the shipped ones);
- `knative-validate` runs Knative's own `SetDefaults` and `Validate` on manifests, set up as
  Knative's admission webhooks set them up, so a test can assert that a manifest we build would
  be admitted by a real installation — and see what Knative would default in it.

Synchronous on purpose, like the rest of the devstack: test fixtures and the CLI call it.
"""

import copy
import functools
import json
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from events_api.devstack.errors import ProvisioningFailed, ToolMissing
from events_api.devstack.gobuild import build_go_program, tools_dir

_MODULE = "knative"
_VALIDATE_TIMEOUT = 120.0
_CRDS_TIMEOUT = 60.0
# knative-validate's exit status for input it cannot use (not JSON, an unsupported kind).
_UNUSABLE_INPUT = 2

Progress = Callable[[str], None]


def _ignore(_: str) -> None:
    """A progress sink that says nothing."""


class Verdict(msgspec.Struct, kw_only=True, frozen=True):
    """What Knative's admission webhooks would say about one manifest.

    Attributes:
        kind: the manifest's kind (`Service`, `KafkaSource`, `KafkaSink`).
        name: its `metadata.name` ("" when missing).
        valid: no error-level finding: the webhooks would admit it.
        errors: Knative's error messages, each ending with the field paths it concerns.
        warnings: warning-level findings, and fields Knative does not know (the API server
            prunes those).
        defaulted: the manifest after Knative's `SetDefaults`, as the webhook would store it;
            None when defaulting itself failed.
    """

    kind: str
    name: str
    valid: bool
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    defaulted: dict[str, Any] | None = None


_VERDICTS = msgspec.json.Decoder(list[Verdict])


@dataclass(frozen=True, slots=True)
class KnativeTools:
    """The two built programs."""

    crds: Path
    validate: Path


def build_knative_tools(*, progress: Progress = _ignore) -> KnativeTools:
    """Build (or find in the cache) `knative-crds` and `knative-validate`.

    Raises:
        ToolMissing: Go is not installed, or there is no checkout with `tools/`.
        ProvisioningFailed: a build failed (the message quotes the build log).
    """
    module = tools_dir() / _MODULE
    if not (module / "go.mod").exists():
        raise ToolMissing(f"the Knative tool module is not at {module}: update the checkout")
    return KnativeTools(
        crds=build_go_program(module, "./cmd/knative-crds", name="knative-crds", progress=progress),
        validate=build_go_program(
            module, "./cmd/knative-validate", name="knative-validate", progress=progress
        ),
    )


def knative_crds(*, progress: Progress = _ignore) -> list[dict[str, Any]]:
    """The CRDs for Service, KafkaSource (v1beta1 stored, v1 served) and KafkaSink.

    Generated once per process; each call returns its own copy, free to modify.

    Raises:
        ToolMissing: Go is not installed.
        ProvisioningFailed: the build or the generator failed.
    """
    binary = build_knative_tools(progress=progress).crds
    return copy.deepcopy(_generated_crds(binary))


@functools.cache
def _generated_crds(binary: Path) -> list[dict[str, Any]]:
    completed = _run(binary, b"", what="generating Knative's CRDs", timeout=_CRDS_TIMEOUT)
    crds = json.loads(completed.stdout)
    if not isinstance(crds, list):
        raise ProvisioningFailed(f"{binary.name} printed {type(crds).__name__}, not a JSON array")
    return crds


def validate_manifests(
    manifests: Sequence[Mapping[str, Any]],
    *,
    progress: Progress = _ignore,
    timeout: float = _VALIDATE_TIMEOUT,
) -> list[Verdict]:
    """Default and validate manifests as Knative's webhooks would on create, one verdict each.

    Raises:
        ValueError: a manifest is not a Service, KafkaSource or KafkaSink Knative knows.
        ToolMissing: Go is not installed.
        ProvisioningFailed: the build failed, or the validator crashed or timed out.
    """
    return _validate([dict(manifest) for manifest in manifests], progress, timeout)


def validate_updates(
    changes: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    *,
    progress: Progress = _ignore,
    timeout: float = _VALIDATE_TIMEOUT,
) -> list[Verdict]:
    """Like `validate_manifests`, for updates: each change is (stored object, new object).

    Knative's update rules apply, e.g. a KafkaSource's `consumerGroup` is immutable.

    Raises:
        ValueError, ToolMissing, ProvisioningFailed: as `validate_manifests`.
    """
    requests = [{"object": dict(new), "oldObject": dict(old)} for old, new in changes]
    return _validate(requests, progress, timeout)


def _validate(requests: list[dict[str, Any]], progress: Progress, timeout: float) -> list[Verdict]:
    if not requests:
        return []
    binary = build_knative_tools(progress=progress).validate
    completed = _run(
        binary, json.dumps(requests).encode(), what="validating manifests", timeout=timeout
    )
    try:
        verdicts = _VERDICTS.decode(completed.stdout)
    except msgspec.DecodeError as error:
        raise ProvisioningFailed(f"{binary.name} printed something unexpected: {error}") from error
    if len(verdicts) != len(requests):
        raise ProvisioningFailed(f"{binary.name} judged {len(verdicts)} of {len(requests)} objects")
    return verdicts


def _run(
    binary: Path, stdin: bytes, *, what: str, timeout: float
) -> subprocess.CompletedProcess[bytes]:
    """Run one of the tools with `stdin` as its input, capturing its output.

    Raises:
        ValueError: the tool refused its input (exit status 2).
        ToolMissing: the binary vanished from the cache.
        ProvisioningFailed: it failed otherwise or ran past `timeout` seconds.
    """
    try:
        completed = subprocess.run(
            [str(binary)], input=stdin, capture_output=True, timeout=timeout, check=False
        )
    except FileNotFoundError as error:
        raise ToolMissing(f"{what}: {binary} is gone; delete it and run again") from error
    except subprocess.TimeoutExpired as error:
        raise ProvisioningFailed(f"{what} took longer than {timeout:.0f} s") from error
    message = completed.stderr.decode(errors="replace").strip()
    if completed.returncode == _UNUSABLE_INPUT:
        raise ValueError(f"{what}: {message}")
    if completed.returncode != 0:
        raise ProvisioningFailed(f"{what} failed (exit {completed.returncode}): {message}")
    return completed
