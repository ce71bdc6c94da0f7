"""The reference collapse early warning as its own program, speaking only the devices' protocols,
as an early-warning system outside the twin would::

    python -m twin.control.remote_collapse --manifest fleet/manifest.json \\
        --policy scenarios/policies/reference_collapse.yaml --log collapse.jsonl --cap

It reads the fleet's manifest and ``credentials.json`` beside it, subscribes (as the operator) to
the structural sensors' LoRaWAN uplinks (ChirpStack v4 ``application/{app}/device/{eui}/event/up``:
``deviceInfo.deviceName``, ``deviceInfo.tags.host_id`` and ``host_layer``, ``fPort`` 10 tilt, 11
crack, 12 extensometer, ``object.tilt_x_deg`` / ``crack_mm`` / ``displacement_mm``; ``time`` the
simulated sample time) and to the rain gauges' telemetry (``value``: mm since the start, with
``sim_time_s``). Each monitored site gets a :class:`~twin.control.collapse_logic.SiteLogic` with
the collapse policy's rule, the same logic the twin runs in process; its actions go back to the
fleet on the manifest's ``collapse_alarms`` topic (``uijeongbu/collapse/{site_id}/alarm``, JSON
``{"level", "reason", "sensor"}``; ``forecast`` actions are logged only). With ``--cap`` an
evacuate also puts a CAP 1.2 alert on the signboard nearest the site (straight-line distance in
EPSG:5186 m between the site's position and the board's, ties by id), and a clear cancels it. The
boards of the riverside gates (``access_id`` in the manifest) belong to their gate controller and are
used only when the manifest has no other board: the city's own disaster boards are chosen first.

**Sites.** Which sensors belong to which site, the site's kind, name and position come from the
manifest's ``monitored_sites`` when it has them; otherwise the sensors are grouped by their
``host_id`` and the kind is learnt from the uplinks' ``host_layer`` tag (``slopes`` -> slope,
``buildings`` -> building); a site's position is then the mean of its sensors' manifest
``position`` (EPSG:5186 m) when they have one. Without any position there is no rain (a slope's
rain threshold never counts) and no CAP.

**Rain** at a site is the nearest rain gauge's (the twin's rule: straight-line distance, ties by
id), as the mean intensity (mm/h) between the site's previous observation and this one, from the
gauge's running total linearly interpolated between its samples (held at the last sample when the
next has not come yet; the rain it misses is counted at the next observation, so no depth is lost).
ASSUMPTION: this is what :class:`SiteObservation` asks for ("the mean intensity since the previous
observation"); the twin's in-process model gives the true intensity at the observation time
instead, so the two see the same depth of rain, shifted by at most one gauge interval.

**Clock.** Like :mod:`twin.control.remote_controller`: the simulated time is read from the fleet's
clock device (Modbus input registers, :mod:`twin.control.fleet_clock`) and the progress written
back, so a paced fleet waits for this program. The readings of a site are decided on in time order
once the clock has passed them; a site that has had no reading for one uplink interval is stepped
with none (so stale sensors are flagged as in the twin). A reading older than the last one its
site has been stepped with (its sensors' uplinks travel on separate connections) is late: it is
decided on at that last time, keeping its own sample time, and counted; a sensor's own readings
always come in order (one connection), and one that does not is skipped. Garbage on the
subscribed topics (not JSON, an unknown device, a missing field) is skipped with one log line
each, at most ``MAX_SKIP_LINES`` per reason, and counted.

Every action is appended to ``--log`` (JSON lines) with the readings and the rain it was based on;
the last line is a summary (messages taken, skipped, late; the clock delay of each decision).

Why one module of this size: it is a whole program (MQTT, Modbus and HTTP clients, clock
following, logs); the decisions live in :mod:`twin.control.collapse_logic`.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import logging
import math
import queue
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import TwinError
from .cap_message import cap_alert, post_cap, reference
from .collapse_logic import CollapseAction, SensorReading, SiteLogic, SiteObservation
from .collapse_policy import CollapsePolicy, CollapsePolicyError, load_collapse_policy
from .fleet_clock import (
    CLOCK_POLL_S,
    ENDED,
    RUNNING,
    WAITING,
    ManifestError,
    delay_stats,
    pack_time,
    read_fleet_file,
    unpack_time,
    wait_for_manifest,
)
from .signboard_text import GateMessage

log = logging.getLogger("twin.remote_collapse")

STRUCTURAL_KINDS = {"tilt_sensor": "tilt", "crack_sensor": "crack", "extensometer": "extensometer"}
"""Manifest device kind -> the logic's reading kind."""
F_PORT_KINDS = {10: "tilt", 11: "crack", 12: "extensometer"}
OBJECT_KEYS = {"tilt": "tilt_x_deg", "crack": "crack_mm", "extensometer": "displacement_mm"}
LAYER_KINDS = {"slopes": "slope", "buildings": "building"}
UPLINK_TOPIC = "application/+/device/+/event/up"
PUBLISHED = ("caution", "warning", "evacuate", "clear", "sensor_suspect", "sensor_ok")
"""Actions posted on the alarm topic (the fleet's desk takes these; ``forecast`` is logged only)."""
MAX_SKIP_LINES = 20
"""Log lines per skip reason; the rest are only counted."""
DEFAULT_INTERVAL_S = 600.0
"""Uplink interval assumed when the manifest gives none, s."""
SUBSCRIBE_WAIT_S = 30.0
"""Wall seconds to wait for the broker to acknowledge the subscriptions before following the clock."""
LOST_CLOCK_S = 30.0
"""Wall seconds without an answer from the clock device after which the program ends."""


