"""MQTT access control, the same suite on both brokers the fleet can start: mosquitto (the default
where it is installed) and the embedded amqtt broker (the fallback).

The brokers are started directly with the accounts the devices would have (no fleet): a gate reads
its own command topic, every device publishes only under its own prefix, the operator reads
everything and commands gates. Clients are paho-mqtt and mosquitto's own command-line tools.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from sim_devices.broker import OPERATOR, Account, free_port, new_password
from sim_devices.mqtt_link import device_prefix

HAVE_MOSQUITTO = shutil.which("mosquitto") is not None or Path("/usr/sbin/mosquitto").exists()
HAVE_CLIENTS = shutil.which("mosquitto_pub") is not None
GATES = [f"G0{i}" for i in range(1, 10)]
TILT, CRACK, LEVEL, LEVEL2 = "TILT-B00014", "CRACK-C0001", "LS-1", "LS-2"
TILT_APP = "8b0e7c9e-0000-5000-8000-000000000010"
TILT_UP = f"application/{TILT_APP}/device/0123456789abcdef/event/up"


def _accounts() -> list[Account]:
    """The accounts a fleet gives (sim_devices.gate, .sensors, .structural, fleet.operator)."""
    out = [
        Account(
            OPERATOR,
            new_password(),
            publish=["uijeongbu/gate/+/cmd"],
            subscribe=["uijeongbu/#", "application/#"],
        )
    ]
    for g in GATES:
        p = device_prefix("gate", g)
        out.append(Account(g, new_password(), publish=[f"{p}/#"], subscribe=[f"{p}/cmd"]))
    for s in (LEVEL, LEVEL2):
        out.append(Account(s, new_password(), publish=[f"{device_prefix('level_sensor', s)}/#"]))
    out.append(Account(TILT, new_password(), publish=[f"application/{TILT_APP}/device/0123456789abcdef/event/#"]))
    out.append(Account(CRACK, new_password(), publish=[f"application/{TILT_APP}/device/fedcba9876543210/event/#"]))
    return out


class Broker:
    def __init__(self, kind: str, port: int, accounts: list[Account], server) -> None:
        self.kind, self.port, self.server = kind, port, server
        self.pw = {a.username: a.password for a in accounts}


@pytest.fixture(scope="module", params=["mosquitto", "embedded"])
def broker(request, tmp_path_factory):
    accounts = _accounts()
    port = free_port()
    if request.param == "mosquitto":
        if not HAVE_MOSQUITTO:
            pytest.skip("mosquitto not installed (apt-get install -y mosquitto): the embedded broker is tested alone")
        from sim_devices.broker import MosquittoBroker

        server = MosquittoBroker(tmp_path_factory.mktemp("mosquitto"), accounts, port=port)
    else:
        from sim_devices.embedded_broker import EmbeddedBroker

        server = EmbeddedBroker(accounts, port=port)
    server.start()
    yield Broker(request.param, port, accounts, server)
    server.stop()


class Peer:
    """A paho client on its own network thread that records what it receives; never reconnects."""

    def __init__(self, broker: Broker, user: str | None, client_id: str, *, password: str | None = None, clean=True):
        self.c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean,
            protocol=mqtt.MQTTv311,
            reconnect_on_failure=False,
        )
        if user is not None:
            self.c.username_pw_set(user, password if password is not None else broker.pw[user])
        self.broker = broker
        self.messages: list[tuple[str, bytes, bool]] = []
        self.result: mqtt.ReasonCode | None = None
        self.answered = threading.Event()
        self.disconnects = 0
        self.granted: dict[int, list] = {}
        self.c.on_connect = self._connect
        self.c.on_disconnect = self._disconnect
        self.c.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload, bool(m.retain)))
        self.c.on_subscribe = lambda c, u, mid, codes, props: self.granted.__setitem__(mid, list(codes))

    def _connect(self, c, u, flags, rc, props):
        self.result = rc
        self.answered.set()

    def _disconnect(self, c, u, flags, rc, props):
        self.disconnects += 1
        self.answered.set()

    def will(self, topic: str, payload: str) -> Peer:
        self.c.will_set(topic, payload, qos=1)
        return self

    def connect(self, timeout_s: float = 5.0) -> bool:
        """True if the broker accepted the connection."""
        self.c.connect("127.0.0.1", self.broker.port, keepalive=30)
        self.c.loop_start()
        assert self.answered.wait(timeout_s), "no CONNACK"
        ok = self.result is not None and not self.result.is_failure
        if not ok:
            self.close()
        return ok

    def subscribe(self, topic: str, timeout_s: float = 5.0) -> list:
        _, mid = self.c.subscribe(topic, qos=1)
        _wait(lambda: mid in self.granted, timeout_s)
        return self.granted[mid]

    def publish(self, topic: str, payload: str | bytes, *, retain: bool = False) -> None:
        self.c.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def got(self, topic: str) -> list[bytes]:
        return [p for t, p, _ in self.messages if t == topic]

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def _wait(pred, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def _granted(codes: list) -> bool:
    return all(not (c.is_failure if hasattr(c, "is_failure") else int(c) >= 0x80) for c in codes)


def test_anonymous_and_wrong_passwords_are_refused(broker):
    assert not Peer(broker, None, "anon-1").connect()
    assert not Peer(broker, OPERATOR, "op-wrong", password="not-the-password").connect()
    assert not Peer(broker, "G01", "G01", password="").connect()
    assert not Peer(broker, "nobody", "nobody", password="x").connect()
    if HAVE_CLIENTS:
        p = subprocess.run(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", "uijeongbu/x", "-m", "anon"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert p.returncode != 0 and "not authori" in p.stderr.lower()


def test_a_device_publishing_outside_its_prefix_is_dropped(broker):
    op = Peer(broker, OPERATOR, "op-prefix")
    assert op.connect()
    assert _granted(op.subscribe("uijeongbu/#"))
    gate = Peer(broker, "G02", "G02")
    assert gate.connect() and _granted(gate.subscribe("uijeongbu/gate/G02/cmd"))
    ls = Peer(broker, LEVEL, LEVEL)
    assert ls.connect()
    try:
        ls.publish(f"{device_prefix('level_sensor', LEVEL2)}/telemetry", "forged")  # another sensor's topic
        ls.publish("uijeongbu/gate/G02/cmd", '{"command": "close"}')  # a gate command
        ls.publish(f"{device_prefix('level_sensor', LEVEL)}/telemetry", "own")  # its own: last, in order
        assert _wait(lambda: op.got(f"{device_prefix('level_sensor', LEVEL)}/telemetry") == [b"own"])
        time.sleep(0.3)
        assert op.got(f"{device_prefix('level_sensor', LEVEL2)}/telemetry") == []
        assert op.got("uijeongbu/gate/G02/cmd") == [] and gate.messages == []
    finally:
        for p in (op, gate, ls):
            p.close()


def _will_client(broker: Broker) -> tuple[int | None, str]:
    """mosquitto_pub as the tilt sensor with a last will on gate G07's command topic, killed
    without a DISCONNECT if the broker let it in: (exit code, stderr)."""
    cmd = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-u", TILT, "-P", broker.pw[TILT], "-i", TILT]
    cmd += ["-q", "1", "-t", TILT_UP, "-l"]  # -l: stays connected, reading lines from stdin
    cmd += ["--will-topic", "uijeongbu/gate/G07/cmd", "--will-payload", '{"command":"close"}', "--will-qos", "1"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.wait(timeout=3)  # refused: it exits by itself
        code = proc.returncode
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)  # let in: it dies without DISCONNECT, so its will is due
        proc.wait(timeout=5)
        code = None
    return code, proc.stderr.read()


def test_a_will_outside_the_publish_acl_never_reaches_its_topic(broker):
    """The reproduction: a tilt sensor's account set a last will on a gate's command topic, was
    killed, and the broker closed the gate for it. The embedded broker refuses such a CONNECT;
    mosquitto 2.0.11 lets it in and drops the will when it would be sent (its ACL check on wills)."""
    if not HAVE_CLIENTS:
        pytest.skip("mosquitto_pub not installed (apt-get install -y mosquitto-clients)")
    gate = Peer(broker, "G07", "G07")
    assert gate.connect() and _granted(gate.subscribe("uijeongbu/gate/G07/cmd"))
    try:
        code, err = _will_client(broker)
        if broker.kind == "embedded":
            assert code not in (None, 0) and "not authori" in err.lower(), (code, err)
            assert not Peer(broker, TILT, TILT).will("uijeongbu/gate/G07/cmd", '{"command":"close"}').connect()
        time.sleep(1.0)
        assert gate.got("uijeongbu/gate/G07/cmd") == []
        # the device's own will (its status topic, as MqttLink sets it) is still accepted
        own = Peer(broker, "G08", "G08").will("uijeongbu/gate/G08/status", "offline")
        assert own.connect()
        own.close()
    finally:
        gate.close()


def test_a_client_id_belongs_to_its_device_account(broker):
    """The reproduction: connecting as ``-i G05`` with a crack sensor's account made gate G05 deaf."""
    gate = Peer(broker, "G05", "G05", clean=False)
    assert gate.connect() and _granted(gate.subscribe("uijeongbu/gate/G05/cmd"))
    op = Peer(broker, OPERATOR, "op-takeover")
    assert op.connect()
    try:
        for clean in (True, False):
            assert not Peer(broker, CRACK, "G05", clean=clean).connect()
        assert not Peer(broker, TILT, "tilt-other-id").connect()  # a device account: its own client id only
        time.sleep(0.3)
        assert gate.disconnects == 0
        op.publish("uijeongbu/gate/G05/cmd", '{"command": "close"}')
        assert _wait(lambda: gate.got("uijeongbu/gate/G05/cmd") == [b'{"command": "close"}'])
    finally:
        gate.close()
        op.close()


