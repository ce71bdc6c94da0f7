"""A running fleet against real clients this project did not write: mosquitto (broker, ACL),
mosquitto_sub / mosquitto_pub, and mbpoll; plus a thousand malformed requests."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import pytest

NEEDS = ["mosquitto_sub", "mosquitto_pub", "mbpoll"]
missing = [t for t in NEEDS if shutil.which(t) is None]
if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
    missing.append("mosquitto")
pytestmark = [
    pytest.mark.skipif(
        bool(missing),
        reason=f"not installed: {', '.join(missing)} (apt-get install -y mosquitto mosquitto-clients mbpoll)",
    ),
    pytest.mark.hil,  # a fleet on the wall clock
]

REPO = Path(__file__).resolve().parents[1]
SPEED = 120.0
TWIN = str(Path(sys.executable).parent / "twin")


class RunningFleet:
    def __init__(self, fleet, manifest: Path):
        self.fleet = fleet
        self.manifest_path = manifest
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_event: asyncio.Event | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        async def main():
            self.loop = asyncio.get_running_loop()
            self.stop_event = asyncio.Event()
            await self.fleet.serve(manifest=self.manifest_path, stop=self.stop_event)

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by the test
            self.error = exc

    def start(self) -> RunningFleet:
        """Start the fleet's thread; return once its manifest is written (manifest, creds loaded)."""
        self.thread.start()
        for _ in range(600):
            if self.manifest_path.exists() or self.error:
                break
            time.sleep(0.05)
        assert self.error is None, self.error
        self.manifest = json.loads(self.manifest_path.read_text())
        self.creds = json.loads((self.manifest_path.parent / "credentials.json").read_text())
        return self

    def stop(self):
        if self.thread.is_alive() and self.loop is not None and self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(timeout=60)


@pytest.fixture(scope="module")
def fleet(city, tmp_path_factory):
    from sim_devices.fleet import KINDS, Fleet
    from twin.scenario import load_scenario

    folder = tmp_path_factory.mktemp("fleet")
    scenario = load_scenario(REPO / "scenarios" / "flash_flood_evening_walkers.yaml")
    kinds = tuple(k for k in KINDS if k != "cctv")  # the cameras have their own module (test_devices_onvif.py)
    f = Fleet(scenario, city=city, speed=SPEED, workdir=folder, kinds=kinds, broker_url="mosquitto")
    run = RunningFleet(f, folder / "manifest.json").start()
    sub = _sub(run, "uijeongbu/# application/#", run.creds["operator"])
    run.sub = sub
    yield run
    run.stop()
    sub.terminate()


def _sub(run, topic, cred, out=None):
    out = out or (run.manifest_path.parent / "sub.txt")
    port = str(run.manifest["broker"]["port"])
    cmd = ["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-u", cred["username"], "-P", cred["password"]]
    for t in topic.split():
        cmd += ["-t", t]
    cmd += ["-v", "-q", "1", "-i", f"test-{random.randrange(10**9)}"]
    proc = subprocess.Popen(cmd, stdout=open(out, "w"), stderr=subprocess.STDOUT)
    proc.out = out
    time.sleep(0.5)
    return proc


def _device(run, device_id):
    return next(d for d in run.manifest["devices"] if d["id"] == device_id)


def _mbpoll(args: str) -> tuple[int, list[int]]:
    p = subprocess.run(f"mbpoll -m tcp -a 1 -1 {args}", shell=True, capture_output=True, text=True, timeout=20)
    values = [int(line.split(":")[1]) for line in p.stdout.splitlines() if line.startswith("[")]
    return p.returncode, values


def _messages(path: Path) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        topic, _, payload = line.partition(" ")
        out.append((topic, payload))
    return out


def test_manifest_lists_every_device_on_loopback_with_distinct_ports(fleet):
    m = fleet.manifest
    kinds = defaultdict(int)
    for d in m["devices"]:
        kinds[d["kind"]] += 1
    assert dict(kinds) == {
        "level_sensor": 12,
        "rain_gauge": 12,
        "gate": 10,
        "signboard": 15,
        "tilt_sensor": 64,
        "crack_sensor": 64,
        "extensometer": 10,
        "crosswalk": 4,
    }
    faces = [d.get("modbus") or d.get("http") or d.get("onvif") for d in m["devices"]]
    faces = [f for f in faces if f]
    ports = [f["port"] for f in faces] + [m["broker"]["port"]]
    assert len(set(ports)) == len(ports)
    assert all(f["host"] == "127.0.0.1" for f in faces) and m["broker"]["host"] == "127.0.0.1"
    cred_file = fleet.manifest_path.parent / "credentials.json"
    assert oct(cred_file.stat().st_mode & 0o777) == "0o600"
    assert set(fleet.creds) == {"operator", "collapse-desk"} | {d["id"] for d in m["devices"]}  # the desk: alarms in


