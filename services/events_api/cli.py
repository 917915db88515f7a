"""The `pipeline-events` command: serve the API, run it in dev mode, start dev infrastructure,
or use a running API as a client.

    pipeline-events serve            the API as deployed (settings from PIPELINE_EVENTS_*)
    pipeline-events dev              the API on this machine with a local Kafka
    pipeline-events infra kafka      a Kafka broker for development, until Ctrl-C
    pipeline-events infra postgres   a PostgreSQL server for development, until Ctrl-C
    pipeline-events infra kubernetes etcd + kube-apiserver with Knative's CRDs, until Ctrl-C
    pipeline-events infra prepare    download and build all of the above, start nothing
    pipeline-events send TOPIC [VALUE…] produce test records (one per value or stdin line)
    pipeline-events pipelines create -f FILE | list | get ID [--version V] | versions ID
    pipeline-events events start ID [--version V] [--reset] [--wait [--timeout S]]
    pipeline-events events status ID | stop ID

The client commands (`pipelines`, `events`) live in :mod:`events_api.client`; they find the API
and the token as `--api-url`/`--token` > `PIPELINE_EVENTS_API_URL`/`PIPELINE_EVENTS_TOKEN` > the
TOML config file (`--config` > `PIPELINE_EVENTS_CONFIG` > `~/.config/pipeline-events/config.toml`)
> `http://127.0.0.1:8000` and the token `pipeline-events dev` wrote (see `client/config.py`).

Exit codes (:class:`events_api.client.exit_codes.ExitCode`; serve, dev, infra and send use 0-2):
  0   success
  1   a failure the message explains (e.g. 409, 500, no event option)
  2   bad usage or invalid input: arguments, pipeline file, config, 400/413/415/422
  3   no such pipeline, version or trigger (404)
  4   authentication or permission refused (401, 403)
  5   the API is unreachable, not at that URL, or unavailable (429, 502-504)
  6   events start --wait: the trigger did not become ready in time
  130 interrupted (Ctrl-C)
"""

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import msgspec
import uvicorn

