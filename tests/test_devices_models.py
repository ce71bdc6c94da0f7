"""The device models without any network: sensor readings, faults, the gate's motion."""

from __future__ import annotations

import numpy as np
import pytest

from twin.models.faults import FaultSchedule
from twin.models.gate import GateModel
from twin.models.sensor_model import SensorModel
from twin.scenario import Fault


def _faults(*specs):
    return FaultSchedule([Fault.model_validate(s) for s in specs])


def test_noise_has_the_configured_spread_and_readings_sit_on_the_resolution_grid():
    m = SensorModel("LS-X", seed=1, noise_sd=0.01, resolution=0.001)
    vals = np.array([m.read(2.0, t).value for t in range(5000)])
    assert abs(vals.mean() - 2.0) < 0.001 and 0.009 < vals.std() < 0.011
    assert np.allclose(np.round(vals / 0.001) * 0.001, vals, atol=1e-9)
    exact = SensorModel("LS-X", seed=1, noise_sd=0.0, resolution=0.5)
    assert [exact.read(v, 0).value for v in (0.2, 0.3, 1.74, 1.76)] == [0.0, 0.5, 1.5, 2.0]


def test_readings_are_deterministic_per_device_and_seed():
    a = [SensorModel("LS-A", seed=3, noise_sd=0.02, resolution=0).read(1.0, t).value for t in range(5)]
    b = [SensorModel("LS-A", seed=3, noise_sd=0.02, resolution=0).read(1.0, t).value for t in range(5)]
    c = [SensorModel("LS-B", seed=3, noise_sd=0.02, resolution=0).read(1.0, t).value for t in range(5)]
    assert a == b and a != c


def test_dropout_stuck_spikes_and_latency_windows():
    f = _faults(
        {"kind": "dropout", "device": "S", "start": 10, "end": 20},
        {"kind": "stuck", "device": "S", "start": 30, "end": 40},
        {"kind": "spikes", "device": "S", "start": 50, "end": 60, "magnitude": 5, "probability": 1},
        {"kind": "latency", "device": "S", "start": 70, "latency": 2},
    )
    m = SensorModel("S", seed=0, noise_sd=0.0, resolution=0.0, faults=f)
    assert m.read(1.0, 5).quality == "good"
    assert m.read(1.0, 15).value is None and m.read(1.0, 20).value == 1.0  # the window's end is open
    m.read(1.5, 29)
    assert (m.read(3.0, 35).value, m.read(3.0, 35).quality) == (1.5, "stuck")
    assert m.read(3.0, 55).value == 8.0 and m.read(3.0, 65).value == 3.0
    assert m.read(3.0, 1e6).latency_s == 2.0  # an open-ended fault lasts to the end
    assert f.active("other", "dropout", 15) is None


def test_gate_closes_in_its_travel_time_and_waits_for_an_obstacle():
    g = GateModel(travel_s=20)
    assert g.command("close", "modbus") is None and g.state == "closing"
    assert g.step(10, obstacle=False, stuck_open=False) is None and g.position == pytest.approx(0.5)
    assert g.step(25, obstacle=True, stuck_open=False) is None and g.position == pytest.approx(0.5)  # interlock
    assert g.step(35, obstacle=False, stuck_open=False) == "closed" and g.state == "closed"
    assert g.command("open", "mqtt") is None and g.step(45, obstacle=True, stuck_open=False) is None
    assert g.step(55, obstacle=False, stuck_open=False) == "open"  # opening is never held back


def test_gate_stuck_open_and_remote_mode_off():
    g = GateModel(travel_s=20)
    g.command("close", "modbus")
    assert g.step(100, obstacle=False, stuck_open=True) is None and g.position == 0.0
    g2 = GateModel(travel_s=20)
    g2.remote = False
    assert g2.command("close", "modbus") == "remote mode is off" and g2.state == "open" and g2.rejected == 1
    assert "unknown command" in g2.command("explode", "mqtt")
