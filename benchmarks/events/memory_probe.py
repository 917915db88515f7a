"""Measure the readiness cache of one namespace, in a process of its own; print one JSON line.

    memory_probe.py --kubeconfig FILE --namespace NS --expect N

A first, untraced sync warms up imports and the client library (and gives the sync time without
tracing). Then tracemalloc starts, and a second `ReadinessWatcher` (the product's: label-selected,
paginated list of all three kinds) syncs on a fresh API client, is stopped (its tasks and watch
connections gone) and its client closed; after a garbage collection, what is still traced beyond
the baseline is what the cache retains. A deep size of the entries (`sys.getsizeof` of each
summary, its strings and the store's dict slot, an object shared by several entries counted
once) cross-checks it. While watching, a replica also holds the buffers of its TLS connections
(128 KiB each; 4 connections, 512 KiB, measured): constant, not per entry, not counted here.
"""

import argparse
import asyncio
import gc
import resource
import sys
import time
import tracemalloc

import msgspec
from kubernetes_asyncio import config

from events_api.triggers.knative.kinds import SERVICE
from events_api.triggers.knative.readiness import ObjectSummary, ReadinessCache
from events_api.triggers.knative.settings import KnativeSettings
from events_api.triggers.knative.watching import ReadinessWatcher


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _deep_size(summary: ObjectSummary, seen: set[int]) -> int:
    size = 0
    for value in (summary, *(getattr(summary, f) for f in summary.__struct_fields__)):
        if value is None or isinstance(value, bool) or id(value) in seen:
            continue
        seen.add(id(value))
        size += sys.getsizeof(value)
    return size


def _deep(cache: ReadinessCache) -> dict[str, float]:
    names = cache.names(SERVICE)
    entries = [summary for name in names if (summary := cache.get(SERVICE, name)) is not None]
    seen: set[int] = set()
    total = sum(_deep_size(summary, seen) for summary in entries)
    # The store is a dict name -> summary; an equal dict of the same size costs the same.
    dict_bytes = sys.getsizeof(dict.fromkeys(names))
    ready = next(summary for summary in entries if summary.ready)
    failing = next((summary for summary in entries if summary.ready is False), ready)
    return {
        "deep_bytes": total + dict_bytes,
        "dict_bytes_per_entry": dict_bytes / max(1, len(entries)),
        "deep_ready_entry": _deep_size(ready, set()),
        "deep_failing_entry": _deep_size(failing, set()),
    }


async def _sync(kubeconfig: str, settings: KnativeSettings) -> tuple[ReadinessCache, float, int]:
    """A watcher's cache after its first complete sync, the watcher stopped and its API client
    closed; the seconds the sync took and the traced peak meanwhile."""
    api = await config.new_client_from_config(config_file=kubeconfig, persist_config=False)
    async with api:
        began = time.monotonic()
        async with ReadinessWatcher(api, settings=settings) as watcher:
            await asyncio.wait_for(watcher.cache.wait_until_synced(), 600)
            seconds = time.monotonic() - began
            peak = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else 0
    # The client keeps its last response (a whole list page) until closed and dropped: that is
    # the client's, not the cache's, so it is closed before measuring what the cache retains.
    return watcher.cache, seconds, peak


async def probe(kubeconfig: str, namespace: str, expect: int) -> dict[str, float]:
    """Sync a watcher over `namespace`; what its cache retains."""
    settings = KnativeSettings(namespace=namespace)
    # A first sync warms up imports and the library's caches: not the cache's memory.
    _, untraced_seconds, _ = await _sync(kubeconfig, settings)
    gc.collect()
    tracemalloc.start(5)
    baseline = tracemalloc.get_traced_memory()[0]
    before = tracemalloc.take_snapshot()
    rss_before = _rss_bytes()
    cache, sync_seconds, peak = await _sync(kubeconfig, settings)
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - baseline
    after = tracemalloc.take_snapshot()
    rss_after = _rss_bytes()
    tracemalloc.stop()
    for stat in after.compare_to(before, "lineno")[:6]:
        print(f"retained by {stat}", file=sys.stderr)
    entries = len(cache.names(SERVICE))
    if entries != expect:
        raise SystemExit(f"the cache holds {entries} Services, expected {expect}")
    return {
        "entries": entries,
        "retained_traced_bytes": retained,
        "peak_traced_bytes": peak - baseline,
        "sync_seconds": sync_seconds,
        "sync_seconds_untraced": untraced_seconds,
        "rss_growth_bytes": rss_after - rss_before,
        "page_size": settings.list_page_size,
        **_deep(cache),
    }


def main() -> None:
    """Parse the command line, probe, print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--expect", type=int, required=True)
    args = parser.parse_args()
    outcome = asyncio.run(probe(args.kubeconfig, args.namespace, args.expect))
    print(msgspec.json.encode(outcome).decode())


if __name__ == "__main__":
    main()
