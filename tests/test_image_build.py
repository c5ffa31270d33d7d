"""The image's build steps, run on the host: `deploy/build.sh all` builds into a temporary directory what the
Dockerfile builds into /app, then `deploy/start.sh` (the image's command) starts it as a container would: with
networking removed (`unshare --net`: nothing can be downloaded), neither Node nor bun on PATH, and the built
directory mounted read-only (the image's /app is read-only to the user it runs as). The built app must serve
/healthz, the UI's pages and their assets, the API and the PostHog webhook, and process what the webhook stored."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from humanic_app.services.samples import posthog_event
from tests.support.server import PROJECT
from tests.support.waiting import wait_until

BUILD_TIMEOUT_S = 900  # a cold pip and bun cache downloads every package; a warm one takes about a minute
START_TIMEOUT_S = 120
PORT = 3000  # a network namespace of its own: every port is free in it
# The commands the container's start needs besides the built virtualenv (/bin/sh runs start.sh by its path).
RUNTIME_TOOLS = ("dirname",)

# An HTTP request made inside the server's network namespace; prints the answer as JSON (status 0: no answer).
FETCH = """
import json, sys, urllib.error, urllib.request
method, url, body, headers = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
request = urllib.request.Request(url, data=body.encode() if body else None, method=method, headers=headers)
try:
    with urllib.request.urlopen(request, timeout=20) as r:
        answer = {"status": r.status, "headers": dict(r.headers), "body": r.read().decode("utf-8", "replace")}
except urllib.error.HTTPError as e:
    answer = {"status": e.code, "headers": dict(e.headers), "body": e.read().decode("utf-8", "replace")}
except OSError as e:
    answer = {"status": 0, "headers": {}, "body": str(e)}
print(json.dumps(answer))
"""


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    def json(self):
        return json.loads(self.body)


@dataclasses.dataclass(frozen=True)
class OfflineApp:
    """The built app's server, running in a network namespace of its own; reached from inside it."""

    pid: int
    app_dir: Path
    env: dict[str, str]
    log_path: Path

    def in_namespace(self, *command: str) -> subprocess.CompletedProcess:
        """Runs a command where the server runs: its network, its read-only app directory, its environment."""
        nsenter = [_tool("nsenter"), f"--target={self.pid}", "--user", "--net", "--mount", "--preserve-credentials"]
        return subprocess.run(
            [*nsenter, f"--wd={self.app_dir}", *command], env=self.env, capture_output=True, text=True, timeout=60
        )

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> Answer:
        headers = {"Content-Type": "application/json", **(headers or {})}
        url = f"http://127.0.0.1:{PORT}{path}"
        body_text = json.dumps(body) if body is not None else ""
        done = self.in_namespace(sys.executable, "-c", FETCH, method, url, body_text, json.dumps(headers))
        assert done.returncode == 0, done.stderr
        return Answer(**json.loads(done.stdout))

    def built_python(self, *args: str) -> subprocess.CompletedProcess:
        """The built virtualenv's Python in the app directory, as `docker exec` would run it."""
        return self.in_namespace(str(self.app_dir / ".venv" / "bin" / "python"), *args)


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    assert path, f"{name} is needed (util-linux / iproute2)"
    return path


@pytest.fixture(scope="module")
def built_app(tmp_path_factory) -> Path:
    """deploy/build.sh's output, built as the Dockerfile builds it (the venv's interpreter is the one it was made
    from, as the image's is the base image's)."""
    dest = tmp_path_factory.mktemp("image") / "app"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUMANIC_", "REFLEX_", "DATABASE_URL"))}
    env.update({"PYTHON": sys._base_executable, "PORT": str(PORT)})
    done = subprocess.run(
        [str(PROJECT / "deploy" / "build.sh"), "all", str(dest)],
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
    )
    assert done.returncode == 0, f"deploy/build.sh failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return dest


