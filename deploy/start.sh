#!/bin/sh
# Starts Humanic as deploy/build.sh built it (the image's command): apply the migrations, then serve UI, API
# and webhooks on $PORT from the built pages. Builds nothing and downloads nothing.
set -eu
cd "$(dirname "$0")/.."
.venv/bin/python -m humanic_app migrate
exec .venv/bin/python -m humanic_app serve
