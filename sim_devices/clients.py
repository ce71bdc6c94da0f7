"""Ready-to-paste client commands for a running fleet's devices: ``mbpoll`` for Modbus registers,
``mosquitto_sub`` / ``mosquitto_pub`` for MQTT, ``curl`` for the signboards' CAP interface and the
cameras' snapshots. Built from the manifest, so the ports and topics are the ones the fleet
actually uses. Passwords are not printed: each command reads its password with
``twin devices password USER --manifest M`` (a shell substitution), so nothing secret lands in a
terminal log unless the user asks for it (``show_passwords``).

mbpoll addresses here are the protocol's own, from 0 (``-0``), as in the manifest's register maps.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from .broker import BrokerError


class ClientError(BrokerError):
    """No such device in the manifest, or no manifest."""


def load_manifest(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manifest and the credentials beside it."""
    path = Path(path)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ClientError(f"{path}: no manifest (start a fleet with twin devices serve --manifest {path})") from None
    except json.JSONDecodeError as exc:
        raise ClientError(f"{path}: not a manifest (not JSON: {exc.msg})") from None
    cpath = path.parent / manifest.get("credentials_file", "credentials.json")
    try:
        creds = json.loads(cpath.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        creds = {}
    return manifest, creds


def password(manifest_path: str | Path, user: str) -> str:
    _, creds = load_manifest(manifest_path)
    if user not in creds:
        raise ClientError(f"{manifest_path}: no credentials for {user!r} (users: operator and the device ids)")
    return str(creds[user]["password"])


def client_commands(
    manifest_path: str | Path, device_id: str, *, twin: str = "twin", show_passwords: bool = False
) -> list[tuple[str, str]]:
    """(what it does, the command) for ``device_id`` ("clock" for the fleet's clock device)."""
    manifest, creds = load_manifest(manifest_path)
    q = shlex.quote

    def secret(user: str) -> str:
        if show_passwords and user in creds:
            return q(str(creds[user]["password"]))
        return f'"$({twin} devices password {q(user)} --manifest {q(str(manifest_path))})"'

    broker = manifest["broker"]
    op = broker["operator"]["username"]
    sub = f"mosquitto_sub -h {broker['host']} -p {broker['port']} -u {op} -P {secret(op)} -v"
    pub = f"mosquitto_pub -h {broker['host']} -p {broker['port']} -u {op} -P {secret(op)} -q 1"

    def mbpoll(mb: dict, table: int, count: int, *, ref: int = 0, write: str = "") -> str:
        # -t 0 coils, 1 discrete inputs, 3 input registers, 4 holding registers; -0: addresses from 0
        once = "" if write else " -1"  # a read once (a write is done once anyway)
        return (
            f"mbpoll -m tcp -p {mb['port']} -a {mb.get('unit_id', 1)} -0 -r {ref} -t {table} -c {count}{once} "
            f"{mb['host']}{write}"
        )

    if device_id == "clock":
        mb = manifest["clock"]["modbus"]
        return [
            ("the simulated time (s high, s low, ms), state, mode, speed ceiling, effective speed x10",
             mbpoll(mb, 3, len(mb["input_registers"]))),
            ("the progress a controller reported (s high, s low, ms)", mbpoll(mb, 4, len(mb["holding_registers"]))),
        ]  # fmt: skip
    dev = next((d for d in manifest["devices"] if d["id"] == device_id), None)
    if dev is None:
        known = ", ".join(sorted(d["id"] for d in manifest["devices"])[:8])
        raise ClientError(f"{manifest_path}: no device {device_id!r} (for example: {known}, ...; or clock)")
    out: list[tuple[str, str]] = []
    kind = dev["kind"]
    mqtt = dev.get("mqtt") or {}
    if kind in ("level_sensor", "rain_gauge"):
        regs = dev["modbus"]["holding_registers"]
        out.append(
            (f"registers: {', '.join(f'{k} {v}' for k, v in regs.items())}", mbpoll(dev["modbus"], 4, len(regs)))
        )
        out.append(("telemetry as it is sent", f"{sub} -t {q(mqtt['telemetry'])}"))
    elif kind == "gate":
        mb = dev["modbus"]
        out += [
            ("limit switches and obstacle (discrete inputs 0-4)", mbpoll(mb, 1, 5)),
            ("state, position %, travel s, last source, rejected, people (input registers 0-5)", mbpoll(mb, 3, 6)),
            ("close it (coil 0)", mbpoll(mb, 0, 1, write=" 1")),
            ("open it (coil 1)", mbpoll(mb, 0, 1, ref=1, write=" 1")),
            ("its state and events", f"{sub} -t {q(mqtt['state'])} -t {q(mqtt['event'])}"),
            ("close it over MQTT", f'{pub} -t {q(mqtt["cmd"])} -m \'{{"command": "close"}}\''),
        ]
    elif kind == "signboard":
        h = dev["http"]
        base = f"http://{h['host']}:{h['port']}"
        user = f"-u {q(dev['id'])}:{secret(dev['id'])}"
        out += [
            ("what it shows", f"curl -s {user} {base}{h['display']}"),
            ("post a CAP 1.2 alert (alert.xml)",
             f"curl -s {user} -H 'Content-Type: application/cap+xml' --data-binary @alert.xml {base}{h['post_cap']}"),
            ("its display changes", f"{sub} -t {q(mqtt['state'])}"),
        ]  # fmt: skip
    elif kind == "cctv":
        o = dev["onvif"]
        base = f"http://{o['host']}:{o['port']}"
        out += [
            ("a snapshot of its view (HTTP Digest)",
             f"curl -s --digest -u {q(dev['id'])}:{secret(dev['id'])} -o {q(dev['id'] + '.png')} {base}/snapshot.png"),
            ("its ONVIF device service (WS-UsernameToken): point an ONVIF client here", o["device_service"]),
        ]  # fmt: skip
    elif kind in ("tilt_sensor", "crack_sensor", "extensometer"):
        out.append(("LoRaWAN uplinks (ChirpStack JSON)", f"{sub} -t {q(mqtt['up'])}"))
    elif mqtt:
        topics = " ".join(f"-t {q(v)}" for k, v in mqtt.items() if k in ("telemetry", "state", "event"))
        out.append(("its messages", f"{sub} {topics}"))
    return out
