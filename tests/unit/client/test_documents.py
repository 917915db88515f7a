"""The pipeline file is JSON or YAML, from a path or stdin; what cannot be a pipeline is refused
before any request, with what to fix."""

import io
import json
from pathlib import Path

import pytest

from events_api.client.documents import encode_body, parse_document, read_pipeline_body
from events_api.client.errors import UsageError

BODY = {"name": "orders", "options": {"event": "orders"}, "steps": []}


def test_json_and_yaml_give_the_same_body(tmp_path: Path) -> None:
    as_json, as_yaml = tmp_path / "p.json", tmp_path / "p.yaml"
    as_json.write_text(json.dumps(BODY))
    as_yaml.write_text("name: orders\noptions:\n  event: orders\nsteps: []\n")
    stdin = io.StringIO()
    assert json.loads(read_pipeline_body(str(as_json), stdin=stdin)) == BODY
    assert json.loads(read_pipeline_body(str(as_yaml), stdin=stdin)) == BODY


def test_dash_reads_standard_input() -> None:
    body = read_pipeline_body("-", stdin=io.StringIO("name: piped\nsteps: []\n"))
    assert json.loads(body) == {"name": "piped", "steps": []}


def test_yaml_dates_travel_as_iso_strings() -> None:
    document = parse_document("name: x\ndescription: 2026-05-01\n", source="f")
    assert json.loads(encode_body(document, source="f")) == {
        "name": "x",
        "description": "2026-05-01",
    }


@pytest.mark.parametrize(
    ("text", "json_only", "expected"),
    [
        ("", False, "f is empty"),
        ("[1, 2]", False, "f holds a list, not a pipeline"),
        ('"just text"', False, "f holds a str"),
        ("name: [x", False, "neither JSON nor valid YAML"),
        ("name: x", True, "f is not valid JSON"),
        ("a: 1\n---\nb: 2\n", False, "neither JSON nor valid YAML"),
    ],
)
def test_what_is_not_one_pipeline_mapping_is_refused(
    text: str, *, json_only: bool, expected: str
) -> None:
    with pytest.raises(UsageError, match=expected):
        parse_document(text, source="f", json_only=json_only)


def test_an_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no pipeline file"):
        read_pipeline_body(str(tmp_path / "none.yaml"), stdin=io.StringIO())
    with pytest.raises(UsageError, match="cannot read the pipeline file"):
        read_pipeline_body(str(tmp_path), stdin=io.StringIO())
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UsageError, match="cannot read the pipeline file"):
        read_pipeline_body(str(binary), stdin=io.StringIO())
