"""What a block email costs per recipient: composing one email (render + layout + footer) from a raw-HTML
step, from a block step whose MJML is compiled once and cached (what the dispatcher does), and from the same
block step compiled for every recipient (what the cache saves).

Usage: python -m bench.design [--recipients 5000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from bench.delivery.__main__ import BLOCKS_STEP, STEP
from humanic_app.models import Workspace
from humanic_app.services import composing
from humanic_app.services.design import render

WS = Workspace(name="Acme", from_email="hello@acme.io", physical_address="1 Main St")
UNSUBSCRIBE = "https://h.acme.io/unsubscribe/token"


def _compose(step: dict, i: int) -> composing.Composed:
    return composing.compose(
        subject=step["subject"],
        html=step.get("html"),
        blocks=step.get("blocks"),
        text=None,
        variables={"name": f"U{i}", "cart_value": i},
        ws=WS,
        unsubscribe_url=UNSUBSCRIBE,
    )


def _per_call(fn: Callable[[int], object], count: int) -> float:
    fn(0)
    started = time.perf_counter()
    for i in range(count):
        fn(i)
    return (time.perf_counter() - started) / count * 1e6


def _uncached(i: int) -> object:
    render._CACHE.clear()
    return _compose(BLOCKS_STEP, i)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=5000)
    args = parser.parse_args()
    html = _per_call(lambda i: _compose(STEP, i), args.recipients)
    cached = _per_call(lambda i: _compose(BLOCKS_STEP, i), args.recipients)
    uncached = _per_call(_uncached, max(1, args.recipients // 20))
    size = len(_compose(BLOCKS_STEP, 0).html.encode())
    print(
        f"compose per recipient: raw-HTML step {html:.0f} µs; block step compiled once {cached:.0f} µs; "
        f"block step compiled every time {uncached:.0f} µs ({size / 1024:.1f} KB of HTML per block email)"
    )


if __name__ == "__main__":
    main()