class RemoteCollapseError(TwinError, ValueError):
    """A manifest this program cannot work from (the field and what was expected)."""


class BadUplink(ValueError):
    """A message on a subscribed topic that is not a reading of this fleet."""


@dataclass(frozen=True)
class SiteSpec:
    """One monitored site as the manifest (or the uplinks) describe it. ``position``: EPSG:5186 m."""

    site_id: str
    kind: str | None  # "slope" | "building"; None: learnt from the first uplink's host_layer tag
    name: str
    position: tuple[float, float] | None
    sensors: dict[str, str]  # sensor id -> "tilt" | "crack" | "extensometer"


@dataclass(frozen=True)
class Uplink:
    """One structural reading: sensor, site, the site's layer, reading kind, time (s), value (deg or mm)."""

    device: str
    site_id: str
    layer: str
    kind: str
    t_s: float
    value: float


def _position(entry: Any, where: str) -> tuple[float, float] | None:
    pos = entry.get("position") if isinstance(entry, dict) else None
    if pos is None:
        return None
    try:
        x, y = float(pos[0]), float(pos[1])
    except (TypeError, ValueError, IndexError, KeyError):
        raise RemoteCollapseError(f"{where}.position: got {pos!r}: expected [x, y] in EPSG:5186 m") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise RemoteCollapseError(f"{where}.position: got {pos!r}: expected finite [x, y] in EPSG:5186 m")
    return x, y


def sites_from_manifest(m: dict[str, Any]) -> dict[str, SiteSpec]:
    """The monitored sites of a fleet manifest ``m``, by id: its ``monitored_sites`` when given,
    else its structural devices grouped by ``host_id`` (positions the mean of the sensors', m)."""
    devices = m.get("devices")
    if not isinstance(devices, list):
        raise RemoteCollapseError(f"manifest devices: got {type(devices).__name__}: expected a list of devices")
    structural = {
        str(d["id"]): d for d in devices if isinstance(d, dict) and d.get("kind") in STRUCTURAL_KINDS and "id" in d
    }
    listed = m.get("monitored_sites")
    out: dict[str, SiteSpec] = {}
    if listed:
        for i, s in enumerate(listed):
            where = f"manifest monitored_sites[{i}]"
            if not isinstance(s, dict) or not isinstance(s.get("id"), str) or not isinstance(s.get("sensors"), dict):
                raise RemoteCollapseError(f"{where}: got {s!r:.80}: expected an object with id, kind, name, sensors")
            kind = s.get("kind")
            if kind not in ("slope", "building"):
                raise RemoteCollapseError(f"{where}.kind: got {kind!r}: expected slope or building")
            sensors = {str(k): str(v) for k, v in s["sensors"].items()}
            bad = sorted(v for v in sensors.values() if v not in OBJECT_KEYS)
            if bad:
                raise RemoteCollapseError(f"{where}.sensors: got kind {bad[0]!r}: expected tilt, crack or extensometer")
            out[s["id"]] = SiteSpec(s["id"], kind, str(s.get("name") or s["id"]), _position(s, where), sensors)
        return out
    by_host: dict[str, dict[str, str]] = {}
    for did in sorted(structural):
        host = structural[did].get("host_id")
        if host:
            by_host.setdefault(str(host), {})[did] = STRUCTURAL_KINDS[structural[did]["kind"]]
    for host, sensors in sorted(by_host.items()):
        pts = [p for did in sensors if (p := _position(structural[did], f"manifest device {did}")) is not None]
        pos = (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)) if pts else None
        layer = structural[next(iter(sensors))].get("host_layer")
        out[host] = SiteSpec(host, LAYER_KINDS.get(str(layer)), host, pos, sensors)
    return out