def test_mbpoll_reads_the_level_registers(fleet):
    d = _device(fleet, "LS-1018665")
    time.sleep(1.0)
    rc, regs = _mbpoll(f"-p {d['modbus']['port']} -t 4 -r 1 -c 7 127.0.0.1")
    assert rc == 0 and len(regs) == 7
    stage_mm, height_mm, distance_mm, status = regs[:4]
    assert status == 1 and height_mm > 0 and stage_mm + distance_mm == height_mm
    rc, inputs = _mbpoll(f"-p {d['modbus']['port']} -t 3 -r 1 -c 2 127.0.0.1")  # input registers mirror them
    assert rc == 0 and inputs[1] == height_mm


def test_mbpoll_closes_a_gate_and_the_simulation_stops_people_entering_its_path(fleet):
    g = _device(fleet, "G03")
    rc, _ = _mbpoll(f"-p {g['modbus']['port']} -t 0 -r 1 127.0.0.1 1")  # coil 0 (1-based 1): close
    assert rc == 0
    deadline = time.time() + 20
    state = None
    while time.time() < deadline:
        rc, ir = _mbpoll(f"-p {g['modbus']['port']} -t 3 -r 1 -c 2 127.0.0.1")
        state = ir[0] if ir else None
        if state == 2:
            break
        time.sleep(0.3)
    assert state == 2, f"gate state {state}"
    rc, di = _mbpoll(f"-p {g['modbus']['port']} -t 1 -r 1 -c 2 127.0.0.1")
    assert di == [0, 1]  # not fully open, fully closed
    gate = next(d for d in fleet.fleet.devices if d.device_id == "G03")
    crowd = fleet.fleet.sim.crowd.model
    # entry from the street is blocked, the way out is not
    assert gate.zone.links and all(crowd.entry_blocked.get(k) == crowd.gate_top(k) for k in gate.zone.links)
    assert not any(k in crowd.closed for k in gate.zone.links)


def test_an_mqtt_command_closes_a_gate_and_its_state_is_published(fleet):
    g = _device(fleet, "G05")
    op = fleet.creds["operator"]
    port = str(fleet.manifest["broker"]["port"])
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
            g["mqtt"]["cmd"],
            "-m",
            '{"command": "close"}',
        ],
        check=True,
        timeout=10,
    )
    deadline = time.time() + 20
    while time.time() < deadline:
        states = [json.loads(p) for t, p in _messages(fleet.sub.out) if t == g["mqtt"]["state"]]
        if states and states[-1]["state"] == "closed":
            break
        time.sleep(0.3)
    assert states[-1]["state"] == "closed"


