"""The API URL and token resolve by precedence — flags, environment, config file, dev defaults —
and every broken input is a UsageError that names its source."""

from pathlib import Path

import pytest

from events_api.client.config import (
    DEFAULT_API_URL,
    ConfigFile,
    FileSettings,
    Flags,
    config_file_location,
    is_loopback,
    load_client_config,
    read_config_file,
    resolve,
)
from events_api.client.errors import UsageError

FLAG_URL, ENV_URL, FILE_URL = "https://flag.example", "https://env.example", "https://file.example"
FILE_PATH = "/home/me/.config/pipeline-events/config.toml"
ENV = {"PIPELINE_EVENTS_API_URL": ENV_URL, "PIPELINE_EVENTS_TOKEN": "env-token"}
FILE = FileSettings(api_url=FILE_URL, token="file-token")


@pytest.mark.parametrize(
    ("flags", "environ", "file", "expected"),
    [
        (
            Flags(api_url=FLAG_URL, token="flag-token"),
            ENV,
            FILE,
            (FLAG_URL, "--api-url", "flag-token", "--token"),
        ),
        (
            Flags(),
            ENV,
            FILE,
            (ENV_URL, "$PIPELINE_EVENTS_API_URL", "env-token", "$PIPELINE_EVENTS_TOKEN"),
        ),
        (
            Flags(),
            {},
            FILE,
            (FILE_URL, f"api_url in {FILE_PATH}", "file-token", f"token in {FILE_PATH}"),
        ),
        (Flags(), {}, FileSettings(), (DEFAULT_API_URL, "the default", None, None)),
        # Each setting on its own: a flag URL with a file token.
        (
            Flags(api_url=FLAG_URL),
            {},
            FILE,
            (FLAG_URL, "--api-url", "file-token", f"token in {FILE_PATH}"),
        ),
        # Empty values count as not given.
        (
            Flags(api_url="", token=" "),
            {"PIPELINE_EVENTS_API_URL": "", "PIPELINE_EVENTS_TOKEN": ""},
            FILE,
            (FILE_URL, f"api_url in {FILE_PATH}", "file-token", f"token in {FILE_PATH}"),
        ),
    ],
)
def test_the_first_source_found_wins(
    flags: Flags,
    environ: dict[str, str],
    file: FileSettings,
    expected: tuple[str, str, str | None, str | None],
) -> None:
    config = resolve(flags, environ, file=file, file_path=FILE_PATH)
    assert (config.api_url, config.api_url_from, config.token, config.token_from) == expected


def test_the_dev_token_is_the_last_resort_and_only_for_this_machine() -> None:
    empty = FileSettings()
    local = resolve(Flags(), {}, file=empty, file_path="", dev_token="dev", dev_token_path="/c")
    assert (local.token, local.token_from) == ("dev", "the dev token of `pipeline-events dev` (/c)")
    remote = resolve(
        Flags(api_url="https://api.example"), {}, file=empty, file_path="", dev_token="dev"
    )
    assert remote.token is None
    given = resolve(Flags(token="mine"), {}, file=empty, file_path="", dev_token="dev")
    assert given.token == "mine"


def test_the_url_loses_its_trailing_slash_and_keeps_its_prefix() -> None:
    flags = Flags(api_url="https://h.example/pipeline-events/")
    config = resolve(flags, {}, file=FileSettings(), file_path="")
    assert config.api_url == "https://h.example/pipeline-events"


@pytest.mark.parametrize(
    "url", ["127.0.0.1:8000", "ftp://h.example", "http://", "http://h:port", "http://h/?a=1"]
)
def test_a_url_that_is_not_http_is_refused_naming_its_source(url: str) -> None:
    with pytest.raises(UsageError, match=r"from \$PIPELINE_EVENTS_API_URL"):
        resolve(Flags(), {"PIPELINE_EVENTS_API_URL": url}, file=FileSettings(), file_path="")


@pytest.mark.parametrize("token", ["Bearer abc", "abc\ndef", "tök"])
def test_a_token_that_cannot_be_one_is_refused(token: str) -> None:
    with pytest.raises(UsageError, match="the token from --token"):
        resolve(Flags(token=token), {}, file=FileSettings(), file_path="")


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8000", True),
        ("http://127.1.2.3", True),
        ("http://localhost:9000", True),
        ("http://[::1]:8000", True),
        ("http://10.0.0.1", False),
        ("https://api.example", False),
    ],
)
def test_loopback_urls(url: str, *, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_the_config_file_location_by_precedence() -> None:
    home = Path("/home/me")
    assert config_file_location(
        Flags(config="/a.toml"), {"PIPELINE_EVENTS_CONFIG": "/b"}, home=home
    ) == (ConfigFile(path="/a.toml", named_by="--config"))
    assert config_file_location(Flags(), {"PIPELINE_EVENTS_CONFIG": "/b.toml"}, home=home) == (
        ConfigFile(path="/b.toml", named_by="$PIPELINE_EVENTS_CONFIG")
    )
    assert config_file_location(Flags(), {"XDG_CONFIG_HOME": "/x"}, home=home) == ConfigFile(
        path="/x/pipeline-events/config.toml"
    )
    assert config_file_location(Flags(), {}, home=home) == ConfigFile(
        path="/home/me/.config/pipeline-events/config.toml"
    )


def test_a_config_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('api_url = "https://api.example"\ntoken = "t0k"\n')
    settings = read_config_file(ConfigFile(path=str(path)))
    assert settings == FileSettings(api_url="https://api.example", token="t0k")


def test_a_missing_default_config_file_is_no_settings(tmp_path: Path) -> None:
    assert read_config_file(ConfigFile(path=str(tmp_path / "none.toml"))) == FileSettings()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no config file at .* \\(named by --config\\)"),
        ("api_url = ", "is not valid TOML"),
        ('api-url = "https://x"', "unknown field `api-url`.*api_url and token"),
        ("token = 3", "Expected `str \\| null`, got `int`"),
        (b"\xff\xfe", "cannot read the config file"),
    ],
)
def test_a_broken_config_file_is_a_usage_error(
    tmp_path: Path, content: str | bytes | None, expected: str
) -> None:
    path = tmp_path / "config.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(UsageError, match=expected):
        read_config_file(ConfigFile(path=str(path), named_by="--config"))


def _never() -> Path:
    raise AssertionError("the dev token was looked for although it cannot be used")


def test_the_dev_token_file_is_read_only_when_it_would_be_used(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with_token = load_client_config(Flags(token="t"), {}, home=home, dev_token_path=_never)
    assert with_token.token == "t"
    remote = Flags(api_url="https://api.example")
    assert load_client_config(remote, {}, home=home, dev_token_path=_never).token is None
    dev_token = tmp_path / "dev-token"
    dev_token.write_text("minted\n")
    local = load_client_config(Flags(), {}, home=home, dev_token_path=lambda: dev_token)
    assert (local.api_url, local.token) == (DEFAULT_API_URL, "minted")
    missing = load_client_config(Flags(), {}, home=home, dev_token_path=lambda: tmp_path / "x")
    assert missing.token is None
