"""Soak: the device fleet under hostile traffic at every protocol while a well-behaved client works (issue 13).

    python benchmarks/soak_devices.py [--minutes 10] [--speed 10] [--baseline 20] [--broker auto|mosquitto|embedded]
                                      [--skip ATTACK ...] [--mqtt-rate 200] [--log-bound BYTES] [--keep]

Starts `twin devices serve` (the flagship scenario, its whole dataset: level sensors, rain gauges,
gates, signboards, cameras, tilt/crack sensors, crosswalks; --speed 10 by default, a paced clock)
in its own process, its stderr to ``fleet.log``. Then, in the same run:

1. **baseline** (--baseline s, 20 by default): the good client alone;
2. **soak** (--minutes): the good client, and a hostile process (one process, so at most one core)
   throwing malformed and hostile traffic at every protocol, round-robin over the devices:
   - MQTT: garbage gate commands as the operator (random bytes, ``[[[[...``, lone surrogates,
     1 MB payloads, commands of the wrong type, wildcards in a topic), at most --mqtt-rate
     messages/s; wrong passwords, anonymous and unknown users; a device account publishing
     elsewhere and subscribing to everything; a will on a gate's command topic; client-id
     takeovers of devices (with a wrong password, with another device's account, and with the
     operator's where the broker can refuse it: not mosquitto 2.0.11, a stated limit);
   - Modbus TCP: random frames, unknown function codes, addresses and quantities out of range,
     bad coil values, MBAP headers that lie, truncated frames, half-open connections;
   - ONVIF: garbage XML, replayed UsernameTokens, a Created without zone, a huge
     InitialTerminationTime, many subscriptions, stalled bodies, duplicate Content-Length;
     snapshots with HTTP Digest over nonces the camera never issued, and wrong passwords;
   - CAP to signboards: expires without offset, malformed XML, entity bombs, XXE, oversize bodies,
     wrong or missing Content-Type / Content-Length / credentials;
3. **final checks**: one valid request per device on each of its protocols.

The good client reads every level sensor's registers over Modbus every --read-every s, listens to
all telemetry over MQTT, every ~30 s closes then opens a gate over MQTT and checks that its state
follows (MQTT state topic and Modbus input register 0), reads a camera's GetSystemDateAndTime and
GetDeviceInformation (round-robin), and posts a valid CAP alert to a signboard and checks it is
shown.

Prints a table (hostile messages per protocol and attack, good requests sent/answered, commands
obeyed, telemetry received vs expected, latency p50/p99 in the baseline vs the soak, the fleet's
log bytes) and exits 1 if a guarantee broke:
- the fleet process is alive at the end, and every device answers its final requests;
- the good client lost nothing: every request answered, every command obeyed, no sequence gap in
  telemetry and no sensor short of its expected readings (from the simulated time elapsed);
- every complete bad request got the protocol's own error reply (an HTTP status, a Modbus
  exception), no hostile input was obeyed or delivered (a will, a forged message, a replayed
  token, an unissued nonce), no device was knocked offline;
- the fleet's log stays under --log-bound (100 kB per soak minute: 1 MB for 10 minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import multiprocessing
import os
import random
import re
import secrets
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TWIN = str(Path(sys.executable).parent / "twin")
SCENARIO = REPO / "scenarios" / "flash_flood_jungnangcheon.yaml"
LOG_BYTES_PER_MINUTE = 100_000  # the fleet's stderr budget under hostile traffic: 1 MB for 10 minutes
GATE_EVERY_S = 30.0  # wall s between the good client's close/open cycles
CAP_EVERY_S = 30.0
CAMERA_EVERY_S = 3.0
OBEY_TIMEOUT_S = 15.0  # wall s a gate or a signboard has to follow a good command
STALL_S = 20.0  # wall s a stalled body or half-open connection is held (then closed by us)
STALL_MAX = 24  # stalled connections open at once (HTTP and Modbus each)

NS_S = "http://www.w3.org/2003/05/soap-envelope"
NS_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
NS_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST_TYPE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
TDS = 'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"'
TEV = 'xmlns:tev="http://www.onvif.org/ver10/events/wsdl"'


# --- message builders (the good client and the hostile share them) ------------------------------
def soap(
    body: str,
    user: str | None = None,
    password: str | None = None,
    *,
    created: str | None = None,
    nonce: bytes | None = None,
) -> bytes:
    """A SOAP 1.2 envelope, with a WS-Security UsernameToken (PasswordDigest) when ``user`` is given."""
    header = ""
    if user is not None:
        nonce = nonce if nonce is not None else secrets.token_bytes(16)
        created = created or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + str(password).encode()).digest()).decode()
        header = (
            f'<s:Header><wsse:Security xmlns:wsse="{NS_WSSE}" xmlns:wsu="{NS_WSU}"><wsse:UsernameToken>'
            f'<wsse:Username>{user}</wsse:Username><wsse:Password Type="{DIGEST_TYPE}">{digest}</wsse:Password>'
            f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce><wsu:Created>{created}</wsu:Created>"
            "</wsse:UsernameToken></wsse:Security></s:Header>"
        )
    envelope = f'<s:Envelope xmlns:s="{NS_S}">{header}<s:Body>{body}</s:Body></s:Envelope>'
    return ('<?xml version="1.0" encoding="UTF-8"?>' + envelope).encode()


def cap_alert(
    identifier: str, start: datetime, *, expires: str | None = None, headline: str = "중랑천 산책로 통제"
) -> bytes:
    """A valid CAP 1.2 alert in the Korean profile (``expires`` a day after ``start`` unless given)."""
    sent = start.isoformat(timespec="seconds")
    expires = expires or (start + timedelta(days=1)).isoformat(timespec="seconds")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>{identifier}</identifier>
<sender>uijeongbu.go.kr</sender><sent>{sent}</sent><status>Exercise</status><msgType>Alert</msgType>
<scope>Public</scope><code>대한민국정부1.0</code>
<info><language>ko-KR</language><category>Met</category><event>호우경보</event><urgency>Immediate</urgency>
<severity>Severe</severity><certainty>Observed</certainty><expires>{expires}</expires><headline>{headline}</headline>
<description>하천 수위 상승으로 산책로 출입을 통제합니다.</description>
<area><areaDesc>경기도 의정부시</areaDesc></area></info>
</alert>""".encode()


