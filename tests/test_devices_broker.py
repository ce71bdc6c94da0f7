"""The fleet's broker across a restart, and the command line (each its own fleet: pyswmm runs one
simulation per process at a time, so these stay out of test_devices_fleet.py's running fleet)."""

from __future__ import annotations

import json
import subprocess
import time
from collections import defaultdict

from test_devices_fleet import REPO, TWIN, RunningFleet, pytestmark  # noqa: F401 - the same skip reason


def test_no_telemetry_is_lost_across_a_broker_restart(city, tmp_path):
    """QoS 1, persistent sessions and a mosquitto with persistence: the fleet's broker_outage fault
    stops the broker for 5 simulated minutes and starts it again; every sequence number arrives."""
    from sim_devices.fleet import Fleet
    from twin.scenario import load_scenario

    s = load_scenario(
        REPO / "scenarios" / "flash_flood_jungnangcheon.yaml",
        overrides=[
            "faults=[{kind: broker_outage, start: 20min, end: 25min}]",
            "devices.level_sensor.sample_interval=5",
        ],
    )
    f = Fleet(
        s, city=city, speed=60, workdir=tmp_path, only={"LS-1018665", "LS-G01", "RG-10184010"}, broker_url="mosquitto"
    )
    run = RunningFleet(f, tmp_path / "manifest.json").start()
    port = str(run.manifest["broker"]["port"])
    op = run.creds["operator"]
    out = tmp_path / "collector.txt"
    sub = subprocess.Popen(
        [
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-u",
            op["username"],
            "-P",
            op["password"],
            "-q",
            "1",
            "-c",
            "-i",
            "collector",
            "-t",
            "uijeongbu/+/+/telemetry",
        ],
        stdout=open(out, "w"),
        stderr=subprocess.STDOUT,
    )
    try:
        while f.sim.now < 32 * 60 and run.thread.is_alive():
            time.sleep(0.2)
        time.sleep(2.0)
    finally:
        run.stop()
        sub.terminate()
    assert run.error is None, run.error
    seqs, times = defaultdict(set), defaultdict(list)
    for line in out.read_text().splitlines():
        if line.startswith("{"):
            m = json.loads(line)
            seqs[m["device_id"]].add(m["seq"])
            times[m["device_id"]].append(m["sim_time_s"])
    assert set(seqs) == {"LS-1018665", "LS-G01", "RG-10184010"}
    for dev, got in seqs.items():
        first, last = min(got), max(got)
        assert got == set(range(first, last + 1)), f"{dev}: missing {sorted(set(range(first, last + 1)) - got)}"
        assert any(20 * 60 <= t < 25 * 60 for t in times[dev]), dev  # sent while the broker was down
        assert max(times[dev]) >= 30 * 60


