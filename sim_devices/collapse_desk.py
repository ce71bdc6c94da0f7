"""Where an outside collapse early-warning system posts its alarms back to the fleet.

An early-warning system under test subscribes to the structural sensors' LoRaWAN uplinks
(``application/#``) and publishes, with the operator account, one JSON object per decision on
``uijeongbu/collapse/{site_id}/alarm``::

    {"level": "evacuate", "reason": "two sensors over 1 mm/h"}
    {"level": "sensor_suspect", "sensor": "CRACK-B02386", "reason": "drifts alone"}

``level`` is one of caution, warning, evacuate, clear, sensor_suspect, sensor_ok (``sensor``
required for the last two). Each alarm takes effect at the simulated time the fleet reaches next:
an evacuate alarm sends the people of the site's danger zone to the shelters through the crowd
model, exactly as the reference logic's does in ``twin run``, and the run's summary then judges
the system with the same verdict (``collapse.verdict``). A malformed message, or one for a site
the run does not have, is refused with one line in the fleet's input log and changes nothing.
"""

from __future__ import annotations

import json
import queue
from typing import Any

from twin.control.collapse_logic import CollapseAction

from .broker import Account
from .mqtt_link import TOPIC_ROOT
from .telemetry import FleetContext

DESK_ID = "collapse-desk"
ALARM_TOPIC = f"{TOPIC_ROOT}/collapse/+/alarm"
LEVELS = ("caution", "warning", "evacuate", "clear", "sensor_suspect", "sensor_ok")
MAX_PAYLOAD = 4096


class BadAlarm(ValueError):
    """A message on the alarm topic that is not an alarm of this run."""


class AlarmDesk:
    """Takes the alarms an outside system posts and hands them to the collapse model."""

    def __init__(self, ctx: FleetContext, password: str) -> None:
        self.ctx = ctx
        self.account = Account(DESK_ID, password, subscribe=[ALARM_TOPIC])
        self.inbox: queue.SimpleQueue[tuple[str, dict[str, Any]]] = queue.SimpleQueue()
        self.taken = 0

    def parse(self, topic: str, payload: bytes) -> tuple[str, dict[str, Any]]:
        parts = topic.split("/")
        if len(parts) != 4 or parts[1] != "collapse" or parts[3] != "alarm":
            raise BadAlarm(f"topic {topic!r}: expected {ALARM_TOPIC}")
        site = parts[2]
        model = self.ctx.sim.collapse
        if model is None or site not in model.state:
            raise BadAlarm(f"site {site!r}: not a monitored site of this run")
        if len(payload) > MAX_PAYLOAD:
            raise BadAlarm(f"{len(payload)} bytes: expected a JSON object of at most {MAX_PAYLOAD} bytes")
        try:
            body = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep
            raise BadAlarm("not JSON in UTF-8: expected an object with level") from None
        if not isinstance(body, dict):
            raise BadAlarm("expected a JSON object with level")
        level = body.get("level")
        if level not in LEVELS:
            raise BadAlarm(f"level: expected one of {', '.join(LEVELS)}")
        sensor = body.get("sensor")
        if level in ("sensor_suspect", "sensor_ok") and (not isinstance(sensor, str) or sensor not in model.sensors):
            raise BadAlarm("sensor: expected the id of a structural sensor of this run")
        reason = body.get("reason", "")
        return site, {"level": level, "sensor": sensor, "reason": str(reason)[:200] if reason else "outside system"}

    def on_mqtt(self, topic: str, payload: bytes) -> None:
        """A message on the alarm topic (on the fleet's loop): queued, or refused with one line."""
        try:
            site, alarm = self.parse(topic, payload)
        except BadAlarm as exc:
            self.ctx.input_log.refuse(DESK_ID, f"alarm on {topic}: {exc}")
            return
        self.inbox.put((site, alarm))

    def step(self, t_s: float) -> None:
        """Hand the queued alarms to the collapse model at simulated time ``t_s``."""
        model = self.ctx.sim.collapse
        while not self.inbox.empty():
            site, a = self.inbox.get()
            if model is None:
                continue
            model.act(CollapseAction(a["level"], site, t_s, a["reason"], sensor_id=a["sensor"]))
            self.taken += 1
