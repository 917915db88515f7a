"""Whole processes, end to end: the real API process (`pipeline-events serve`, local trigger
backend), the runner processes it starts, the session's real Kafka broker (tests/conftest.py),
and an HTTP service the pipelines call, in the test process.

Fixtures stop everything by PID, however the test ends. Delivery figures a test records with
`record_property("e2e_…", …)` (records, duplicates, retries) go to the JUnit XML and are printed
in an "end-to-end delivery" section of the terminal summary, passed tests included.
"""

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from e2e.api_process import ApiProcess
from e2e.enrichment import EnrichmentServer, serving
from e2e.flow import Flows
from e2e.topics import TopicReader
from events_api.devstack import KafkaServer
from support.kafka_topics import collecting

REPORTED_PREFIX = "e2e_"
"""`record_property` names shown in the terminal summary."""


@pytest.fixture
async def enrichment() -> AsyncIterator[EnrichmentServer]:
    """The service the pipelines' http steps call (in this process, on 127.0.0.1)."""
    async with serving() as server:
        yield server


@pytest.fixture
async def api(
    kafka_server: KafkaServer, tmp_path: Path, enrichment: EnrichmentServer
) -> AsyncIterator[ApiProcess]:
    """A started API process; stopped after the test with every runner it left (by PID).

    Depends on `enrichment` so that it stops first: runners close their connections to it.
    """
    installation = ApiProcess(tmp_path / "api", kafka=kafka_server)
    try:
        await installation.start()
        yield installation
    finally:
        problems = await installation.close()
    assert not problems, f"{problems}\n{installation.describe()}"


@pytest.fixture
async def read_topic(kafka_server: KafkaServer) -> AsyncIterator[Callable[[str], TopicReader]]:
    """`read_topic(name)` reads a topic from its beginning in the background until the test
    ends."""
    async with collecting(
        lambda topic: TopicReader(kafka_server.bootstrap_servers, topic), task_prefix="e2e-read"
    ) as start:
        yield start


@pytest.fixture
def flows(
    kafka_server: KafkaServer,
    api: ApiProcess,
    enrichment: EnrichmentServer,
    read_topic: Callable[[str], TopicReader],
) -> Flows:
    """`await flows.start(...)`: the tests' pipeline between fresh topics, serving through this
    test's API process (see :class:`e2e.flow.Flows`)."""
    return Flows(
        bootstrap_servers=kafka_server.bootstrap_servers,
        api=api,
        enrichment=enrichment,
        read_topic=read_topic,
    )


@pytest.fixture
def report_figure(
    record_property: Callable[[str, object], None],
) -> Callable[[str, object], None]:
    """`report_figure(name, value)`: into the JUnit XML and the terminal summary section."""

    def report(name: str, value: object) -> None:
        record_property(REPORTED_PREFIX + name, value)

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures the end-to-end tests reported, passed tests included."""
    lines: list[str] = []
    for outcome in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if not isinstance(report, pytest.TestReport) or report.when != "call":
                continue
            figures = [
                f"{name.removeprefix(REPORTED_PREFIX)}={value}"
                for name, value in report.user_properties
                if name.startswith(REPORTED_PREFIX)
            ]
            if figures:
                lines.append(f"{report.nodeid} [{outcome}]: {', '.join(figures)}")
    if lines:
        terminalreporter.section("end-to-end delivery")
        for line in lines:
            terminalreporter.write_line(line)
