"""Interpreter settings for Humanic's long-running processes (the web server and its background worker)."""

from __future__ import annotations

import gc

GC_THRESHOLDS = (7000, 10, 10)


def tune_garbage_collector() -> None:
    """Python's default first threshold (700 new container objects) starts a collection every few
    requests, and each tenth of those passes runs into a full collection of a heap that Reflex's pages
    make large: 2–8 ms with the event loop stopped, ~1 a second under load, which is where the webhook's
    p99 latency lay. Ten times fewer young collections make those pauses ten times rarer; reference
    counting frees almost everything a request allocates anyway. Objects alive now (imports, the compiled
    app) are frozen out of every later collection."""
    gc.set_threshold(*GC_THRESHOLDS)
    gc.collect()
    gc.freeze()