def nearest(position: tuple[float, float] | None, candidates: dict[str, tuple[float, float]]) -> str | None:
    """The id among ``candidates`` (id -> x, y m) nearest ``position`` (x, y m), ties by id; None
    when there is no position or no candidate."""
    if position is None or not candidates:
        return None
    return min(
        sorted(candidates), key=lambda k: math.hypot(candidates[k][0] - position[0], candidates[k][1] - position[1])
    )


def _finite(x: int | float) -> bool:
    """A finite number that fits a float (JSON allows NaN, Infinity and integers of 4,000 digits)."""
    try:
        return math.isfinite(float(x))
    except OverflowError:
        return False


def parse_uplink(payload: bytes, start: datetime) -> Uplink:
    """A ChirpStack v4 uplink (JSON bytes) -> :class:`Uplink`; ``start`` is the scenario's start
    (the uplink's ``time`` minus it is the sample time, s). :class:`BadUplink` names what is wrong."""
    try:
        up = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadUplink("not JSON: expected a ChirpStack uplink object") from None
    if not isinstance(up, dict):
        raise BadUplink("expected a JSON object (a ChirpStack uplink)")
    info = up.get("deviceInfo")
    if not isinstance(info, dict) or not isinstance(info.get("deviceName"), str):
        raise BadUplink("deviceInfo.deviceName: missing: expected the sensor's id")
    tags: dict[str, Any] = info["tags"] if isinstance(info.get("tags"), dict) else {}
    port = up.get("fPort")
    kind = F_PORT_KINDS.get(port) if isinstance(port, int) and not isinstance(port, bool) else None
    if kind is None:
        raise BadUplink(f"fPort: got {up.get('fPort')!r:.20}: expected 10 (tilt), 11 (crack) or 12 (extensometer)")
    obj = up.get("object")
    value = obj.get(OBJECT_KEYS[kind]) if isinstance(obj, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
        raise BadUplink(f"object.{OBJECT_KEYS[kind]}: got {str(value)[:20]}: expected a finite number")
    try:
        when = datetime.fromisoformat(str(up.get("time")).replace("Z", "+00:00"))
        t_s = (when - start).total_seconds()
    except (ValueError, TypeError):
        raise BadUplink(f"time: got {up.get('time')!r:.40}: expected an ISO 8601 time with its offset") from None
    return Uplink(info["deviceName"], str(tags.get("host_id") or ""), str(tags.get("host_layer") or ""), kind,
                  t_s, float(value))  # fmt: skip


@dataclass
class RainRecord:
    """A rain gauge's running total (mm since the start) at its sample times (s)."""

    times_s: list[float] = field(default_factory=list)
    totals_mm: list[float] = field(default_factory=list)

    def add(self, t_s: float, total_mm: float) -> None:
        """A sample (s, mm); older than the last one: ignored."""
        if not self.times_s or t_s > self.times_s[-1]:
            self.times_s.append(t_s)
            self.totals_mm.append(total_mm)

    def total_at(self, t_s: float) -> float:
        """The running total at ``t_s`` (mm): linear between samples, held after the last, 0 before the first."""
        ts, vs = self.times_s, self.totals_mm
        if not ts:
            return 0.0
        if t_s >= ts[-1]:
            return vs[-1]
        if t_s <= ts[0]:  # from 0 mm at the start to the first sample
            return vs[0] * max(t_s, 0.0) / ts[0] if ts[0] > 0 else vs[0]
        hi = bisect.bisect_right(ts, t_s)
        lo = hi - 1
        return vs[lo] + (vs[hi] - vs[lo]) * (t_s - ts[lo]) / (ts[hi] - ts[lo])


def collapse_message(site_name: str, site_kind: str | None) -> GateMessage:
    """The signboard message of an evacuation (ko-KR headline naming the site, en-US for the record)."""
    what_ko, what_en = ("건물", "building") if site_kind == "building" else ("급경사지", "slope")
    return GateMessage(
        f"{what_ko} 붕괴",
        f"{what_ko} 붕괴 위험: {site_name} 주민 대피",
        "즉시 대피하세요",
        f"Risk of {what_en} collapse: residents of {site_name} evacuate",
        "Extreme",
    )


@dataclass
class _Site:
    spec: SiteSpec
    kind: str | None
    gauge: str | None
    board: str | None
    logic: SiteLogic | None = None
    pending: list[Uplink] = field(default_factory=list)
    last_t: float | None = None  # time of the last observation stepped
    alert: tuple[str, datetime] | None = None  # the CAP alert on its board now
    alerts: int = 0


class RemoteCollapse:
    """Runs the collapse early warning of every monitored site in a fleet's manifest by ``policy``."""

    def __init__(
        self,
        manifest_path: str | Path,
        policy: CollapsePolicy,
        *,
        log_path: str | Path | None = None,
        cap: bool = False,
    ) -> None:
        self.manifest_path = Path(manifest_path)
        self.m = read_fleet_file(self.manifest_path, "manifest", ("start", "duration_s", "devices", "broker"))
        cred_file = self.manifest_path.parent / str(self.m.get("credentials_file", "credentials.json"))
        self.creds = read_fleet_file(cred_file, "credentials")
        alarms = self.m.get("collapse_alarms")
        if not isinstance(alarms, dict) or "{site_id}" not in str(alarms.get("topic")):
            raise RemoteCollapseError(
                f"manifest collapse_alarms: got {alarms!r:.60}: expected a topic with {{site_id}} "
                "(a fleet that serves structural sensors)"
            )
        self.alarm_topic = str(alarms["topic"])
        self.policy, self.cap = policy, cap
        self.start = datetime.fromisoformat(self.m["start"])
        self.duration_s = float(self.m["duration_s"])
        self.speed = float(self.m.get("speed") or 0.0)
        self.t0 = float(self.m.get("clock_started_at") or time.time())
        self.clock_dev = (self.m.get("clock") or {}).get("modbus")
        if self.clock_dev is None and not self.speed:
            raise RemoteCollapseError("manifest clock: got neither a clock device nor a fixed speed: expected one")
        self.log_path = Path(log_path) if log_path else None
        devs = [d for d in self.m["devices"] if isinstance(d, dict)]
        self.devices = {str(d["id"]): d for d in devs}
        gauges = {
            str(d["id"]): p for d in devs if d.get("kind") == "rain_gauge" and (p := _position(d, "")) is not None
        }
        boards = {str(d["id"]): p for d in devs if d.get("kind") == "signboard" and (p := _position(d, "")) is not None}
        # a gate's board is its gate controller's (riverside paths): the city's own boards first, when there are any
        general = {b: p for b, p in boards.items() if not self.devices[b].get("access_id")}
        boards = general or boards
        self.rain_topics = {
            str(d["mqtt"]["telemetry"]): str(d["id"]) for d in devs if d.get("kind") == "rain_gauge" and "mqtt" in d
        }
        self.rain: dict[str, RainRecord] = {g: RainRecord() for g in self.rain_topics.values()}
        self.sites: dict[str, _Site] = {}
        for sid, spec in sites_from_manifest(self.m).items():
            self.sites[sid] = _Site(spec, spec.kind, nearest(spec.position, gauges), nearest(spec.position, boards))
            # watched from the start, as the twin steps a site at every sample time: a site whose
            # sensors never report is stepped without readings after an interval, and they are flagged
            self.sites[sid].last_t = 0.0
        self.sensor_site = {did: sid for sid, s in self.sites.items() for did in s.spec.sensors}
        self.sensor_t: dict[str, float] = {}  # time of each sensor's last reading taken in, s
        intervals = [float(d.get("uplink_interval_s") or 0) for d in devs if d.get("kind") in STRUCTURAL_KINDS]
        self.interval_s = max([*intervals, 0.0]) or DEFAULT_INTERVAL_S
        self.inbox: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        self.clock_s, self.clock_state = 0.0, WAITING
        self.counts = {"uplinks": 0, "rain": 0, "skipped": 0, "late": 0, "alarms": 0, "cap_posts": 0}
        self.skips: dict[str, int] = {}
        self.delays: list[float] = []  # clock at the decision - the reading's time, s
        self.actions: list[dict[str, Any]] = []
        self._client: Any = None  # paho client
        self._modbus: Any = None
        self._http: Any = None
        self._stop = asyncio.Event()
        self._subscribed = threading.Event()  # set by paho's thread once the broker acknowledged the subscriptions

    # --- inputs ---------------------------------------------------------------------------------
    def _start_mqtt(self) -> Any:
        import paho.mqtt.client as mqtt

        op = self.m["broker"]["operator"]["username"]
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"collapse-ews-{int(time.time() * 1000) % 10**9}")
        c.username_pw_set(op, self.creds[op]["password"])
        topics = [(UPLINK_TOPIC, 1)] + [(t, 1) for t in sorted(self.rain_topics)]

        def on_connect(client: Any, userdata: Any, flags: Any, rc: Any, props: Any = None) -> None:
            if not rc.is_failure:
                client.subscribe(topics)

        def on_subscribe(client: Any, userdata: Any, mid: Any, codes: Any, props: Any = None) -> None:
            self._subscribed.set()

        c.on_connect = on_connect
        c.on_subscribe = on_subscribe
        c.on_message = lambda client, userdata, msg: self.inbox.put((msg.topic, bytes(msg.payload)))
        c.reconnect_delay_set(1, 2)
        c.connect_async(self.m["broker"]["host"], int(self.m["broker"]["port"]), keepalive=10)
        c.loop_start()
        return c

    def _skip(self, reason: str, topic: str) -> None:
        self.counts["skipped"] += 1
        key = reason.split(":")[0]
        self.skips[key] = self.skips.get(key, 0) + 1
        if self.skips[key] <= MAX_SKIP_LINES:
            log.warning("skipped a message on %s: %s", topic, reason)
            self._write({"skipped": reason, "topic": topic[:200], "clock_s": round(self.clock_s, 3)})

    def take_messages(self) -> None:
        """Everything that has arrived: rain samples recorded, readings queued at their site. A
        message that cannot be taken is skipped with one log line: nothing a sensor sends stops
        the program."""
        while not self.inbox.empty():
            topic, payload = self.inbox.get()
            try:
                self._take(topic, payload)
            except Exception as exc:  # noqa: BLE001 - the backstop: garbage never ends the early warning
                self._skip(f"message not understood ({type(exc).__name__})", topic)

    def _take(self, topic: str, payload: bytes) -> None:
        gauge = self.rain_topics.get(topic)
        if gauge is not None:
            try:
                msg = json.loads(payload)
                t_r, total = float(msg["sim_time_s"]), float(msg["value"])
                if not (0.0 <= t_r <= self.duration_s + self.interval_s and 0.0 <= total < 1e5):
                    raise ValueError("outside the run")  # NaN fails both too
                self.rain[gauge].add(t_r, total)
                self.counts["rain"] += 1
            except (ValueError, KeyError, TypeError, OverflowError, UnicodeDecodeError, RecursionError):
                self._skip(
                    "rain telemetry: expected JSON with sim_time_s (s, within the run) and value (mm, >= 0)", topic
                )
            return
        try:
            up = parse_uplink(payload, self.start)
        except BadUplink as exc:
            self._skip(f"uplink: {exc}", topic)
            return
        if not 0.0 <= up.t_s <= self.duration_s + self.interval_s:
            self._skip(f"uplink: time: {up.t_s:.0f} s after the start: expected a time within the run", topic)
            return
        sid = self.sensor_site.get(up.device)
        if sid is None:
            self._skip(f"unknown device: {up.device[:60]!r} is no structural sensor of the manifest", topic)
            return
        if up.site_id and up.site_id != sid:
            self._skip(f"site mismatch: {up.device} tagged {up.site_id[:40]!r}, the manifest says {sid}", topic)
            return
        site = self.sites[sid]
        if site.kind is None:
            site.kind = LAYER_KINDS.get(up.layer)
        seen = self.sensor_t.get(up.device)
        if seen is not None and up.t_s <= seen:
            self._skip(f"out of order: {up.device} at {up.t_s:.0f} s after its reading at {seen:.0f} s", topic)
            return
        self.sensor_t[up.device] = up.t_s
        if site.last_t is not None and up.t_s < site.last_t:
            self.counts["late"] += 1  # after a later reading of another sensor of its site: decided now
        site.pending.append(up)
        self.counts["uplinks"] += 1

    def rain_mm_h(self, site: _Site, t0: float | None, t1: float) -> float | None:
        """Mean rain intensity (mm/h) at ``site`` from ``t0`` to ``t1`` (s); None without a gauge or interval."""
        if site.gauge is None or t0 is None or not t1 > t0:
            return None
        rec = self.rain[site.gauge]
        return max(rec.total_at(t1) - rec.total_at(t0), 0.0) * 3600.0 / (t1 - t0)

    # --- decisions ------------------------------------------------------------------------------
    def _logic(self, site: _Site) -> SiteLogic | None:
        if site.logic is None and site.kind is not None:
            rule = self.policy.rule(site.spec.site_id)
            site.logic = SiteLogic(site.spec.site_id, site.kind, site.spec.sensors, rule)
        return site.logic

    async def step_sites(self, t: float) -> None:
        """Decide on every queued reading up to the clock ``t`` (s), in time order per site."""
        for site in self.sites.values():
            logic = self._logic(site)
            if logic is None:
                continue
            due = sorted((u for u in site.pending if u.t_s <= t), key=lambda u: (u.t_s, u.device))
            site.pending = [u for u in site.pending if u.t_s > t]
            groups: dict[float, list[Uplink]] = {}
            for u in due:
                groups.setdefault(u.t_s, []).append(u)
            if not groups and site.last_t is not None and t - site.last_t >= self.interval_s:
                groups[t] = []  # no reading for an interval: step anyway (stale sensors)
            for tr, ups in sorted(groups.items()):
                readings = tuple(SensorReading(u.device, u.kind, u.t_s, u.value) for u in ups)
                t_obs = tr if site.last_t is None else max(tr, site.last_t)  # a late reading: decided now
                rain = self.rain_mm_h(site, site.last_t, t_obs) if site.kind == "slope" else None
                obs = SiteObservation(t_obs, readings, rain_mm_h=rain)
                site.last_t = t_obs
                for a in logic.step(obs):
                    await self._act(site, a, obs)

    def _write(self, rec: dict[str, Any]) -> None:
        if self.log_path is not None:
            with self.log_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")

    async def _act(self, site: _Site, a: CollapseAction, obs: SiteObservation) -> None:
        rec: dict[str, Any] = {
            "time_s": round(a.t_s, 3),
            "site": a.site_id,
            "site_name": site.spec.name,
            "action": a.kind,
            "reason": a.reason,
            "sensor": a.sensor_id,
            "readings": {r.sensor_id: {"t_s": r.t_s, "value": r.value, "kind": r.kind} for r in obs.readings},
            "rain_mm_h": None if obs.rain_mm_h is None else round(obs.rain_mm_h, 3),
            "rain_gauge": site.gauge if site.kind == "slope" else None,
            "done_at_s": round(self.clock_s, 3),
        }
        if a.forecast is not None:
            rec["forecast_failure_s"] = round(a.forecast.failure_s, 1)
        self.delays.append(self.clock_s - a.t_s)
        if a.kind in PUBLISHED and self._client is not None:
            body = {"level": a.kind, "reason": a.reason[:200]}
            if a.sensor_id is not None:
                body["sensor"] = a.sensor_id
            info = self._client.publish(self.alarm_topic.format(site_id=a.site_id), json.dumps(body), qos=1)
            rec["published"] = info.rc == 0
            self.counts["alarms"] += 1
        if self.cap and a.kind in ("evacuate", "clear"):
            rec["cap"] = await self._show(site, a)
        self.actions.append(rec)
        self._write(rec)

    # --- signboards -------------------------------------------------------------------------------
    async def _show(self, site: _Site, a: CollapseAction) -> dict[str, Any]:
        """Post the evacuation alert (or, for a clear, the Cancel of it) to the site's board."""
        if site.board is None:
            return {"problem": "no signboard with a position in the manifest"}
        sent = (self.start + timedelta(seconds=a.t_s)).replace(microsecond=0)
        ident = f"UJB-COLLAPSE-{site.spec.site_id}-{site.alerts + 1:04d}"
        if a.kind == "evacuate":
            body = cap_alert(ident, sent, collapse_message(site.spec.name, site.kind), place=site.spec.name)
        elif site.alert is not None:
            body = cap_alert(ident, sent, None, references=reference(*site.alert))
        else:
            return {"board": site.board, "problem": "nothing shown to cancel"}
        site.alerts += 1
        problem = await self._post(self.devices[site.board], body)
        if problem is None:
            site.alert = (ident, sent) if a.kind == "evacuate" else None
            self.counts["cap_posts"] += 1
        out: dict[str, Any] = {"board": site.board, "identifier": ident}
        if problem:
            out["problem"] = problem
            log.warning("%s CAP to %s: %s", site.spec.site_id, site.board, problem)
        return out

    async def _post(self, b: dict[str, Any], body: bytes) -> str | None:
        """Post a CAP message to the signboard ``b`` (its manifest entry); the problem, or None."""
        import httpx

        if self._http is None:
            self._http = httpx.AsyncClient(timeout=5.0)
        return await post_cap(self._http, b, self.creds[b["id"]]["password"], body)

    # --- the clock --------------------------------------------------------------------------------
    async def _read_clock(self) -> tuple[float, int] | None:
        """(simulated s, state) from the clock device, or from the wall clock without one."""
        if self.clock_dev is None:
            t = (time.time() - self.t0) * self.speed
            return max(t, 0.0), (ENDED if t >= self.duration_s else RUNNING if t >= 0 else WAITING)
        from pymodbus.client import AsyncModbusTcpClient

        if self._modbus is None or not self._modbus.connected:
            self._modbus = AsyncModbusTcpClient(str(self.clock_dev.get("host", "127.0.0.1")),
                                                port=int(self.clock_dev["port"]), timeout=2, retries=1)  # fmt: skip
            await self._modbus.connect()
        rr = await self._modbus.read_input_registers(0, count=4, device_id=int(self.clock_dev.get("unit_id", 1)))
        return None if rr.isError() else (unpack_time(rr.registers[:3]), int(rr.registers[3]))

    async def _write_progress(self, t: float) -> bool:
        if self.clock_dev is None or self._modbus is None:
            return True
        wr = await self._modbus.write_registers(0, pack_time(t), device_id=int(self.clock_dev.get("unit_id", 1)))
        return not wr.isError()

    async def run(self) -> list[dict[str, Any]]:
        """Follow the clock to the end: take readings, decide, post; the actions taken."""
        self._stop = asyncio.Event()
        self._client = self._start_mqtt()
        deadline = time.monotonic() + SUBSCRIBE_WAIT_S
        while not self._subscribed.is_set() and time.monotonic() < deadline and not self._stop.is_set():
            await asyncio.sleep(0.02)  # the fleet's clock waits for the first progress: hear the uplinks first
        if not self._subscribed.is_set():
            log.warning("the broker did not acknowledge the subscriptions within %g s: going on", SUBSCRIBE_WAIT_S)
        handled: float | None = None
        written: float | None = None
        lost_since: float | None = None
        try:
            while not self._stop.is_set():
                try:
                    now = await self._read_clock()
                    lost_since = None
                except Exception as exc:  # the fleet is gone or busy: try again, for a while
                    if lost_since is None:
                        lost_since = time.monotonic()
                        log.warning("clock device: %s", exc)
                    if time.monotonic() - lost_since > LOST_CLOCK_S:
                        self._write({"stopped": f"no answer from the clock device for {LOST_CLOCK_S:g} s"})
                        break
                    self._modbus = None
                    await asyncio.sleep(0.1)
                    continue
                if now is not None:
                    self.clock_s, self.clock_state = now
                    if handled != self.clock_s:
                        self.take_messages()
                        await self.step_sites(min(self.clock_s, self.duration_s))
                        handled = self.clock_s
                    if written != handled:
                        try:
                            written = handled if await self._write_progress(handled) else written
                        except Exception as exc:  # noqa: BLE001 - written again at the next reading
                            log.warning("progress write: %s", exc)
                    if self.clock_state == ENDED or self.clock_s >= self.duration_s:
                        break
                await asyncio.sleep(CLOCK_POLL_S)
        finally:
            self.take_messages()  # never raises (its backstop)
            self._client.loop_stop()
            self._client.disconnect()
            if self._modbus is not None:
                self._modbus.close()
            if self._http is not None:
                await self._http.aclose()
            summary = {"messages": self.counts, "skipped_by_reason": self.skips, "clock_s": round(self.clock_s, 3),
                       "decision_delay_s": delay_stats(self.delays)}  # fmt: skip
            self._write({"summary": summary})
        return self.actions

    def stop(self) -> None:
        """End the run at the next clock reading (SIGTERM, SIGINT)."""
        self._stop.set()


