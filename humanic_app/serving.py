"""Serve a frontend built ahead of time (`deploy/build.sh`) and the backend on one port, building nothing.

`reflex run --env prod` compiles the pages and builds the frontend with bun every time it starts, which needs
Node, bun and the npm registry. An image is built once and must start without any of them, so this does what
that command does once its build is done: production mode, no compile, and the backend (Granian, one worker
per core with Redis) with the built pages mounted on the same port.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from reflex import constants
from reflex.config import get_config
from reflex.environment import environment
from reflex.utils import exec as reflex_exec, prerequisites


def serve(*, port: int) -> None:
    """Serve UI, API and webhooks on `port` until stopped; raises FileNotFoundError without a built frontend."""
    built = prerequisites.get_web_dir().resolve()
    if not (built / constants.Dirs.STATIC / "index.html").is_file():
        raise FileNotFoundError(f"no built frontend in {built}: run deploy/build.sh frontend first")
    _write_outside(built)
    # Set before the config is read: rxconfig.py chooses the browser origins by the mode.
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    config = get_config()
    config._set_persistent(frontend_port=port, backend_port=port)
    reflex_exec.run_backend_prod(
        config.backend_host, port, config.loglevel.subprocess_level(), mount_frontend_compiled_app=True
    )


def _write_outside(built: Path) -> None:
    """Points everything Reflex writes while serving at a temporary directory of this run: the image's app
    directory is read-only. Reflex touches a marker in the web directory's `backend/` at every start (the upload
    route's), keeps pages' state on disk without Redis, and makes an upload area. The web directory of the run
    holds a copy of `backend/` and a link to the built pages."""
    run = Path(tempfile.mkdtemp(prefix="humanic-serve-"))
    web = run / "web"
    shutil.copytree(built / constants.Dirs.BACKEND, web / constants.Dirs.BACKEND)
    (web / constants.Dirs.BUILD_DIR).symlink_to(built / constants.Dirs.BUILD_DIR)
    owner = os.getpid()

    def remove() -> None:  # when this process exits; the web workers forked from it inherit the hook
        if os.getpid() == owner:
            shutil.rmtree(run, ignore_errors=True)

    atexit.register(remove)
    os.environ[environment.REFLEX_WEB_WORKDIR.name] = str(web)
    os.environ[environment.REFLEX_STATES_WORKDIR.name] = str(run / "states")
    os.environ[environment.REFLEX_UPLOADED_FILES_DIR.name] = str(run / "uploaded_files")
