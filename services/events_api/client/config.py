"""Where the API is and which token to send — and where each came from, for error messages.

Each setting is resolved on its own; the first one found wins::

    API URL  --api-url > $PIPELINE_EVENTS_API_URL > api_url in the file > http://127.0.0.1:8000
    token    --token   > $PIPELINE_EVENTS_TOKEN   > token in the file   > the dev token (below)

The config file is TOML with the keys `api_url` and `token` (any other key is an error, so a typo
does not go unnoticed). It is the file `--config` or `$PIPELINE_EVENTS_CONFIG` names (which must
exist), else `$XDG_CONFIG_HOME/pipeline-events/config.toml` or `~/.config/pipeline-events/
config.toml` (which may be missing). The dev token is the one `pipeline-events dev` writes; it is
sent only to a loopback URL, so a token minted for this machine never leaves it.

:func:`resolve` is pure; reading the config file and the dev token are separate functions.
"""

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from events_api.client.errors import UsageError
from events_api.loopback import is_loopback_host

DEV_PORT = 8000
"""Where `pipeline-events dev` listens by default."""
DEFAULT_API_URL = f"http://127.0.0.1:{DEV_PORT}"
API_URL_ENV = "PIPELINE_EVENTS_API_URL"
TOKEN_ENV = "PIPELINE_EVENTS_TOKEN"  # noqa: S105 - a variable name, not a secret
CONFIG_ENV = "PIPELINE_EVENTS_CONFIG"
_CONFIG_RELATIVE = Path("pipeline-events") / "config.toml"


class Flags(msgspec.Struct, frozen=True, kw_only=True):
    """What the command line says (None: not given)."""

    api_url: str | None = None
    token: str | None = None
    config: str | None = None


class FileSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The config file's keys."""

    api_url: str | None = None
    """The API's base URL, with the ingress prefix if any (`https://host/prefix`)."""
    token: str | None = None
    """The bearer token."""


class ConfigFile(msgspec.Struct, frozen=True, kw_only=True):
    """Which config file to read."""

    path: str
    named_by: str | None = None
    """`--config` or the variable that named it; None for the default location."""


class ClientConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The resolved API URL and token, each with where it came from."""

    api_url: str
    """Validated, without a trailing slash."""
    api_url_from: str
    token: str | None = None
    token_from: str | None = None


def _given(value: str | None) -> str | None:
    """An empty flag or variable counts as not given."""
    return value.strip() if value and value.strip() else None


def config_file_location(flags: Flags, environ: Mapping[str, str], *, home: Path) -> ConfigFile:
    """The config file to read: named by `--config` or the variable, else the default one."""
    if (named := _given(flags.config)) is not None:
        return ConfigFile(path=str(Path(named).expanduser()), named_by="--config")
    if (named := _given(environ.get(CONFIG_ENV))) is not None:
        return ConfigFile(path=str(Path(named).expanduser()), named_by=f"${CONFIG_ENV}")
    xdg = _given(environ.get("XDG_CONFIG_HOME"))
    base = Path(xdg) if xdg else home / ".config"
    return ConfigFile(path=str(base / _CONFIG_RELATIVE))


def read_config_file(location: ConfigFile) -> FileSettings:
    """The config file's settings; none when the default file does not exist.

    Raises:
        UsageError: a named file is missing, or a file is unreadable, not TOML, or has a key or
            value this client does not know.
    """
    path = location.path
    try:
        text = Path(path).read_bytes().decode()
    except FileNotFoundError as error:
        if location.named_by is None:
            return FileSettings()
        raise UsageError(f"no config file at {path} (named by {location.named_by})") from error
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read the config file {path}: {error}") from error
    try:
        return msgspec.convert(tomllib.loads(text), FileSettings)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"the config file {path} is not valid TOML: {error}") from error
    except msgspec.ValidationError as error:
        raise UsageError(
            f"the config file {path}: {error} (it takes the string keys api_url and token)"
        ) from error


def read_dev_token(path: Path) -> str | None:
    """The token `pipeline-events dev` wrote, if it did (an unreadable file counts as none)."""
    try:
        return _given(path.read_text())
    except (OSError, UnicodeDecodeError):
        return None


def is_loopback(url: str) -> bool:
    """Whether `url`'s host is this machine (`localhost`, 127.0.0.0/8, ::1)."""
    return is_loopback_host(urlsplit(url).hostname)


