"""Where downloads and builds are cached: outside the checkout, so fresh clones reuse them."""

import os
from pathlib import Path

CACHE_ENV = "PIPELINE_EVENTS_CACHE"


def cache_root() -> Path:
    """The cache folder: `$PIPELINE_EVENTS_CACHE`, else `$XDG_CACHE_HOME/pipeline-events`.

    Falls back to `~/.cache/pipeline-events`. Created if missing.
    """
    configured = os.environ.get(CACHE_ENV)
    if configured:
        root = Path(configured)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "pipeline-events"
    root.mkdir(parents=True, exist_ok=True)
    return root
