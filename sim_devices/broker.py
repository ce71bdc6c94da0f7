"""MQTT brokers for the fleet: a mosquitto the fleet starts itself (password file and per-device
ACL generated, loopback only, persistence on), or an external one given by URL.

Every device gets its own user; the ACL lets it publish only under ``uijeongbu/{kind}/{id}/``
(and a gate read its own command topic). The ``operator`` user (dashboards, tests, controllers)
reads everything and may publish gate commands.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from twin.errors import TwinError

OPERATOR = "operator"


class BrokerError(TwinError, RuntimeError):
    """The MQTT broker could not be started or reached."""


@dataclass
class Account:
    username: str
    password: str
    publish: list[str] = field(default_factory=list)  # topic filters it may write
    subscribe: list[str] = field(default_factory=list)  # topic filters it may read


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


def write_mosquitto_config(folder: Path, accounts: list[Account], *, host: str, port: int) -> Path:
    """mosquitto.conf, passwd (hashed by mosquitto_passwd) and acl in ``folder``; returns the conf."""
    folder.mkdir(parents=True, exist_ok=True)
    passwd = folder / "passwd"
    passwd.write_text("".join(f"{a.username}:{a.password}\n" for a in accounts), encoding="utf-8")
    passwd.chmod(0o600)
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
    acl.write_text("\n".join(lines), encoding="utf-8")
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
                f"password_file {passwd}",
                f"acl_file {acl}",
                "persistence true",
                f"persistence_location {folder / 'data'}/",
                "autosave_interval 1",
                "max_queued_messages 100000",
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
    restarts it on the same port with its persisted sessions (a broker outage)."""

    def __init__(self, folder: Path, accounts: list[Account], *, host: str = "127.0.0.1", port: int | None = None):
        exe = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
        if exe is None:
            raise BrokerError("mosquitto not found: apt-get install -y mosquitto, or give --broker mqtt://HOST:PORT")
        self.exe = exe
        self.host, self.port = host, port or free_port(host)
        self.conf = write_mosquitto_config(folder, accounts, host=self.host, port=self.port)
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
