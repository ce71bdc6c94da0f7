"""Hardware-in-the-loop runs as jobs for a process pool, so independent wall-clock fleets run at
the same time (each on its own ports, each with its own paced clock). Used by test_hil.py and
test_hil_load.py; run in a spawned process, so everything it returns is plain data.

Each job keeps its temporary files in a folder of its own (``tmp``) so a test can check that a
run leaves nothing behind there.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GATES = ROOT / "scenarios" / "gates"
EXTERNAL = Path(__file__).with_name("external_controller.py")
POLICY = ROOT / "scenarios" / "policies" / "reference_gates.yaml"
SPEED = 120.0
RULES = {
    "default": {"warn_m": 1.5, "close_m": 2.0, "reopen_m": 1.5, "override_m": 2.3, "warn_s": 300, "reopen_s": 1800,
                "stale_s": 120},
    **{g: {"warn_m": 1.0, "close_m": 1.5, "reopen_m": 1.0, "override_m": 1.8} for g in ("G06", "G07", "G08")},
    **{g: {"warn_m": 0.5, "close_m": 1.0, "reopen_m": 0.5, "override_m": 1.3} for g in ("G09", "G10")},
}  # fmt: skip


def hil_job(scenario: str, out: str, tmp: str, *, controller: str = "builtin", broker: str = "auto",
            speed: float = SPEED, cache_dir: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Run ``scenarios/gates/{scenario}.yaml`` with the devices that serve the gates; the
    reference controller (builtin) or tests/external_controller.py (external)."""
    Path(tmp).mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = tmp  # this process's temporary files go here, and nowhere else
    os.environ["TMPDIR"] = tmp  # ... and its children's
    if cache_dir:
        os.environ["TWIN_CACHE_DIR"] = cache_dir
    from sim_devices.hil.runner import run_hil
    from twin.scenario import load_scenario

    procs: list[subprocess.Popen] = []
    secrets: list[str] = []

    def start(manifest: Path) -> None:
        creds = json.loads((manifest.parent / "credentials.json").read_text(encoding="utf-8"))
        secrets.extend(c["password"] for c in creds.values())  # to look for them afterwards
        if controller == "external":
            cmd = [sys.executable, str(EXTERNAL), str(manifest), json.dumps(RULES)]
            procs.append(subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True))

    result = run_hil(
        load_scenario(GATES / f"{scenario}.yaml"),
        controller=controller,
        policy=POLICY if controller == "external" else None,  # external: for the dead-sensor limit only
        speed=speed,
        out=out,
        devices="gates",
        broker=broker,
        hold_s=4.0 if controller == "external" else None,
        on_manifest=start,
    )
    ext_rc, ext_err = None, ""
    if procs:
        _, ext_err = procs[0].communicate(timeout=60)
        ext_rc = procs[0].returncode
    return {
        "verdict": result.verdict,
        "status": result.status,
        "out": str(result.out),
        "controller_exit": result.controller_exit,
        "external_exit": ext_rc,
        "external_stderr": ext_err[-2000:],
        "wall_s": result.wall_s,
        "speed": None if math.isinf(speed) else speed,
        "passwords": secrets,
    }