def test_twin_devices_serve_from_the_command_line(tmp_path):
    manifest = tmp_path / "fleet" / "manifest.json"
    p = subprocess.run(
        [
            TWIN,
            "devices",
            "serve",
            str(REPO / "scenarios" / "flash_flood_jungnangcheon.yaml"),
            "--speed",
            "600",
            "--until",
            "10min",
            "--manifest",
            str(manifest),
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    m = json.loads(manifest.read_text())
    from sim_devices.broker import default_broker_kind

    # the default: mosquitto where it is installed, else the embedded broker (nothing to install)
    assert len(m["devices"]) == 299 and m["broker"]["kind"] == default_broker_kind()
    assert "done:" in p.stderr and "Traceback" not in p.stderr
    from twin.app.playback import build_playback  # the app can open and play back a fleet's run
    from twin.city import load_city
    from twin.results import read_run_folder

    run = read_run_folder(tmp_path / "run")
    assert run.summary["fleet"]["devices"] == 299 and run.summary["fleet"]["messages"] > 0
    assert run.timeseries["time_s"].max() >= 600 - 60
    pb = build_playback(load_city(), run)
    assert any(layer.id == "device_state" for layer in pb.layers_at(300))
    bad = subprocess.run(
        [TWIN, "devices", "serve", str(REPO / "scenarios" / "flash_flood_jungnangcheon.yaml"), "--speed", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--speed: got '0': expected a number > 0 or max" in bad.stderr
    bad = subprocess.run(
        [TWIN, "devices", "serve", str(REPO / "scenarios" / "flash_flood_jungnangcheon.yaml"), "--until", "soon"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--until: got 'soon': expected a duration" in bad.stderr


def test_school_zone_crosswalks_count_the_pupils_of_the_crowd_model(city, tmp_path):
    """The morning walk to 가능초등학교: the crossings report people waiting and crossing, the warning
    sign is on exactly while someone is there, and the count is the crowd model's own."""
    from sim_devices.fleet import Fleet
    from twin.scenario import load_scenario

    s = load_scenario(REPO / "scenarios" / "school_commute_ganeung.yaml", overrides=["devices.crosswalk_interval=2"])
    f = Fleet(s, city=city, speed=120, workdir=tmp_path, kinds=("crosswalk",), broker_url="mosquitto")
    run = RunningFleet(f, tmp_path / "manifest.json").start()
    m, op = run.manifest, run.creds["operator"]
    out = tmp_path / "xw.txt"
    sub = subprocess.Popen(
        [
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            str(m["broker"]["port"]),
            "-u",
            op["username"],
            "-P",
            op["password"],
            "-q",
            "1",
            "-t",
            "uijeongbu/crosswalk/+/telemetry",
        ],
        stdout=open(out, "w"),
        stderr=subprocess.STDOUT,
    )
    try:
        run.thread.join(timeout=90)  # the whole hour at 120x: 30 s
        time.sleep(1.0)
    finally:
        run.stop()
        sub.terminate()
    assert run.error is None, run.error
    msgs = [json.loads(line) for line in out.read_text().splitlines() if line.startswith("{")]
    by_dev = defaultdict(list)
    for msg in msgs:
        by_dev[msg["device_id"]].append(msg)
    assert len(by_dev) == 4
    links = f.sim.crowd.model.links.links
    busy = 0
    for dev, ms in by_dev.items():
        counts = [x["count"] for x in ms]
        assert counts == sorted(counts), dev  # a count never goes down
        for x in ms:
            assert (x["warning_sign"] == "on") == (x["waiting"] + x["crossing"] > 0)
        edge = next(d.edge_id for d in f.devices if d.device_id == dev)
        assert counts[-1] == links[edge].entered  # the crowd model's own count at the end
        busy += counts[-1]
    assert busy > 0  # pupils did cross


def test_the_embedded_broker_needs_credentials_and_keeps_devices_to_their_topics(city, tmp_path):
    """The fallback broker (amqtt inside the fleet, where mosquitto is not installed), checked with
    mosquitto's own clients."""
    from sim_devices.fleet import Fleet
    from twin.scenario import load_scenario

    s = load_scenario(
        REPO / "scenarios" / "flash_flood_jungnangcheon.yaml", overrides=["devices.level_sensor.sample_interval=5"]
    )
    f = Fleet(s, city=city, speed=30, workdir=tmp_path, only={"LS-1018665", "LS-G01", "G01"}, broker_url="embedded")
    run = RunningFleet(f, tmp_path / "manifest.json").start()
    m, creds = run.manifest, run.creds
    port = str(m["broker"]["port"])
    op, me = creds["operator"], creds["LS-G01"]
    out = tmp_path / "sub.txt"
    sub = subprocess.Popen(
        [
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-u",
            op["username"],
            "-P",
            op["password"],
            "-q",
            "1",
            "-v",
            "-t",
            "uijeongbu/#",
        ],
        stdout=open(out, "w"),
        stderr=subprocess.STDOUT,
    )
    try:
        time.sleep(1.0)
        anon = subprocess.run(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t", "uijeongbu/x", "-m", "anon"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert anon.returncode != 0 and "not authorised" in anon.stderr.lower()
        for topic, marker in (
            ("uijeongbu/level_sensor/LS-1018665/telemetry", "forged"),
            ("uijeongbu/level_sensor/LS-G01/test", "own"),
        ):
            subprocess.run(
                [
                    "mosquitto_pub",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    port,
                    "-u",
                    "LS-G01",
                    "-i",
                    "LS-G01",  # a device account connects only with its own client id
                    "-P",
                    me["password"],
                    "-q",
                    "1",
                    "-t",
                    topic,
                    "-m",
                    marker,
                ],
                check=True,
                timeout=10,
            )
        subprocess.run(
            [
                "mosquitto_pub",
                "-h",
                "127.0.0.1",
                "-p",
                port,
                "-u",
                op["username"],
                "-P",
                op["password"],
                "-q",
                "1",
                "-t",
                "uijeongbu/gate/G01/cmd",
                "-m",
                '{"command": "close"}',
            ],
            check=True,
            timeout=10,
        )
        time.sleep(4.0)
    finally:
        run.stop()
        sub.terminate()
    assert run.error is None, run.error
    lines = out.read_text().splitlines()
    payloads = [line.partition(" ")[2] for line in lines]
    assert "own" in payloads and "forged" not in payloads
    tele = [
        json.loads(p)
        for t, _, p in (line.partition(" ") for line in lines)
        if t.endswith("/telemetry") and p.startswith("{")
    ]
    seqs = defaultdict(list)
    for msg in tele:
        seqs[msg["device_id"]].append(msg["seq"])
    assert set(seqs) == {"LS-1018665", "LS-G01"}
    for got in seqs.values():
        assert got == list(range(got[0], got[0] + len(got))) and len(got) >= 5
    states = [json.loads(p) for t, _, p in (line.partition(" ") for line in lines) if t == "uijeongbu/gate/G01/state"]
    assert states and states[-1]["state"] in ("closing", "closed")


def test_a_gate_stuck_open_takes_the_command_but_its_limit_switch_never_leaves_open(city, tmp_path):
    from sim_devices.fleet import Fleet
    from twin.scenario import load_scenario

    s = load_scenario(
        REPO / "scenarios" / "flash_flood_jungnangcheon.yaml",
        overrides=["faults=[{kind: gate_stuck_open, device: G01, start: 0}]"],
    )
    f = Fleet(s, city=city, speed=30, workdir=tmp_path, only={"G01", "G02"})
    run = RunningFleet(f, tmp_path / "manifest.json").start()
    m = run.manifest
    ports = {d["id"]: d["modbus"]["port"] for d in m["devices"]}

    def mb(args: str) -> list[int]:
        p = subprocess.run(f"mbpoll -m tcp -a 1 -1 {args}", shell=True, capture_output=True, text=True, timeout=20)
        return [int(x.split(":")[1]) for x in p.stdout.splitlines() if x.startswith("[")]

    try:
        for gate in ("G01", "G02"):
            subprocess.run(
                f"mbpoll -m tcp -a 1 -p {ports[gate]} -t 0 -r 1 127.0.0.1 1",
                shell=True,
                check=True,
                capture_output=True,
                timeout=20,
            )
        time.sleep(4.0)  # two simulated minutes: six times the 20 s travel time
        stuck, good = (
            mb(f"-p {ports['G01']} -t 1 -r 1 -c 2 127.0.0.1"),
            mb(f"-p {ports['G02']} -t 1 -r 1 -c 2 127.0.0.1"),
        )
    finally:
        run.stop()
    assert run.error is None, run.error
    assert stuck == [1, 0] and good == [0, 1]  # G01 still fully open; G02 fully closed
    ev = f.sim.engine.events.to_frame()
    closed = set(ev.loc[ev.kind == "gate.closed", "entity_id"])
    assert "G02" in closed and "G01" not in closed
