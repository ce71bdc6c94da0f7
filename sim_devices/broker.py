"""MQTT brokers for the fleet: a mosquitto the fleet starts itself (accounts, client ids and ACL
in mosquitto's dynamic security plugin, loopback only, persistence on), or an external one given
by URL.

Every device gets its own user, which may connect only with its own client id (its device id);
the ACL lets it publish only under ``uijeongbu/{kind}/{id}/`` (and a gate read its own command
topic). The ``operator`` user (dashboards, tests, controllers) reads everything and may publish
gate commands. Reading is checked per message, retained ones included.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from urllib.parse import urlparse

from twin.errors import TwinError

OPERATOR = "operator"
# bytes: the largest MQTT packet either managed broker takes (a reading or an uplink is under 2 kB);
# a client sending a larger one is disconnected, so megabytes of garbage never reach the devices
MAX_PACKET_BYTES = 65536


class BrokerError(TwinError, RuntimeError):
    """The MQTT broker could not be started or reached."""


@dataclass
class Account:
    username: str
    password: str
    publish: list[str] = field(default_factory=list)  # topic filters it may write (wills included)
    subscribe: list[str] = field(default_factory=list)  # topic filters it may read (retained messages included)

    @property
    def client_id(self) -> str | None:
        """The only MQTT client id this account may connect with: a device's own id (its username,
        as the fleet's MqttLink connects); None for the operator, who connects several times at once."""
        return None if self.username == OPERATOR else self.username


def new_password() -> str:
    return secrets.token_urlsafe(18)


def parse_broker_url(url: str) -> tuple[str, int]:
    """``mqtt://host:port`` -> (host, port); the port defaults to 1883."""
    u = urlparse(url)
    if u.scheme not in ("mqtt", "tcp") or not u.hostname:
        raise BrokerError(f"broker URL {url!r}: expected mqtt://HOST:PORT")
    return u.hostname, u.port or 1883


class PortReservations:
    """Ports held for servers that start later. Each is bound (not listening) by a socket of ours
    until its server is about to bind it: meanwhile no other process (another fleet running at
    the same time) and no client connection (which takes its local port from the same range) can
    take it. ``release(port)`` just before the server binds; ``hold(port)`` again while a server
    is away (a broker outage) so it can come back on the same port."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._held: dict[int, socket.socket] = {}
        self.ports: set[int] = set()

    def __contains__(self, port: int) -> bool:
        return port in self.ports

    def take(self) -> int:
        for _ in range(100):
            s = socket.socket()
            try:
                s.bind((self.host, 0))
            except OSError:
                s.close()
                continue
            port = s.getsockname()[1]
            if port in self.ports:  # ours already (released and handed out again by the OS)
                s.close()
                continue
            self._held[port] = s
            self.ports.add(port)
            return port
        raise BrokerError("no free port found")

    def release(self, port: int) -> None:
        s = self._held.pop(port, None)
        if s is not None:
            s.close()

    def hold(self, port: int) -> bool:
        """Hold ``port`` again (its server has stopped); False if something else took it."""
        if port in self._held:
            return True
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the stopped server's connections in TIME_WAIT
        try:
            s.bind((self.host, port))
        except OSError:
            s.close()
            return False
        self._held[port] = s
        return True

    def close(self) -> None:
        for port in list(self._held):
            self.release(port)


def free_port(host: str = "127.0.0.1", taken: set[int] | None = None) -> int:
    """A port nobody listens on now, and not in ``taken`` (which it joins): the OS may hand the
    same free port out twice in a row."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if taken is None or port not in taken:
            if taken is not None:
                taken.add(port)
            return port
    raise BrokerError("no free port found")


DYNSEC_PLUGIN = "mosquitto_dynamic_security.so"
DYNSEC_ITERATIONS = 101  # PBKDF2-SHA512 rounds, as mosquitto_ctrl writes them
MOSQUITTO_LIMITS = (
    "mosquitto: the operator account may use any client id (mosquitto 2.0 cannot forbid a device's id "
    "to it); a last will outside the publish ACL is accepted at CONNECT and dropped when it would be sent"
)
MOSQUITTO_LIMITS_NO_DYNSEC = (
    "mosquitto without its dynamic security plugin: client ids are not tied to accounts (a device's "
    "session can be taken over); a last will outside the publish ACL is dropped when it would be sent"
)


def mosquitto_executable() -> str | None:
    """The mosquitto broker, or None if it is not installed."""
    return shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)


BROKER_KINDS = ("mosquitto", "embedded")  # the brokers a fleet can start itself


def default_broker_kind() -> str:
    """mosquitto where it is installed (the broker a city would deploy), else the embedded amqtt."""
    return "mosquitto" if mosquitto_executable() else "embedded"


def dynsec_plugin() -> str | None:
    """mosquitto's dynamic security plugin (mosquitto >= 2.0), or None."""
    for pattern in ("/usr/lib/*/" + DYNSEC_PLUGIN, "/usr/lib/" + DYNSEC_PLUGIN, "/usr/local/lib/" + DYNSEC_PLUGIN):
        found = sorted(glob(pattern))
        if found:
            return found[0]
    return None


