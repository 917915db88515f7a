"""One pipeline's local trigger: its runner processes, its consumer, its observed status.

What a Knative Service plus its KafkaSource do, for one pipeline on this machine:

* **start** converges the consumer at once (a new one only when the topic, ordering, key type,
  initial offset, delivery or container concurrency changed; the consumer group, and so the
  offsets, stay the same)
  and rolls out the version in the background: a new runner process, its health check, then
  the switch — later deliveries (and retries of in-flight ones) go to the new runner — and
  only then the old runner stops (SIGTERM: it drains, answering 503 to stragglers, which are
  retried on the new one). Nothing is lost: records wait (uncommitted) while no runner serves.
  A runner that fails to start leaves the old one serving, as a failed revision does;
* a serving runner that **exits unexpectedly** is restarted, as the kubelet restarts a crashed
  container: deliveries are held meanwhile (the attempt that was in flight counts as failed),
  and the restarts back off (1 s, 2 s, 4 s … up to `runner_restart_backoff_max_seconds`, half
  jittered), the count starting over once a runner has served for that long;
* **status** is read from this object (no I/O): `ready` when the runner of the requested
  version answered its health check and still runs, `source_ready` when the consumer holds
  partitions; reason and message say what is missing (a crashed runner's log tail);
* waiting for readiness waits on a condition notified at each change (no polling).
"""

import asyncio
import contextlib
import contextvars
import logging
import random
from dataclasses import dataclass
from pathlib import Path

import httpx

from events_api.triggers.backoff import Backoff
from events_api.triggers.local.dead_letters import DeadLetterWriter
from events_api.triggers.local.delivery import Target
from events_api.triggers.local.dispatch_config import DispatchConfig, dispatch_config_for
from events_api.triggers.local.dispatcher import Dispatcher
from events_api.triggers.local.processes import (
    RunnerFailed,
    RunnerProcess,
    spawn_runner,
    stop_runner,
    wait_healthy,
    watch_exit,
)
from events_api.triggers.local.settings import LocalSettings, runner_settings_for
from pipeline_models import PipelineId, PipelineVersion, TenantId, TriggerStatus, service_name

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """Why a trigger is not ready, in Knative's terms."""

    reason: str
    message: str


