"""Garbage on a gate's MQTT command topic, as a controller under test may send it: a small running
fleet (gate G03 alone) takes hypothesis-generated payloads (random bytes, deep JSON, huge strings,
lone surrogates, commands of the wrong type) and deep JSON arrays. Each one is refused with one
count in the fleet's input log and one "rejected" event, the log stays bounded, the fleet keeps
running and the gate obeys the next valid command. Payloads stay under the brokers' packet limit
(64 KiB): a larger one never reaches the gate (the broker disconnects its sender), tested below."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim_devices.broker import MAX_PACKET_BYTES
from sim_devices.guard import LOGGER_NAME, MAX_COMMAND_BYTES

REPO = Path(__file__).resolve().parents[1]
GATE = "G03"
CMD, EVENT, STATE = (f"uijeongbu/gate/{GATE}/{t}" for t in ("cmd", "event", "state"))
MARKER = "PAYLOAD-MARKER-7f3a"  # in garbage payloads: must never come back in an event or a log line


class Operator:
    """The fleet's operator account on paho: publishes commands, records the gate's events."""

    def __init__(self, port: int, password: str) -> None:
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fuzz-operator", protocol=mqtt.MQTTv311)
        self.c.username_pw_set("operator", password)
        self.events: list[dict] = []
        self.states: list[dict] = []
        self.ready = threading.Event()
        self.c.on_connect = lambda c, u, f, rc, p: (c.subscribe([(EVENT, 1), (STATE, 1)]), self.ready.set())
        self.c.on_message = self._message
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        assert self.ready.wait(10)
        time.sleep(0.3)

    def _message(self, c, u, m) -> None:
        data = json.loads(m.payload)
        (self.events if m.topic == EVENT else self.states).append(data)

    def send(self, payload: bytes) -> None:
        self.c.publish(CMD, payload, qos=1).wait_for_publish(10)

    def rejected(self) -> list[dict]:
        return [e for e in self.events if e.get("event") == "rejected"]

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture(scope="module")
def gate_fleet(city, tmp_path_factory):
    from test_devices_fleet import RunningFleet

    from sim_devices.fleet import Fleet
    from twin.scenario import load_scenario

    folder = tmp_path_factory.mktemp("fuzz-fleet")
    s = load_scenario(REPO / "scenarios" / "flash_flood_jungnangcheon.yaml")
    f = Fleet(s, city=city, speed=60, workdir=folder, only={GATE})
    run = RunningFleet(f, folder / "manifest.json").start()
    op = Operator(run.manifest["broker"]["port"], run.creds["operator"]["password"])
    run.op = op
    yield run
    op.close()
    run.stop()
    assert run.error is None, run.error


def _wait(pred, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def _obeys(run, command: str) -> None:
    """The gate takes a valid command sent after the garbage (so every earlier message was handled)."""
    op = run.op
    before = len(op.events)
    op.send(json.dumps({"command": command}).encode())
    assert _wait(
        lambda: any(e.get("event") == "command" and e.get("command") == command for e in op.events[before:])
    ), f"{GATE} did not take {command!r}"


def test_a_hundred_thousand_deep_array_is_refused_once_and_the_gate_still_obeys(gate_fleet, caplog):
    """The reproduction: 100,000 nested brackets on G03's command topic were not caught (a
    RecursionError), the loop logged thousands of tracebacks and G03 ignored valid commands."""
    run, log = gate_fleet, gate_fleet.fleet.ctx.input_log
    caplog.set_level(logging.WARNING, logger=LOGGER_NAME)
    payloads = [
        b"[" * 30_000 + b"]" * 30_000,  # too big (for a command) and too deep, under the broker's limit
        b"[" * 1_000 + b"]" * 1_000,  # small enough, too deep
        b'{"command": ' + b"[" * 1_500 + b"]" * 1_500 + b"}",
        f"open the gate {MARKER}".encode(),
        b'{"command": 5}',
        f'{{"command": "{MARKER}"}}'.encode(),
    ]
    refused0, lines0, rejected0 = log.refused.get(GATE, 0), log.lines, len(run.op.rejected())
    for _ in range(20):  # a controller sending garbage in a loop
        for p in payloads:
            run.op.send(p)
    _obeys(run, "close")
    n = 20 * len(payloads)
    assert log.refused.get(GATE, 0) - refused0 == n
    rejected = run.op.rejected()[rejected0:]
    assert len(rejected) == n
    assert all(MARKER not in json.dumps(e) and len(json.dumps(e)) < 500 for e in rejected)
    assert log.lines - lines0 <= log.burst + 1  # rate limited: at most a burst of lines a minute
    assert not any(r.exc_info for r in caplog.records) and not any(MARKER in r.getMessage() for r in caplog.records)
    assert run.thread.is_alive() and run.error is None
    assert _wait(lambda: run.op.states and run.op.states[-1]["state"] in ("closing", "closed"))


def test_the_hundred_thousand_deep_array_itself_is_stopped_by_the_broker(gate_fleet):
    """The reproduction's 200 kB payload is over the brokers' packet limit: the broker disconnects
    the sender and the gate never sees it; the gate obeys the next command."""
    run, log = gate_fleet, gate_fleet.fleet.ctx.input_log
    refused0 = log.refused.get(GATE, 0)
    flood = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fuzz-flood", protocol=mqtt.MQTTv311)
    flood.username_pw_set("operator", run.creds["operator"]["password"])
    dropped = threading.Event()
    flood.on_disconnect = lambda *a: dropped.set()
    flood.connect("127.0.0.1", run.manifest["broker"]["port"])
    flood.loop_start()
    try:
        payload = b"[" * 100_000 + b"]" * 100_000
        assert len(payload) > MAX_PACKET_BYTES
        flood.publish(CMD, payload, qos=1)
        assert dropped.wait(10), "the broker kept a client that sent 200 kB"
    finally:
        flood.loop_stop()
    _obeys(run, "open")
    assert log.refused.get(GATE, 0) == refused0  # it never reached the gate
    assert run.thread.is_alive() and run.error is None


def _garbage() -> st.SearchStrategy[bytes]:
    word = st.text(max_size=20).filter(lambda t: t.strip().lower() not in ("open", "close"))
    wrong_type = st.one_of(
        st.integers(),
        st.none(),
        st.booleans(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.lists(st.integers(), max_size=5),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    )
    return st.one_of(
        st.binary(max_size=200).filter(lambda b: b.strip().lower() not in (b"open", b"close")),
        st.integers(33, 20_000).map(lambda n: b"[" * n + b"]" * n),  # deep JSON
        st.integers(33, 2_000).map(lambda n: b'{"command":' + b"{" * n + b"}" * n + b"}"),
        st.integers(MAX_COMMAND_BYTES, MAX_PACKET_BYTES - 200).map(lambda n: b'{"command":"' + b"a" * n + b'"}'),
        st.sampled_from([b'{"command":"\\ud800"}', '{"command":"\ud800"}'.encode("utf-8", "surrogatepass")]),
        st.sampled_from([b"\xed\xa0\x80", b'"open"', b"[]", b"{}", b"null", b"", b'{"cmd":"close"}']),
        word.map(lambda t: json.dumps({"command": t}).encode()),  # a string, not a command
        wrong_type.map(lambda v: json.dumps({"command": v}).encode()),
        word.map(lambda t: t.encode("utf-8", "surrogatepass")),  # a bare word that is not one
    )


def test_fuzzed_commands_are_refused_and_counted_and_the_gate_still_obeys(gate_fleet):
    run, log = gate_fleet, gate_fleet.fleet.ctx.input_log
    refused0, lines0, rejected0 = log.refused.get(GATE, 0), log.lines, len(run.op.rejected())
    sent: list[int] = []

    @settings(
        derandomize=True,
        max_examples=200,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(_garbage())
    def publish(payload: bytes) -> None:
        run.op.send(payload)
        sent.append(len(payload))
        assert run.thread.is_alive() and run.error is None

    started = time.monotonic()
    publish()
    _obeys(run, "open")
    took = time.monotonic() - started
    assert _wait(lambda: log.refused.get(GATE, 0) - refused0 == len(sent), 5), (log.refused.get(GATE), len(sent))
    assert len(run.op.rejected()) - rejected0 == len(sent)
    assert log.lines - lines0 <= 2 * (log.burst + 1)
    assert run.thread.is_alive() and run.error is None
    print(f"{len(sent)} payloads ({sum(sent)} bytes, largest {max(sent)}) refused in {took:.1f} s")
