#!/usr/bin/env bash
# Set up the project in ./.venv (Python >= 3.11). Usage: bash scripts/setup.sh [test]
#   (no argument)  the package and its runtime dependencies
#   test           also what the test suite needs (pytest, ruff, korean-romanizer, playwright) and,
#                  with root or sudo, Debian's chromium and a CJK font for the browser test, and
#                  mosquitto, mosquitto-clients, mbpoll and xmllint, the real tools the device tests use,
#                  and postgresql, whose server the proposals tests start on 127.0.0.1
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -c 'import sys; assert sys.version_info >= (3, 11), f"Python >= 3.11 needed, found {sys.version}"'
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    # Debian ships venv separately (python3-venv)
    rm -rf .venv
    echo "python3 -m venv failed: installing python3-venv with apt-get" >&2
    as_root apt-get update -qq && as_root apt-get install -y -qq python3-venv >/dev/null
    "$PY" -m venv .venv
  fi
fi
.venv/bin/python -m pip install -q --upgrade pip
if [ "${1:-}" = "test" ]; then
  .venv/bin/python -m pip install -q -e '.[test]'
  if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "noto.*cjk"; then
    # the browser test drives Debian's chromium (never a downloaded browser); without root it skips
    { as_root apt-get update -qq && as_root apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; } \
      || echo "could not install chromium: the browser test will be skipped" >&2
  fi
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    # the proposals tests start a PostgreSQL server of their own (Debian's postgresql)
    { as_root apt-get update -qq && as_root apt-get install -y -qq postgresql >/dev/null; } \
      || echo "could not install postgresql: the PostgreSQL tests will be skipped" >&2
  fi
  if ! command -v mosquitto_sub >/dev/null || ! command -v mbpoll >/dev/null || ! command -v xmllint >/dev/null || \
     { ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; }; then
    { as_root apt-get update -qq && as_root apt-get install -y -qq mosquitto mosquitto-clients mbpoll libxml2-utils >/dev/null; } \
      || echo "could not install mosquitto/mbpoll: the device tests that need them will be skipped" >&2
  fi
else
  .venv/bin/python -m pip install -q -e .
fi
