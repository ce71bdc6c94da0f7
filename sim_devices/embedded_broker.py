"""The fleet's default MQTT broker: amqtt running in a thread of its own, so the twin works on a
machine without mosquitto. The same accounts as the mosquitto configuration: a password per
device (checked in memory, never written), publish and subscribe ACLs per user, no anonymous
clients. Sessions live in memory: a restart (the broker_outage fault) forgets them, and the
devices' QoS 1 messages queued meanwhile are sent when they reconnect.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import socket
import threading
import time
from dataclasses import dataclass, field

from amqtt.broker import Broker
from amqtt.plugins.base import BaseAuthPlugin

from .broker import Account, BrokerError

logging.getLogger("amqtt").setLevel(logging.CRITICAL)
logging.getLogger("transitions").setLevel(logging.CRITICAL)


class AccountsAuth(BaseAuthPlugin):
    """amqtt authentication against the fleet's accounts (plain passwords held in memory)."""

    @dataclass
    class Config:
        accounts: dict[str, str] = field(default_factory=dict)

    async def authenticate(self, *, session) -> bool:
        want = self.config.accounts.get(session.username or "")
        return bool(want) and hmac.compare_digest(str(session.password or ""), want)


class EmbeddedBroker:
    """start() and stop() from any thread; the broker runs on its own asyncio loop."""

    def __init__(self, accounts: list[Account], *, host: str = "127.0.0.1", port: int) -> None:
        self.host, self.port = host, port
        self.config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
            "plugins": {
                f"{__name__}.AccountsAuth": {"accounts": {a.username: a.password for a in accounts}},
                "amqtt.plugins.topic_checking.TopicAccessControlListPlugin": {
                    "publish_acl": {a.username: list(a.publish) for a in accounts},
                    "acl": {a.username: list(a.subscribe) for a in accounts},
                },
            },
        }
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Broker | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            # amqtt's own tasks can die at shutdown (a dict changing size): not the fleet's concern
            loop.set_exception_handler(lambda _loop, _context: None)
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                self._broker = Broker(self.config, loop=loop)
                loop.run_until_complete(self._broker.start())
            except BaseException as exc:  # reported to start()
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="mqtt-broker", daemon=True)
        self._thread.start()
        ready.wait(timeout_s)
        if errors:
            raise BrokerError(f"the embedded MQTT broker did not start: {errors[0]}")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise BrokerError(f"the embedded MQTT broker did not listen on {self.host}:{self.port}")

    def stop(self) -> None:
        if self._loop is None or self._broker is None:
            return
        loop, broker = self._loop, self._broker

        async def halt() -> None:
            # stop listening first: amqtt's shutdown can fail half-way under load and keep the port
            for server in list(getattr(broker, "_servers", {}).values()):
                inst = getattr(server, "instance", None)
                if inst is not None:
                    inst.close()
            try:
                await asyncio.wait_for(broker.shutdown(), 2.0)
            except Exception:  # noqa: BLE001 - a broker that fails to shut down cleanly is stopped anyway
                pass
            # and drop every client connection, so devices see the outage at once
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for server in list(getattr(broker, "_servers", {}).values()):
                inst = getattr(server, "instance", None)
                if inst is not None and hasattr(inst, "wait_closed"):
                    try:
                        await asyncio.wait_for(inst.wait_closed(), 2.0)
                    except Exception:  # noqa: BLE001
                        pass

        fut = asyncio.run_coroutine_threadsafe(halt(), loop)
        try:
            fut.result(timeout=15)
        except Exception:  # noqa: BLE001
            pass
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop = self._broker = self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
