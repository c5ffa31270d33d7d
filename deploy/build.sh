#!/usr/bin/env bash
# Builds Humanic into DEST, ready for deploy/start.sh: the Dockerfile runs these stages, and
# tests/test_image_build.py runs them on the host, so what the image does is what the tests prove.
#
#   deploy/build.sh python   DEST   a virtualenv in DEST/.venv with requirements.txt (the runtime's, nothing else)
#   deploy/build.sh app      DEST   the files the app runs from: code, migrations, assets, ready-made campaigns and designs
#   deploy/build.sh frontend DEST   compile the pages and build them with bun into DEST/.web (needs the first two)
#   deploy/build.sh all      DEST   the three in order
#
# Only the frontend stage uses Node and bun (bun from PATH, else installed with npm into a scratch directory);
# DEST gets static files the backend serves, so what runs from DEST needs neither, nor any network.
# PORT (default 3000) is written into the built pages: over plain http, browse the app at that port (behind an
# https proxy any address works). PYTHON chooses the interpreter of the virtualenv (default python3).
set -euo pipefail

SRC="$(cd "$(dirname "$0")/.." && pwd)"
# What `humanic_app serve`, `migrate` and `worker` read at run time, and the image's start and health check;
# tests, benchmarks and docs stay behind.
APP_FILES=(
  humanic_app alembic alembic.ini assets campaigns designs rxconfig.py requirements.txt
  deploy/start.sh deploy/healthcheck.py
)
# The frontend's packages at the exact versions Reflex resolved once (package.json and bun.lock, which Reflex
# persists there): a build installs those, so a registry that has just published a release, or has half
# published one, changes nothing. The built app does not need it, so it stays out of DEST.
FRONTEND_LOCK=reflex.lock

stage_python() {
  "${PYTHON:-python3}" -m venv "$DEST/.venv"
  "$DEST/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$SRC/requirements.txt"
}

stage_app() {
  mkdir -p "$DEST/deploy"
  for path in "${APP_FILES[@]}"; do
    rm -rf "${DEST:?}/$path"
    cp -R "$SRC/$path" "$DEST/$path"
  done
  find "$DEST" -path "$DEST/.venv" -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
  # Compiled now: at run time the app directory may be read-only to the user the app runs as.
  "$DEST/.venv/bin/python" -m compileall -q "$DEST/humanic_app" "$DEST/alembic" "$DEST/rxconfig.py"
}

# The build runs in a scratch copy, so node_modules, bun's cache and the compiler's sources stay out of DEST.
WORK=""
trap '[ -z "$WORK" ] || rm -rf "$WORK"' EXIT

stage_frontend() {
  local work bun_version
  WORK="$(mktemp -d)"
  work="$WORK"
  for path in "${APP_FILES[@]}"; do
    mkdir -p "$work/$(dirname "$path")"
    cp -R "$DEST/$path" "$work/$path"
  done
  cp -R "$SRC/$FRONTEND_LOCK" "$work/$FRONTEND_LOCK"
  if ! command -v bun >/dev/null; then
    bun_version="${BUN_VERSION:-$(sed -n 's/^BUN_VERSION := //p' "$SRC/Makefile")}"
    npm install --prefix "$work/.tools" --no-fund --no-audit --loglevel=error "bun@$bun_version"
    export PATH="$work/.tools/node_modules/.bin:$PATH"
  fi
  (
    cd "$work"
    env -u DATABASE_URL -u REFLEX_REDIS_URL \
      REFLEX_USE_SYSTEM_BUN=1 REFLEX_DIR="$work/.reflex" REFLEX_CHECK_LATEST_VERSION=0 \
      HUMANIC_DATA_DIR="$work/data" REFLEX_BACKEND_PORT="${PORT:-3000}" REFLEX_FRONTEND_PORT="${PORT:-3000}" \
      "$DEST/.venv/bin/reflex" export --frontend-only --no-zip --loglevel warning
  )
  # Reflex installs the lockfile frozen, but then adds its own packages at the versions it pins: had those
  # moved (a Reflex upgrade), the lockfile would have been rewritten and the build would not be the pinned one.
  if ! diff -r "$SRC/$FRONTEND_LOCK" "$work/$FRONTEND_LOCK" >&2; then
    echo "deploy/build.sh: $FRONTEND_LOCK/ no longer matches the packages Reflex installs;" \
      "run 'make frontend-lock' and commit $FRONTEND_LOCK/" >&2
    exit 1
  fi
  rm -rf "$DEST/.web"
  mkdir -p "$DEST/.web/build"
  cp -R "$work/.web/build/client" "$DEST/.web/build/client"
  # Which optional routes the backend mounts (the campaign upload): written by the compile, read at start.
  cp -R "$work/.web/backend" "$DEST/.web/backend"
}

usage() {
  echo "usage: deploy/build.sh python|app|frontend|all DEST" >&2
  exit 2
}

[ $# -eq 2 ] || usage
mkdir -p "$2"
DEST="$(cd "$2" && pwd)"
[ "$DEST" != "$SRC" ] || { echo "deploy/build.sh: DEST must not be the source directory" >&2; exit 2; }
case "$1" in
  python) stage_python ;;
  app) stage_app ;;
  frontend) stage_frontend ;;
  all) stage_python; stage_app; stage_frontend ;;
  *) usage ;;
esac
