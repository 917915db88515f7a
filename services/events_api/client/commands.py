"""The handlers of `pipeline-events pipelines …` and `pipeline-events events …`.

Each handler reads its input, resolves the API URL and token, runs its calls in one `asyncio.run`
with one :class:`ApiClient`, and prints: results on standard output (the API's JSON with
`--json`), errors, warnings and progress on standard error. Every expected failure is a
:class:`ClientError`, printed as a message (no traceback) and ended with its exit code.
"""

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from events_api.client.api import ApiClient, ClientSettings, JsonObject
from events_api.client.config import ClientConfig, Flags, load_client_config
from events_api.client.documents import read_pipeline_body
from events_api.client.errors import ClientError, ErrorAnswer, UsageError
from events_api.client.exit_codes import ExitCode, exit_code_for
from events_api.client.output import (
    created_line,
    error_text,
    not_ready_text,
    pipeline_details,
    pipelines_table,
    start_lines,
    status_lines,
    to_json,
    versions_table,
)
from events_api.client.progress import progress_for, showing
from events_api.client.waiting import WaitPolicy, wait_until_ready

DEFAULT_WAIT_SECONDS = 300.0

Call = Callable[[ApiClient], Awaitable[ExitCode]]
DevTokenPath = Callable[[], Path]


@dataclass(frozen=True)
class Console:
    """Where a command writes: results to `out`, everything else to `err`."""

    out: TextIO
    err: TextIO
    json: bool

    def result(self, answer: Any, human: str) -> None:
        """The command's result: the API's JSON with `--json`, else the human text."""
        print(to_json(answer) if self.json else human, file=self.out, flush=True)

    def note(self, line: str) -> None:
        """A warning or progress line."""
        print(line, file=self.err, flush=True)

    def failed(self, error: ClientError) -> None:
        """An error: the message on `err`; with `--json`, the API's error body on `out` too."""
        if self.json and isinstance(error, ErrorAnswer) and error.body is not None:
            print(to_json(error.body), file=self.out, flush=True)
        self.note(error_text(error))


def _console(args: argparse.Namespace) -> Console:
    # Looked up per call: tests (and callers) may have replaced the streams.
    return Console(out=sys.stdout, err=sys.stderr, json=args.json)


async def _with_client(config: ClientConfig, call: Call) -> ExitCode:
    async with ApiClient(config, settings=ClientSettings()) as api:
        return await call(api)


def run(args: argparse.Namespace, call: Call, *, dev_token_path: DevTokenPath) -> int:
    """Run `call` with a client for the resolved API; a ClientError becomes its exit code."""
    console = _console(args)
    flags = Flags(api_url=args.api_url, token=args.token, config=args.config)
    # expanduser, unlike Path.home(), does not raise where there is no home folder.
    home = Path(os.path.expanduser("~"))
    try:
        config = load_client_config(flags, os.environ, home=home, dev_token_path=dev_token_path)
        return asyncio.run(_with_client(config, call))
    except ClientError as error:
        console.failed(error)
        return exit_code_for(error)
    except KeyboardInterrupt:
        console.note("pipeline-events: interrupted")
        return ExitCode.INTERRUPTED


def pipelines_create(args: argparse.Namespace, *, dev_token_path: DevTokenPath) -> int:
    """`pipelines create -f FILE`."""
    console = _console(args)
    try:
        body = read_pipeline_body(args.file, stdin=sys.stdin)
    except UsageError as error:
        console.failed(error)
        return ExitCode.USAGE

    async def call(api: ApiClient) -> ExitCode:
        created = await api.create_pipeline(body)
        console.result(created, created_line(created))
        return ExitCode.OK

    return run(args, call, dev_token_path=dev_token_path)


def _answer(
    args: argparse.Namespace,
    request: Callable[[ApiClient], Awaitable[JsonObject]],
    text: Callable[[JsonObject], str],
    *,
    dev_token_path: DevTokenPath,
) -> int:
    """A command that is one request: its answer as JSON, or as ``text`` renders it."""
    console = _console(args)

    async def call(api: ApiClient) -> ExitCode:
        answer = await request(api)
        console.result(answer, text(answer))
        return ExitCode.OK

    return run(args, call, dev_token_path=dev_token_path)


