"""How fast new events reach open Event Log tabs, idle and under load, and what each open tab costs.

Starts `make run` (SQLite, fresh data dir), opens TABS Event Log tabs in Chromium (each its own Reflex
state, as separate browser tabs are), and measures in the page itself (a MutationObserver, clock shared
with this process):
- idle: single events one at a time; latency = first seen in a tab − just before the POST was sent;
- load: RATE events/s for SECONDS, each named after its send time in ms; at every update of a tab, the
  age of the newest row it shows (seen − sent). A live tail shows the newest 50 rows, so under load this
  staleness is what a marketer experiences;
- cost: the app's CPU seconds with no events, tabs open and closed (each tab polls), and over the same
  load with the tabs open and closed.

Usage: python -m bench.eventlog_live [--tabs 3] [--rate 300] [--seconds 15] [--idle-samples 20]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import threading
import time

from sqlmodel import Session

from bench.served import post_json, served_app, server_cpu_seconds, wait_for_background_worker

EMAIL, PASSWORD = "bench@example.com", "bench-password-1"

OBSERVER = """() => {
  window.__seen = {}; window.__updates = [];
  const scan = () => {
    const now = Date.now(); let newest = 0;
    for (const row of document.querySelectorAll('.event-row')) {
      const m = row.textContent.match(/(idle|load)_(\\d+)/);
      if (!m) continue;
      if (!(m[0] in window.__seen)) window.__seen[m[0]] = now;
      if (m[1] === 'load') newest = Math.max(newest, Number(m[2]));
    }
    if (newest) window.__updates.push([now, newest]);
  };
  new MutationObserver(scan).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def _setup(base: str) -> str:
    from humanic_app.db import get_engine
    from humanic_app.services import auth, sources

    with Session(get_engine()) as session:
        auth.create_owner(session=session, email=EMAIL, password=PASSWORD)
        source = sources.create_source(session=session, name="bench")
        session.commit()
        return sources.webhook_url(base_url=base, source=source)


def _post(url: str, event_name: str, distinct_id: str) -> None:
    from humanic_app.services.samples import posthog_event

    post_json(url, posthog_event(event=event_name, distinct_id=distinct_id, email=f"{distinct_id}@example.com"))


def _load(url: str, rate: int, seconds: int, senders: int = 8) -> int:
    total, started = rate * seconds, time.time()

    def sender(offset: int) -> None:
        for i in range(offset, total, senders):
            time.sleep(max(0.0, started + i / rate - time.time()))
            _post(url, f"load_{int(time.time() * 1000)}", f"u{i}")

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return total


QUIET_SECONDS = 10


def _quiet_cpu(base: str) -> float:
    before = server_cpu_seconds(base)
    time.sleep(QUIET_SECONDS)
    return server_cpu_seconds(base) - before


def _summary(values_ms: list[float]) -> str:
    if not values_ms:
        return "no samples"
    ordered = sorted(values_ms)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"n={len(ordered)}  p50 {statistics.median(ordered):.0f} ms  p95 {p95:.0f} ms  max {ordered[-1]:.0f} ms"


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("--tabs", type=int, default=3)
    parser.add_argument("--rate", type=int, default=300)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--idle-samples", type=int, default=20)
    args = parser.parse_args()
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REFLEX_REDIS_URL", None)
    hooks: list[str] = []
    with served_app(before_start=lambda base: hooks.append(_setup(base))) as (base, workdir), sync_playwright() as pw:
        hook = hooks[0]
        wait_for_background_worker(base, workdir)
        browser = pw.chromium.launch(executable_path=os.environ.get("HUMANIC_CHROMIUM", "/usr/bin/chromium"))
        context = browser.new_context(base_url=base)
        first = context.new_page()
        first.goto("/signin")
        first.fill("#email", EMAIL)
        first.fill("#password", PASSWORD)
        first.get_by_role("button", name="Sign in").click()
        first.wait_for_selector("#signed-in-as")
        tabs = [first] + [context.new_page() for _ in range(args.tabs - 1)]
        for tab in tabs:
            tab.goto("/events")
            tab.get_by_role("heading", name="Event Log").wait_for()
            tab.evaluate(OBSERVER)
        time.sleep(2)

        idle: list[float] = []
        for i in range(args.idle_samples):
            name = f"idle_{i}"
            sent = time.time() * 1000
            _post(hook, name, f"idle{i}")
            deadline = time.time() + 5
            while time.time() < deadline and not all(t.evaluate(f"'{name}' in window.__seen") for t in tabs):
                time.sleep(0.05)
            idle += [
                t.evaluate(f"window.__seen['{name}']") - sent for t in tabs if t.evaluate(f"'{name}' in window.__seen")
            ]
            time.sleep(0.3 + (i % 7) * 0.1)  # not in step with the tabs' polling
        missed = args.idle_samples * len(tabs) - len(idle)
        print(f"idle, {len(tabs)} tabs: POST sent → row visible  {_summary(idle)}  (not seen within 5 s: {missed})")

        quiet_with_tabs = _quiet_cpu(base)

        for tab in tabs:
            tab.evaluate("window.__updates = []")
        cpu_before = server_cpu_seconds(base)
        sent_total = _load(hook, args.rate, args.seconds)
        time.sleep(2)
        cpu_with_tabs = server_cpu_seconds(base) - cpu_before
        staleness, intervals = [], []
        for tab in tabs:
            updates = tab.evaluate("window.__updates")
            fresh = [
                (seen, newest)
                for (seen, newest), prev in zip(updates, [(0, 0)] + updates, strict=False)
                if newest != prev[1]
            ]
            staleness += [seen - newest for seen, newest in fresh]
            intervals += [b[0] - a[0] for a, b in itertools.pairwise(fresh)]
        print(
            f"load {args.rate}/s for {args.seconds} s ({sent_total} events), {len(tabs)} tabs: "
            f"age of the newest row when shown  {_summary(staleness)}"
        )
        print(f"  time between a tab's updates  {_summary(intervals)}")

        for tab in tabs:
            tab.close()
        context.close()
        browser.close()
        time.sleep(2)
        quiet_without = _quiet_cpu(base)
        cpu_before = server_cpu_seconds(base)
        _load(hook, args.rate, args.seconds)
        time.sleep(2)
        cpu_without = server_cpu_seconds(base) - cpu_before
        per_tab = 100 * (quiet_with_tabs - quiet_without) / len(tabs) / QUIET_SECONDS
        print(
            f"app CPU with no events, {QUIET_SECONDS} s: {quiet_with_tabs:.2f} s with {len(tabs)} tabs open, "
            f"{quiet_without:.2f} s with none = {per_tab:.1f}% of a core per tab"
        )
        print(
            f"app CPU over the load: {cpu_with_tabs:.1f} s with {len(tabs)} tabs open, {cpu_without:.1f} s with "
            f"none (run to run, this differs by more than the tabs cost)"
        )


if __name__ == "__main__":
    main()
