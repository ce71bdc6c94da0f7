"""An outside collapse early-warning system, written here with only paho-mqtt and the standard
library, against the device fleet (issue 17, "Done when"): it hears the tilt, crack and
extensometer uplinks through mosquitto, decides for itself, posts its evacuate alarms back on
``uijeongbu/collapse/{site}/alarm``, and is judged by the same verdict as the reference logic in
``twin run``. Garbage on the alarm topic is refused and changes nothing."""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.skipif(
        shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists(),
        reason="not installed: mosquitto (apt-get install -y mosquitto)",
    ),
    pytest.mark.hil,
]

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "collapse" / "slope_failure_august_2022.yaml"
SPEED = 1200.0  # 1 wall s = 20 simulated min: the outsider answers within a simulated minute
UNTIL_S = 16 * 3600.0  # every shipped slope that fails has failed by 14.6 h
WALL_BUDGET_S = 300.0  # 48 s at full speed; beyond this the test reports a broken budget
RATE_MM_H, RATE_DEG_H, WINDOW_S = 1.0, 0.1, 5400.0  # the outsider's own rule: warning-level rates


class Outsider:
    """Two sensors of a site moving at the warning rate (1 mm/h, 0.1 deg/h, fitted over 90 min):
    evacuate it, once."""

    def __init__(self, host: str, port: int, username: str, password: str) -> None:
        import paho.mqtt.client as mqtt

        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="outside-ews")
        self.client.username_pw_set(username, password)
        self.client.on_message = self.on_message
        self.client.connect(host, port)
        self.client.subscribe("application/+/device/+/event/up", qos=1)
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.site_of: dict[str, str] = {}
        self.rate_of: dict[str, float] = {}
        self.evacuated: set[str] = set()
        self.t0: datetime | None = None
        self.client.loop_start()

    def on_message(self, client, userdata, msg) -> None:
        up = json.loads(msg.payload)
        t = datetime.fromisoformat(up["time"].replace("Z", "+00:00"))
        self.t0 = self.t0 or t
        obj = up["object"]
        value = obj.get("displacement_mm", obj.get("crack_mm", obj.get("tilt_x_deg")))
        device = up["deviceInfo"]["deviceName"]
        site = up["deviceInfo"]["tags"]["host_id"]
        self.site_of[device] = site
        self.rate_of[device] = RATE_DEG_H if up["fPort"] == 10 else RATE_MM_H  # fPort 10: a tilt sensor
        pts = self.series.setdefault(device, [])
        pts.append(((t - self.t0).total_seconds(), float(value)))
        while pts and pts[0][0] < pts[-1][0] - WINDOW_S:
            pts.pop(0)
        if site in self.evacuated:
            return
        fast = 0
        for dev, ps in self.series.items():
            if self.site_of[dev] != site or len(ps) < 6:
                continue
            slope = statistics.linear_regression([p[0] for p in ps], [p[1] for p in ps]).slope * 3600.0
            fast += slope >= self.rate_of[dev]
        if fast >= 2:
            self.evacuated.add(site)
            body = {"level": "evacuate", "reason": "two sensors at the warning rate"}
            client.publish(f"uijeongbu/collapse/{site}/alarm", json.dumps(body), qos=1)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _outcome(verdict: dict) -> dict:
    return {
        "passed": verdict["passed"],
        "failed_sites": verdict["failed_sites"],
        "evacuated_in_time": verdict["evacuated_in_time"],
        "false_evacuations": verdict["false_evacuations"],
        "sites": {r["site_id"]: r["passed"] for r in verdict["sites"] if r["failed"]},
    }


def test_an_outside_early_warning_gets_the_reference_verdict(city, tmp_path):
    pytest.importorskip("paho.mqtt.client")
    from sim_devices.fleet import Fleet
    from twin.scenario import load_scenario
    from twin.simulation import Simulation

    scenario = load_scenario(SCENARIO)
    with Simulation(scenario) as sim:  # the reference logic, in process
        sim.run()
        reference = sim.collapse.summary()["verdict"]
    assert reference["passed"] and reference["failed_sites"] >= 5

    kinds = ("tilt_sensor", "crack_sensor", "extensometer")
    fleet = Fleet(scenario, city=city, speed=SPEED, workdir=tmp_path / "fleet", kinds=kinds, broker_url="mosquitto")
    outsider: list[Outsider] = []
    garbage_sent = threading.Event()

    def on_ready(manifest: Path) -> None:
        m = json.loads(manifest.read_text())
        assert m["collapse_alarms"]["topic"] == "uijeongbu/collapse/{site_id}/alarm"
        op = json.loads((manifest.parent / "credentials.json").read_text())["operator"]
        o = Outsider("127.0.0.1", m["broker"]["port"], op["username"], op["password"])
        outsider.append(o)
        # garbage first: none of it may evacuate anyone or stop the fleet
        for topic, payload in (
            ("uijeongbu/collapse/SLP-99/alarm", b'{"level": "evacuate"}'),  # no such site
            ("uijeongbu/collapse/SLP-22/alarm", b"\xff\xfe not json"),
            ("uijeongbu/collapse/SLP-22/alarm", b'{"level": "panic"}'),
            ("uijeongbu/collapse/SLP-22/alarm", b'["evacuate"]'),
            ("uijeongbu/collapse/SLP-22/alarm", b'{"level": "sensor_suspect", "sensor": "LS-1018665"}'),
        ):
            o.client.publish(topic, payload, qos=1)
        garbage_sent.set()
        time.sleep(1.0)

    t0 = time.monotonic()
    asyncio.run(fleet.serve(manifest=tmp_path / "fleet" / "manifest.json", until_s=UNTIL_S, on_ready=on_ready,
                            hold_s=3.0))  # fmt: skip
    wall = time.monotonic() - t0
    outsider[0].stop()
    assert wall < WALL_BUDGET_S, f"timing budget broken: the fleet took {wall:.0f} s of wall time ({WALL_BUDGET_S:g})"
    assert garbage_sent.is_set()
    assert fleet.ctx.input_log.refused.get("collapse-desk", 0) == 5  # each refused, one line each
    theirs = fleet.sim.collapse.summary()["verdict"]
    assert _outcome(theirs) == _outcome(reference), (theirs, reference)
    # they decided for themselves: their alarms came at other times than the reference's
    margins = {r["site_id"]: r["margin_s"] for r in theirs["sites"] if r["failed"]}
    ref_margins = {r["site_id"]: r["margin_s"] for r in reference["sites"] if r["failed"]}
    assert margins != ref_margins and all(m > 0 for m in margins.values())
    print("outside margins (min):", {k: round(v / 60) for k, v in sorted(margins.items())})
    print("reference margins (min):", {k: round(v / 60) for k, v in sorted(ref_margins.items())})
