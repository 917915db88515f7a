"""The pipeline file of `pipelines create -f FILE`: JSON or YAML, from a path or stdin (`-`).

The file holds the body `POST /api/v1/pipelines` takes: one mapping with `name`, `options` and
`steps`. JSON is tried first (and is all a `.json` file may be); anything else is read as YAML,
which needs PyYAML. The document is sent to the API as JSON and the API validates it, so the
client never disagrees with the server about what a valid pipeline is.
"""

from pathlib import Path
from typing import Any, TextIO

import msgspec

from events_api.client.errors import UsageError

STDIN = "-"


def read_source(name: str, *, stdin: TextIO) -> str:
    """The text of the file `name`, or of standard input for `-`.

    Raises:
        UsageError: the file cannot be read or is not UTF-8 text.
    """
    try:
        if name == STDIN:
            return stdin.read()
        return Path(name).read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise UsageError(f"no pipeline file {name!r}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read the pipeline file {name!r}: {error}") from error


def _load_yaml(text: str, *, source: str) -> Any:
    try:
        # Imported here: PyYAML is optional; JSON files work without it.
        import yaml  # noqa: PLC0415
    except ImportError as error:
        raise UsageError(
            f"{source} is not JSON, and reading YAML needs PyYAML (pip install pyyaml)"
        ) from error
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UsageError(f"{source} is neither JSON nor valid YAML: {error}") from error


def parse_document(text: str, *, source: str, json_only: bool = False) -> dict[str, Any]:
    """The pipeline document in `text`: JSON, else (unless `json_only`) YAML.

    Raises:
        UsageError: the text is not JSON/YAML, or not one mapping.
    """
    try:
        document: Any = msgspec.json.decode(text)
    except msgspec.DecodeError as error:
        if json_only:
            raise UsageError(f"{source} is not valid JSON: {error}") from error
        document = _load_yaml(text, source=source)
    if document is None:
        raise UsageError(f"{source} is empty; it should hold a pipeline (name, options, steps)")
    if not isinstance(document, dict):
        raise UsageError(
            f"{source} holds a {type(document).__name__}, not a pipeline: "
            "a mapping with name, options and steps"
        )
    return document


def encode_body(document: dict[str, Any], *, source: str) -> bytes:
    """The document as the JSON request body (YAML dates become ISO strings).

    Raises:
        UsageError: the document holds a value JSON cannot carry.
    """
    try:
        return msgspec.json.encode(document)
    except (msgspec.EncodeError, TypeError, OverflowError) as error:
        raise UsageError(f"{source} holds a value JSON cannot carry: {error}") from error


def read_pipeline_body(name: str, *, stdin: TextIO) -> bytes:
    """The JSON body to create the pipeline in file `name` (`-`: standard input).

    Raises:
        UsageError: the file cannot be read or does not hold one JSON/YAML mapping.
    """
    source = "standard input" if name == STDIN else name
    text = read_source(name, stdin=stdin)
    json_only = Path(name).suffix.lower() == ".json"
    return encode_body(parse_document(text, source=source, json_only=json_only), source=source)
