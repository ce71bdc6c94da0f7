"""The fleet's collapse alarm desk refuses every malformed alarm with one line and queues nothing;
nothing an outside system sends can raise out of it (it runs on the fleet's loop)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from sim_devices.collapse_desk import AlarmDesk
from sim_devices.guard import InputLog

TOPIC = "uijeongbu/collapse/SLP-01/alarm"


@pytest.fixture
def desk():
    model = SimpleNamespace(state={"SLP-01": None}, sensors={"TILT-SLP-01": None}, acted=[])
    model.act = model.acted.append
    ctx = SimpleNamespace(sim=SimpleNamespace(collapse=model), input_log=InputLog())
    return AlarmDesk(ctx, "secret")


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        (TOPIC, b"[" * 4000),  # nested deeper than json can parse
        (TOPIC, b"{" * 4000),
        (TOPIC, json.dumps({"level": "evacuate", "reason": "a" * 5000}).encode()),  # over 4 KB
        (TOPIC, b"\xff\xfe\x00"),
        (TOPIC, b""),
        (TOPIC, b"null"),
        (TOPIC, b'["evacuate"]'),
        (TOPIC, b'{"level": null}'),
        (TOPIC, b'{"level": "EVACUATE"}'),
        (TOPIC, b'{"level": "sensor_suspect"}'),  # no sensor
        (TOPIC, b'{"level": "sensor_suspect", "sensor": "/etc/passwd"}'),
        ("uijeongbu/collapse/SLP-99/alarm", b'{"level": "evacuate"}'),  # no such site
        ("uijeongbu/collapse/../alarm", b'{"level": "evacuate"}'),
        ("uijeongbu/collapse/SLP-01/alarm/x", b'{"level": "evacuate"}'),
    ],
)
def test_a_bad_alarm_is_refused_with_one_line_and_changes_nothing(desk, topic, payload, caplog):
    desk.on_mqtt(topic, payload)  # must not raise
    assert desk.ctx.input_log.refused == {"collapse-desk": 1}
    desk.step(100.0)
    assert desk.ctx.sim.collapse.acted == [] and desk.taken == 0
    assert "/etc/passwd" not in caplog.text and "aaaa" not in caplog.text  # the payload is never echoed


def test_a_good_alarm_acts_at_the_next_step(desk):
    desk.on_mqtt(TOPIC, b'{"level": "evacuate", "reason": "two sensors fast"}')
    desk.on_mqtt(TOPIC, b'{"level": "sensor_suspect", "sensor": "TILT-SLP-01"}')
    assert desk.ctx.sim.collapse.acted == []  # nothing before the fleet's step
    desk.step(3600.0)
    acted = desk.ctx.sim.collapse.acted
    assert [(a.kind, a.site_id, a.t_s, a.sensor_id) for a in acted] == [
        ("evacuate", "SLP-01", 3600.0, None),
        ("sensor_suspect", "SLP-01", 3600.0, "TILT-SLP-01"),
    ]
    assert acted[0].reason == "two sensors fast" and desk.ctx.input_log.refused == {}