@contextlib.contextmanager
def offline_app(app_dir: Path, run_dir: Path) -> Iterator[OfflineApp]:
    """deploy/start.sh in new network and mount namespaces (only loopback, no route out; the app directory
    read-only), PATH holding no Node or bun."""
    bin_dir = run_dir / "bin"
    bin_dir.mkdir()
    for name in RUNTIME_TOOLS:
        (bin_dir / name).symlink_to(_tool(name))
    env = {
        "PATH": str(bin_dir),
        "HOME": str(run_dir / "home"),
        "LANG": "C.UTF-8",
        "PORT": str(PORT),
        "HUMANIC_DATA_DIR": str(run_dir / "data"),
        "TMPDIR": str(run_dir),
    }
    for js_tool in ("node", "bun", "npm", "npx"):
        assert shutil.which(js_tool, path=env["PATH"]) is None
    log_path = run_dir / "server.log"
    mount = _tool("mount")
    prepare = (
        f'{_tool("ip")} link set lo up && {mount} --bind "$0" "$0" && {mount} -o remount,bind,ro "$0" && cd "$0" '
        "&& exec deploy/start.sh"
    )
    namespaces = [_tool("unshare"), "--map-root-user", "--net", "--mount", "--"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [*namespaces, "/bin/sh", "-c", prepare, str(app_dir)],
            cwd=app_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    app = OfflineApp(pid=proc.pid, app_dir=app_dir, env=env, log_path=log_path)

    def answers_health() -> bool:
        assert proc.poll() is None, f"the built app exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}"
        return app.request("GET", "/healthz").status == 200

    def in_own_namespace() -> bool:
        assert proc.poll() is None, f"unshare exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}"
        return os.readlink(f"/proc/{proc.pid}/ns/net") != os.readlink("/proc/self/ns/net")

    try:
        wait_until(in_own_namespace, what="unshare making the server's network namespace")
        wait_until(answers_health, timeout_s=START_TIMEOUT_S, interval_s=0.5, what="the built app answering /healthz")
        yield app
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_the_built_app_serves_offline_without_node_or_bun(built_app, tmp_path):
    with offline_app(built_app, tmp_path) as app:
        assert app.built_python("-c", f"open('{built_app}/written', 'w')").returncode != 0  # read-only, as in the image
        health = app.request("GET", "/healthz")
        assert health.json()["database"] == "ok"
        probe = app.built_python("deploy/healthcheck.py")
        assert probe.returncode == 0, probe.stderr

        index = app.request("GET", "/")
        assert index.status == 200
        assert "Humanic" in index.body
        assert "content-security-policy" in {h.lower() for h in index.headers}
        script = re.search(r'href="(/assets/[^"]+\.js)"', index.body)
        assert script, index.body[:2000]
        assert app.request("GET", script.group(1)).status == 200

        created = app.built_python("-m", "humanic_app", "api-key", "create", "--name", "offline")
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip().splitlines()[-1]
        source = app.request("POST", "/api/v1/sources", {"name": "Offline"}, {"Authorization": f"Bearer {key}"})
        assert source.status == 201, source.body
        token = source.json()["webhook_url"].rsplit("/", 1)[1]
        body = posthog_event(event="signed_up", distinct_id="u-offline", email="offline@example.com")
        delivery = app.request("POST", f"/api/webhooks/posthog/{token}", body)
        assert (delivery.status, delivery.json()["accepted"]) == (200, 1), delivery.body

        def processed() -> bool:
            events = app.request("GET", "/api/v1/events", headers={"Authorization": f"Bearer {key}"}).json()["items"]
            return [e["outcome"] for e in events] == ["processed"]

        wait_until(processed, what="the background worker processing the stored event")
    assert not list(tmp_path.glob("humanic-serve-*")), "the server left its run-time directory behind"


def test_the_health_check_fails_when_nothing_answers(built_app):
    done = subprocess.run(
        [str(built_app / ".venv/bin/python"), str(built_app / "deploy/healthcheck.py")],
        env={"PORT": "9"},  # discard: nothing serves HTTP there
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "127.0.0.1:9/healthz" in done.stderr
