"""The fleet's fallback MQTT broker where mosquitto is not installed: amqtt running in a thread of
its own. The same accounts and guarantees as the mosquitto configuration: a password per device
(checked in memory, never written), no anonymous clients, a device's client id is its own (no
other account may take it, the operator included), a last will must obey the publish ACL (else
the CONNECT is refused, "not authorized"), and every delivery, retained messages included, obeys
the read ACL. Sessions live in memory: a restart (the broker_outage fault) forgets them, and the
devices' QoS 1 messages queued meanwhile are sent when they reconnect.

amqtt 0.12 looks a client's session up (and a clean session deletes the old one, a persistent one
takes its will and credentials over) before its plugins authenticate it, and on every connection
sends the retained messages of every subscription any client holds. :class:`FleetBroker`
overrides those two steps of amqtt's Broker (a subclass; nothing in amqtt is patched).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.errors import AMQTTError, MQTTError, NoDataError
from amqtt.mqtt.connack import NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.utils import gen_client_id

from .broker import MAX_PACKET_BYTES, Account, BrokerError
from .guard import InputLog

logging.getLogger("amqtt").setLevel(logging.CRITICAL)
logging.getLogger("transitions").setLevel(logging.CRITICAL)

LIMITS = "embedded amqtt broker: sessions and retained messages are lost when it restarts (no persistence)"


def filter_within(requested: str, allowed: str) -> bool:
    """Whether every topic the filter ``requested`` matches is matched by the filter ``allowed``."""
    req, allow = requested.split("/"), allowed.split("/")
    for i, level in enumerate(allow):
        if level == "#":
            return True
        if i >= len(req) or req[i] == "#" or (level != "+" and level != req[i]):
            return False
    return len(req) == len(allow)


class AccessRules:
    """Who may connect (password, client id, last will) and publish, subscribe or receive what.
    ``accounts``: username -> {"password", "publish", "subscribe", "client_id"}."""

    def __init__(self, accounts: dict[str, dict[str, Any]]) -> None:
        self.accounts = accounts
        self.pinned = {a["client_id"]: name for name, a in accounts.items() if a.get("client_id")}

    @classmethod
    def of(cls, accounts: list[Account]) -> dict[str, dict[str, Any]]:
        return {
            a.username: {
                "password": a.password,
                "publish": list(a.publish),
                "subscribe": list(a.subscribe),
                "client_id": a.client_id,
            }
            for a in accounts
        }

    def refusal(self, username: str | None, password: Any, client_id: str | None, will_topic: str | None) -> str | None:
        """Why a CONNECT is refused (no secret or payload in it), or None."""
        account = self.accounts.get(username or "")
        if account is None or not account["password"]:
            return "unknown user" if username else "anonymous"
        given = password.decode("utf-8", "replace") if isinstance(password, bytes | bytearray) else str(password or "")
        if not hmac.compare_digest(given.encode("utf-8"), account["password"].encode("utf-8")):
            return f"wrong password for {username}"
        own = account.get("client_id")
        if own is not None and client_id != own:
            return f"{username} may connect only as client id {own}"
        if own is None and self.pinned.get(client_id or "", username) != username:
            return f"{username} may not use the client id of {self.pinned[client_id]}"
        if will_topic is not None and not self.may(username, will_topic, Action.PUBLISH):
            return f"{username} may not set a last will outside its publish ACL"
        return None

    def may(self, username: str | None, topic: str | None, action: Action | None) -> bool:
        account = self.accounts.get(username or "")
        if account is None or not topic:
            return False
        if action == Action.PUBLISH:
            return any(mqtt.topic_matches_sub(f, topic) for f in account["publish"])
        if action == Action.SUBSCRIBE:
            return any(filter_within(topic, f) for f in account["subscribe"])
        if action == Action.RECEIVE:
            return any(mqtt.topic_matches_sub(f, topic) for f in account["subscribe"])
        return False


@dataclass
class _AccountsConfig:
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)


class AccountsAuth(BaseAuthPlugin):
    """amqtt authentication against the fleet's accounts (plain passwords held in memory), their
    client ids and the topics of their last wills."""

    Config = _AccountsConfig

    def __init__(self, context) -> None:
        super().__init__(context)
        self.rules = AccessRules(self.config.accounts)

    async def authenticate(self, *, session) -> bool:
        will = session.will_topic if session.will_flag else None
        return self.rules.refusal(session.username, session.password, session.client_id, will) is None


class AccountsACL(BaseTopicPlugin):
    """amqtt topic checks: publish, subscribe and receive (every delivery) per account."""

    Config = _AccountsConfig

    def __init__(self, context) -> None:
        super().__init__(context)
        self.rules = AccessRules(self.config.accounts)

    async def topic_filtering(self, *, session=None, topic=None, action=None) -> bool:
        return self.rules.may(session.username if session else None, topic, action)


class FleetBroker(Broker):
    """amqtt's Broker, admitting a client before its session is looked up, sending a client only
    the retained messages of its own subscriptions that it may read, and disconnecting a client
    that publishes more than ``MAX_PACKET_BYTES`` (as mosquitto's ``max_packet_size`` does)."""

    def __init__(self, config: dict[str, Any], rules: AccessRules, log: InputLog, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.rules, self.input_log = rules, log

    async def _handle_message_delivery(self, client_session, handler, wait_deliver) -> bool:
        message = wait_deliver.result()
        if message is not None and len(message.data or b"") > MAX_PACKET_BYTES:
            self.input_log.refuse(
                "mqtt-broker",
                f"{client_session.client_id} published {len(message.data)} bytes (more than {MAX_PACKET_BYTES}): "
                "disconnected",
            )
            # as an abnormal disconnection (its will is sent, as mosquitto does); amqtt itself would
            # only leave its message loop and keep the connection open
            ended = asyncio.get_running_loop().create_future()
            ended.set_result(None)
            await self._handle_disconnect(client_session, handler, ended)
            return False
        return await super()._handle_message_delivery(client_session, handler, wait_deliver)

    async def _initialize_client_session(self, reader, writer, remote_address, remote_port):
        try:
            handler, session = await BrokerProtocolHandler.init_from_connect(reader, writer, self.plugins_manager)
        except (AMQTTError, NoDataError) as exc:
            raise AMQTTError(exc) from exc
        except MQTTError:
            await writer.close()
            raise
        will = session.will_topic if session.will_flag else None
        why = self.rules.refusal(session.username, session.password, session.client_id, will)
        if why is not None:
            self.input_log.refuse("mqtt-broker", f"CONNECT from {remote_address}:{remote_port} refused: {why}")
            await ConnackPacket.build(0, NOT_AUTHORIZED).to_stream(writer)
            await writer.close()
            raise MQTTError(why)
        # from here on as amqtt's own (0.12.1): the client is who it says and may use this client id
        if session.clean_session:
            if session.client_id:
                await self._delete_session(session.client_id)
            else:
                session.client_id = gen_client_id()
            session.parent = 0
        elif session.client_id in self._sessions:
            existing, _ = self._sessions[session.client_id]
            for attr in ("will_flag", "will_message", "will_topic", "will_qos", "keep_alive", "username", "password"):
                setattr(existing, attr, getattr(session, attr))
            session = existing
            session.parent = 1
        else:
            session.parent = 0
        delay = self.config.get("timeout-disconnect-delay", 0)
        if session.keep_alive > 0 and isinstance(delay, int):
            session.keep_alive += delay
        return handler, session

    async def _publish_retained_messages_for_subscription(self, subscription, session) -> None:
        topic_filter, qos = subscription
        # amqtt calls this on every connection for every filter anyone subscribed to: only the client's own
        if not any(s.client_id == session.client_id for s, _ in self._subscriptions.get(topic_filter, [])):
            return
        handler = self._get_handler(session)
        if handler is None:
            return
        tasks = []
        for topic, retained in list(self._retained_messages.items()):
            if self._matches(topic, topic_filter) and self.rules.may(session.username, topic, Action.RECEIVE):
                q = min(qos, retained.qos or qos)
                tasks.append(asyncio.ensure_future(handler.mqtt_publish(retained.topic, retained.data, q, retain=True)))
        if tasks:
            await asyncio.wait(tasks)


class EmbeddedBroker:
    """start() and stop() from any thread; the broker runs on its own asyncio loop. ``limits``:
    what it cannot guarantee, in one line; refused connections are counted in ``input_log``."""

    def __init__(
        self, accounts: list[Account], *, host: str = "127.0.0.1", port: int, input_log: InputLog | None = None
    ) -> None:
        self.host, self.port = host, port
        self.limits = LIMITS
        self.input_log = input_log or InputLog()
        table = AccessRules.of(accounts)
        self.rules = AccessRules(table)
        self.config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
            "plugins": {
                f"{__name__}.AccountsAuth": {"accounts": table},
                f"{__name__}.AccountsACL": {"accounts": table},
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
                self._broker = FleetBroker(self.config, self.rules, self.input_log, loop=loop)
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
