"""The Knative stand-in tools, built once per test session (minutes on a cold Go cache)."""

import pytest

from events_api.devstack.knative import KnativeTools, build_knative_tools


@pytest.fixture(scope="session")
def knative_tools() -> KnativeTools:
    """`knative-crds` and `knative-validate`, built from `tools/knative` or found in the cache."""
    return build_knative_tools()
