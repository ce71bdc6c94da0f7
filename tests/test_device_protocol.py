"""Every device class of the fleet speaks one protocol (sim_devices.device.Device): built from the
default dataset as the fleet builds them, each instance satisfies it, and the fleet's loop, its
servers and its manifest need nothing kind-specific from them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim_devices.device import Device, DeviceBase
from sim_devices.fleet import KINDS, Fleet

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "flash_flood_evening_walkers.yaml"


@pytest.fixture(scope="module")
def fleet(city):
    from twin.scenario import load_scenario

    f = Fleet(load_scenario(SCENARIO), city=city, speed=60, replicas=2)
    yield f
    f.ports.close()


def test_every_device_class_of_the_default_dataset_satisfies_the_protocol(fleet):
    built = {type(d) for d in fleet.devices}
    assert built == set(KINDS.values())  # all eight classes (structural serves two kinds) are there
    assert {d.kind for d in fleet.devices} >= set(KINDS)
    for d in fleet.devices:
        assert isinstance(d, Device), f"{type(d).__name__} {d.device_id}"
        assert isinstance(d, DeviceBase)
        assert d.kind in KINDS and KINDS[d.kind] is type(d)
        assert d.device_id == str(d.row["device_id"]) and d.name == d.row.get("name")
        assert d.account.username == d.device_id


def test_something_that_is_not_a_device_fails_the_check():
    class Half:
        kind, device_id, row = "x", "X1", {}

        def sample(self, t_s):
            pass

    assert not isinstance(Half(), Device)


def test_the_manifest_begins_and_ends_alike_for_every_kind(fleet):
    for d in fleet.devices:
        m = d.manifest()
        keys = list(m)
        assert keys[:3] == ["id", "kind", "name"] and keys[-1] == "credentials", d.device_id
        assert (m["id"], m["kind"], m["credentials"]) == (d.device_id, d.kind, f"credentials.json#{d.device_id}")


def test_the_loop_samples_the_scheduled_devices_and_steps_gates_and_signboards(fleet):
    stepped = {d.kind for d in fleet.devices if d.every_step}
    assert stepped == {"gate", "signboard"}
    for d in fleet.devices:
        assert math.isfinite(d.due()) is not d.every_step, d.device_id  # sampled when due, or stepped


def test_servers_and_mqtt_faces_come_from_the_protocol(fleet):
    for d in fleet.devices:
        port = d.listen_port()
        served = d.served()
        if d.kind in ("level_sensor", "rain_gauge", "gate"):
            assert port == d.modbus.port and served == {"modbus": 0}
        elif d.kind in ("signboard", "cctv"):
            assert port == d.port and served == {"http": 0}
        else:
            assert port is None and served == {}
        assert (d.on_mqtt is not None) is (d.kind == "gate")  # only gates take MQTT commands
        assert (d.status_topic is None) is (d.kind in ("cctv", "tilt_sensor", "crack_sensor", "extensometer"))
    waited = {d.device_id for d in fleet.devices if d.waited_for}
    replicas = {d.device_id for d in fleet.devices if "-R0" in d.device_id}
    assert len(replicas) == 2 and not waited & replicas  # the clock never waits for a load-test replica
    assert waited == {d.device_id for d in fleet.devices if d.kind in ("level_sensor", "rain_gauge")} - replicas