from events_api.auth.errors import AuthConfigError
from events_api.auth.settings import load_auth_settings
from events_api.client.config import DEV_PORT
from events_api.client.exit_codes import exit_codes_help
from events_api.client.parsers import add_client_commands
from events_api.devstack import (
    DevstackError,
    ensure_kafka_jars,
    find_postgres_bindir,
    start_kafka,
    start_postgres,
)
from events_api.devstack.cache import cache_root
from events_api.observability import configure_logging
from events_api.serving import serve
from events_api.settings import ApiSettings, SettingsError, load_settings

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _serve_api(settings: ApiSettings) -> None:
    configure_logging(settings.log_level)
    config = uvicorn.Config(
        "events_api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        root_path=settings.root_path,
        log_level=settings.log_level,
        loop="uvloop",
        http="httptools",
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # Our JSON logging (configure_logging) stays in place.
        log_config=None,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
    serve(config)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _treat_sigterm_as_interrupt() -> None:
    """Make SIGTERM unwind like Ctrl-C, so `finally` blocks stop what we started.

    uvicorn re-raises the signal that stopped it once it has shut down; with the default SIGTERM
    action the process would die there, leaving Kafka running.
    """
    signal.signal(signal.SIGTERM, _interrupt)


def _wait_for_interrupt() -> None:
    """Block until SIGINT or SIGTERM."""
    with contextlib.suppress(KeyboardInterrupt):
        signal.pause()


def _command_serve(_: argparse.Namespace) -> int:
    settings = load_settings()
    # Fail here, with the variable named, rather than inside uvicorn's app factory.
    load_auth_settings()
    _serve_api(settings)
    return 0


DEV_TOKEN_NAME = "dev-token"  # noqa: S105 - a file name, not a secret


def _dev_folder() -> Path:
    return cache_root() / "dev"


def _dev_token_path() -> Path:
    """Where `dev` keeps its token; the client commands read it as their last resort."""
    return _dev_folder() / DEV_TOKEN_NAME


def _dev_kafka_path() -> Path:
    """Where a running `dev` notes its Kafka's address, for `send` (removed when dev stops)."""
    return _dev_folder() / "kafka-bootstrap-servers"


def _dev_token(folder: Path) -> str:
    """The development token, minted once and kept (dev only) so restarts keep working."""
    from events_api.auth.scopes import Scope  # noqa: PLC0415 - dev mode only
    from events_api.auth.static_tokens import encode_token_file, new_token_entry  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    token_path, tokens_file = folder / DEV_TOKEN_NAME, folder / "tokens.json"
    if token_path.exists() and tokens_file.exists():
        return token_path.read_text().strip()
    minted = new_token_entry(name="developer", tenant="dev", scopes=tuple(Scope))
    tokens_file.write_bytes(encode_token_file([minted.entry]))
    token_path.write_text(minted.token + "\n")
    token_path.chmod(0o600)
    return minted.token


def _command_dev(args: argparse.Namespace) -> int:
    folder = _dev_folder()
    token = _dev_token(folder)
    # Dev defaults, each overridable from the environment.
    os.environ.setdefault("PIPELINE_EVENTS_AUTH_MODE", "static")
    os.environ.setdefault("PIPELINE_EVENTS_AUTH_STATIC_TOKENS_FILE", str(folder / "tokens.json"))
    os.environ.setdefault("PIPELINE_EVENTS_SQLITE_PATH", str(folder / "pipelines.sqlite3"))
    # Triggers run here: a runner process per pipeline, fed by a local Kafka consumer.
    os.environ.setdefault("PIPELINE_EVENTS_TRIGGER_BACKEND", "local")
    os.environ.setdefault("PIPELINE_EVENTS_LOCAL_DATA_DIR", str(folder / "local"))
    settings = msgspec.structs.replace(load_settings(), host="127.0.0.1", port=args.port)
    load_auth_settings()
    with contextlib.ExitStack() as cleanup:
        if os.environ.get(KAFKA_ENV):
            _say(f"Using the Kafka at {os.environ[KAFKA_ENV]} ({KAFKA_ENV}).")
        else:
            workdir = Path(tempfile.mkdtemp(prefix="pipeline-events-dev-kafka-"))
            kafka = start_kafka(workdir=workdir, progress=_say)
            cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
            cleanup.callback(_say, "Stopped Kafka.")
            cleanup.callback(kafka.stop)
            os.environ[KAFKA_ENV] = kafka.bootstrap_servers
            _say(f"Kafka is ready at {kafka.bootstrap_servers} (data in {workdir}).")
        _dev_kafka_path().write_text(os.environ[KAFKA_ENV] + "\n")
        cleanup.callback(_dev_kafka_path().unlink, missing_ok=True)
        # The local backend's consumers, dead letters and runners' kafka steps use this Kafka.
        os.environ.setdefault(
            "PIPELINE_EVENTS_LOCAL_KAFKA_BOOTSTRAP_SERVERS", os.environ[KAFKA_ENV]
        )
        _say(f"The API listens on http://127.0.0.1:{settings.port} — Ctrl-C stops everything.")
        _say(f"Development token (tenant 'dev', every scope): {token}")
        _say(
            f"  curl -H 'Authorization: Bearer {token}' "
            f"http://127.0.0.1:{settings.port}/api/v1/pipelines"
        )
        if settings.port == DEV_PORT:
            _say("  or the CLI, which finds this API and its token: pipeline-events pipelines list")
        else:
            _say(
                f"  or the CLI: pipeline-events pipelines list --api-url "
                f"http://127.0.0.1:{settings.port}"
            )
        _serve_api(settings)
    return 0


def _command_infra(args: argparse.Namespace) -> int:
    if args.component == "kafka":
        workdir = Path(tempfile.mkdtemp(prefix="pipeline-events-kafka-"))
        with start_kafka(workdir=workdir, progress=_say) as kafka:
            print(f"{KAFKA_ENV}={kafka.bootstrap_servers}", flush=True)
            _say(f"Kafka (pid {kafka.process.pid}) runs until Ctrl-C; data in {workdir}.")
            _wait_for_interrupt()
    elif args.component == "postgres":
        with start_postgres() as postgres:
            print(f"PIPELINE_EVENTS_DATABASE_URL={postgres.dsn}", flush=True)
            _say(f"PostgreSQL (pid {postgres.process.pid}) runs until Ctrl-C.")
            _wait_for_interrupt()
    elif args.component == "kubernetes":
        _run_kubernetes(watch_cache=not args.no_watch_cache)
    else:
        _prepare_everything()
    return 0


def _prepare_everything() -> None:
    """Resolve and build every artifact the servers need, so tests start them in seconds."""
    # Imported here: they need the `dev` extra, which deployed images do not install.
    from events_api.devstack.checkers import actionlint, kustomize  # noqa: PLC0415
    from events_api.devstack.knative import build_knative_tools  # noqa: PLC0415
    from events_api.devstack.kubernetes import ensure_etcd, ensure_kube_apiserver  # noqa: PLC0415

    ensure_kafka_jars(progress=_say)
    find_postgres_bindir()
    ensure_etcd(progress=_say)
    ensure_kube_apiserver(progress=_say)
    build_knative_tools(progress=_say)
    kustomize(progress=_say)
    actionlint(progress=_say)
    _say("Kafka, PostgreSQL, etcd, kube-apiserver, the Knative tools and the linters are ready.")


def _run_kubernetes(*, watch_cache: bool) -> None:
    # Imported here: they need the `dev` extra, which deployed images do not install.
    from events_api.devstack.knative import knative_crds  # noqa: PLC0415
    from events_api.devstack.kubernetes import start_kubernetes  # noqa: PLC0415

    workdir = Path(tempfile.mkdtemp(prefix="pipeline-events-kubernetes-"))
    with start_kubernetes(workdir=workdir, watch_cache=watch_cache, progress=_say) as plane:
        plane.apiserver.install_crds(knative_crds())
        print(f"KUBECONFIG={plane.apiserver.admin_kubeconfig}", flush=True)
        _say(
            f"kube-apiserver (pid {plane.apiserver.process.pid}) at {plane.apiserver.url} and "
            f"etcd (pid {plane.etcd.process.pid}) run until Ctrl-C; Knative's CRDs are installed; "
            f"audit log {plane.apiserver.audit_log}."
        )
        _wait_for_interrupt()


def _command_send(args: argparse.Namespace) -> int:
    # Imported here: producing needs aiokafka, which only the CLI's send uses in this package.
    from events_api.sending import (  # noqa: PLC0415
        SendFailed,
        parse_header,
        records_from,
        send_records,
    )

    bootstrap = args.bootstrap_servers or os.environ.get(KAFKA_ENV) or _running_dev_kafka()
    if not bootstrap:
        _say(
            f"pipeline-events send: give --bootstrap-servers or set {KAFKA_ENV} "
            "(or start `pipeline-events dev`, whose Kafka is the default)"
        )
        return 2
    try:
        headers = [parse_header(text) for text in args.header]
    except ValueError as error:
        _say(f"pipeline-events send: {error}")
        return 2
    values = args.values or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    records = records_from(values, key=args.key, headers=headers)
    try:
        placed = asyncio.run(
            send_records(bootstrap, args.topic, records, within_seconds=args.timeout)
        )
    except SendFailed as error:
        _say(f"pipeline-events send: {error}")
        return 1
    where = ", ".join(f"{partition}:{offset}" for partition, offset in placed)
    _say(f"sent {len(placed)} record(s) to {args.topic} (partition:offset {where})")
    return 0


def _running_dev_kafka() -> str | None:
    """The Kafka of a running `pipeline-events dev`, if one is running."""
    try:
        return _dev_kafka_path().read_text().strip() or None
    except OSError:
        return None


def build_parser() -> argparse.ArgumentParser:
    """The command line: one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="pipeline-events",
        description="Run data pipelines when messages land on Kafka.",
        epilog=exit_codes_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="serve the API (settings from PIPELINE_EVENTS_*)")
    serve.set_defaults(handler=_command_serve)
    dev = commands.add_parser("dev", help="the API on this machine, with a local Kafka")
    dev.add_argument(
        "--port",
        type=int,
        default=DEV_PORT,
        help=f"port on 127.0.0.1 (default {DEV_PORT})",
    )
    dev.set_defaults(handler=_command_dev)
    infra = commands.add_parser("infra", help="start development infrastructure until Ctrl-C")
    infra.add_argument("component", choices=["kafka", "postgres", "kubernetes", "prepare"])
    infra.add_argument(
        "--no-watch-cache",
        action="store_true",
        help="kubernetes: serve watches from etcd, so compacting etcd forces 410 Gone",
    )
    infra.set_defaults(handler=_command_infra)
    send = commands.add_parser("send", help="produce test records to a Kafka topic")
    send.add_argument("topic")
    send.add_argument("values", nargs="*", help="record values (default: one per stdin line)")
    send.add_argument("--key", help="the records' key")
    send.add_argument(
        "--header", action="append", default=[], metavar="NAME=VALUE", help="a header (repeat)"
    )
    send.add_argument(
        "--bootstrap-servers",
        help=f"Kafka (default: ${KAFKA_ENV}, else the Kafka of a running `pipeline-events dev`)",
    )
    send.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    send.set_defaults(handler=_command_send)
    add_client_commands(commands, dev_token_path=_dev_token_path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `pipeline-events` console script."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse gives `send`'s values only when they come before the options; values after
    # `--key K` are what a person types too (`send TOPIC --key K V1 V2`).
    if extra and args.command == "send" and not any(item.startswith("-") for item in extra):
        args.values += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _treat_sigterm_as_interrupt()
    try:
        code: int = args.handler(args)
    except (DevstackError, SettingsError, AuthConfigError) as error:
        _say(f"pipeline-events: {error}")
        return 1
    except KeyboardInterrupt:
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