def dynsec_config(accounts: list[Account]) -> dict:
    """The dynamic security plugin's document: one client and one role per account. Everything is
    denied unless granted: a device publishes under its prefix and reads what it subscribes to,
    and connects only with its own client id."""
    clients, roles = [], []
    for a in accounts:
        salt = secrets.token_bytes(12)
        digest = hashlib.pbkdf2_hmac("sha512", a.password.encode("utf-8"), salt, DYNSEC_ITERATIONS, 64)
        client = {
            "username": a.username,
            "password": base64.b64encode(digest).decode("ascii"),
            "salt": base64.b64encode(salt).decode("ascii"),
            "iterations": DYNSEC_ITERATIONS,
            "roles": [{"rolename": a.username}],
        }
        if a.client_id is not None:
            client["clientid"] = a.client_id
        clients.append(client)
        acls = [{"acltype": "publishClientSend", "topic": t, "allow": True} for t in a.publish]
        for t in a.subscribe:
            acls.append({"acltype": "subscribePattern", "topic": t, "allow": True})
            acls.append({"acltype": "publishClientReceive", "topic": t, "allow": True})
        roles.append({"rolename": a.username, "acls": acls})
    return {
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": False,
            "subscribe": False,
            "unsubscribe": True,
        },
        "clients": clients,
        "roles": roles,
        "groups": [],
    }


def _write_private(path: Path, text: str) -> None:
    """``text`` to ``path`` atomically, readable by its owner only."""
    from twin.atomic import atomic_file

    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o600)


def _password_file(folder: Path, accounts: list[Account]) -> list[str]:
    """passwd (hashed by mosquitto_passwd) and acl: mosquitto without its dynamic security plugin."""
    passwd = folder / "passwd"
    _write_private(passwd, "".join(f"{a.username}:{a.password}\n" for a in accounts))
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        raise BrokerError("mosquitto_passwd not found: apt-get install -y mosquitto")
    subprocess.run([tool, "-U", str(passwd)], check=True, capture_output=True)  # hash in place
    lines = []
    for a in accounts:
        lines.append(f"user {a.username}")
        lines += [f"topic write {t}" for t in a.publish]
        lines += [f"topic read {t}" for t in a.subscribe]
        lines.append("")
    acl = folder / "acl"
    _write_private(acl, "\n".join(lines))
    return [f"password_file {passwd}", f"acl_file {acl}"]


def write_mosquitto_config(
    folder: Path, accounts: list[Account], *, host: str, port: int, plugin: str | None = None
) -> Path:
    """mosquitto.conf and the accounts in ``folder``: with ``plugin`` (the dynamic security
    plugin) dynamic-security.json, else passwd and acl files. Returns the conf."""
    folder.mkdir(parents=True, exist_ok=True)
    if plugin is not None:
        dynsec = folder / "dynamic-security.json"
        _write_private(dynsec, json.dumps(dynsec_config(accounts), indent=1))
        security = [f"plugin {plugin}", f"plugin_opt_config_file {dynsec}"]
    else:
        security = _password_file(folder, accounts)
    (folder / "data").mkdir(exist_ok=True)
    conf = folder / "mosquitto.conf"
    conf.write_text(
        "\n".join(
            [
                "per_listener_settings false",
                # started as root, mosquitto drops to the user "mosquitto", who cannot read our files
                *([f"user {pwd.getpwuid(os.geteuid()).pw_name}"] if os.geteuid() == 0 else []),
                f"listener {port} {host}",
                "allow_anonymous false",
                *security,
                "persistence true",
                f"persistence_location {folder / 'data'}/",
                "autosave_interval 1",
                "max_queued_messages 100000",
                f"max_packet_size {MAX_PACKET_BYTES}",
                "log_dest stderr",
                "log_type error",
                "log_type warning",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return conf


class MosquittoBroker:
    """A mosquitto process on ``host:port`` with the given accounts; stop() ends it, start() again
    restarts it on the same port with its persisted sessions (a broker outage). ``limits``: what
    it cannot guarantee, in one line."""

    def __init__(self, folder: Path, accounts: list[Account], *, host: str = "127.0.0.1", port: int | None = None):
        exe = mosquitto_executable()
        if exe is None:
            raise BrokerError("mosquitto not found: apt-get install -y mosquitto, or give --broker mqtt://HOST:PORT")
        self.exe = exe
        self.host, self.port = host, port or free_port(host)
        plugin = dynsec_plugin()
        self.limits = MOSQUITTO_LIMITS if plugin else MOSQUITTO_LIMITS_NO_DYNSEC
        self.conf = write_mosquitto_config(folder, accounts, host=self.host, port=self.port, plugin=plugin)
        self.log = folder / "mosquitto.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        with self.log.open("a") as fh:
            self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stdout=fh, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BrokerError(f"mosquitto exited: {self.log.read_text()[-500:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise BrokerError(f"mosquitto did not listen on {self.host}:{self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
