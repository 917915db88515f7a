"""The client's exit codes, in one place: what each means and which error ends in which.

`events_api.cli`'s docstring and `--help` epilog show :data:`MEANINGS`; a test keeps them equal.
"""

from enum import IntEnum

from events_api.client.errors import (
    ApiUnreachable,
    AuthFailed,
    ClientError,
    InvalidRequest,
    NotFound,
    ServerUnavailable,
    UsageError,
)


class ExitCode(IntEnum):
    """How a `pipeline-events` command ended."""

    OK = 0
    FAILED = 1
    USAGE = 2
    NOT_FOUND = 3
    AUTH = 4
    UNAVAILABLE = 5
    NOT_READY = 6
    INTERRUPTED = 130


MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.FAILED: "a failure the message explains (e.g. 409, 500, no event option)",
    ExitCode.USAGE: "bad usage or invalid input: arguments, pipeline file, config, 400/413/415/422",
    ExitCode.NOT_FOUND: "no such pipeline, version or trigger (404)",
    ExitCode.AUTH: "authentication or permission refused (401, 403)",
    ExitCode.UNAVAILABLE: "the API is unreachable, not at that URL, or unavailable (429, 502-504)",
    ExitCode.NOT_READY: "events start --wait: the trigger did not become ready in time",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}

_BY_ERROR: tuple[tuple[type[ClientError], ExitCode], ...] = (
    (UsageError, ExitCode.USAGE),
    (InvalidRequest, ExitCode.USAGE),
    (NotFound, ExitCode.NOT_FOUND),
    (AuthFailed, ExitCode.AUTH),
    (ApiUnreachable, ExitCode.UNAVAILABLE),
    (ServerUnavailable, ExitCode.UNAVAILABLE),
)


def exit_code_for(error: ClientError) -> ExitCode:
    """The exit code a command ends with after `error` (FAILED for any error not listed)."""
    for error_type, code in _BY_ERROR:
        if isinstance(error, error_type):
            return code
    return ExitCode.FAILED


def exit_codes_help() -> str:
    """The exit codes as `--help` shows them, one per line."""
    return "exit codes:\n" + "\n".join(
        f"  {int(code):<3} {meaning}" for code, meaning in MEANINGS.items()
    )