def pipelines_list(args: argparse.Namespace, *, dev_token_path: DevTokenPath) -> int:
    """`pipelines list [--name NAME]`."""
    return _answer(
        args,
        lambda api: api.list_pipelines(name=args.name),
        lambda listed: pipelines_table(listed["items"]),
        dev_token_path=dev_token_path,
    )


def pipelines_get(args: argparse.Namespace, *, dev_token_path: DevTokenPath) -> int:
    """`pipelines get ID [--version V]`."""
    return _answer(
        args,
        lambda api: api.get_pipeline(args.pipeline_id, version=args.version),
        pipeline_details,
        dev_token_path=dev_token_path,
    )


def pipelines_versions(args: argparse.Namespace, *, dev_token_path: DevTokenPath) -> int:
    """`pipelines versions ID`."""
    return _answer(
        args,
        lambda api: api.list_versions(args.pipeline_id),
        lambda listed: versions_table(listed["items"]),
        dev_token_path=dev_token_path,
    )


def _show_start(console: Console, answer: JsonObject, *, as_result: bool = True) -> None:
    """The start's answer (unless a later result carries it) and its warnings, which a user
    must see even with `--json`."""
    text, warnings = start_lines(answer)
    if as_result:
        console.result(answer, text)
    elif not console.json:
        console.note(text)
    for warning in warnings:
        console.note(warning)


async def _start_and_wait(
    api: ApiClient, console: Console, args: argparse.Namespace, timeout_seconds: float
) -> ExitCode:
    pipeline_id: str = args.pipeline_id
    answer = await api.start_event(pipeline_id, version=args.version, reset=args.reset)
    _show_start(console, answer, as_result=False)
    progress = progress_for(
        console.err, pipeline_id, timeout_seconds=timeout_seconds, environ=os.environ
    )
    outcome = await showing(
        progress,
        wait_until_ready(
            api,
            pipeline_id,
            policy=WaitPolicy(timeout_seconds=timeout_seconds),
            on_status=progress.update,
        ),
    )
    # One JSON document for scripts: the start's answer and the last status.
    console.result(
        {"start": answer, "status": outcome.status}, status_lines(pipeline_id, outcome.status)
    )
    if outcome.ready:
        return ExitCode.OK
    console.note(not_ready_text(pipeline_id, outcome.status, timeout_seconds=timeout_seconds))
    return ExitCode.NOT_READY


def events_start(args: argparse.Namespace, *, dev_token_path: DevTokenPath) -> int:
    """`events start ID [--version V] [--reset] [--wait [--timeout SECONDS]]`."""
    console = _console(args)
    if args.timeout is not None and not args.wait:
        console.note("pipeline-events: --timeout applies to --wait; add --wait or drop it")
        return ExitCode.USAGE
    timeout_seconds = DEFAULT_WAIT_SECONDS if args.timeout is None else args.timeout

    async def call(api: ApiClient) -> ExitCode:
        if args.wait:
            return await _start_and_wait(api, console, args, timeout_seconds)
        answer = await api.start_event(args.pipeline_id, version=args.version, reset=args.reset)
        _show_start(console, answer)
        return ExitCode.OK

    return run(args, call, dev_token_path=dev_token_path)


def events_status(args: argparse.Namespace, *, dev_token_path: DevTokenPath) -> int:
    """`events status ID`."""
    return _answer(
        args,
        lambda api: api.event_status(args.pipeline_id),
        lambda status: status_lines(args.pipeline_id, status),
        dev_token_path=dev_token_path,
    )


def events_stop(args: argparse.Namespace, *, dev_token_path: DevTokenPath) -> int:
    """`events stop ID`."""
    return _answer(
        args,
        lambda api: api.stop_event(args.pipeline_id),
        lambda answer: str(answer.get("message", "stopped")),
        dev_token_path=dev_token_path,
    )
