"""JSON log lines, one object per line on stderr, for the cluster's log collector.

Each line has ``time`` (RFC 3339, UTC), ``level``, ``logger``, ``message``, the pipeline's
``pipeline_id`` and ``pipeline_version`` (on every line), the event fields when known
(``event_id``, ``event_source``, ``step``, ``status``), and
``exception`` with the traceback when one is attached. uvicorn's own loggers are routed here too,
so the process writes nothing that is not JSON.

No line per request: uvicorn's access log is held at WARNING (it logs at INFO), because a line
per event would cost more than a simple pipeline's run; Knative's queue-proxy has request logs
for that (``logging.enable-request-log``). Failed events log one warning line each.
"""

import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

import msgspec

_FIELDS: Final = ("step", "event_id", "event_source", "status")
_ENCODER = msgspec.json.Encoder()
_UVICORN_LOGGERS: Final = ("uvicorn", "uvicorn.error", "uvicorn.access")
_ACCESS_LOGGER: Final = "uvicorn.access"


class JsonFormatter(logging.Formatter):
    """Formats a record as one compact JSON object."""

    def __init__(self, static: Mapping[str, object] | None = None) -> None:
        super().__init__()
        self._static = dict(static or {})

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON (never raises on odd extras: they are stringified)."""
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **self._static,
        }
        for name in _FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _ENCODER.encode(line).decode()


def configure_json_logging(
    level: int = logging.INFO, *, static: Mapping[str, object] | None = None
) -> None:
    """Send every log record (uvicorn's included) to stderr as JSON, with ``static`` fields."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(static))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger(_ACCESS_LOGGER).setLevel(max(level, logging.WARNING))