def test_the_broker_needs_credentials_and_the_acl_keeps_devices_to_their_own_topics(fleet):
    port = str(fleet.manifest["broker"]["port"])
    anon = subprocess.run(
        ["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", "#", "-C", "1", "-W", "2"],
        capture_output=True,
        text=True,
    )
    assert anon.returncode != 0 and "not authorised" in (anon.stderr + anon.stdout).lower()
    me = fleet.creds["LS-G01"]
    for topic, marker in (
        ("uijeongbu/level_sensor/LS-G02/telemetry", "forged"),
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
                me["username"],
                "-P",
                me["password"],
                "-i",
                me["username"],  # a device account may use only its own client id
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
    time.sleep(1.0)
    payloads = [p for _, p in _messages(fleet.sub.out)]
    assert "own" in payloads and "forged" not in payloads


def _modbus_frame(tid: int, fc: int, body: bytes, unit: int = 1) -> bytes:
    pdu = bytes([fc]) + body
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def _ask(port: int, frame: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(frame)
        return s.recv(260)


def test_a_thousand_malformed_requests_get_exception_codes_and_every_device_keeps_serving(fleet):
    rng = random.Random(7)
    level = _device(fleet, "LS-G02")["modbus"]["port"]
    gate = _device(fleet, "G07")
    # the protocol's own error replies
    assert _ask(level, _modbus_frame(1, 0x41, b"\x00\x00"))[7:9] == bytes([0xC1, 0x01])  # illegal function
    assert _ask(level, _modbus_frame(2, 0x03, struct.pack(">HH", 500, 2)))[7:9] == bytes([0x83, 0x02])  # address
    assert _ask(level, _modbus_frame(3, 0x06, struct.pack(">HH", 0, 7)))[7:9] == bytes([0x86, 0x02])  # read-only
    gport = gate["modbus"]["port"]
    assert _ask(gport, _modbus_frame(4, 0x05, struct.pack(">HH", 0, 0x1234)))[7:9] == bytes([0x85, 0x03])  # value
    sent = 4
    ports = [d["modbus"]["port"] for d in fleet.manifest["devices"] if "modbus" in d]
    for i in range(700):  # random bytes, truncated frames, illegal functions and addresses
        port = ports[i % len(ports)]
        kind = i % 4
        if kind == 0:
            frame = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        elif kind == 1:
            frame = _modbus_frame(i, rng.choice([0x07, 0x08, 0x11, 0x14, 0x2B, 0x41, 0x7F]), b"\x00\x00")
        elif kind == 2:
            frame = _modbus_frame(i, rng.choice([1, 2, 3, 4]), struct.pack(">HH", rng.randrange(100, 65535), 1))
        else:
            frame = _modbus_frame(i, 3, struct.pack(">HH", 0, 7))[: rng.randrange(1, 11)]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(frame)
                s.settimeout(0.05)
                try:
                    s.recv(260)
                except OSError:
                    pass
        except OSError:
            pass
        sent += 1
    import paho.mqtt.client as mqtt

    op = fleet.creds["operator"]
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fuzzer")
    client.username_pw_set(op["username"], op["password"])
    client.connect("127.0.0.1", fleet.manifest["broker"]["port"])
    client.loop_start()
    bad = [b"", b"{", b"\xff\xfe\x00", b'{"command": 5}', b"[1,2]", b"open the gate please", b'{"cmd":"close"}']
    infos = []
    for i in range(300):  # malformed MQTT command payloads
        payload = bad[i % len(bad)] if i % 2 else bytes(rng.randrange(256) for _ in range(rng.randrange(1, 30)))
        infos.append(client.publish(gate["mqtt"]["cmd"], payload, qos=1))
        sent += 1
    for info in infos:
        info.wait_for_publish(10)
    client.loop_stop()
    client.disconnect()
    time.sleep(1.5)
    assert sent >= 1000
    assert fleet.thread.is_alive() and fleet.error is None
    for d in fleet.manifest["devices"]:  # every device still answers
        if "modbus" not in d:
            continue
        table = "-t 3" if d["kind"] == "gate" else "-t 4"
        rc, regs = _mbpoll(f"-p {d['modbus']['port']} {table} -r 1 -c 1 127.0.0.1")
        assert rc == 0 and len(regs) == 1, d["id"]
    events = [json.loads(p) for t, p in _messages(fleet.sub.out) if t == gate["mqtt"]["event"]]
    assert sum(1 for e in events if e["event"] == "rejected") >= 10


def _http(url, *, data=None, user=None, ctype="application/cap+xml"):
    import base64
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if data is not None:
        req.add_header("Content-Type", ctype)
    if user:
        req.add_header(
            "Authorization", "Basic " + base64.b64encode(f"{user['username']}:{user['password']}".encode()).decode()
        )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_a_signboard_shows_a_schema_valid_cap_alert_and_refuses_unsafe_xml(fleet):
    from cap_samples import LAUGHS, XXE, korean_alert

    d = _device(fleet, "SB-G02")
    base = f"http://127.0.0.1:{d['http']['port']}"
    me = fleet.creds["SB-G02"]
    assert _http(f"{base}/display")[0] == 401  # authentication is on
    assert _http(f"{base}/cap", data=korean_alert(), user=fleet.creds["SB-G01"])[0] == 401  # another device's
    code, body = _http(f"{base}/cap", data=korean_alert("KR-1"), user=me)
    assert code == 200 and body["accepted"] == "KR-1"
    deadline = time.time() + 10
    while time.time() < deadline:
        code, shown = _http(f"{base}/display", user=me)
        if shown.get("identifier") == "KR-1":
            break
        time.sleep(0.2)
    assert shown["lines"] == ["중랑천 산책로 통제", "하천 수위 상승으로"] and shown["english"]
    for bad, reason in ((XXE, "unsafe XML refused"), (LAUGHS, "unsafe XML refused"), (b"<alert>", "not well-formed")):
        code, body = _http(f"{base}/cap", data=bad, user=me)
        assert code == 400 and reason in body["error"]
    assert _http(f"{base}/cap", data=korean_alert(), user=me, ctype="text/plain")[0] == 415
    code, _ = _http(
        f"{base}/cap", data=korean_alert("KR-2", msg_type="Cancel", references="uijeongbu.go.kr,KR-1,x"), user=me
    )
    assert code == 200
    deadline = time.time() + 10
    while time.time() < deadline and _http(f"{base}/display", user=me)[1]["lines"]:
        time.sleep(0.2)
    assert _http(f"{base}/display", user=me)[1]["lines"] == []
    states = [json.loads(p) for t, p in _messages(fleet.sub.out) if t == d["mqtt"]["state"]]
    assert [s["identifier"] for s in states][-2:] == ["KR-1", None]
    logged = fleet.fleet.sim.engine.events.to_frame()
    assert ((logged.kind == "signboard.display") & (logged.entity_id == "SB-G02")).sum() >= 2


def test_lorawan_uplinks_parse_as_chirpstack_events_and_their_payload_matches_the_decoded_object(fleet):
    import base64
    import struct

    integration = pytest.importorskip("chirpstack_api.integration", reason="chirpstack-api not installed")
    from google.protobuf import json_format

    ups = [json.loads(p) for t, p in _messages(fleet.sub.out) if t.startswith("application/") and t.endswith("/up")]
    assert len({u["deviceInfo"]["devEui"] for u in ups}) >= 100
    counters = defaultdict(list)
    for u in ups:
        json_format.Parse(json.dumps(u), integration.UplinkEvent())  # strict: unknown keys are errors
        raw = base64.b64decode(u["data"])
        if u["fPort"] == 10:
            x, y, mv = struct.unpack(">hhH", raw)
            assert (x / 1000, y / 1000) == (u["object"]["tilt_x_deg"], u["object"]["tilt_y_deg"])
        elif u["fPort"] == 11:
            w, mv = struct.unpack(">HH", raw)
            assert w / 1000 == u["object"]["crack_mm"]
        else:
            assert u["fPort"] == 12
            d, mv = struct.unpack(">IH", raw)
            assert d / 100 == u["object"]["displacement_mm"]
        assert mv / 1000 == u["object"]["battery_v"]
        counters[u["deviceInfo"]["devEui"]].append(u["fCnt"])
    for fcnts in counters.values():
        assert fcnts == list(range(fcnts[0], fcnts[0] + len(fcnts)))  # the frame counter grows by one
    with pytest.raises(json_format.ParseError):  # the check is strict
        json_format.Parse(json.dumps({**ups[0], "fport": 10}), integration.UplinkEvent())


def test_telemetry_sequence_numbers_and_values_follow_the_simulation(fleet):
    """Runs last of the fleet tests: it stops the fleet."""
    time.sleep(2.0)
    fleet.stop()
    assert fleet.error is None, fleet.error
    msgs = [(t, json.loads(p)) for t, p in _messages(fleet.sub.out) if t.endswith("/telemetry") and p.startswith("{")]
    by_dev = defaultdict(list)
    for _topic, m in msgs:
        if m.get("kind") in ("level_sensor", "rain_gauge"):
            by_dev[m["device_id"]].append(m)
    assert len(by_dev) == 24
    for dev, ms in by_dev.items():
        seqs = [m["seq"] for m in ms]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), dev  # +1 per message, nothing lost
    # a level reading is the stage at the last hydraulic sample plus noise, on a 1 mm grid
    sim = fleet.fleet.sim
    ts = sim.engine.recorder.to_frame()
    settings = fleet.fleet.scenario.devices.level_sensor
    checked = 0
    for m in by_dev["LS-1018665"]:
        t = m["sim_time_s"]
        rows = ts[(ts.entity_id == "LS-1018665") & (ts.variable == "stage") & (ts.time_s <= t + 1e-6)]
        true = float(rows["value"].iloc[-1])
        assert abs(m["value"] - true) <= 5 * settings.noise_sd + settings.resolution, (t, m["value"], true)
        assert abs(m["value"] * 1000 - round(m["value"] * 1000)) < 1e-6
        checked += 1
    assert checked > 10
    # a rain gauge's total is the rain that fell, to within one bucket
    for dev in ("RG-10184010", "RG-10184125"):
        last = by_dev[dev][-1]
        true = sim.rain_mm(dev, 0.0, last["sim_time_s"])
        assert abs(last["value"] - true) <= 0.5 + 1e-9 and last["tips"] == round(last["value"] / 0.5)
