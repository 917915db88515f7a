"""Settings come from PIPELINE_EVENTS_* variables, typed, with errors that name the problem."""

import pytest

from events_api.settings import ApiSettings, SettingsError, load_settings


def test_defaults_without_variables() -> None:
    assert load_settings({}) == ApiSettings()


def test_variables_are_converted_to_their_types() -> None:
    settings = load_settings(
        {"PIPELINE_EVENTS_PORT": "9000", "PIPELINE_EVENTS_ROOT_PATH": "/events", "OTHER": "x"}
    )
    assert settings.port == 9000
    assert settings.root_path == "/events"


def test_a_malformed_value_names_the_field() -> None:
    with pytest.raises(SettingsError, match=r"PIPELINE_EVENTS_PORT"):
        load_settings({"PIPELINE_EVENTS_PORT": "eighty"})
