"""The argparse sub-commands `pipelines` and `events`, registered by `events_api.cli`.

The connection options (`--api-url`, `--token`, `--config`, `--json`) sit on every leaf command,
so they go after it: `pipeline-events pipelines list --json`.
"""

import argparse
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

from events_api.client import commands
from events_api.client.commands import DEFAULT_WAIT_SECONDS, DevTokenPath
from events_api.client.config import API_URL_ENV, CONFIG_ENV, DEFAULT_API_URL, TOKEN_ENV
from events_api.client.exit_codes import exit_codes_help

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Handler = Callable[..., int]

SETTINGS_HELP = f"""\
where the API is and which token to send (the first found wins):
  API URL  --api-url > ${API_URL_ENV} > api_url in the config file > {DEFAULT_API_URL}
  token    --token > ${TOKEN_ENV} > token in the config file
           > the token `pipeline-events dev` wrote (sent to a loopback URL only)
  config   --config > ${CONFIG_ENV} > $XDG_CONFIG_HOME/pipeline-events/config.toml
           (~/.config/pipeline-events/config.toml); TOML with the keys api_url and token
"""


def epilog() -> str:
    """The `--help` epilog of the client's commands: settings precedence and exit codes."""
    return SETTINGS_HELP + "\n" + exit_codes_help()


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"seconds must be a number >= 0, got {text!r}")
    return value


def _connection_options() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(add_help=False)
    group = options.add_argument_group("connection and output")
    group.add_argument("--api-url", metavar="URL", help=f"the API's base URL (${API_URL_ENV})")
    group.add_argument(
        "--token",
        help=f"the bearer token (prefer ${TOKEN_ENV} or the config file: "
        "arguments are visible to other users of this machine)",
    )
    group.add_argument("--config", metavar="FILE", help=f"the TOML config file (${CONFIG_ENV})")
    group.add_argument("--json", action="store_true", help="print the API's JSON, for scripts")
    return options


def _leaf(
    group: Subcommands,
    name: str,
    handler: Handler,
    *,
    help_text: str,
    dev_token_path: DevTokenPath,
) -> argparse.ArgumentParser:
    parser = group.add_parser(
        name,
        help=help_text,
        description=help_text[0].upper() + help_text[1:] + ".",
        parents=[_connection_options()],
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=functools.partial(handler, dev_token_path=dev_token_path))
    return parser


def _command_group(commands_: Subcommands, name: str, *, help_text: str) -> Subcommands:
    """A command whose sub-commands do the work (``pipelines …``, ``events …``)."""
    parser = commands_.add_parser(
        name,
        help=help_text,
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")


def _add_pipelines(commands_: Subcommands, dev_token_path: DevTokenPath) -> None:
    group = _command_group(
        commands_, "pipelines", help_text="create, list and read pipelines through the API"
    )
    create = _leaf(
        group,
        "create",
        commands.pipelines_create,
        help_text="create a pipeline from a JSON or YAML file (the POST /api/v1/pipelines body)",
        dev_token_path=dev_token_path,
    )
    create.add_argument(
        "-f", "--file", required=True, metavar="FILE", help="the pipeline file; - reads stdin"
    )
    listing = _leaf(
        group,
        "list",
        commands.pipelines_list,
        help_text="list your pipelines",
        dev_token_path=dev_token_path,
    )
    listing.add_argument("--name", help="only pipelines with exactly this name")
    get = _leaf(
        group,
        "get",
        commands.pipelines_get,
        help_text="show a pipeline, at its latest version or at --version",
        dev_token_path=dev_token_path,
    )
    get.add_argument("pipeline_id", metavar="ID")
    get.add_argument("--version", metavar="V", help="a version number, or latest (the default)")
    versions = _leaf(
        group,
        "versions",
        commands.pipelines_versions,
        help_text="list a pipeline's versions, oldest first",
        dev_token_path=dev_token_path,
    )
    versions.add_argument("pipeline_id", metavar="ID")


def _add_events(commands_: Subcommands, dev_token_path: DevTokenPath) -> None:
    group = _command_group(
        commands_,
        "events",
        help_text="start, inspect and stop a pipeline's trigger through the API",
    )
    start = _leaf(
        group,
        "start",
        commands.events_start,
        help_text="run a pipeline version on its topic (replaces a running trigger)",
        dev_token_path=dev_token_path,
    )
    start.add_argument("pipeline_id", metavar="ID")
    start.add_argument("--version", metavar="V", help="a version number, or latest (the default)")
    start.add_argument(
        "--reset",
        action="store_true",
        help="recreate the source: its consumer group's offsets are lost",
    )
    start.add_argument(
        "--wait",
        action="store_true",
        help="wait until the runner is ready and the source consumes (exit 6 if not in time)",
    )
    start.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help=f"with --wait: give up after this long (default {DEFAULT_WAIT_SECONDS:g})",
    )
    status = _leaf(
        group,
        "status",
        commands.events_status,
        help_text="show whether a pipeline's trigger is ready, and why not",
        dev_token_path=dev_token_path,
    )
    status.add_argument("pipeline_id", metavar="ID")
    stop = _leaf(
        group,
        "stop",
        commands.events_stop,
        help_text="stop and delete a pipeline's trigger",
        dev_token_path=dev_token_path,
    )
    stop.add_argument("pipeline_id", metavar="ID")


def add_client_commands(commands_: Subcommands, *, dev_token_path: Callable[[], Path]) -> None:
    """Register `pipelines …` and `events …` on the top-level sub-commands.

    Args:
        commands_: the top-level parser's sub-commands.
        dev_token_path: where `pipeline-events dev` keeps its token (called only when needed).
    """
    _add_pipelines(commands_, dev_token_path)
    _add_events(commands_, dev_token_path)
