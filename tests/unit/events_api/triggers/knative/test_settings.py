"""The Knative backend's settings refuse what only makes sense on a developer's machine."""

import pytest

from events_api.settings import SettingsError
from events_api.triggers.knative.settings import load_knative_settings


def test_runner_egress_to_loopback_is_refused_in_a_cluster() -> None:
    env = {"PIPELINE_EVENTS_KNATIVE_RUNNER": '{"egress": {"allow_loopback": true}}'}
    with pytest.raises(SettingsError, match=r"PIPELINE_EVENTS_KNATIVE_RUNNER.*allow_loopback"):
        load_knative_settings(env)


def test_the_default_runner_egress_is_accepted() -> None:
    env = {"PIPELINE_EVENTS_KNATIVE_RUNNER": '{"egress": {"allow_private_networks": true}}'}
    assert load_knative_settings(env).runner.egress.allow_private_networks