def digest_header(user: str, password: str, uri: str, *, nonce: str, realm: str) -> str:
    """An RFC 7616 MD5 Digest Authorization header (qop=auth) for GET ``uri``."""
    cnonce, nc = secrets.token_hex(8), "00000001"
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()  # noqa: S324 - the protocol's own
    ha2 = hashlib.md5(f"GET:{uri}".encode()).hexdigest()  # noqa: S324
    resp = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()  # noqa: S324
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", qop=auth, nc={nc}, '
        f'cnonce="{cnonce}", response="{resp}", algorithm=MD5'
    )


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def http_bytes(
    method: str, path: str, port: int, headers: list[tuple[str, str]], body: bytes = b"", *, length: bool = True
) -> bytes:
    """A raw HTTP/1.1 request (Connection: close), so the hostile can send what no client library would."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n % 128, n // 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _mstr(b: bytes) -> bytes:
    return struct.pack(">H", len(b)) + b


def mqtt_connect(
    client_id: str,
    user: str | None = None,
    password: str | None = None,
    *,
    will: tuple[str, bytes] | None = None,
    clean: bool = True,
) -> bytes:
    """An MQTT 3.1.1 CONNECT packet (no keepalive)."""
    flags, payload = (0x02 if clean else 0), _mstr(client_id.encode())
    if will is not None:
        flags |= 0x04 | 0x08  # will, QoS 1
        payload += _mstr(will[0].encode()) + _mstr(will[1])
    if user is not None:
        flags |= 0x80
        payload += _mstr(user.encode())
    if password is not None:
        flags |= 0x40
        payload += _mstr(password.encode())
    body = _mstr(b"MQTT") + bytes([4, flags]) + b"\x00\x00" + payload
    return b"\x10" + _varint(len(body)) + body


def mqtt_publish(topic: bytes, payload: bytes, *, qos: int = 0, pid: int = 1) -> bytes:
    body = _mstr(topic) + (struct.pack(">H", pid) if qos else b"") + payload
    return bytes([0x30 | (qos << 1)]) + _varint(len(body)) + body


def mqtt_subscribe(pid: int, topics: list[str]) -> bytes:
    body = struct.pack(">H", pid) + b"".join(_mstr(t.encode()) + b"\x01" for t in topics)
    return b"\x82" + _varint(len(body)) + body


MQTT_DISCONNECT = b"\xe0\x00"


def modbus(tid: int, pdu: bytes, unit: int = 1) -> bytes:
    return struct.pack(">HHHB", tid & 0xFFFF, 0, len(pdu) + 1, unit) + pdu


def percentiles(xs: list[float]) -> str:
    if not xs:
        return "-"
    a = np.array(xs) * 1000
    return f"{np.percentile(a, 50):.1f}/{np.percentile(a, 99):.1f}"


# --- the hostile process ---------------------------------------------------------------------------
UNKNOWN_FCS = (0x00, 0x09, 0x0A, 0x0D, 0x0E, 0x12, 0x13, 0x1A, 0x1F, 0x41, 0x55, 0x64, 0x7F)
MQTT_ATTACKS = (
    "wrong_password",
    "anonymous",
    "unknown_user",
    "takeover_wrong_password",
    "takeover_other_device",
    "takeover_operator",
    "device_publishes_elsewhere",
    "device_subscribes_everything",
    "will_on_gate_topic",
    "garbage_bytes",
    "bad_protocol_level",
)


class Hostile:
    """Throws bad traffic at every device of a running fleet for ``seconds``; counts what it sent
    and what came back (in one asyncio loop: one process, at most one core)."""

    def __init__(self, manifest: dict, creds: dict, good: dict, *, skip: set[str], mqtt_rate: float) -> None:
        self.m, self.creds, self.good, self.skip, self.mqtt_rate = manifest, creds, good, skip, mqtt_rate
        self.rng = random.Random(13)
        devs = manifest["devices"]
        self.by_kind: dict[str, list[dict]] = defaultdict(list)
        for d in devs:
            self.by_kind[d["kind"]].append(d)
        self.modbus_ports = [(d["id"], d["kind"], d["modbus"]["port"]) for d in devs if "modbus" in d]
        self.modbus_ports.append(("clock", "clock", manifest["clock"]["modbus"]["port"]))
        self.mqtt_devices = [d for d in devs if d.get("mqtt") and d["id"] != good["gate"]]
        self.other_gates = [d for d in self.by_kind["gate"] if d["id"] != good["gate"]] or self.by_kind["gate"]
        self.broker = (manifest["broker"]["host"], manifest["broker"]["port"])
        self.sent: Counter = Counter()  # (protocol, attack) -> messages sent
        self.replied: Counter = Counter()  # (protocol, attack) -> an answer came back
        self.missing: Counter = Counter()  # (protocol, attack) -> a reply was due and none came
        self.codes: dict[str, Counter] = defaultdict(Counter)  # attack -> reply codes seen
        self.breaches: Counter = Counter()  # hostile input that was obeyed or accepted
        self.stalls = 0
        self.tid = 0
        self.end = 0.0

    def n(self, proto: str, attack: str, k: int = 1) -> None:
        self.sent[(proto, attack)] += k

    def on(self, attack: str) -> bool:
        if attack == "takeover_operator" and self.m["broker"].get("kind") == "mosquitto":
            return False  # a stated limit of mosquitto 2.0.11 (manifest broker.limits): the operator is trusted
        return attack not in self.skip and attack.split(":")[0] not in self.skip

    async def run(self, seconds: float) -> dict:
        self.end = time.monotonic() + seconds
        lanes = [
            self.mqtt_garbage(),
            self.mqtt_connects(),
            self.modbus_lane(0),
            self.modbus_lane(1),
            self.modbus_half_open(),
            self.onvif_lane(),
            self.cap_lane(),
            self.digest_lane(),
            self.http_stalls(),
        ]
        await asyncio.gather(*lanes, return_exceptions=False)
        return self.stats()

    def stats(self) -> dict:
        key = lambda c: {f"{p}:{a}": v for (p, a), v in sorted(c.items())}  # noqa: E731
        return {
            "sent": key(self.sent),
            "replied": key(self.replied),
            "missing": key(self.missing),
            "codes": {a: dict(c) for a, c in self.codes.items()},
            "breaches": dict(self.breaches),
            "stalled_connections": self.stalls,
        }

    # --- MQTT -------------------------------------------------------------------------------------
    def garbage_command(self) -> tuple[str, bytes]:
        r = self.rng
        k = r.randrange(14)
        if k == 0:
            return "random_bytes", r.randbytes(r.randrange(1, 300))
        if k == 1:
            return "deep_json", b"[" * 100_000
        if k == 2:
            return "deep_json", b'{"command": ' + b'{"a": ' * 20_000
        if k == 3:
            return "lone_surrogate", b'{"command": "\\ud800"}'
        if k == 4:
            return "lone_surrogate", b'{"command": "\xed\xa0\x80"}'
        if k == 5:
            return "huge_payload", (b'{"command": "' + b"x" * 1_000_000 + b'"}') if r.random() < 0.1 else b"y" * 300_000
        if k == 6:
            return "wrong_type", r.choice(
                [
                    b'{"command": 1}',
                    b'{"command": null}',
                    b'{"command": true}',
                    b'{"command": ["close"]}',
                    b'{"command": {"close": 1}}',
                    b"[]",
                    b"{}",
                    b'{"command": 1e999999}',
                    b'{"command": NaN}',
                    b'"close"',
                ]
            )
        if k == 7:
            return "unknown_command", r.choice(
                [
                    b"explode",
                    b'{"command": "clos"}',
                    b'{"cmd": "close"}',
                    b"",
                    b"   ",
                    b"close\x00",
                    b"\x00open",
                    b'{"command": "close", "command": 5}',
                ]
            )
        if k == 8:
            return "big_number", b'{"command": ' + b"9" * 5000 + b"}"
        if k == 9:
            return "not_utf8", b"\xff\xfe\x00c\x00l\x00o\x00s\x00e"
        return "random_bytes", r.randbytes(r.randrange(1, 64))

    async def mqtt_open(self, connect: bytes, timeout: float = 3.0):
        """Connect and send CONNECT; returns (return code or None, reader, writer)."""
        r, w = await asyncio.wait_for(asyncio.open_connection(*self.broker), timeout)
        w.write(connect)
        await w.drain()
        try:
            ack = await asyncio.wait_for(r.readexactly(4), timeout)
            rc = ack[3] if ack[0] == 0x20 else None
        except (TimeoutError, asyncio.IncompleteReadError, OSError):
            rc = None
        return rc, r, w

    async def mqtt_garbage(self) -> None:
        """Garbage on gate command topics as the operator (who may publish there), at most mqtt_rate/s."""
        if not self.on("mqtt_garbage"):
            return
        op = self.creds["operator"]
        gates = self.by_kind["gate"]
        k, w = 0, None
        period = 1.0 / self.mqtt_rate if self.mqtt_rate > 0 else 0.0
        t_next = time.monotonic()
        while time.monotonic() < self.end:
            try:
                if w is None or w.is_closing():
                    rc, _r, w = await self.mqtt_open(
                        mqtt_connect(f"soak-hostile-op-{k}", op["username"], op["password"])
                    )
                    if rc != 0:
                        w.close()
                        w = None
                        await asyncio.sleep(0.5)
                        continue
                gate = gates[k % len(gates)]
                k += 1
                if k % 97 == 0:  # a wildcard or a NUL in a topic name: the broker must drop us, nothing else
                    attack, topic, payload = (
                        "bad_topic",
                        self.rng.choice(
                            [b"uijeongbu/gate/+/cmd", b"uijeongbu/#", b"uijeongbu/gate/\x00/cmd", b"\xff\xfe"]
                        ),
                        b"close",
                    )
                else:
                    attack, payload = self.garbage_command()
                    topic = gate["mqtt"]["cmd"].encode()
                if not self.on(attack):
                    continue
                w.write(mqtt_publish(topic, payload, qos=k % 2, pid=(k % 65000) + 1))
                await w.drain()
                self.n("mqtt", attack)
            except (OSError, TimeoutError):
                w = None
                await asyncio.sleep(0.2)
            t_next += period
            await asyncio.sleep(max(t_next - time.monotonic(), 0.0))
        if w is not None:
            w.close()

    async def mqtt_connects(self) -> None:
        """Connections that must be refused or contained, one after another."""
        op = self.creds["operator"]
        k = 0
        accounts = [d for d in self.mqtt_devices if d["id"] in self.creds]
        while time.monotonic() < self.end:
            attack = MQTT_ATTACKS[k % len(MQTT_ATTACKS)]
            k += 1
            if not self.on(attack):
                await asyncio.sleep(0.01)
                continue
            dev = accounts[(k // len(MQTT_ATTACKS)) % len(accounts)]
            mine = self.creds[dev["id"]]
            gate = self.other_gates[k % len(self.other_gates)]
            try:
                await self._mqtt_attack(attack, dev, mine, gate, op, k)
            except (OSError, TimeoutError, asyncio.IncompleteReadError):
                pass
            await asyncio.sleep(0.02)

    async def _mqtt_attack(self, attack: str, dev: dict, mine: dict, gate: dict, op: dict, k: int) -> None:
        self.n("mqtt", attack)
        forged = json.dumps({"command": "open", "soak_forged": attack}).encode()
        if attack in ("wrong_password", "anonymous", "unknown_user", "takeover_wrong_password"):
            user, pw, cid = {
                "wrong_password": (op["username"], "wrong-" + secrets.token_hex(4), f"soak-h-{k}"),
                "anonymous": (None, None, f"soak-h-{k}"),
                "unknown_user": ("mallory", "x", f"soak-h-{k}"),
                "takeover_wrong_password": (dev["id"], "wrong-" + secrets.token_hex(4), dev["id"]),
            }[attack]
            rc, _r, w = await self.mqtt_open(mqtt_connect(cid, user, pw))
            self.replied[("mqtt", attack)] += rc is not None
            if rc == 0:
                self.breaches[f"mqtt {attack}: connection accepted"] += 1
            w.close()
        elif attack == "takeover_other_device":  # a device's valid account, another device's client id
            victims = [g for g in self.other_gates if g["id"] != dev["id"]]  # its own id would be no takeover
            victim = victims[k % len(victims)]
            rc, _r, w = await self.mqtt_open(mqtt_connect(victim["id"], mine["username"], mine["password"]))
            self.replied[("mqtt", attack)] += rc is not None
            if rc == 0:
                self.breaches[f"mqtt {attack}: connection accepted"] += 1
            w.close()
        elif attack == "takeover_operator":  # the operator's valid account, a device's client id
            rc, _r, w = await self.mqtt_open(mqtt_connect(dev["id"], op["username"], op["password"]))
            self.replied[("mqtt", attack)] += rc is not None
            await asyncio.sleep(0.3)
            w.write(MQTT_DISCONNECT)
            w.close()
        elif attack == "device_publishes_elsewhere":
            rc, r, w = await self.mqtt_open(mqtt_connect(f"soak-h-{k}", mine["username"], mine["password"]))
            self.replied[("mqtt", attack)] += rc is not None
            victim = self.by_kind["level_sensor"][k % len(self.by_kind["level_sensor"])]
            fake = json.dumps({"device_id": victim["id"], "seq": 1, "value": 99.0, "soak_forged": attack}).encode()
            w.write(mqtt_publish(victim["mqtt"]["telemetry"].encode(), fake, qos=1, pid=1))
            w.write(mqtt_publish(gate["mqtt"]["cmd"].encode(), forged, qos=1, pid=2))
            w.write(MQTT_DISCONNECT)
            await w.drain()
            await asyncio.sleep(0.05)
            w.close()
        elif attack == "device_subscribes_everything":
            rc, r, w = await self.mqtt_open(mqtt_connect(f"soak-h-{k}", mine["username"], mine["password"]))
            self.replied[("mqtt", attack)] += rc is not None
            w.write(mqtt_subscribe(1, ["#", "uijeongbu/#", "uijeongbu/gate/+/cmd", "application/#"]))
            await w.drain()
            got = b""
            deadline = time.monotonic() + 0.8
            while time.monotonic() < deadline:
                try:
                    chunk = await asyncio.wait_for(r.read(65536), max(deadline - time.monotonic(), 0.01))
                except TimeoutError:
                    break
                if not chunk:
                    break
                got += chunk
            leaked = _count_publishes(got)
            if leaked:
                self.breaches["mqtt device_subscribes_everything: messages delivered to a device account"] += leaked
            w.close()
        elif attack == "will_on_gate_topic":  # a device's account may not publish there, nor leave a will there
            rc, _r, w = await self.mqtt_open(
                mqtt_connect(f"soak-h-{k}", mine["username"], mine["password"], will=(gate["mqtt"]["cmd"], forged))
            )
            self.replied[("mqtt", attack)] += rc is not None
            w.transport.abort()  # no DISCONNECT: the broker publishes the will, if it took it
        elif attack == "garbage_bytes":
            _r, w = await asyncio.wait_for(asyncio.open_connection(*self.broker), 3)
            w.write(self.rng.randbytes(self.rng.randrange(1, 2000)))
            await w.drain()
            await asyncio.sleep(0.05)
            w.close()
        elif attack == "bad_protocol_level":
            pkt = bytearray(mqtt_connect(f"soak-h-{k}", op["username"], op["password"]))
            pkt[8] = self.rng.choice([0, 3, 6, 255])  # protocol level
            rc, _r, w = await self.mqtt_open(bytes(pkt))
            if rc == 0:
                self.breaches["mqtt bad_protocol_level: connection accepted"] += 1
            w.close()

    # --- Modbus -----------------------------------------------------------------------------------
    def modbus_frames(self, kind: str) -> list[tuple[str, bytes, bool]]:
        """A batch: (attack, frame, whether the standard requires an answer). Never a valid write:
        no hostile frame may change a gate or the clock."""
        r = self.rng
        out: list[tuple[str, bytes, bool]] = []

        def tid() -> int:
            self.tid = (self.tid + 1) % 65536
            return self.tid

        for _ in range(4):
            k = r.randrange(6)
            if k == 0:
                out.append(("unknown_function", modbus(tid(), bytes([r.choice(UNKNOWN_FCS)]) + r.randbytes(4)), True))
            elif k == 1:
                fc = r.choice([1, 2, 3, 4])
                out.append(
                    (
                        "address_out_of_range",
                        modbus(tid(), struct.pack(">BHH", fc, r.randrange(0x8000, 0xFFF0), r.randrange(1, 9))),
                        True,
                    )
                )
            elif k == 2:
                fc = r.choice([1, 2, 3, 4])
                count = r.choice([0, 2001, 65535]) if fc in (1, 2) else r.choice([0, 126, 2000, 65535])
                out.append(("quantity_out_of_range", modbus(tid(), struct.pack(">BHH", fc, 0, count)), True))
            elif k == 3:  # a coil written with a value other than FF00/0000
                out.append(
                    (
                        "bad_coil_value",
                        modbus(
                            tid(), struct.pack(">BHH", 5, r.randrange(3), r.choice([0x1234, 0xFFFF, 0x00FF, 0x0001]))
                        ),
                        True,
                    )
                )
            elif k == 4:
                pdu = r.choice(
                    [
                        struct.pack(">BHHB", 15, 60000, 8, 1) + b"\xff",
                        struct.pack(">BHHBHH", 16, 60000, 2, 4, 1, 2),
                        struct.pack(">BHH", 6, 0x9000, 1),
                    ]
                )
                out.append(("write_out_of_range", modbus(tid(), pdu), True))
            elif kind in ("level_sensor", "rain_gauge"):  # their registers are read-only
                out.append(("write_read_only", modbus(tid(), struct.pack(">BHH", 6, 0, r.randrange(65536))), True))
            else:
                out.append(("unknown_function", modbus(tid(), bytes([r.choice(UNKNOWN_FCS)])), True))
        k = r.randrange(4)
        if k == 0:
            out.append(("random_frame", r.randbytes(r.randrange(1, 300)), False))
        elif k == 1:
            out.append(
                ("mbap_lies", struct.pack(">HHHB", tid(), r.choice([1, 0xFFFF]), 6, 1) + b"\x03\x00\x00\x00\x01", False)
            )
        elif k == 2:
            out.append(
                ("mbap_lies", struct.pack(">HHHB", tid(), 0, r.choice([0, 1, 300, 65535]), 1) + b"\x03\x00\x00", False)
            )
        else:
            out.append(("truncated_frame", modbus(tid(), struct.pack(">BHH", 3, 0, 1))[: r.randrange(3, 11)], False))
        return out

    async def modbus_lane(self, lane: int) -> None:
        k = lane
        while time.monotonic() < self.end:
            dev_id, kind, port = self.modbus_ports[k % len(self.modbus_ports)]
            k += 2
            batch = [f for f in self.modbus_frames(kind) if self.on(f[0])]
            if not batch:
                await asyncio.sleep(0.1)
                continue
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 3)
            except (OSError, TimeoutError):
                for attack, _, due in batch:
                    self.n("modbus", attack)
                    self.missing[("modbus", attack)] += due
                await asyncio.sleep(0.2)
                continue
            try:
                for attack, frame, due in batch:
                    self.n("modbus", attack)
                    w.write(frame)
                    await w.drain()
                    if not due:
                        continue
                    try:
                        head = await asyncio.wait_for(r.readexactly(7), 2.0)
                        rest = await asyncio.wait_for(r.readexactly(max(struct.unpack(">H", head[4:6])[0] - 1, 0)), 2.0)
                        self.replied[("modbus", attack)] += 1
                        code = (
                            f"exception {rest[1]:02d}" if rest and rest[0] & 0x80 and len(rest) > 1 else "normal reply"
                        )
                        self.codes[f"modbus:{attack}"][code] += 1
                    except (TimeoutError, asyncio.IncompleteReadError, OSError):
                        self.missing[("modbus", attack)] += 1
                        self.codes[f"modbus:{attack}"]["no reply"] += 1
                        break
            except OSError:
                pass
            finally:
                w.close()

    async def modbus_half_open(self) -> None:
        if not self.on("half_open"):
            return
        open_now = 0
        k = 0

        async def hold(port: int) -> None:
            nonlocal open_now
            open_now += 1
            try:
                _r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 3)
                w.write(b"\x00\x01\x00")  # three bytes of an MBAP header, then nothing
                await w.drain()
                await asyncio.sleep(min(STALL_S, max(self.end - time.monotonic(), 0.0)))
                w.close()
            except (OSError, TimeoutError):
                pass
            finally:
                open_now -= 1

        tasks = []
        while time.monotonic() < self.end:
            if open_now < STALL_MAX:
                port = self.modbus_ports[k % len(self.modbus_ports)][2]
                k += 1
                self.n("modbus", "half_open")
                tasks.append(asyncio.ensure_future(hold(port)))
            await asyncio.sleep(0.1)
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- HTTP (cameras, signboards) -----------------------------------------------------------------
    async def http(
        self, proto: str, attack: str, port: int, data: bytes, *, due: bool = True, timeout: float = 5.0
    ) -> int | None:
        """Send one raw request; the status code, or None when no answer came (counted as missing if due)."""
        self.n(proto, attack)
        status = None
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        except (OSError, TimeoutError):
            self.missing[(proto, attack)] += due
            return None
        try:
            w.write(data)  # not drained first: a server may answer 413 before it reads a large body
            head = await asyncio.wait_for(r.read(4096), timeout)
            if head.startswith(b"HTTP/") and len(head.split(b" ", 2)) > 1:
                status = int(head.split(b" ", 2)[1])
        except (OSError, TimeoutError, ValueError):
            status = None
        finally:
            w.close()
        if status is None:
            self.missing[(proto, attack)] += due
            self.codes[f"{proto}:{attack}"]["no reply"] += 1
        else:
            self.replied[(proto, attack)] += 1
            self.codes[f"{proto}:{attack}"][str(status)] += 1
        return status

    async def onvif_lane(self) -> None:
        cams = self.by_kind["cctv"]
        attacks = (
            "garbage_xml",
            "replayed_token",
            "created_without_zone",
            "huge_termination_time",
            "many_subscriptions",
            "duplicate_content_length",
            "unknown_operation",
            "wrong_password",
        )
        k = 0
        while time.monotonic() < self.end and cams:
            cam = cams[k % len(cams)]
            attack = attacks[k % len(attacks)]
            k += 1
            if not self.on(attack):
                await asyncio.sleep(0.01)
                continue
            port, user = cam["onvif"]["port"], cam["id"]
            pw = self.creds.get(user, {}).get("password", "x")
            dev, ev = "/onvif/device_service", "/onvif/event_service"
            ctype = [("Content-Type", "application/soap+xml; charset=utf-8")]
            info = f"<tds:GetDeviceInformation {TDS}/>"
            if attack == "garbage_xml":
                body = self.rng.choice(
                    [
                        self.rng.randbytes(500),
                        b"<s:Envelope",
                        soap(info)[:-40],
                        b"",
                        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
                        b"<a>" * 5000,
                    ]
                )
                await self.http("onvif", attack, port, http_bytes("POST", dev, port, ctype, body))
            elif attack == "replayed_token":
                req = http_bytes("POST", dev, port, ctype, soap(info, user, pw))
                await self.http("onvif", "replayed_token:first", port, req)
                status = await self.http("onvif", attack, port, req)
                if status == 200:
                    self.breaches["onvif replayed UsernameToken accepted"] += 1
            elif attack == "created_without_zone":
                created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
                await self.http(
                    "onvif", attack, port, http_bytes("POST", dev, port, ctype, soap(info, user, pw, created=created))
                )
            elif attack == "huge_termination_time":
                body = (
                    f"<tev:CreatePullPointSubscription {TEV}><tev:InitialTerminationTime>"
                    + self.rng.choice(["PT99999999999999999999S", "PT9999999999H", "P99999Y", "PT1e308S", "-PT5S"])
                    + "</tev:InitialTerminationTime></tev:CreatePullPointSubscription>"
                )
                await self.http("onvif", attack, port, http_bytes("POST", ev, port, ctype, soap(body, user, pw)))
            elif attack == "many_subscriptions":
                body = (
                    f"<tev:CreatePullPointSubscription {TEV}><tev:InitialTerminationTime>PT60S"
                    "</tev:InitialTerminationTime></tev:CreatePullPointSubscription>"
                )
                for _ in range(20):
                    await self.http("onvif", attack, port, http_bytes("POST", ev, port, ctype, soap(body, user, pw)))
            elif attack == "duplicate_content_length":
                body = soap(info, user, pw)
                hdrs = ctype + [("Content-Length", str(len(body))), ("Content-Length", str(len(body) + 7))]
                if self.rng.random() < 0.5:
                    hdrs = ctype + [("Content-Length", str(len(body) + 7)), ("Content-Length", str(len(body)))]
                await self.http("onvif", attack, port, http_bytes("POST", dev, port, hdrs, body, length=False))
            elif attack == "unknown_operation":
                await self.http(
                    "onvif",
                    attack,
                    port,
                    http_bytes("POST", dev, port, ctype, soap("<tds:RebootNow " + TDS + "/>", user, pw)),
                )
            elif attack == "wrong_password":
                await self.http("onvif", attack, port, http_bytes("POST", dev, port, ctype, soap(info, user, "wrong")))

    async def digest_lane(self) -> None:
        cams = self.by_kind["cctv"]
        k = 0
        while time.monotonic() < self.end and cams:
            cam = cams[k % len(cams)]
            k += 1
            port, user = cam["onvif"]["port"], cam["id"]
            pw = self.creds.get(user, {}).get("password", "x")
            attack = ("unissued_nonce", "digest_wrong_password", "digest_malformed", "basic_wrong_password")[k % 4]
            if not self.on(attack):
                await asyncio.sleep(0.01)
                continue
            if attack == "unissued_nonce":  # the right password over a nonce the camera never gave out
                hdr = digest_header(user, pw, "/snapshot.png", nonce=secrets.token_hex(16), realm=user)
            elif attack == "digest_wrong_password":
                hdr = digest_header(user, "wrong", "/snapshot.png", nonce=secrets.token_hex(16), realm=user)
            elif attack == "digest_malformed":
                hdr = self.rng.choice(
                    ['Digest username="', "Digest ,,,,=,=", "Digest " + "a=b," * 5000, "Digest \x7f\x00"]
                )
            else:
                hdr = basic(user, "wrong")
            status = await self.http(
                "snapshot",
                attack,
                port,
                http_bytes("GET", "/snapshot.png", port, [("Authorization", hdr)], length=False),
            )
            if status == 200:
                self.breaches[f"snapshot {attack}: 200 (a picture) for credentials that must be refused"] += 1

    async def cap_lane(self) -> None:
        boards = self.by_kind["signboard"]
        start = datetime.fromisoformat(self.m["start"])
        attacks = (
            "expires_without_offset",
            "malformed_xml",
            "entity_bomb",
            "xxe",
            "oversize_body",
            "no_credentials",
            "wrong_content_type",
            "no_content_length",
            "negative_content_length",
            "sent_without_offset",
            "not_utf8",
            "deep_nesting",
        )
        k = 0
        while time.monotonic() < self.end and boards:
            board = boards[k % len(boards)]
            attack = attacks[k % len(attacks)]
            k += 1
            if not self.on(attack):
                await asyncio.sleep(0.01)
                continue
            port, user = board["http"]["port"], board["id"]
            auth = [("Authorization", basic(user, self.creds.get(user, {}).get("password", "x")))]
            xml = [("Content-Type", "application/cap+xml")]
            good = cap_alert(f"SOAK-H-{k}", start)
            if attack == "expires_without_offset":
                if board["id"] == self.good["signboard"]:
                    continue  # it would be shown: keep the good client's board for the good client
                body = cap_alert(
                    f"SOAK-H-{k}", start, expires=(start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
                )
                await self.http("cap", attack, port, http_bytes("POST", "/cap", port, auth + xml, body))
                continue
            body, hdrs, length = good, auth + xml, True
            if attack == "malformed_xml":
                body = self.rng.choice([good[: self.rng.randrange(10, len(good))], b"<alert>", self.rng.randbytes(400)])
            elif attack == "entity_bomb":
                body = (
                    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                    + b"".join(
                        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                        for i in range(1, 10)
                    )
                    + b']><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>'
                )
            elif attack == "xxe":
                body = (
                    b'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                    b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>'
                )
            elif attack == "oversize_body":
                body = good + b"<!--" + b"x" * 300_000 + b"-->"
            elif attack == "no_credentials":
                hdrs = xml
            elif attack == "wrong_content_type":
                hdrs = auth + [
                    ("Content-Type", self.rng.choice(["application/json", "text/plain", "", "application/cap+xml\x00"]))
                ]
            elif attack == "no_content_length":
                length = False
            elif attack == "negative_content_length":
                hdrs, length = (
                    auth + xml + [("Content-Length", self.rng.choice(["-1", "1e9", "abc", "99999999999999999999"]))],
                    False,
                )
            elif attack == "sent_without_offset":
                body = good.replace(
                    start.isoformat(timespec="seconds").encode(), start.strftime("%Y-%m-%dT%H:%M:%S").encode(), 1
                )
            elif attack == "not_utf8":
                body = good.replace("중랑천".encode(), b"\xff\xfe\xfd", 1)
            elif attack == "deep_nesting":
                body = (
                    b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
                    + b"<a>" * 20000
                    + b"</a>" * 20000
                    + b"</alert>"
                )
            await self.http("cap", attack, port, http_bytes("POST", "/cap", port, hdrs, body, length=length))

    async def http_stalls(self) -> None:
        """Bodies that never come (and bodies that trickle), on cameras and signboards, STALL_MAX at a time."""
        if not self.on("stalled_body"):
            return
        targets = [d["onvif"]["port"] for d in self.by_kind["cctv"]] + [
            d["http"]["port"] for d in self.by_kind["signboard"]
        ]
        open_now, k, tasks = 0, 0, []

        async def stall(port: int, trickle: bool) -> None:
            nonlocal open_now
            open_now += 1
            try:
                _r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 3)
                w.write(
                    http_bytes(
                        "POST",
                        "/onvif/device_service",
                        port,
                        [("Content-Type", "application/soap+xml"), ("Content-Length", "60000")],
                        length=False,
                    )
                    + b"<s:Envelope"
                )
                await w.drain()
                until = min(time.monotonic() + STALL_S, self.end)
                while time.monotonic() < until and not w.is_closing():
                    await asyncio.sleep(2.0)
                    if trickle:
                        w.write(b" ")
                        await w.drain()
                w.close()
            except (OSError, TimeoutError):
                pass
            finally:
                open_now -= 1

        while time.monotonic() < self.end and targets:
            if open_now < STALL_MAX:
                port = targets[k % len(targets)]
                k += 1
                self.stalls += 1
                self.n("http", "stalled_body")
                tasks.append(asyncio.ensure_future(stall(port, trickle=k % 2 == 0)))
            await asyncio.sleep(0.2)
        await asyncio.gather(*tasks, return_exceptions=True)


def _count_publishes(data: bytes) -> int:
    """How many PUBLISH packets an MQTT byte stream holds."""
    i = n = 0
    while i < len(data):
        kind = data[i] >> 4
        mult, length, j = 1, 0, i + 1
        while j < len(data):
            length += (data[j] & 0x7F) * mult
            mult *= 128
            j += 1
            if not data[j - 1] & 0x80:
                break
        n += kind == 3
        i = j + length
    return n


def hostile_main(manifest_path: str, seconds: float, good: dict, skip: list[str], mqtt_rate: float, out: str) -> None:
    """The hostile process: run, then write what it sent and saw to ``out`` (JSON)."""
    manifest = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
    creds = json.loads((Path(manifest_path).parent / "credentials.json").read_text(encoding="utf-8"))
    hostile = Hostile(manifest, creds, good, skip=set(skip), mqtt_rate=mqtt_rate)
    t = time.process_time()
    stats = asyncio.run(hostile.run(seconds))
    stats["cpu_s"] = time.process_time() - t
    tmp = Path(out).with_suffix(".tmp")
    tmp.write_text(json.dumps(stats), encoding="utf-8")
    tmp.replace(out)


# --- the good client -------------------------------------------------------------------------------
class GoodClient:
    """A well-behaved controller and dashboard at once (threads in this process). Every request it
    makes is recorded as (phase, kind, answered, latency s)."""

    def __init__(self, manifest: dict, creds: dict, read_every: float) -> None:
        self.m, self.creds, self.read_every = manifest, creds, read_every
        self.phase = "baseline"
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str, bool, float]] = []
        self.failures: list[str] = []  # the first few, in words
        self.commands: list[tuple[str, str, bool, float]] = []  # (phase, what, obeyed, wall s to follow)
        self.telemetry: dict[str, list[tuple[int, float]]] = defaultdict(list)  # device -> [(seq, sim s)]
        self.last_msg: dict[str, float] = {}  # device -> sim s of its last periodic message
        self.gate_state: dict[str, dict] = {}
        self.gate_events: list[tuple[str, str, dict]] = []  # (phase, gate, event)
        self.status: dict[str, list[str]] = defaultdict(list)  # device -> statuses seen (in order)
        self.offline_seen: list[tuple[str, str]] = []  # (phase, device)
        self.forged: Counter = Counter()
        self.devs = {d["id"]: d for d in manifest["devices"]}
        kinds = defaultdict(list)
        for d in manifest["devices"]:
            kinds[d["kind"]].append(d)
        self.kinds = kinds
        self.gate = kinds["gate"][0]
        self.board = kinds["signboard"][0]
        self.start = datetime.fromisoformat(manifest["start"])
        self.mqtt = None
        self.threads: list[threading.Thread] = []

    def record(self, kind: str, ok: bool, dt: float, why: str = "") -> None:
        with self.lock:
            self.requests.append((self.phase, kind, ok, dt))
            if not ok and len(self.failures) < 20:
                self.failures.append(f"{self.phase} {kind}: {why}"[:200])

    # MQTT
    def on_message(self, client, userdata, msg) -> None:
        parts = msg.topic.split("/")
        try:
            data = json.loads(msg.payload)
        except (ValueError, UnicodeDecodeError, RecursionError):
            data = msg.payload.decode("utf-8", "replace")
        if isinstance(data, dict) and "soak_forged" in data:
            with self.lock:
                self.forged[f"{data['soak_forged']} on {msg.topic}"] += 1
            return
        if parts[0] == "application":  # LoRaWAN uplinks
            dev = data.get("deviceInfo", {}).get("deviceName") if isinstance(data, dict) else None
            if dev:
                with self.lock:
                    self.last_msg[dev] = time.time()
            return
        if len(parts) != 4:
            return
        _, kind, dev, leaf = parts
        with self.lock:
            if leaf == "status":
                self.status[dev].append(str(data))
                if data == "offline":
                    self.offline_seen.append((self.phase, dev))
            elif leaf == "telemetry" and isinstance(data, dict) and isinstance(data.get("seq"), int):
                self.telemetry[dev].append((data["seq"], float(data.get("sim_time_s", -1))))
                self.last_msg[dev] = time.time()
            elif leaf == "state" and kind == "gate" and isinstance(data, dict):
                self.gate_state[dev] = data
                self.last_msg[dev] = time.time()
            elif leaf == "event" and kind == "gate" and isinstance(data, dict):
                self.gate_events.append((self.phase, dev, data))

    def connect_mqtt(self) -> None:
        import paho.mqtt.client as mqtt

        op = self.creds["operator"]
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"soak-good-{os.getpid()}", clean_session=True)
        c.username_pw_set(op["username"], op["password"])
        c.on_message = self.on_message
        c.on_connect = lambda cl, u, f, rc, p: cl.subscribe([("uijeongbu/#", 1), ("application/#", 1)])
        c.connect(self.m["broker"]["host"], self.m["broker"]["port"], keepalive=30)
        c.loop_start()
        self.mqtt = c

    # Modbus
    def modbus_read(self, port: int, table: str, count: int, kind: str) -> list[int] | None:
        from pymodbus.client import ModbusTcpClient

        t = time.perf_counter()
        client = ModbusTcpClient("127.0.0.1", port=port, timeout=3, retries=0)
        try:
            if not client.connect():
                self.record(kind, False, time.perf_counter() - t, f"port {port}: no connection")
                return None
            fn = client.read_holding_registers if table == "holding" else client.read_input_registers
            if table == "coils":
                fn = client.read_coils
            r = fn(0, count=count, device_id=1)
            dt = time.perf_counter() - t
            if r.isError():
                self.record(kind, False, dt, f"port {port}: {r}")
                return None
            self.record(kind, True, dt)
            return list(r.bits[:count]) if table == "coils" else list(r.registers)
        except Exception as exc:  # noqa: BLE001 - any failure of a good request is a finding, recorded
            self.record(kind, False, time.perf_counter() - t, f"port {port}: {type(exc).__name__}: {exc}")
            return None
        finally:
            client.close()

    def clock_s(self) -> float | None:
        regs = self.modbus_read(self.m["clock"]["modbus"]["port"], "input", 7, "clock read")
        return None if regs is None else ((regs[0] << 16) | regs[1]) + regs[2] / 1000

    def reader(self) -> None:
        sensors = self.kinds["level_sensor"]
        while not self.stop.is_set():
            t = time.monotonic()
            for d in sensors:
                self.modbus_read(d["modbus"]["port"], "holding", 7, "modbus level read")
            self.stop.wait(max(self.read_every - (time.monotonic() - t), 0.05))

    # HTTP
    def http(
        self, kind: str, port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int | None, bytes]:
        t = time.perf_counter()
        try:
            conn = HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            ok = resp.status == 200
            self.record(kind, ok, time.perf_counter() - t, f"port {port} {path}: HTTP {resp.status}")
            return resp.status, data
        except (OSError, ValueError) as exc:
            self.record(kind, False, time.perf_counter() - t, f"port {port} {path}: {type(exc).__name__}: {exc}")
            return None, b""

    def camera(self, cam: dict) -> bool:
        port, user = cam["onvif"]["port"], cam["id"]
        hdrs = {"Content-Type": "application/soap+xml; charset=utf-8"}
        s1, _ = self.http(
            "onvif GetSystemDateAndTime",
            port,
            "POST",
            "/onvif/device_service",
            soap(f"<tds:GetSystemDateAndTime {TDS}/>"),
            hdrs,
        )
        s2, data = self.http(
            "onvif GetDeviceInformation",
            port,
            "POST",
            "/onvif/device_service",
            soap(f"<tds:GetDeviceInformation {TDS}/>", user, self.creds[user]["password"]),
            hdrs,
        )
        return s1 == 200 and s2 == 200 and f"<tds:SerialNumber>{user}<".encode() in data

    def post_cap(self, board: dict, n: int) -> bool:
        port, user = board["http"]["port"], board["id"]
        auth = {"Authorization": basic(user, self.creds[user]["password"])}
        ident = f"SOAK-GOOD-{os.getpid()}-{n}"
        status, _ = self.http(
            "cap post",
            port,
            "POST",
            "/cap",
            cap_alert(ident, self.start, headline=f"점검 {n}"),
            auth | {"Content-Type": "application/cap+xml"},
        )
        t = time.perf_counter()
        deadline = time.monotonic() + OBEY_TIMEOUT_S
        while status == 200 and time.monotonic() < deadline and not self.stop.is_set():
            s, data = self.http("cap display", port, "GET", "/display", headers=auth)
            if s == 200 and json.loads(data).get("identifier") == ident:
                with self.lock:
                    self.commands.append((self.phase, "cap shown", True, time.perf_counter() - t))
                return True
            time.sleep(0.3)
        with self.lock:
            self.commands.append((self.phase, "cap shown", False, time.perf_counter() - t))
            self.failures.append(f"{self.phase} cap: alert {ident} not shown on {user} within {OBEY_TIMEOUT_S:g} s")
        return False

    # the gate
    def command_gate(self, what: str) -> bool:
        gid, topic = self.gate["id"], self.gate["mqtt"]["cmd"]
        want = {"close": ("closing", "closed"), "open": ("opening", "open")}[what]
        before = (self.gate_state.get(gid) or {}).get("seq", 0)
        t = time.perf_counter()
        info = self.mqtt.publish(topic, json.dumps({"command": what}), qos=1)
        deadline = time.monotonic() + OBEY_TIMEOUT_S
        obeyed, st = False, {}
        while time.monotonic() < deadline and not self.stop.is_set():
            st = self.gate_state.get(gid) or {}
            if st.get("seq", 0) > before and st.get("state") in want:
                regs = self.modbus_read(self.gate["modbus"]["port"], "input", 6, "modbus gate read")
                if regs is not None and regs[0] < 4 and ("open", "closing", "closed", "opening")[regs[0]] in want:
                    obeyed = True
                    break
            time.sleep(0.1)
        dt = time.perf_counter() - t
        with self.lock:
            self.commands.append((self.phase, f"gate {what}", obeyed, dt))
            if not obeyed:
                self.failures.append(
                    f"{self.phase} gate {gid} {what}: state did not follow within {OBEY_TIMEOUT_S:g} s "
                    f"(published: {info.rc == 0}; last state {st.get('state')!r})"
                )
        return obeyed

    def actor(self) -> None:
        """Gate cycles and CAP alerts every ~30 s, camera reads every few s (from each phase's start)."""
        cams = self.kinds["cctv"]
        n, next_gate, next_cap, next_cam = 0, time.monotonic() + 2, time.monotonic() + 4, time.monotonic()
        phase = self.phase
        while not self.stop.is_set():
            now = time.monotonic()
            if self.phase != phase:  # a new phase: a gate cycle and an alert early in it
                phase, next_gate, next_cap = self.phase, now + 5, now + 8
            if cams and now >= next_cam:
                self.camera(cams[n % len(cams)])
                n += 1
                next_cam = now + CAMERA_EVERY_S
            if now >= next_gate:
                if self.command_gate("close"):
                    self.stop.wait(1.0)
                self.command_gate("open")
                next_gate = now + GATE_EVERY_S
            if now >= next_cap:
                self.post_cap(self.board, n)
                next_cap = now + CAP_EVERY_S
            self.stop.wait(0.2)

    def start_threads(self) -> None:
        for target in (self.reader, self.actor):
            th = threading.Thread(target=target, daemon=True)
            th.start()
            self.threads.append(th)

    def stop_threads(self) -> None:
        self.stop.set()
        for th in self.threads:
            th.join(timeout=OBEY_TIMEOUT_S * 3)
        self.threads = []
        self.stop = threading.Event()


# --- the run ---------------------------------------------------------------------------------------
def start_fleet(args, folder: Path) -> tuple[subprocess.Popen, dict, dict]:
    manifest = folder / "manifest.json"
    cmd = [
        TWIN,
        "devices",
        "serve",
        str(args.scenario),
        "--speed",
        str(args.speed),
        "--manifest",
        str(manifest),
        "--broker",
        args.broker,
    ]
    log = (folder / "fleet.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, cwd=folder)
    for _ in range(1800):
        if manifest.exists():
            break
        if proc.poll() is not None:
            raise SystemExit(f"the fleet stopped before it was ready: {(folder / 'fleet.log').read_text()[-2000:]}")
        time.sleep(0.1)
    else:
        proc.kill()
        raise SystemExit("no manifest after 180 s")
    return proc, json.loads(manifest.read_text()), json.loads((folder / "credentials.json").read_text())


def fleet_figures(pid: int) -> dict:
    try:
        import psutil

        p = psutil.Process(pid)
        return {"threads": p.num_threads(), "rss_mb": p.memory_info().rss / 1e6, "cpu_s": sum(p.cpu_times()[:2])}
    except Exception:  # noqa: BLE001 - figures only
        return {}


def final_checks(good: GoodClient, proc: subprocess.Popen) -> dict[str, list[str]]:
    """One valid request per device on each of its protocols; returns what failed, by protocol."""
    bad: dict[str, list[str]] = defaultdict(list)
    good.phase = "final"
    if proc.poll() is not None:
        bad["fleet"].append(f"the fleet process exited with status {proc.returncode}")
        return bad
    m = good.m
    for d in m["devices"]:
        if "modbus" in d:
            table, count = ("input", 6) if d["kind"] == "gate" else ("holding", 7)
            if good.modbus_read(d["modbus"]["port"], table, count, "final modbus") is None:
                bad["modbus"].append(d["id"])
            if d["kind"] == "gate":
                coils = good.modbus_read(d["modbus"]["port"], "coils", 3, "final modbus")
                if coils is not None and not coils[2]:
                    bad["gate remote mode"].append(f"{d['id']}: remote mode off (hostile traffic changed it)")
        if d["kind"] == "signboard":
            auth = {"Authorization": basic(d["id"], good.creds[d["id"]]["password"])}
            if good.http("final http", d["http"]["port"], "GET", "/display", headers=auth)[0] != 200:
                bad["http (CAP signboard)"].append(d["id"])
        if d["kind"] == "cctv" and not good.camera(d):
            bad["onvif"].append(d["id"])
    if good.modbus_read(m["clock"]["modbus"]["port"], "input", 7, "final modbus") is None:
        bad["modbus"].append("clock")
    # MQTT: every gate answers a command (with an event), every device with a status says online
    t0 = len(good.gate_events)
    for g in good.kinds["gate"]:
        good.mqtt.publish(g["mqtt"]["cmd"], json.dumps({"command": "open"}), qos=1)
    deadline = time.monotonic() + OBEY_TIMEOUT_S
    while time.monotonic() < deadline:
        answered = {gid for _, gid, _ in good.gate_events[t0:]}
        if len(answered) == len(good.kinds["gate"]):
            break
        time.sleep(0.2)
    answered = {gid for _, gid, _ in good.gate_events[t0:]}
    bad["mqtt (gate command)"] += [g["id"] for g in good.kinds["gate"] if g["id"] not in answered]
    statuses = _retained_statuses(good)
    for d in m["devices"]:
        if d.get("mqtt", {}).get("status") and statuses.get(d["mqtt"]["status"]) != "online":
            bad["mqtt (status online)"].append(f"{d['id']}: {statuses.get(d['mqtt']['status'])!r}")
    return bad


def _retained_statuses(good: GoodClient) -> dict[str, str]:
    """The retained status of every device, read by a fresh subscriber."""
    import paho.mqtt.client as mqtt

    got: dict[str, str] = {}
    op = good.creds["operator"]
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"soak-final-{os.getpid()}", clean_session=True)
    c.username_pw_set(op["username"], op["password"])
    c.on_message = lambda cl, u, msg: got.__setitem__(msg.topic, msg.payload.decode("utf-8", "replace"))
    c.on_connect = lambda cl, u, f, rc, p: cl.subscribe("uijeongbu/+/+/status", qos=1)
    c.connect(good.m["broker"]["host"], good.m["broker"]["port"])
    c.loop_start()
    want = sum(1 for d in good.m["devices"] if d.get("mqtt", {}).get("status"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(got) < want:
        time.sleep(0.2)
    time.sleep(0.5)
    c.loop_stop()
    c.disconnect()
    return got


def telemetry_figures(good: GoodClient, window: tuple[float, float]) -> dict:
    """Readings received per sensor vs expected from the simulated time of the soak, and gaps."""
    received = expected = gaps = 0
    short: list[str] = []
    a, b = window
    for kind in ("level_sensor", "rain_gauge"):
        for d in good.kinds[kind]:
            interval = float(d.get("sample_interval_s") or 10.0)
            with good.lock:
                seqs = list(good.telemetry.get(d["id"], []))
            got = sum(1 for _, t in seqs if a <= t < b)
            want = int((b - a) // interval)
            received += got
            expected += want
            s = sorted({q for q, _ in seqs})
            g = (s[-1] - s[0] + 1 - len(s)) if s else 0
            gaps += g
            if got < want - 1 or g:
                short.append(f"{d['id']}: {got} of {want} expected, {g} sequence gaps")
    return {"received": received, "expected": expected, "gaps": gaps, "short": short}


def log_lines(path: Path) -> tuple[int, list[str], int]:
    """The log's size, its distinct unusual lines (not the fleet's progress), and its tracebacks."""
    data = path.read_bytes()
    usual = ("simulated ", "manifest: ", "devices", "done: ", "interrupted: ", "stopped at ", "wrote ")
    seen: Counter = Counter()
    example: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        if line and not line.startswith(usual):
            kind = re.sub(r"^\d\d:\d\d:\d\d\S*\s+", "", line.strip())  # a time stamp
            kind = re.sub(r"^[\w.-]+: ", "DEVICE: ", kind)[:160]  # the device: lines alike count together
            seen[kind] += 1
            example.setdefault(kind, line.strip()[:200])
    lines = [f"{n:6d} x {example[k]}" for k, n in seen.most_common(25)]
    return len(data), lines, data.count(b"Traceback")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="soak duration, wall minutes (0.5 for a quick check)")
    ap.add_argument("--speed", type=float, default=10.0, help="the fleet's speed ceiling")
    ap.add_argument("--baseline", type=float, default=20.0, help="wall s of the good client alone, first")
    ap.add_argument(
        "--broker", default="auto", help="auto (the default of twin devices serve: mosquitto where installed), "
        "mosquitto or embedded"
    )
    ap.add_argument("--scenario", type=Path, default=SCENARIO)
    ap.add_argument("--read-every", type=float, default=3.0, help="wall s between the good client's Modbus sweeps")
    ap.add_argument("--mqtt-rate", type=float, default=200.0, help="hostile MQTT garbage, messages/s at most")
    ap.add_argument("--skip", action="append", default=[], help="an attack (or lane) not to send (repeatable)")
    ap.add_argument(
        "--log-bound", type=int, default=None, help="bytes (default 100 kB per soak minute, 100 kB at least)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the run folder (fleet.log, hostile.json)")
    args = ap.parse_args()
    log_bound = args.log_bound or int(LOG_BYTES_PER_MINUTE * max(args.minutes, 1.0))
    folder = Path(tempfile.mkdtemp(prefix="twin-soak-"))
    t_start = time.monotonic()
    proc, m, creds = start_fleet(args, folder)
    good = GoodClient(m, creds, args.read_every)
    hostile = None
    sim_a = sim_b = sim_c = None
    w_a = w_b = w_c = time.monotonic()
    figs_b: dict = {}
    figs_c: dict = {}
    h: dict = {}
    bad: dict[str, list[str]] = {}
    try:
        good.connect_mqtt()
        good.start_threads()
        sim_a, w_a = good.clock_s(), time.monotonic()
        time.sleep(args.baseline)
        sim_b, w_b = good.clock_s(), time.monotonic()
        figs_b = fleet_figures(proc.pid)
        good.phase = "soak"
        spec = {"gate": good.gate["id"], "signboard": good.board["id"]}
        ctx = multiprocessing.get_context("spawn")
        out = folder / "hostile.json"
        hostile = ctx.Process(
            target=hostile_main,
            args=(str(folder / "manifest.json"), args.minutes * 60, spec, args.skip, args.mqtt_rate, str(out)),
            daemon=True,
        )
        hostile.start()
        hostile.join(timeout=args.minutes * 60 + 120)
        sim_c, w_c = good.clock_s(), time.monotonic()
        figs_c = fleet_figures(proc.pid)
        good.stop_threads()
        time.sleep(3.0)  # let the last readings of the soak arrive
        h = json.loads(out.read_text()) if out.exists() else {}
        bad = final_checks(good, proc)
    finally:
        if hostile is not None and hostile.is_alive():
            hostile.terminate()
        alive = proc.poll() is None
        if alive:
            proc.send_signal(signal.SIGINT)  # Ctrl-C: the fleet stops cleanly
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        if good.mqtt is not None:
            good.mqtt.loop_stop()
    log_bytes, unusual, tracebacks = log_lines(folder / "fleet.log")

    # --- figures ---------------------------------------------------------------------------------
    tele = telemetry_figures(good, (sim_b or 0.0, sim_c or 0.0)) if sim_b is not None and sim_c is not None else None
    broken: list[str] = []
    if not alive:
        broken.append(f"the fleet process died during the soak (exit status {proc.returncode})")
    for proto, ids in bad.items():
        if ids:
            broken.append(f"final check, {proto}: {len(ids)} devices did not answer: {', '.join(ids[:8])}")
    reqs = [r for r in good.requests if r[0] in ("baseline", "soak")]
    lost = [r for r in reqs if not r[2]]
    if lost:
        broken.append(f"the good client: {len(lost)} of {len(reqs)} requests unanswered")
    cmds = [c for c in good.commands if c[0] in ("baseline", "soak")]
    if any(not c[2] for c in cmds):
        broken.append(f"the good client: {sum(not c[2] for c in cmds)} of {len(cmds)} commands not obeyed")
    if tele is None:
        broken.append("the clock device did not answer: no telemetry window")
    elif tele["gaps"] or tele["short"]:
        broken.append(f"telemetry lost: {tele['gaps']} sequence gaps; short: {'; '.join(tele['short'][:6])}")
    if log_bytes > log_bound:
        broken.append(f"the fleet's log is {log_bytes:,} bytes, over the bound of {log_bound:,}")
    missing = {k: v for k, v in h.get("missing", {}).items() if v}
    if missing:
        broken.append(
            "bad requests without the protocol's error reply: " + ", ".join(f"{k} {v}" for k, v in missing.items())
        )
    for what, n in h.get("breaches", {}).items():
        broken.append(f"hostile input accepted: {what} ({n} times)")
    for what, n in good.forged.items():
        broken.append(f"forged message delivered to the operator: {what} ({n} times)")
    obeyed = [
        (ph, g, e)
        for ph, g, e in good.gate_events
        if ph == "soak" and e.get("event") == "command" and g != good.gate["id"]
    ]
    if obeyed:
        broken.append(
            f"hostile gate commands obeyed: {len(obeyed)} (first: {obeyed[0][1]} {obeyed[0][2].get('command')} "
            f"from {obeyed[0][2].get('source')})"
        )
    offline = Counter(dev for ph, dev in good.offline_seen if ph == "soak")
    if offline:
        broken.append(f"devices knocked offline during the soak: {len(offline)} ({', '.join(list(offline)[:6])})")
    if not h:
        broken.append("the hostile process wrote no figures (it crashed or did not finish)")

    # --- the table ---------------------------------------------------------------------------------
    speed = lambda a, b, wa, wb: "-" if a is None or b is None else f"{(b - a) / (wb - wa):.1f}x"  # noqa: E731
    print(
        f"soak of `twin devices serve {args.scenario.name}` ({len(m['devices'])} devices, {args.broker} broker, "
        f"ceiling {args.speed:g}x): baseline {args.baseline:g} s, soak {args.minutes:g} min, "
        f"{os.cpu_count()} cores; wall {time.monotonic() - t_start:.0f} s"
    )
    print(f"{'':50}{'baseline':>24}{'soak':>24}")
    print(
        f"{'effective speed (simulated s per wall s)':50}"
        f"{speed(sim_a, sim_b, w_a, w_b):>24}{speed(sim_b, sim_c, w_b, w_c):>24}"
    )
    for kind in (
        "modbus level read",
        "onvif GetSystemDateAndTime",
        "onvif GetDeviceInformation",
        "cap post",
        "cap display",
        "modbus gate read",
    ):
        cells = []
        for ph in ("baseline", "soak"):
            rs = [r for r in reqs if r[0] == ph and r[1] == kind]
            ok = [r[3] for r in rs if r[2]]
            cells.append(f"{len(ok)}/{len(rs)}  {percentiles(ok)}")
        print(f"{kind + ' answered/sent, p50/p99 ms':50}{cells[0]:>24}{cells[1]:>24}")
    for what in ("gate close", "gate open", "cap shown"):
        cells = []
        for ph in ("baseline", "soak"):
            cs = [c for c in cmds if c[0] == ph and c[1] == what]
            ok = [c[3] for c in cs if c[2]]
            cells.append(f"{len(ok)}/{len(cs)}  {percentiles(ok)}")
        print(f"{what + ' obeyed/sent, p50/p99 ms':50}{cells[0]:>24}{cells[1]:>24}")
    if tele is not None:
        cell = f"{tele['received']}/{tele['expected']}"
        print(f"{'telemetry in the soak: received/expected (at least)':50}{'':>24}{cell:>24}")
        print(f"{'telemetry sequence gaps (whole run)':50}{'':>24}{tele['gaps']:>24}")
    if figs_b and figs_c:
        for k, fmt in (("threads", "{:.0f}"), ("rss_mb", "{:.0f} MB"), ("cpu_s", "{:.0f} s")):
            print(
                f"{'fleet process ' + k + ' (end of phase)':50}{fmt.format(figs_b[k]):>24}{fmt.format(figs_c[k]):>24}"
            )
    print(f"{'fleet log (stderr) bytes at the end, bound':50}{log_bytes:>24,}{log_bound:>24,}")
    print(f"{'fleet log tracebacks':50}{tracebacks:>24}")
    print(
        f"hostile traffic in {args.minutes:g} min (one process, {h.get('cpu_s', 0):.0f} CPU s): "
        "attack: sent, answered, "
        "reply due but missing, replies"
    )
    per_proto: Counter = Counter()
    for key, n in h.get("sent", {}).items():
        per_proto[key.split(":")[0]] += n
        codes = ", ".join(f"{c} {v}" for c, v in sorted(h.get("codes", {}).get(key, {}).items()))
        print(f"  {key:42}{n:>8}{h['replied'].get(key, 0):>8}{h['missing'].get(key, 0):>6}  {codes[:70]}")
    print("hostile messages per protocol: " + ", ".join(f"{p} {n:,}" for p, n in sorted(per_proto.items())))
    print(f"final check: {sum(len(v) for v in bad.values())} devices failed (fleet alive at the end: {alive})")
    if unusual:
        print("fleet stderr, distinct lines other than progress (count x line):")
        for line in unusual[:15]:
            print("  " + line)
    if good.failures:
        print("good client failures (first ones):")
        for f in good.failures[:10]:
            print("  " + f)
    if broken:
        print("GUARANTEES BROKEN:")
        for b in broken:
            print("  - " + b)
    else:
        print("all guarantees held")
    print(f"run folder: {folder}" + ("" if args.keep else " (removed)"))
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
