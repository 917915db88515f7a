"""Every failure ends in its documented exit code: errors map to codes in one table, HTTP
answers map to errors by status, and the docstring and `--help` list exactly the codes there are."""

import json

import pytest

from events_api import cli
from events_api.client.api import error_for_answer
from events_api.client.config import ClientConfig
from events_api.client.errors import (
    ApiUnreachable,
    AuthFailed,
    ClientError,
    InvalidRequest,
    NotFound,
    RequestFailed,
    ServerUnavailable,
    UsageError,
)
from events_api.client.exit_codes import MEANINGS, ExitCode, exit_code_for, exit_codes_help

CONFIG = ClientConfig(
    api_url="http://127.0.0.1:8000", api_url_from="the default", token="t", token_from="--token"
)


def _answer(error: str = "some_code", message: str = "what happened") -> bytes:
    return json.dumps({"error": error, "message": message}).encode()


def _failure(status: int, content: bytes) -> ClientError:
    return error_for_answer(status, content, url=CONFIG.api_url + "/api/v1/x", config=CONFIG)


@pytest.mark.parametrize(
    ("status", "error_type", "code"),
    [
        (400, InvalidRequest, ExitCode.USAGE),
        (401, AuthFailed, ExitCode.AUTH),
        (403, AuthFailed, ExitCode.AUTH),
        (404, NotFound, ExitCode.NOT_FOUND),
        (409, RequestFailed, ExitCode.FAILED),
        (412, RequestFailed, ExitCode.FAILED),
        (413, InvalidRequest, ExitCode.USAGE),
        (415, InvalidRequest, ExitCode.USAGE),
        (422, InvalidRequest, ExitCode.USAGE),
        (429, ServerUnavailable, ExitCode.UNAVAILABLE),
        (500, RequestFailed, ExitCode.FAILED),
        (502, ServerUnavailable, ExitCode.UNAVAILABLE),
        (503, ServerUnavailable, ExitCode.UNAVAILABLE),
        (504, ServerUnavailable, ExitCode.UNAVAILABLE),
    ],
)
def test_an_api_error_answer_maps_by_status(
    status: int, error_type: type[ClientError], code: ExitCode
) -> None:
    error = _failure(status, _answer())
    assert type(error) is error_type
    assert exit_code_for(error) == code
    assert error.message.startswith("what happened")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        # Not the API's error body: a proxy, or the wrong URL.
        (404, ExitCode.UNAVAILABLE),
        (301, ExitCode.UNAVAILABLE),
        (401, ExitCode.AUTH),
        (500, ExitCode.UNAVAILABLE),
        (502, ExitCode.UNAVAILABLE),
    ],
)
def test_an_answer_that_is_not_from_the_api_is_never_not_found(status: int, code: ExitCode) -> None:
    error = _failure(status, b"<html>Not Found</html>")
    assert exit_code_for(error) == code
    assert f"HTTP {status} from http://127.0.0.1:8000/api/v1/x" in error.message


def test_the_apis_own_route_not_found_means_a_wrong_url_not_a_missing_pipeline() -> None:
    error = _failure(404, _answer("not_found", "Not Found"))
    assert exit_code_for(error) == ExitCode.UNAVAILABLE
    assert "has no endpoint http://127.0.0.1:8000/api/v1/x" in error.message
    assert "check the API URL (from the default)" in error.message


def test_a_redirect_says_where_to() -> None:
    error = error_for_answer(
        308, b"", url="http://h/api/v1/x", config=CONFIG, location="https://h/api/v1/x"
    )
    assert "it redirects to https://h/api/v1/x" in error.message


def test_a_422_keeps_every_problem() -> None:
    body = {
        "error": "validation_failed",
        "message": "the pipeline is invalid",
        "problems": [
            {"path": "$.name", "message": "too short"},
            {"path": "$.steps", "message": "x"},
        ],
    }
    error = _failure(422, json.dumps(body).encode())
    assert isinstance(error, InvalidRequest)
    assert error.problems == (("$.name", "too short"), ("$.steps", "x"))
    assert error.body == body


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UsageError("bad file"), ExitCode.USAGE),
        (ApiUnreachable("refused", url="http://x"), ExitCode.UNAVAILABLE),
        (ClientError("anything else"), ExitCode.FAILED),
    ],
)
def test_errors_without_an_answer_map_too(error: ClientError, code: ExitCode) -> None:
    assert exit_code_for(error) == code


def test_the_codes_are_distinct_and_each_has_a_meaning() -> None:
    assert set(MEANINGS) == set(ExitCode)
    assert len({int(code) for code in ExitCode}) == len(ExitCode)


def test_the_module_docstring_and_help_list_every_code() -> None:
    documented = cli.__doc__ or ""
    help_text = cli.build_parser().format_help()
    assert exit_codes_help() in help_text
    for code, meaning in MEANINGS.items():
        line = f"  {int(code):<3} {meaning}"
        assert line in documented, f"cli.py's docstring lacks {line!r}"
        assert line in help_text


def test_argparse_bad_usage_exits_2() -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(["events", "start"])
    assert exit_info.value.code == ExitCode.USAGE
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(["events", "start", "p", "--wait", "--timeout", "-1"])
    assert exit_info.value.code == ExitCode.USAGE
