"""A gate controller written as an outsider would write one: it knows the fleet only from its
manifest and speaks only protocols, with pymodbus, paho-mqtt and the standard library. It does
not import this project (a test checks that). Run by tests/test_hil.py as its own process::

    python tests/external_controller.py MANIFEST RULES_JSON

RULES_JSON: {"default": {...}, "G06": {...}} with warn_m, close_m, reopen_m, override_m,
warn_s, reopen_s, stale_s (stages m above the bed at the gate's level sensor, times s).

Its logic, in its own words: warn on the signboard (CAP over HTTP) when the median of the last
three level readings reaches warn_m, or when no reading has come for stale_s; close (Modbus coil
0) once the warning has been up warn_s and the level reached close_m (or the data are stale),
if the gate's obstacle input is clear or the level reached override_m; reopen (coil 1) after
reopen_s below reopen_m. Readings: MQTT telemetry; while the broker is down, Modbus registers.

Its clock is the fleet's clock device (Modbus input registers 0-3: seconds high/low, ms, state);
after each pass over the gates it writes the time it read back as its progress (holding
registers 0-2), so the fleet's paced clock waits for it when the machine is busy.
"""

from __future__ import annotations

import base64
import json
import queue
import statistics
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from pymodbus.client import ModbusTcpClient


def cap(identifier: str, sent: str, text: tuple[str, str] | None, ref: str | None) -> bytes:
    kind = "Alert" if text else "Cancel"
    info = ""
    if text:
        info = (
            "<info><language>ko-KR</language><category>Safety</category><event>산책로 통제</event>"
            "<urgency>Immediate</urgency><severity>Severe</severity><certainty>Observed</certainty>"
            f"<headline>{text[0]}</headline><description>{text[1]}</description>"
            "<area><areaDesc>의정부시</areaDesc></area></info>"
        )
    refs = f"<references>{ref}</references>" if ref else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
        f"<identifier>{identifier}</identifier><sender>test.controller</sender><sent>{sent}</sent>"
        f"<status>Actual</status><msgType>{kind}</msgType><scope>Public</scope>{refs}{info}</alert>"
    ).encode()


