"""The fleet's clock device with the tools an engineer would use (issue 12): mbpoll reads the
simulated time and writes a controller's progress; a controller that reports its progress holds
the clock, one that stops is let go after the fleet's patience; ``twin devices clients`` prints
commands that work as pasted; Ctrl-C on ``twin devices serve --out`` keeps what was recorded.

Timing budget: the fleet runs at a ceiling of 60x; the waits below are wall seconds with a
margin of several times what they need on an idle machine, and what is checked is where the
simulated clock stands (read back from the device), not how long anything took.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import time

import pytest
from test_devices_fleet import REPO, TWIN, RunningFleet, pytestmark  # noqa: F401 - the same skip reason

LEAD_S = 2.5  # half the timing budget: how far the clock may run past the controller's progress
PATIENCE_S = 2.0


def _mbpoll(mb: dict, table: int, count: int, *values: int) -> list[int]:
    cmd = ["mbpoll", "-m", "tcp", "-p", str(mb["port"]), "-a", "1", "-0", "-r", "0", "-t", str(table),
           "-c", str(count), "-1", mb["host"], *map(str, values)]  # fmt: skip
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    assert p.returncode == 0, p.stdout + p.stderr
    return [int(v) for v in re.findall(r"^\[\d+\]:\s+(-?\d+)", p.stdout, re.M)]


def _clock(mb: dict) -> tuple[float, int]:
    r = _mbpoll(mb, 3, 7)
    return ((r[0] << 16) | r[1]) + r[2] / 1000, r[3]


def _report(mb: dict, t: float) -> None:
    ms = round(t * 1000)
    s = ms // 1000
    subprocess.run(
        ["mbpoll", "-m", "tcp", "-p", str(mb["port"]), "-a", "1", "-0", "-r", "0", "-t", "4", mb["host"],
         str(s >> 16), str(s & 0xFFFF), str(ms % 1000)],  # fmt: skip
        capture_output=True, text=True, timeout=20, check=True,
    )  # fmt: skip


@pytest.fixture
def small_fleet(city, tmp_path):
    from sim_devices.fleet import Fleet
    from twin.scenario import load_scenario

    s = load_scenario(REPO / "scenarios" / "gates" / "flash_flood_gates.yaml")
    f = Fleet(s, city=city, speed=60, workdir=tmp_path, only={"LS-G01", "G01"}, patience_s=PATIENCE_S)
    run = RunningFleet(f, tmp_path / "manifest.json").start()
    yield f, run
    run.stop()


def test_a_controller_reporting_progress_holds_the_clock_and_is_let_go_when_it_stops(small_fleet):
    fleet, run = small_fleet
    mb = run.manifest["clock"]["modbus"]
    assert run.manifest["clock"]["mode"] == "paced" and run.manifest["clock"]["timing_budget_s"] == 5.0
    t0, state = _clock(mb)
    assert state == 1 and t0 >= 0.0  # running
    _report(mb, 0.0)  # a controller that has handled nothing beyond second 0: the clock waits for it
    time.sleep(0.5)
    held, _ = _clock(mb)
    time.sleep(1.0)  # 60 simulated seconds at the ceiling, if the clock did not wait
    assert _clock(mb)[0] == held
    _report(mb, held)  # it caught up: the clock may go lead_s further, and no more
    time.sleep(1.0)
    moved, _ = _clock(mb)
    assert held < moved <= held + LEAD_S + 1e-6
    time.sleep(PATIENCE_S + 1.5)  # it stopped reporting: after the fleet's patience the clock goes on alone
    free, _ = _clock(mb)
    assert free > moved + 30.0
    assert [n for n in fleet.notes if "progress stopped" in n]
    assert fleet.clock.holds.controller >= 1.0 and fleet.controller_paced


def test_the_client_commands_work_as_printed(small_fleet, tmp_path):
    _, run = small_fleet
    manifest = tmp_path / "manifest.json"
    out = subprocess.run([TWIN, "devices", "clients", "LS-G01", "--manifest", str(manifest)],
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = [x for x in out.stdout.splitlines() if x and not x.startswith("#")]
    mbpoll_line = next(x for x in lines if x.startswith("mbpoll"))
    sub_line = next(x for x in lines if x.startswith("mosquitto_sub"))
    password = run.creds["operator"]["password"]
    assert password not in out.stdout  # read at paste time, never printed
    env = {**os.environ, "PATH": f"{os.path.dirname(TWIN)}:{os.environ['PATH']}"}
    regs = subprocess.run(mbpoll_line, shell=True, capture_output=True, text=True, timeout=20, env=env)
    assert regs.returncode == 0 and len(re.findall(r"^\[\d+\]:", regs.stdout, re.M)) == 7, regs.stdout
    msg = subprocess.run(f"{sub_line} -C 1 -W 30", shell=True, capture_output=True, text=True, timeout=40, env=env)
    assert msg.returncode == 0, msg.stderr
    topic, payload = msg.stdout.strip().split(" ", 1)
    assert topic == "uijeongbu/level_sensor/LS-G01/telemetry" and json.loads(payload)["device_id"] == "LS-G01"
    gate = subprocess.run([TWIN, "devices", "clients", "G01", "--manifest", str(manifest)],
                          capture_output=True, text=True, timeout=30).stdout  # fmt: skip
    assert "-t 0 -c 1 127.0.0.1 1" in gate and "uijeongbu/gate/G01/cmd" in gate
    bad = subprocess.run([TWIN, "devices", "clients", "NOPE", "--manifest", str(manifest)],
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert bad.returncode == 2 and "no device 'NOPE'" in bad.stderr and "Traceback" not in bad.stderr
    shown = subprocess.run([TWIN, "devices", "clients", "LS-G01", "--manifest", str(manifest), "--show-passwords"],
                           capture_output=True, text=True, timeout=30).stdout  # fmt: skip
    assert shlex.quote(password) in shown


def test_ctrl_c_on_devices_serve_keeps_what_was_recorded(tmp_path):
    out = tmp_path / "run"
    manifest = tmp_path / "fleet" / "manifest.json"
    cmd = [TWIN, "devices", "serve", str(REPO / "scenarios" / "gates" / "flash_flood_gates.yaml"),
           "--speed", "60", "--manifest", str(manifest), "--out", str(out)]  # fmt: skip
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while not manifest.exists() and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.2)
    assert manifest.exists(), p.communicate(timeout=30)
    time.sleep(4.0)  # a few simulated minutes
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert "Traceback" not in err and "interrupted:" in err and "{" not in err.splitlines()[-2]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["interrupted"]["at_s"] > 0
    assert (out / "events.parquet").is_file() and (out / "timeseries.parquet").is_file()
    assert summary["fleet"]["timing"]["mode"] == "paced"


def test_garbage_to_the_clock_device_gets_modbus_exceptions_and_it_keeps_serving(small_fleet):
    import random
    import socket

    fleet, run = small_fleet
    mb = run.manifest["clock"]["modbus"]
    bad = [
        (["-t", "4", "-r", "0"], ["0", "0", "5000"], "illegal data value"),  # milliseconds above 999
        (["-t", "4", "-r", "2"], ["1", "2"], "illegal data address"),  # past the progress registers
        (["-t", "3", "-r", "5", "-c", "9", "-1"], [], "illegal data address"),  # past the clock's registers
    ]
    for opts, values, said in bad:
        p = subprocess.run(["mbpoll", "-m", "tcp", "-p", str(mb["port"]), "-a", "1", "-0", *opts, mb["host"], *values],
                           capture_output=True, text=True, timeout=20)  # fmt: skip
        assert said in (p.stdout + p.stderr).lower(), (opts, p.stdout[-200:], p.stderr)
    rng = random.Random(12)
    for _ in range(200):  # raw garbage, truncated frames, wrong lengths
        with socket.create_connection((mb["host"], mb["port"]), timeout=2) as s:
            s.sendall(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40))))
    assert fleet.clock_face.progress_s is None  # nothing of that counted as a controller's progress
    t0, state = _clock(mb)
    time.sleep(0.5)
    assert state == 1 and _clock(mb)[0] > t0  # still answering, and the clock still runs


def test_hostile_messages_do_not_stop_the_recording_probe(city, tmp_path):
    """A controller under test publishes garbage on a gate's command topic while the fleet records
    every message: a lone surrogate, 30,000 nested brackets, bytes that are not UTF-8, nothing. (A
    payload over the brokers' 64 KiB packet limit never reaches the probe: tests/test_broker_acl.py.)"""
    import paho.mqtt.client as mqtt

    from sim_devices.fleet import Fleet
    from twin.results import read_jsonl
    from twin.scenario import load_scenario

    s = load_scenario(REPO / "scenarios" / "gates" / "flash_flood_gates.yaml")
    record = tmp_path / "messages.jsonl"
    f = Fleet(s, city=city, speed=60, workdir=tmp_path, only={"LS-G01", "G01"}, record=record)
    run = RunningFleet(f, tmp_path / "manifest.json").start()
    try:
        b = run.manifest["broker"]
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="hostile")
        c.username_pw_set("operator", run.creds["operator"]["password"])
        c.connect(b["host"], b["port"])
        c.loop_start()
        topic = "uijeongbu/gate/G01/cmd"
        for payload in ['{"command": "\\ud800"}', "[" * 30_000, b"\xff\xfe\x00garbage", b"", "x" * 60_000]:
            c.publish(topic, payload, qos=1).wait_for_publish(10)
        time.sleep(2.0)
        c.loop_stop()
        c.disconnect()
        before = f.clock.now
        time.sleep(1.0)
        assert run.error is None and run.thread.is_alive() and f.clock.now > before, run.error  # still running
    finally:
        run.stop()
    assert run.error is None, run.error
    got = [m for m in read_jsonl(record) if m["topic"] == topic]  # every line is JSON, strictly
    assert len(got) >= 5
    assert got[0]["payload"] == {"command": "\ud800"}  # written as its escape, read back the same