def test_the_operator_cannot_take_a_device_client_id(broker):
    if broker.kind == "mosquitto":
        pytest.skip(
            "mosquitto 2.0.11 cannot express it: the dynamic security plugin pins a client id to an account, "
            "but cannot forbid the ids of others to an account without one (the operator)"
        )
    gate = Peer(broker, "G06", "G06", clean=False)
    assert gate.connect() and _granted(gate.subscribe("uijeongbu/gate/G06/cmd"))
    try:
        assert not Peer(broker, OPERATOR, "G06").connect()
        time.sleep(0.3)
        assert gate.disconnects == 0
    finally:
        gate.close()


def test_retained_messages_obey_the_read_acl(broker):
    """A device without read rights never receives another device's retained status, neither by
    subscribing to it nor because someone else (the operator) subscribed to everything."""
    op = Peer(broker, OPERATOR, "op-retained")
    assert op.connect() and _granted(op.subscribe("uijeongbu/#"))
    g1 = Peer(broker, "G01", "G01")
    assert g1.connect()
    try:
        g1.publish("uijeongbu/gate/G01/state", '{"state": "closed"}', retain=True)
        g1.publish("uijeongbu/gate/G01/status", "online", retain=True)
        assert _wait(lambda: op.got("uijeongbu/gate/G01/status"))
        g3 = Peer(broker, "G03", "G03", clean=False)
        assert g3.connect() and _granted(g3.subscribe("uijeongbu/gate/G03/cmd"))
        g3.subscribe("uijeongbu/gate/G01/state")  # refused or filtered: either way nothing arrives
        g3.subscribe("uijeongbu/#")
        ls = Peer(broker, LEVEL2, LEVEL2)
        assert ls.connect()
        ls.subscribe("#")
        time.sleep(0.8)
        g3.close()
        again = Peer(broker, "G03", "G03", clean=False)  # a persistent session coming back
        assert again.connect()
        time.sleep(0.8)
        for peer in (g3, ls, again):
            assert [t for t, _, _ in peer.messages if not t.startswith("uijeongbu/gate/G03/")] == []
        ls.close()
        again.close()
        late = Peer(broker, OPERATOR, "op-late")  # the operator does get the retained state
        assert late.connect() and _granted(late.subscribe("uijeongbu/gate/+/state"))
        assert _wait(lambda: late.got("uijeongbu/gate/G01/state") == [b'{"state": "closed"}'])
        late.close()
    finally:
        op.close()
        g1.close()


