#!/usr/bin/env bash
# The whole test suite from a fresh checkout. Creates .venv with the tool and its test
# dependencies (SQLAlchemy 2.1 runs the rewritten fixtures); the suite itself creates
# and caches the SQLAlchemy 1.4.54 virtualenv that runs the legacy fixtures.
# SQLAlchemy 2.1 needs Python 3.11+: set PYTHON to pick the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
# The package compiled once: the environment may set PYTHONDONTWRITEBYTECODE, and
# each of the many CLI runs the tests start would compile it again (0.15 s each).
.venv/bin/python -m compileall -q src
# On every core (pytest-xdist), a worker left idle taking tests queued for the other
# (worksteal: 196 s against 254 s for the default schedule); `-n 0` runs one process.
start=$SECONDS
status=0
.venv/bin/python -m pytest -n auto --dist worksteal "$@" || status=$?
echo "test suite: $((SECONDS - start)) s wall" >&2
exit "$status"
