"""Suite-wide rules: an asyncio test fails when it leaves a task running."""

import asyncio
from collections.abc import AsyncIterator

import pytest


@pytest.fixture
async def _fail_on_leaked_tasks() -> AsyncIterator[None]:
    before = asyncio.all_tasks()
    yield
    current = asyncio.current_task()
    leaked = [
        task for task in asyncio.all_tasks() - before if task is not current and not task.done()
    ]
    for task in leaked:
        task.cancel()
    assert not leaked, f"the test left tasks running: {[task.get_name() for task in leaked]}"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every asyncio test the leak check (hypothesis tests stay fixture-free)."""
    for item in items:
        if item.get_closest_marker("asyncio") is not None and isinstance(item, pytest.Function):
            # First in, last out: the check runs after every other fixture has torn down.
            item.fixturenames.insert(0, "_fail_on_leaked_tasks")
