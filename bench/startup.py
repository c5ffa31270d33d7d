"""Measures how long `make run` takes to serve again when everything is already installed.

Usage: python -m bench.startup [--runs 3]
Prints one line per run and the median, in seconds from launch to the first 200 on /ping and /.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_one_start(data_dir: str) -> float:
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "HUMANIC_DATA_DIR": data_dir}
    started = time.monotonic()
    proc = subprocess.Popen(
        ["make", "run"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"make run exited with {proc.returncode}")
            try:
                with (
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1),
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5),
                ):
                    return time.monotonic() - started
            except OSError:
                time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        timings = []
        for i in range(args.runs):
            seconds = time_one_start(data_dir)
            timings.append(seconds)
            print(f"run {i + 1}: serving after {seconds:.1f} s")
    print(f"median restart-to-serving: {statistics.median(timings):.1f} s over {len(timings)} runs")


if __name__ == "__main__":
    main()
