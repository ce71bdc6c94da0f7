"""Smart gates (진출입로 차단시설) on the riverside paths: a barrier with a travel time, an
obstacle interlock and limit switches, behind a PLC-style Modbus face and MQTT topics.

Modbus map (unit 1; configurable in real PLCs, documented in docs/devices.md):
  coils            0 close command, 1 open command (write 1; the PLC clears it when taken),
                   2 remote mode (1: commands from the network are obeyed; 0: rejected)
  discrete inputs  0 fully open, 1 fully closed, 2 obstacle in the gate zone, 3 fault, 4 local/manual
  input registers  0 state (0 open, 1 closing, 2 closed, 3 opening), 1 position (% closed),
                   2 travel time (s), 3 last command source (0 none, 1 Modbus, 2 MQTT),
                   4 commands rejected (count), 5 people in the gate zone

MQTT: state (retained JSON) and event under ``uijeongbu/gate/{id}/``; commands on
``uijeongbu/gate/{id}/cmd`` as ``{"command": "close"|"open"}`` (or the bare word). A closed gate
stops people entering its access point's ramp or stairs (the gate zone) in the simulation, never
leaving; an open one lets them in again.
"""

from __future__ import annotations

import queue
from typing import Any

from twin.models.gate import GateModel, GateZone

from .device import ModbusDevice
from .guard import BadInput, decode_message, parse_json_message
from .modbus_face import ILLEGAL_VALUE, ModbusFace
from .telemetry import FleetContext

STATES = ("open", "closing", "closed", "opening")
SOURCES = {"none": 0, "modbus": 1, "mqtt": 2}
COMMANDS = ("close", "open")


def parse_command(payload: bytes) -> str:
    """``close`` or ``open`` from an MQTT command payload: ``{"command": "close"}`` or the bare
    word (any case, surrounding blanks ignored). :class:`~.guard.BadInput` otherwise: too large,
    too deep, not UTF-8, not JSON, no ``command`` string, or another word; its text never
    repeats the payload."""
    if payload.lstrip()[:1] in (b"{", b"["):
        data = parse_json_message(payload)
        if not isinstance(data, dict):
            raise BadInput(f'expected a JSON object with "command", got a JSON {type(data).__name__}')
        if "command" not in data:
            raise BadInput('field "command": missing')
        what = data["command"]
        if not isinstance(what, str):
            raise BadInput(f'field "command": expected "close" or "open", got a JSON {type(what).__name__}')
        field = 'field "command"'
    else:
        what = decode_message(payload)
        field = "bare word"
    word = what.strip().lower()
    if word not in COMMANDS:
        raise BadInput(f'{field}: expected "close" or "open" ({len(what)} characters given)')
    return word