class LocalTrigger:
    """A pipeline's runner processes and consumer; start, stop and status."""

    def __init__(
        self,
        tenant: TenantId,
        pipeline_id: PipelineId,
        *,
        settings: LocalSettings,
        client: httpx.AsyncClient,
        dead_letters: DeadLetterWriter,
    ) -> None:
        self.tenant = tenant
        self.pipeline_id = pipeline_id
        self._settings = settings
        self._client = client
        self._dead_letters = dead_letters
        self._folder = Path(settings.data_dir) / "runners"
        self._label = service_name(pipeline_id)
        self._target = Target()
        self._changed = asyncio.Condition()
        self._desired: int | None = None
        self._serving: RunnerProcess | None = None
        self._starting: RunnerProcess | None = None
        self._retiring: set[RunnerProcess] = set()
        self._problem: Problem | None = None
        self._dispatcher: Dispatcher | None = None
        self._rollout: asyncio.Task[None] | None = None
        self._watchers: set[asyncio.Task[None]] = set()
        self._version: PipelineVersion | None = None
        self._restarts = 0
        """Consecutive restarts of a crashing runner (the backoff's count)."""
        self._serving_since = 0.0
        """Loop time the serving runner took over."""
        self._restart_backoff = Backoff(base=1.0, cap=settings.runner_restart_backoff_max_seconds)

    @property
    def dispatch_config(self) -> DispatchConfig | None:
        """The running consumer's configuration, if any."""
        return self._dispatcher.config if self._dispatcher is not None else None

    @property
    def pids(self) -> list[int]:
        """PIDs of this trigger's live runners (for tests and diagnostics)."""
        runners = (self._serving, self._starting, *self._retiring)
        return [r.pid for r in runners if r is not None and r.returncode is None]

    async def start(self, version: PipelineVersion) -> None:
        """Converge the consumer now; roll the version out in the background.

        Raises:
            NoEventOption: the version has no topic.
            BackendUnavailable: Kafka cannot be reached.
        """
        config = dispatch_config_for(version, settings=self._settings)
        await self._cancel_rollout()
        if self._dispatcher is None or self._dispatcher.config != config:
            await self._stop_dispatcher()
            dispatcher = Dispatcher(
                config,
                settings=self._settings,
                target=self._target,
                client=self._client,
                dead_letters=self._dead_letters,
            )
            await dispatcher.start()
            self._dispatcher = dispatcher
        self._version, self._restarts = version, 0
        await self._notify(desired=version.version, problem=None)
        # A fresh context: the rollout and its runner outlive the start request.
        self._rollout = asyncio.create_task(
            self._roll_out(version),
            name=f"local-rollout-{self._label}-v{version.version}",
            context=contextvars.Context(),
        )

    async def _roll_out(self, version: PipelineVersion) -> None:
        settings = self._settings
        try:
            runner = await spawn_runner(
                version,
                settings=runner_settings_for(settings),
                folder=self._folder,
                label=self._label,
            )
        except OSError as error:
            await self._notify(problem=Problem(reason="RunnerFailed", message=str(error)))
            return
        self._starting = runner
        self._watch(runner)
        try:
            await wait_healthy(
                runner, client=self._client, timeout=settings.runner_start_timeout_seconds
            )
        except RunnerFailed as error:
            self._starting = None
            await stop_runner(runner, grace=settings.runner_stop_timeout_seconds)
            await self._notify(problem=Problem(reason="RevisionFailed", message=str(error)))
            return
        except asyncio.CancelledError:
            # Superseded by a newer start, or stopped: this runner never served.
            self._starting = None
            await asyncio.shield(stop_runner(runner, grace=settings.runner_stop_timeout_seconds))
            raise
        previous = self._serving
        if previous is not None:
            # Tracked until gone (before it leaves `_serving`), so a stop arriving meanwhile
            # stops it too and no failure in between can leak it.
            self._retiring.add(previous)
        self._serving, self._starting = runner, None
        self._serving_since = asyncio.get_running_loop().time()
        await self._target.switch(runner.url)
        await self._notify()
        if previous is not None:
            await stop_runner(previous, grace=settings.runner_stop_timeout_seconds)
            self._retiring.discard(previous)

    def _watch(self, runner: RunnerProcess) -> None:
        async def watch() -> None:
            await watch_exit(runner)
            if runner is self._serving:
                # A runner that served for a while crashed anew: not a crash loop.
                served = asyncio.get_running_loop().time() - self._serving_since
                await self._restart_later(runner, first=served >= self._restart_backoff.cap)
            await self._notify()

        task = asyncio.create_task(watch(), name=f"local-runner-exit-{runner.pid}")
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _restart_later(self, crashed: RunnerProcess, *, first: bool) -> None:
        """The serving runner exited on its own: hold deliveries, restart it after a backoff
        (`first`: start the count over)."""
        version = self._version
        if version is None or (self._rollout is not None and not self._rollout.done()):
            return  # stopping, or a rollout is about to replace it anyway
        await self._target.switch(None)
        self._restarts = 1 if first else self._restarts + 1
        delay = self._restart_backoff.half_jittered(self._restarts, random=random.random)
        logger.warning(
            "the runner of %s version %d exited (status %s); restart %d in %.1f s",
            self.pipeline_id,
            crashed.version,
            crashed.returncode,
            self._restarts,
            delay,
        )
        problem = Problem(
            reason="RunnerExited",
            message=f"{crashed.describe_exit()}\n(restart {self._restarts} in {delay:.1f} s)",
        )
        await self._notify(problem=problem)
        self._rollout = asyncio.create_task(
            self._restart(crashed, version, delay=delay),
            name=f"local-restart-{self._label}-v{version.version}",
            context=contextvars.Context(),
        )

    async def _restart(
        self, crashed: RunnerProcess, version: PipelineVersion, *, delay: float
    ) -> None:
        await asyncio.sleep(delay)
        await self._roll_out(version)
        if self._serving is not crashed:
            await self._notify(problem=None)
        elif self._version is version:
            # The new runner did not come up either: back off further (this task is ending).
            self._rollout = None
            await self._restart_later(crashed, first=False)

    async def _notify(
        self, *, desired: int | None = None, problem: Problem | bool | None = False
    ) -> None:
        """Apply changes (`problem=False`: keep it) and wake every waiter."""
        async with self._changed:
            if desired is not None:
                self._desired = desired
            if problem is not False:
                self._problem = problem if isinstance(problem, Problem) else None
            self._changed.notify_all()

    def ready_for(self, version: int) -> bool:
        """Whether the runner of `version` serves and answered its health check."""
        serving = self._serving
        return (
            serving is not None
            and serving.version == version
            and serving.healthy
            and self._desired == version
        )

    def status(self) -> TriggerStatus:
        """What is observed now (no I/O)."""
        serving, desired = self._serving, self._desired
        ready = desired is not None and self.ready_for(desired)
        dispatcher = self._dispatcher
        problem = self._problem
        if problem is None and serving is not None and serving.exited.is_set():
            problem = Problem(reason="RunnerExited", message=serving.describe_exit())
        if problem is None and not ready:
            problem = Problem(
                reason="RevisionMissing", message=f"starting the runner of version {desired}"
            )
        if problem is None and dispatcher is not None and dispatcher.failure is not None:
            problem = Problem(reason="SourceFailed", message=dispatcher.failure)
        return TriggerStatus(
            ready=ready,
            source_ready=dispatcher is not None and dispatcher.joined,
            pipeline_version=serving.version if serving is not None else desired,
            url=serving.url if serving is not None else None,
            reason=problem.reason if problem is not None else None,
            message=problem.message if problem is not None else None,
        )

    async def wait_until_ready(self, version: int, *, wait_seconds: float) -> None:
        """Return once `version` is ready, or after `wait_seconds`."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_seconds), self._changed:
                await self._changed.wait_for(lambda: self.ready_for(version))

    async def _cancel_rollout(self) -> None:
        rollout, self._rollout = self._rollout, None
        if rollout is None:
            return
        rollout.cancel()
        # gather: the rollout's cancellation is its result; a cancellation of ours propagates.
        (result,) = await asyncio.gather(rollout, return_exceptions=True)
        if isinstance(result, Exception):
            logger.error("the rollout of %s failed", self.pipeline_id, exc_info=result)

    async def _stop_dispatcher(self) -> None:
        dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            await dispatcher.stop()

    async def stop(self) -> None:
        """Stop consuming (committing what finished), then every runner; wait for all."""
        self._version = None  # nothing restarts from here on
        await self._cancel_rollout()
        await self._stop_dispatcher()
        await self._target.switch(None)
        grace = self._settings.runner_stop_timeout_seconds
        runners = [r for r in (self._serving, self._starting, *self._retiring) if r is not None]
        self._serving = self._starting = None
        self._retiring.clear()
        await asyncio.gather(*(stop_runner(runner, grace=grace) for runner in runners))
        watchers = set(self._watchers)
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        await self._notify()
