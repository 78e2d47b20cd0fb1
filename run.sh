#!/usr/bin/env bash
# Make .venv (Python 3.11) with the project and its test dependencies on first use, then run
# the given command inside it: ./run.sh microapp run examples/hello.py | ./run.sh pytest
set -euo pipefail
# The venv is the project's; the command runs where it was typed (its relative paths are yours).
root="$(cd "$(dirname "$0")" && pwd)"
(
cd "$root"
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    python=$(command -v python3.11 || command -v python3)
    if [ ! -d .venv ]; then
        echo "run.sh: first use: making .venv with $("$python" --version 2>&1) ..." >&2
        "$python" -m venv .venv
    fi
    echo "run.sh: installing the project and its test dependencies into .venv (about a minute the first time) ..." >&2
    if ! .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" >.venv/pip.log 2>&1; then
        tail -n 20 .venv/pip.log >&2
        echo "run.sh: pip install failed; the whole log is .venv/pip.log" >&2
        exit 1
    fi
    touch "$stamp"
    echo "run.sh: .venv ready; running: $*" >&2
fi
)
export PATH="$root/.venv/bin:$PATH"
exec "$@"
