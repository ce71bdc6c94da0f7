"""1,000 simulated devices at 1 Hz through mosquitto, and Modbus reads from 20 concurrent clients.

    python benchmarks/bench_devices.py [--devices 1000] [--seconds 60] [--clients 20]

Starts `twin devices serve` in its own process (the flagship flash flood in real time, level
sensors sampling every second, plus replicas of them up to --devices in all, and the fleet's own
mosquitto), subscribes to every telemetry topic with paho-mqtt, and prints:
* sustained messages per second received, against the rate sent (the devices x 1 Hz baseline);
* loss, from the per-device sequence numbers (a gap is a lost message);
* end-to-end latency p50/p99: receive time minus the moment the reading was due on the wall clock
  (the fleet's clock start + simulated time / speed), so it includes the fleet's scheduling;
* Modbus reads per second from --clients concurrent pymodbus clients reading the level registers.
Goal (issue 6): 1,000 msg/s with no loss and p99 below 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt

REPO = Path(__file__).resolve().parents[1]
TWIN = str(Path(sys.executable).parent / "twin")


def _start_fleet(
    devices: int, seconds: float, folder: Path, clock: list[str], broker: str
) -> tuple[subprocess.Popen, dict, dict]:
    manifest = folder / "manifest.json"
    cmd = [
        TWIN,
        "devices",
        "serve",
        str(REPO / "scenarios" / "flash_flood_jungnangcheon.yaml"),
        "--speed",
        "1",
        "--until",
        f"{int(seconds + 30)}s",
        "--manifest",
        str(manifest),
        "--replicas",
        str(max(devices - 12, 0)),
        *clock,
        "--broker",
        broker,
        "--set",
        "devices.level_sensor.sample_interval=1",
        "--set",
        "devices.rain_gauge.sample_interval=3600",
        "--set",
        "devices.structural_interval=1d",
        "--set",
        "devices.crosswalk_interval=1d",
        "--set",
        "devices.gate_state_interval=1d",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=(folder / "fleet.log").open("w"))
    for _ in range(1200):
        if manifest.exists():
            break
        if proc.poll() is not None:
            raise SystemExit(f"the fleet stopped: {(folder / 'fleet.log').read_text()[-2000:]}")
        time.sleep(0.1)
    m = json.loads(manifest.read_text())
    creds = json.loads((folder / "credentials.json").read_text())
    return proc, m, creds


def _collect(m: dict, creds: dict, seconds: float, warmup: float) -> dict:
    got: dict[str, list[int]] = defaultdict(list)
    lat: list[float] = []
    t0 = m["clock_started_at"]
    speed = m["speed"]
    window = {"from": time.time() + warmup, "to": time.time() + warmup + seconds}
    counts = {"in_window": 0}
    lock = threading.Lock()

    def on_message(client, userdata, msg):
        now = time.time()
        d = json.loads(msg.payload)
        with lock:
            got[d["device_id"]].append(d["seq"])
            if window["from"] <= now < window["to"]:
                counts["in_window"] += 1
                lat.append(now - (t0 + d["sim_time_s"] / speed))

    op = creds["operator"]
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-collector", clean_session=False)
    c.username_pw_set(op["username"], op["password"])
    c.on_message = on_message
    c.on_connect = lambda cl, u, f, rc, p: cl.subscribe("uijeongbu/level_sensor/+/telemetry", qos=1)
    c.connect(m["broker"]["host"], m["broker"]["port"])
    c.loop_start()
    time.sleep(warmup + seconds)
    c.loop_stop()
    c.disconnect()
    lost = 0
    for seqs in got.values():
        s = sorted(set(seqs))
        lost += (s[-1] - s[0] + 1) - len(s)
    return {
        "devices": len(got),
        "in_window": counts["in_window"],
        "latency": np.array(lat),
        "lost": lost,
        "received": sum(len(v) for v in got.values()),
    }


async def _modbus(m: dict, clients: int, seconds: float) -> int:
    from pymodbus.client import AsyncModbusTcpClient

    ports = [d["modbus"]["port"] for d in m["devices"] if d["kind"] == "level_sensor"]
    done = 0
    end = time.monotonic() + seconds

    async def worker(k: int) -> None:
        nonlocal done
        port = ports[k % len(ports)]
        cl = AsyncModbusTcpClient("127.0.0.1", port=port)
        await cl.connect()
        while time.monotonic() < end:
            r = await cl.read_holding_registers(0, count=7, device_id=1)
            if not r.isError():
                done += 1
        cl.close()

    await asyncio.gather(*(worker(k) for k in range(clients)))
    return done


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--paced", action="store_true", help="the paced clock (default: --strict-speed, real time)")
    ap.add_argument("--broker", default="mosquitto", help="mosquitto (default, as documented) or embedded")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="twin-bench-devices-"))
    clock = [] if args.paced else ["--strict-speed"]
    proc, m, creds = _start_fleet(args.devices, args.seconds, folder, clock, args.broker)
    n = sum(1 for d in m["devices"] if d["kind"] == "level_sensor")
    try:
        res = _collect(m, creds, args.seconds, warmup=5.0)
        reads = asyncio.run(_modbus(m, args.clients, 10.0))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    lat = res["latency"] * 1000
    rate = res["in_window"] / args.seconds
    print(f"devices publishing          : {n} level sensors at 1 Hz (baseline {n:.0f} msg/s sent)")
    print(f"sustained rate received     : {rate:8.1f} msg/s over {args.seconds:.0f} s ({rate / n:.3f} of sent)")
    print(f"lost (sequence gaps)        : {res['lost']} of {res['received']} received from {res['devices']} devices")
    if len(lat):
        print(
            f"end-to-end latency          : p50 {np.percentile(lat, 50):6.1f} ms, p99 {np.percentile(lat, 99):6.1f} ms"
        )
    print(f"Modbus reads, {args.clients} clients     : {reads / 10.0:8.1f} reads/s")


if __name__ == "__main__":
    main()