def test_the_operator_reads_everything_and_commands_gates_only(broker):
    op = Peer(broker, OPERATOR, "op-all")
    assert op.connect()
    assert _granted(op.subscribe("uijeongbu/#")) and _granted(op.subscribe("application/#"))
    op2 = Peer(broker, OPERATOR, "op-second")  # several operator connections at once
    assert op2.connect()
    g4 = Peer(broker, "G04", "G04")
    assert g4.connect() and _granted(g4.subscribe("uijeongbu/gate/G04/cmd"))
    tilt, ls = Peer(broker, TILT, TILT), Peer(broker, LEVEL, LEVEL)
    assert tilt.connect() and ls.connect()
    try:
        tilt.publish(TILT_UP, '{"fCnt": 1}')
        ls.publish("uijeongbu/level_sensor/LS-1/telemetry", '{"seq": 1}')
        op2.publish("uijeongbu/level_sensor/LS-1/telemetry", "operator-forged")  # not a gate command: dropped
        op2.publish("uijeongbu/gate/G04/cmd", '{"command": "open"}')
        assert _wait(lambda: g4.got("uijeongbu/gate/G04/cmd") == [b'{"command": "open"}'])
        assert _wait(lambda: op.got(TILT_UP) == [b'{"fCnt": 1}'])
        assert _wait(lambda: op.got("uijeongbu/gate/G04/cmd") == [b'{"command": "open"}'])
        assert op.got("uijeongbu/level_sensor/LS-1/telemetry") == [b'{"seq": 1}']
        assert op2.disconnects == 0 and op.disconnects == 0
    finally:
        for p in (op, op2, g4, tilt, ls):
            p.close()


def test_a_packet_over_the_size_limit_never_reaches_a_device(broker):
    """Megabytes of garbage on a gate's command topic (the soak benchmark's huge payloads) are
    refused by the broker: the sender is disconnected, the gate gets nothing, a normal command after."""
    from sim_devices.broker import MAX_PACKET_BYTES

    gate = Peer(broker, "G08", "G08")
    assert gate.connect() and _granted(gate.subscribe("uijeongbu/gate/G08/cmd"))
    flood = Peer(broker, OPERATOR, "op-flood")
    assert flood.connect()
    op = Peer(broker, OPERATOR, "op-after")
    try:
        flood.c.publish("uijeongbu/gate/G08/cmd", b"[" * (MAX_PACKET_BYTES + 1), qos=1)
        assert _wait(lambda: flood.disconnects > 0), "the sender of an oversize packet stays connected"
        assert op.connect()
        op.publish("uijeongbu/gate/G08/cmd", '{"command": "close"}')
        assert _wait(lambda: gate.got("uijeongbu/gate/G08/cmd") == [b'{"command": "close"}'])
        time.sleep(0.3)
        assert all(len(p) < MAX_PACKET_BYTES for _, p, _ in gate.messages)
    finally:
        for p in (gate, flood, op):
            p.close()
