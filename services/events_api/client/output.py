"""Pure formatting: what the client prints for answers, errors and progress.

Human output is compact (a table, a few `key: value` lines); `--json` prints the API's JSON as
is. Fields a newer API adds are shown generically rather than dropped. Nothing here does I/O.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from events_api.client.errors import ClientError, ErrorAnswer

JsonObject = dict[str, Any]

PROGRAM = "pipeline-events"
SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
ASCII_SPINNER_FRAMES = "|/-\\"
_START_SHOWN = frozenset({"message", "pipeline_version", "warnings"})
_STATUS_SHOWN = frozenset({"ready", "reason", "message", "pipeline_version", "source_ready", "url"})


def to_json(value: Any) -> str:
    """`value` as indented JSON, for `--json`."""
    return msgspec.json.format(msgspec.json.encode(value), indent=2).decode()


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode()


def _moment(value: Any) -> str:
    """An API timestamp as `YYYY-MM-DD HH:MM:SS` UTC (as given when it is not one)."""
    if not isinstance(value, str):
        return _text(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]
    return "\n".join(lines)


def _event_of(pipeline: JsonObject) -> str:
    options = pipeline.get("options")
    return _text(options.get("event") if isinstance(options, dict) else None)


def pipelines_table(items: Sequence[JsonObject]) -> str:
    """`pipelines list`: one row per pipeline."""
    if not items:
        return "no pipelines"
    rows = [
        [
            _text(item.get("id")),
            _text(item.get("name")),
            _text(item.get("latest_version", item.get("version"))),
            _event_of(item),
            _moment(item.get("updated_at")),
        ]
        for item in items
    ]
    return table(["ID", "NAME", "VERSION", "EVENT", "UPDATED (UTC)"], rows)


def versions_table(items: Sequence[JsonObject]) -> str:
    """`pipelines versions`: one row per version, oldest first."""
    if not items:
        return "no versions"
    rows = [
        [
            _text(item.get("version")),
            _text(item.get("name")),
            _event_of(item),
            str(len(item.get("steps") or ())),
            _moment(item.get("updated_at")),
        ]
        for item in items
    ]
    return table(["VERSION", "NAME", "EVENT", "STEPS", "CREATED (UTC)"], rows)


def _step_line(step: Any) -> str:
    if not isinstance(step, dict):
        return f"  {_text(step)}"
    needs = step.get("needs") or []
    after = f"  needs {', '.join(map(str, needs))}" if needs else ""
    return f"  {_text(step.get('id'))}  ({_text(step.get('type'))}){after}"


def pipeline_details(pipeline: JsonObject) -> str:
    """`pipelines get`: the pipeline's identity, version, topic and steps."""
    version, latest = pipeline.get("version"), pipeline.get("latest_version")
    shown = f"{_text(version)} (latest)" if version == latest else f"{version} (latest {latest})"
    event = _event_of(pipeline)
    fields = [
        ("id", _text(pipeline.get("id"))),
        ("name", _text(pipeline.get("name"))),
        ("description", _text(pipeline.get("description"))),
        ("version", shown),
        ("event", event if event != "-" else "- (no options.event: it cannot be started)"),
        ("created", _moment(pipeline.get("created_at"))),
        ("updated", _moment(pipeline.get("updated_at"))),
    ]
    lines = [f"{name + ':':<13}{value}" for name, value in fields]
    steps = pipeline.get("steps")
    steps = steps if isinstance(steps, list) else []
    lines.append(f"steps:       {len(steps)}")
    lines += [_step_line(step) for step in steps]
    return "\n".join(lines)


def created_line(pipeline: JsonObject) -> str:
    """`pipelines create`: the new pipeline's id, first (scripts can `cut -d' ' -f2`)."""
    return (
        f"created {_text(pipeline.get('id'))} {_text(pipeline.get('name'))!r} "
        f"(version {_text(pipeline.get('version'))}, event {_event_of(pipeline)})"
    )


def _extra_lines(answer: JsonObject, shown: frozenset[str]) -> list[str]:
    return [
        f"  {key.replace('_', ' ')}: {_text(value)}"
        for key, value in answer.items()
        if key not in shown and value is not None
    ]


def start_lines(answer: JsonObject) -> tuple[str, list[str]]:
    """`events start`: the message and every other field; and the warnings, one per line."""
    headline = _text(answer.get("message"))
    if answer.get("pipeline_version") is not None:
        headline += f" (version {_text(answer['pipeline_version'])})"
    warnings = answer.get("warnings")
    warned = [f"warning: {_text(w)}" for w in warnings] if isinstance(warnings, list) else []
    return "\n".join([headline, *_extra_lines(answer, _START_SHOWN)]), warned


def why_not_ready(status: JsonObject) -> str:
    """`Reason: message` of a status that is not ready (whichever of the two it has)."""
    parts = [_text(status[key]) for key in ("reason", "message") if status.get(key)]
    return ": ".join(parts) or "no reason given"


def status_lines(pipeline_id: str, status: JsonObject) -> str:
    """`events status`: ready or why not, then the version, the source and any other field."""
    if status.get("ready") is True:
        headline = f"{pipeline_id}: ready"
    else:
        headline = f"{pipeline_id}: not ready ({why_not_ready(status)})"
    details = [
        f"  version: {_text(status.get('pipeline_version'))}",
        f"  source ready: {_text(status.get('source_ready'))}",
    ]
    if status.get("url"):
        details.append(f"  url: {_text(status['url'])}")
    return "\n".join([headline, *details, *_extra_lines(status, _STATUS_SHOWN)])


def not_ready_text(pipeline_id: str, status: JsonObject, *, timeout_seconds: float) -> str:
    """`events start --wait` when time ran out: the last reason and message."""
    return (
        f"{PROGRAM}: {pipeline_id} did not become ready within {timeout_seconds:g} s: "
        f"{why_not_ready(status)}; `{PROGRAM} events status {pipeline_id}` shows it later"
    )


def progress_text(pipeline_id: str, status: JsonObject | None, *, elapsed_seconds: float) -> str:
    """One progress line while waiting: elapsed time and why it is not ready yet."""
    why = "" if status is None else f": {why_not_ready(status)}"
    return f"waiting for {pipeline_id} to become ready ({elapsed_seconds:.0f} s){why}"


def spinner_line(frame: int, text: str, *, width: int, frames: str = SPINNER_FRAMES) -> str:
    """A spinner frame and `text`, cut short of `width` columns so redrawing with `\\r` works."""
    line = f"{frames[frame % len(frames)]} {text}"
    return line[: max(width - 1, 1)]


def error_text(error: ClientError) -> str:
    """An error for standard error: the message, the API's code, and every problem."""
    if not isinstance(error, ErrorAnswer):
        return f"{PROGRAM}: {error.message}"
    lines = [f"{PROGRAM}: {error.message} [{error.code}, HTTP {error.status}]"]
    lines += [f"  {path}: {message}" for path, message in error.problems]
    return "\n".join(lines)
