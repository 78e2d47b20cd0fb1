#!/usr/bin/env bash
# Make .venv (Python 3.11) with the project and its test dependencies on first use, then run
# the given command inside it: ./run.sh microapp run examples/hello.py | ./run.sh pytest
set -euo pipefail
cd "$(dirname "$0")"
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    python=$(command -v python3.11 || command -v python3)
    [ -d .venv ] || "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
    touch "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
exec "$@"
