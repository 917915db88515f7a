"""Human output is compact and complete: tables, details, every field of a start answer, why a
trigger is not ready, and errors with their code and problems."""

from typing import Any

from events_api.client.errors import ApiUnreachable, InvalidRequest
from events_api.client.output import (
    error_text,
    not_ready_text,
    pipeline_details,
    pipelines_table,
    progress_text,
    spinner_line,
    start_lines,
    status_lines,
    table,
    to_json,
    versions_table,
)

PIPELINE: dict[str, Any] = {
    "id": "pipeline-abc123",
    "name": "orders",
    "description": None,
    "options": {"event": "orders-topic"},
    "steps": [
        {"type": "transform", "id": "shape", "needs": []},
        {"type": "log", "id": "say", "needs": ["shape"]},
    ],
    "version": 2,
    "latest_version": 3,
    "created_at": "2026-05-01T10:00:00.123456Z",
    "updated_at": "2026-05-02T11:30:15+02:00",
}


def test_table_aligns_columns_and_trims_trailing_space() -> None:
    assert table(["A", "BB"], [["long", "x"], ["s", ""]]) == "A     BB\nlong  x\ns"


def test_the_pipelines_table() -> None:
    assert pipelines_table([PIPELINE]).splitlines() == [
        "ID               NAME    VERSION  EVENT         UPDATED (UTC)",
        "pipeline-abc123  orders  3        orders-topic  2026-05-02 09:30:15",
    ]
    assert pipelines_table([]) == "no pipelines"


def test_the_versions_table() -> None:
    no_event = {**PIPELINE, "version": 1, "options": {}, "steps": []}
    assert versions_table([no_event, PIPELINE]).splitlines() == [
        "VERSION  NAME    EVENT         STEPS  CREATED (UTC)",
        "1        orders  -             0      2026-05-02 09:30:15",
        "2        orders  orders-topic  2      2026-05-02 09:30:15",
    ]


def test_pipeline_details() -> None:
    assert pipeline_details(PIPELINE).splitlines() == [
        "id:          pipeline-abc123",
        "name:        orders",
        "description: -",
        "version:     2 (latest 3)",
        "event:       orders-topic",
        "created:     2026-05-01 10:00:00",
        "updated:     2026-05-02 09:30:15",
        "steps:       2",
        "  shape  (transform)",
        "  say  (log)  needs shape",
    ]
    latest = pipeline_details({**PIPELINE, "version": 3, "options": {}})
    assert "version:     3 (latest)" in latest
    assert "event:       - (no options.event: it cannot be started)" in latest


def test_start_lines_show_every_field_and_each_warning() -> None:
    answer = {
        "message": "Event started successfully",
        "pipeline_version": 4,
        "dead_letter": "http://dlq",
        "warnings": ["first", "second"],
        "something_new": {"a": 1},
    }
    text, warnings = start_lines(answer)
    assert text.splitlines() == [
        "Event started successfully (version 4)",
        "  dead letter: http://dlq",
        '  something new: {"a":1}',
    ]
    assert warnings == ["warning: first", "warning: second"]
    assert start_lines({"message": "Event started successfully"}) == (
        "Event started successfully",
        [],
    )


def test_status_lines_say_why_not_ready() -> None:
    status = {
        "ready": False,
        "source_ready": True,
        "pipeline_version": 2,
        "reason": "RevisionFailed",
        "message": "image pull",
        "generation": 3,
    }
    assert status_lines("p", status).splitlines() == [
        "p: not ready (RevisionFailed: image pull)",
        "  version: 2",
        "  source ready: yes",
        "  generation: 3",
    ]
    ready = {"ready": True, "pipeline_version": 1, "url": "http://runner"}
    assert status_lines("p", ready).splitlines() == [
        "p: ready",
        "  version: 1",
        "  source ready: -",
        "  url: http://runner",
    ]


def test_not_ready_and_progress_texts_carry_the_reason() -> None:
    status = {"ready": False, "reason": "Pending"}
    assert not_ready_text("p", status, timeout_seconds=2.5).startswith(
        "pipeline-events: p did not become ready within 2.5 s: Pending; "
    )
    assert progress_text("p", {"ready": False}, elapsed_seconds=3.4) == (
        "waiting for p to become ready (3 s): no reason given"
    )
    assert progress_text("p", None, elapsed_seconds=0) == "waiting for p to become ready (0 s)"


def test_a_spinner_line_never_wraps() -> None:
    assert spinner_line(1, "abc", width=80, frames="ab") == "b abc"
    assert spinner_line(0, "x" * 100, width=20, frames="|/") == "| " + "x" * 17


def test_errors_show_the_code_status_and_problems() -> None:
    error = InvalidRequest(
        "the pipeline is invalid",
        status=422,
        code="validation_failed",
        body={},
        problems=(("$.name", "too short"),),
    )
    assert error_text(error) == (
        "pipeline-events: the pipeline is invalid [validation_failed, HTTP 422]\n"
        "  $.name: too short"
    )
    assert error_text(ApiUnreachable("refused", url="u")) == "pipeline-events: refused"


def test_json_output_is_the_value_indented() -> None:
    assert to_json({"a": [1]}) == '{\n  "a": [\n    1\n  ]\n}'
