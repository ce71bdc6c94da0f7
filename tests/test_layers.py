"""The layers of docs/architecture.md hold: import-linter keeps its contracts (pyproject.toml), and
``twin`` imports and answers ``twin --help`` without the device stack (paho, pymodbus, amqtt,
onvif and ``sim_devices`` itself)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEVICE_STACK = ("paho", "pymodbus", "amqtt", "onvif", "sim_devices")

# Runs in a fresh interpreter: a finder first on sys.meta_path refuses the device stack, as if it
# were not installed; then every module of twin is imported and the CLI asked for its help.
_WITHOUT_DEVICES = """
import importlib, json, pkgutil, sys
from click.testing import CliRunner

BLOCKED = {blocked!r}

class NoDevices:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is blocked (the device stack is not installed)")
        return None

sys.meta_path.insert(0, NoDevices())
import twin

failed = {{}}
for info in pkgutil.walk_packages(twin.__path__, "twin."):
    try:
        importlib.import_module(info.name)
    except ImportError as exc:
        failed[info.name] = str(exc)
from twin.cli import main

runner = CliRunner()
helps = {{" ".join(args): runner.invoke(main, args) for args in (["--help"], ["run", "--help"], ["devices"])}}
loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(json.dumps({{
    "failed": failed,
    "loaded": loaded,
    "help": {{k: [r.exit_code, r.output] for k, r in helps.items()}},
}}))
"""


def test_twin_imports_and_runs_its_cli_without_the_device_stack():
    code = _WITHOUT_DEVICES.format(blocked=DEVICE_STACK)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    assert out["failed"] == {}, out["failed"]
    assert out["loaded"] == []
    code, text = out["help"]["--help"]
    assert code == 0 and "run" in text and "gis" in text, text
    rows = [line.split()[0] for line in text.split("Commands:")[1].splitlines() if line.strip()]
    assert "devices" not in rows and "hil" not in rows, rows  # registered by sim_devices, which is not there
    code, text = out["help"]["run --help"]
    assert code == 0 and "SCENARIO" in text, text
    code, text = out["help"]["devices"]  # says why instead of "No such command"
    assert code == 2 and "twin devices is not available" in text and "sim_devices" in text, text


def test_device_commands_come_from_the_device_package():
    """``twin devices`` and ``twin hil`` are registered entry points, and ``python -m twin.cli``
    finds them too."""
    for args in (["devices", "--help"], ["hil", "--help"], ["hil", "replay", "--help"]):
        proc = subprocess.run(
            [sys.executable, "-m", "twin.cli", *args], capture_output=True, text=True, cwd=REPO, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(f"Usage: python -m twin.cli {' '.join(args[:-1])}"), proc.stdout


def test_import_contracts_are_kept():
    exe = shutil.which("lint-imports") or shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    proc = subprocess.run([exe, "--no-cache"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