def _checked_url(url: str, source: str) -> str:
    try:
        parts = urlsplit(url)
        has_host = bool(parts.hostname)
        _ = parts.port  # a port that is not a number raises here
    except ValueError as error:
        raise UsageError(f"the API URL from {source} is malformed: {url!r} ({error})") from error
    if parts.scheme not in {"http", "https"} or not has_host:
        raise UsageError(
            f"the API URL from {source} must be http:// or https:// with a host, got {url!r}"
        )
    if parts.query or parts.fragment:
        raise UsageError(f"the API URL from {source} must not have a query or fragment: {url!r}")
    return url.rstrip("/")


def _checked_token(token: str, source: str) -> str:
    # It goes into an HTTP header: a stray space or newline would be a confusing 401 or a crash.
    if not (token.isascii() and token.isprintable()) or " " in token:
        raise UsageError(
            f"the token from {source} has spaces or characters a token cannot have; "
            "give the token alone, without 'Bearer '"
        )
    return token


def resolve(
    flags: Flags,
    environ: Mapping[str, str],
    *,
    file: FileSettings,
    file_path: str,
    dev_token: str | None = None,
    dev_token_path: str = "",
) -> ClientConfig:
    """The API URL and token by precedence: flags, environment, config file, dev defaults.

    Raises:
        UsageError: the URL is not an http(s) URL, or the token cannot be one.
    """
    url_choices = (
        (flags.api_url, "--api-url"),
        (environ.get(API_URL_ENV), f"${API_URL_ENV}"),
        (file.api_url, f"api_url in {file_path}"),
        (DEFAULT_API_URL, "the default"),
    )
    url, url_from = next((v, s) for v, s in url_choices if _given(v) is not None)
    api_url = _checked_url(_given(url) or DEFAULT_API_URL, url_from)
    token_choices = (
        (flags.token, "--token"),
        (environ.get(TOKEN_ENV), f"${TOKEN_ENV}"),
        (file.token, f"token in {file_path}"),
    )
    for value, source in token_choices:
        if (token := _given(value)) is not None:
            checked = _checked_token(token, source)
            return ClientConfig(
                api_url=api_url, api_url_from=url_from, token=checked, token_from=source
            )
    if dev_token is not None and is_loopback(api_url):
        return ClientConfig(
            api_url=api_url,
            api_url_from=url_from,
            token=_checked_token(dev_token, "the dev token"),
            token_from=f"the dev token of `pipeline-events dev` ({dev_token_path})",
        )
    return ClientConfig(api_url=api_url, api_url_from=url_from)


def load_client_config(
    flags: Flags,
    environ: Mapping[str, str],
    *,
    home: Path,
    dev_token_path: Callable[[], Path],
) -> ClientConfig:
    """Read the config file (and, only when it would be used, the dev token), then resolve.

    Raises:
        UsageError: see :func:`read_config_file` and :func:`resolve`.
    """
    location = config_file_location(flags, environ, home=home)
    file = read_config_file(location)
    config = resolve(flags, environ, file=file, file_path=location.path)
    if config.token is not None or not is_loopback(config.api_url):
        return config
    try:
        dev_path = dev_token_path()
    except OSError:
        # The cache folder cannot even be created: there is no dev token to find.
        return config
    return resolve(
        flags,
        environ,
        file=file,
        file_path=location.path,
        dev_token=read_dev_token(dev_path),
        dev_token_path=str(dev_path),
    )