HELP_EPILOG = """\
what it needs:
  the fleet's manifest.json with credentials.json beside it (written by
  `twin devices serve SCENARIO --manifest fleet/manifest.json` once every device listens), and a
  collapse policy YAML file (scenarios/policies/reference_collapse.yaml is the reference one).
  Start this program before or just after the fleet: it waits --wait s for the manifest, and a
  fleet started with a controller in mind waits for this program's progress on its clock.

what it does:
  hears the tilt, crack and extensometer uplinks and the rain gauges over MQTT, decides per
  site with the reference logic, posts caution/warning/evacuate/clear/sensor_suspect/sensor_ok
  on uijeongbu/collapse/{site_id}/alarm, and with --cap puts the evacuation on the nearest
  signboard (CAP 1.2 over HTTP). It follows the fleet's clock and ends with it.

the log (--log, JSON lines):
  one line per decision (time_s, site, action, reason, the readings and rain it was based on,
  done_at_s), one per skipped message, and a summary line at the end. Ctrl-C stops it cleanly.

exit status: 0 done; 2 a bad manifest or policy (the message names the field).
"""


def main(argv: list[str] | None = None) -> int:
    """The command line (``--help`` explains it); the exit status."""
    ap = argparse.ArgumentParser(
        prog="python -m twin.control.remote_collapse",
        description="The reference collapse early warning (slopes and old buildings) as its own process: "
        "readings in over MQTT, alarms out over MQTT and, with --cap, CAP 1.2 to the signboards.",
        epilog=HELP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--manifest", required=True, help="the fleet's manifest.json (credentials.json beside it)")
    ap.add_argument("--policy", required=True, help="collapse policy YAML (collapse_policy_version: 1)")
    ap.add_argument("--log", default=None, help="append every decision here (JSON lines)")
    ap.add_argument("--cap", action="store_true", help="an evacuate also goes to the nearest signboard as CAP 1.2")
    ap.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the manifest to appear (120)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="collapse-ews: %(message)s")
    try:
        policy = load_collapse_policy(args.policy)
    except CollapsePolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = Path(args.manifest)
    problem = wait_for_manifest(path, args.wait)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2

    async def go() -> list[dict[str, Any]]:
        try:
            ews = RemoteCollapse(path, policy, log_path=args.log, cap=args.cap)
        except (TypeError, AttributeError, IndexError) as exc:  # a field of the wrong type (a hand-made manifest)
            raise RemoteCollapseError(f"a field of the wrong type ({exc}): expected the fleet's manifest") from None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, ews.stop)
        return await ews.run()

    try:
        actions = asyncio.run(go())
    except ManifestError as exc:  # names its file
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (RemoteCollapseError, KeyError, ValueError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2
    print(f"collapse-ews: {len(actions)} actions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