def main(manifest_path: str, rules_json: str) -> int:
    m = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    creds = json.loads((Path(manifest_path).parent / "credentials.json").read_text(encoding="utf-8"))
    rules = json.loads(rules_json)
    end = float(m["duration_s"])
    clk = m["clock"]["modbus"]
    clock = ModbusTcpClient("127.0.0.1", port=clk["port"], timeout=2)
    start = datetime.fromisoformat(m["start"])
    devs = {d["id"]: d for d in m["devices"]}
    boards = {d.get("access_id"): d for d in devs.values() if d["kind"] == "signboard"}
    gates = []
    for g in sorted((d for d in devs.values() if d["kind"] == "gate"), key=lambda d: d["id"]):
        r = {**rules["default"], **rules.get(g["id"], {})}
        gates.append(
            {
                "g": g,
                "r": r,
                "level": devs[g["level_sensor_id"]],
                "board": boards.get(g["access_id"]),
                "readings": [],
                "last_t": None,
                "state": "open",
                "warned": None,
                "calm": None,
                "alert": None,
                "n": 0,
                "mb": ModbusTcpClient("127.0.0.1", port=g["modbus"]["port"], timeout=2),
                "lmb": ModbusTcpClient("127.0.0.1", port=devs[g["level_sensor_id"]]["modbus"]["port"], timeout=2),
                "polled": -1e9,
            }
        )
    by_topic = {x["level"]["mqtt"]["telemetry"]: x for x in gates}
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    up = {"mqtt": False}
    op = m["broker"]["operator"]["username"]
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="outsider")
    c.username_pw_set(op, creds[op]["password"])

    def on_connect(client, userdata, flags, rc, props=None):
        if not rc.is_failure:
            up["mqtt"] = True
            client.subscribe([(t, 1) for t in by_topic])

    def on_disconnect(client, userdata, flags, rc, props=None):
        up["mqtt"] = False

    c.on_connect, c.on_disconnect = on_connect, on_disconnect
    c.on_message = lambda cl, u, msg: inbox.put((msg.topic, msg.payload))
    c.reconnect_delay_set(0.2, 2.0)
    c.connect_async(m["broker"]["host"], int(m["broker"]["port"]), keepalive=10)
    c.loop_start()

    def reading(x, t: float, v: float) -> None:
        if x["last_t"] is None or t > x["last_t"]:
            x["last_t"] = t
            x["readings"] = (x["readings"] + [v])[-3:]

    def post(x, body: bytes) -> None:
        b = x["board"]
        if b is None:
            return
        url = f"http://{b['http']['host']}:{b['http']['port']}{b['http']['post_cap']}"
        auth = base64.b64encode(f"{b['id']}:{creds[b['id']]['password']}".encode()).decode()
        req = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/cap+xml", "Authorization": f"Basic {auth}"}
        )
        urllib.request.urlopen(req, timeout=5).read()

    def sign(x, now: float, text) -> None:
        x["n"] += 1
        ident = f"OUT-{x['g']['id']}-{x['n']}"
        sent = (start + timedelta(seconds=now)).isoformat(timespec="seconds")
        post(x, cap(ident, sent, text, None if text else x["alert"]))
        x["alert"] = f"test.controller,{ident},{sent}" if text else None

    last = None
    while True:
        rr = clock.read_input_registers(0, count=4, device_id=1)
        if rr.isError():
            time.sleep(0.01)
            continue
        now = ((rr.registers[0] << 16) | rr.registers[1]) + rr.registers[2] / 1000
        if now >= end or rr.registers[3] == 2:  # the end, or the clock says it ended
            break
        if now == last:  # nothing new yet
            time.sleep(0.002)
            continue
        last = now
        while not inbox.empty():
            topic, payload = inbox.get()
            try:
                msg = json.loads(payload)
            except ValueError:
                continue  # not a reading (an empty retained message, say)
            if isinstance(msg, dict) and msg.get("value") is not None:
                reading(by_topic[topic], float(msg["sim_time_s"]), float(msg["value"]))
        for x in gates:
            r = x["r"]
            if not up["mqtt"] and now - x["polled"] >= 10.0:  # broker down: read the registers
                x["polled"] = now
                rr = x["lmb"].read_holding_registers(0, count=7, device_id=1)
                if not rr.isError() and rr.registers[3] & 1:
                    reading(x, float((rr.registers[5] << 16) | rr.registers[6]), rr.registers[0] / 1000)
            stale = now - (x["last_t"] if x["last_t"] is not None else 0.0) > r["stale_s"]
            level = statistics.median(x["readings"]) if x["readings"] else None
            high = level is not None and level >= r["close_m"]
            if not stale and level is not None and level < r["reopen_m"]:
                x["calm"] = x["calm"] if x["calm"] is not None else now
            else:
                x["calm"] = None
            if x["state"] == "open" and (stale or (level is not None and level >= r["warn_m"])):
                x["state"], x["warned"] = "warning", now
                sign(x, now, ("산책로 통제 예정", "즉시 올라오세요"))
            elif x["state"] == "warning" and (stale or high) and now - x["warned"] >= r["warn_s"]:
                di = x["mb"].read_discrete_inputs(0, count=3, device_id=1)
                clear = not di.isError() and not di.bits[2]
                if clear or stale or level >= r["override_m"]:
                    x["mb"].write_coil(0, True, device_id=1)
                    x["state"] = "closed"
                    sign(x, now, ("산책로 출입 통제", "하천 범람 위험"))
            elif x["state"] == "closed" and x["calm"] is not None and now - x["calm"] >= r["reopen_s"]:
                x["mb"].write_coil(1, True, device_id=1)
                x["state"] = "open"
                sign(x, now, None)
        s = round(now * 1000)
        clock.write_registers(0, [(s // 1000) >> 16, (s // 1000) & 0xFFFF, s % 1000], device_id=1)  # progress
    c.loop_stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
