"""Every benchmark that needs no served app still runs against today's code: each at a tiny size, in a
fresh database of its own, must finish and print its measurement. A guard added after two of them had
stopped at the activation guardrails (no physical address) without anyone noticing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

TINY = {
    "journeys": (["--waiting", "300", "--rate", "50", "--seconds", "1"], "resumed by events"),
    "campaigns": (["--events", "100", "--dry-run-events", "200"], "dry run 'drop-off-recovery'"),
    "design": (["--recipients", "20"], "compose per recipient"),
    "posthog_writeback": (["--emails", "200", "--rounds", "1"], "drain: 200 of 200 events"),
    "reputation": (["--rounds", "1", "--events", "10"], "the check itself"),
    "workers": (["--workers", "2", "--events", "300", "--contacts", "30", "--rounds", "1", "--new-people"], "events/s"),
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_the_benchmark_runs(name, tmp_path):
    args, printed = TINY[name]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REFLEX_REDIS_URL")}
    env["HUMANIC_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert printed in done.stdout, done.stdout[-2000:]