class Gate(ModbusDevice):
    kind = "gate"
    every_step = True  # commands are taken and the barrier moves at every clock step

    def __init__(self, row: dict[str, Any], ctx: FleetContext, *, port: int) -> None:
        super().__init__(row, ctx)
        self.access_id = row.get("access_id")
        self.zone = GateZone(ctx.sim.city, self.access_id)  # the way down to the path
        travel = row.get("travel_time_s")
        self.model = GateModel(float(travel) if travel == travel and travel is not None else 20.0)
        self._mqtt(subscribe=("cmd",))
        self.inbox: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()  # (command, source), any thread
        self.seq = 0
        self.state_due_s = 0.0  # the next periodic state message
        self.people = 0
        self.modbus = ModbusFace(
            host=ctx.host,
            port=port,
            sizes={"coils": 3, "discrete_inputs": 5, "input_registers": 6},
            writable=("coils",),
            on_write=self._modbus_write,
            on_refuse=lambda why: ctx.input_log.refuse(self.device_id, why),
        )
        self.modbus.set("coils", 2, [1])
        self._refresh()

    # --- commands ---------------------------------------------------------------------------
    def _modbus_write(self, table: str, address: int, values: list[int]):
        if table != "coils":
            return ILLEGAL_VALUE
        for i, v in enumerate(values):
            addr = address + i
            if addr == 2:
                self.model.remote = bool(v)
            elif v and addr in (0, 1):
                self.inbox.put(("close" if addr == 0 else "open", "modbus"))
        return None

    def on_mqtt(self, topic: str, payload: bytes) -> None:
        """A message on the command topic (on the fleet's loop): a valid command is queued for the
        next step; anything else is refused with one line in the input log and a "rejected" event."""
        try:
            what = parse_command(payload)
        except BadInput as exc:
            self.ctx.input_log.refuse(self.device_id, f"MQTT command on {topic}: {exc}")
            self.inbox.put(("__malformed__", str(exc)))
            return
        self.inbox.put((what, "mqtt"))

    # --- time -------------------------------------------------------------------------------
    def step(self, t_s: float) -> None:
        """Take queued commands and move the barrier to simulated time ``t_s``."""
        engine = self.ctx.sim.engine
        while not self.inbox.empty():
            what, source = self.inbox.get()
            if what == "__malformed__":
                self.model.rejected += 1
                self._event(t_s, "rejected", reason=f"malformed command payload: {source}", source="mqtt")
                continue
            why = self.model.command(what, source)
            if why:
                self._event(t_s, "rejected", reason=why, command=what, source=source)
                engine.log("gate.rejected", self.device_id, f"{what} from {source} rejected: {why}")
            else:
                self._event(t_s, "command", command=what, source=source)
                watch = self.ctx.sim.gate_watch
                zone = watch.in_camera_zone(self.device_id) if watch is not None else None
                engine.log(f"gate.{what}_command", self.device_id, f"{what} command from {source}", source=source,
                           people_in_camera_zone=zone)  # fmt: skip
        crowd = self.ctx.sim.crowd
        self.people = self.zone.people(crowd)
        stuck = self.ctx.faults.active(self.device_id, "gate_stuck_open", t_s) is not None
        before = self.model.state
        reached = self.model.step(t_s, obstacle=self.people > 0, stuck_open=stuck)
        self.zone.update(crowd, self.model)
        if reached:
            self._reached(reached, t_s)
        if self.model.state != before or t_s >= self.state_due_s:
            self._publish_state(t_s)
            self.state_due_s = t_s + float(self.ctx.settings.gate_state_interval)
        self._refresh()

    def _reached(self, reached: str, t_s: float) -> None:
        watch = self.ctx.sim.gate_watch
        on_path = (watch.closed(self.device_id) if reached == "closed" else 0) if watch is not None else 0
        self.ctx.sim.engine.log(
            f"gate.{reached}",
            self.device_id,
            f"gate {reached} at {self.access_id}",
            access_id=self.access_id,
            people_on_path=on_path,
            people_in_zone=self.people,
        )
        self._event(t_s, reached)

    def _refresh(self) -> None:
        m = self.model
        self.modbus.set("coils", 0, [0, 0, int(m.remote)])
        self.modbus.set(
            "discrete_inputs",
            0,
            # limit switches report where the barrier is, not what it was told (a stuck gate stays "open")
            [int(m.position <= 0.0), int(m.position >= 1.0), int(self.people > 0), 0, 0],
        )
        self.modbus.set(
            "input_registers",
            0,
            [
                STATES.index(m.state),
                int(round(m.position * 100)),
                int(round(m.travel_s)),
                SOURCES[m.last_source],
                m.rejected & 0xFFFF,
                min(self.people, 65535),
            ],
        )

    def _publish_state(self, t_s: float) -> None:
        self.seq += 1
        m = self.model
        self.ctx.send(
            self.device_id,
            self.topics["state"],
            {
                "device_id": self.device_id,
                "kind": self.kind,
                "seq": self.seq,
                "time": self.ctx.clock_iso(t_s),
                "sim_time_s": round(t_s, 3),
                "state": m.state,
                "position_pct": round(m.position * 100, 1),
                "obstacle": self.people > 0,
                "remote": m.remote,
                "access_id": self.access_id,
            },
            retain=True,
        )

    def _event(self, t_s: float, what: str, **data: Any) -> None:
        payload = {
            "device_id": self.device_id,
            "time": self.ctx.clock_iso(t_s),
            "sim_time_s": round(t_s, 3),
            "event": what,
            **data,
        }
        self.ctx.send(self.device_id, self.topics["event"], payload)

    def _faces(self) -> dict[str, Any]:
        return {
            "access_id": self.access_id,
            "level_sensor_id": self.row.get("level_sensor_id"),
            "rain_gauge_id": self.row.get("rain_gauge_id"),
            "modbus": {
                "host": self.modbus.host,
                "port": self.modbus.port,
                "unit_id": 1,
                "coils": {"0": "close command", "1": "open command", "2": "remote mode"},
                "discrete_inputs": {
                    "0": "fully open",
                    "1": "fully closed",
                    "2": "obstacle",
                    "3": "fault",
                    "4": "local/manual",
                },
                "input_registers": {
                    "0": "state (0 open, 1 closing, 2 closed, 3 opening)",
                    "1": "position % closed",
                    "2": "travel time s",
                    "3": "last command source (0 none, 1 modbus, 2 mqtt)",
                    "4": "commands rejected",
                    "5": "people in the gate zone",
                },
            },
            "mqtt": self.topics | {"username": self.device_id},
            "travel_time_s": self.model.travel_s,
        }
