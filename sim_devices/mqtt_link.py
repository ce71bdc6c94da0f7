"""A device's MQTT connection (paho-mqtt 2) driven by the fleet's asyncio loop: its own
credentials, QoS 1, a persistent session, a retained online/offline status with a last will,
and messages queued while the broker is away (sent on reconnection).

paho's own network thread uses select(), which cannot watch sockets numbered above 1023; a fleet
of a thousand devices has more. So the sockets are watched by asyncio (epoll), as in paho's
"external event loop" pattern, and every callback runs on the fleet's loop: no threads, no locks.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

TOPIC_ROOT = "uijeongbu"


def device_prefix(kind: str, device_id: str) -> str:
    """The topic prefix a device may publish under: ``uijeongbu/{kind}/{device_id}``."""
    return f"{TOPIC_ROOT}/{kind}/{device_id}"


class MqttLink:
    """Connects with :meth:`start` (on the running loop) and reconnects by itself."""

    def __init__(
        self,
        *,
        client_id: str,
        host: str,
        port: int,
        username: str,
        password: str,
        status_topic: str | None = None,
        subscriptions: tuple[str, ...] = (),
        subscribe_qos: int = 1,
        on_message: Callable[[str, bytes], None] | None = None,
    ) -> None:
        self.client_id = client_id
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,  # the broker keeps our subscriptions and QoS 1 messages across drops
            protocol=mqtt.MQTTv311,
        )
        self.client.username_pw_set(username, password)
        self.client.max_queued_messages_set(0)  # unlimited: nothing is dropped while the broker is away
        self.client.max_inflight_messages_set(100)
        self.status_topic = status_topic
        if status_topic:
            self.client.will_set(status_topic, "offline", qos=1, retain=True)
        self.subscriptions = subscriptions
        self.subscribe_qos = subscribe_qos
        self._on_message = on_message
        self.connected = asyncio.Event()
        self.refused: str | None = None
        self.host, self.port = host, port
        self.loop: asyncio.AbstractEventLoop | None = None
        self._misc: asyncio.Task | None = None
        self._retry: asyncio.Task | None = None
        self._stopping = False
        c = self.client
        c.on_connect = self._connected
        c.on_disconnect = self._disconnected
        c.on_message = self._message
        c.on_socket_open = self._socket_open
        c.on_socket_close = self._socket_close
        c.on_socket_register_write = self._register_write
        c.on_socket_unregister_write = self._unregister_write

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        """The loop :meth:`start` ran on: paho calls back, and a link is stopped, only after it."""
        assert self.loop is not None, f"MQTT link {self.client_id!r} used before start()"
        return self.loop

    # --- paho's external-loop callbacks -----------------------------------------------------------
    def _register_write(self, client, userdata, sock) -> None:
        self._running_loop().add_writer(sock, client.loop_write)

    def _unregister_write(self, client, userdata, sock) -> None:
        self._running_loop().remove_writer(sock)

    def _socket_open(self, client, userdata, sock) -> None:
        loop = self._running_loop()
        loop.add_reader(sock, client.loop_read)
        if self._misc is None or self._misc.done():
            self._misc = loop.create_task(self._misc_loop())

    def _socket_close(self, client, userdata, sock) -> None:
        loop = self._running_loop()
        loop.remove_reader(sock)
        loop.remove_writer(sock)

    async def _misc_loop(self) -> None:
        while not self._stopping:  # keepalive pings and retries of unacknowledged messages
            self.client.loop_misc()
            await asyncio.sleep(1.0)

    def _connected(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.refused = str(reason_code)
            return
        self.refused = None
        if self.status_topic:
            client.publish(self.status_topic, "online", qos=1, retain=True)
        for topic in self.subscriptions:
            client.subscribe(topic, qos=self.subscribe_qos)
        self.connected.set()

    def _disconnected(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if not self._stopping and (self._retry is None or self._retry.done()):
            self._retry = self._running_loop().create_task(self._reconnect())

    def _message(self, client, userdata, msg) -> None:
        # only what was subscribed to: a broker restarting can misroute a message (amqtt does)
        if self._on_message is not None and any(mqtt.topic_matches_sub(f, msg.topic) for f in self.subscriptions):
            self._on_message(msg.topic, msg.payload)

    async def _reconnect(self) -> None:
        delay = 0.2
        while not self._stopping and not self.connected.is_set():
            await asyncio.sleep(delay)
            try:
                self.client.reconnect()
                return
            except OSError:
                delay = min(delay * 2, 2.0)

    # --- the device's side -------------------------------------------------------------------------
    def start(self) -> None:
        """Connect (on the running asyncio loop); a broker that is not up yet is retried."""
        self.loop = loop = asyncio.get_running_loop()
        try:
            self.client.connect(self.host, self.port, keepalive=10)
        except OSError:
            self._retry = loop.create_task(self._reconnect())

    def publish(self, topic: str, payload: dict[str, Any] | str, retain: bool = False) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        # a lone surrogate echoed from a bad command (\ud800) goes out as its JSON escape, never an exception
        self.client.publish(topic, data.encode("utf-8", "backslashreplace"), qos=1, retain=retain)

    async def stop(self) -> None:
        """Say offline, let queued messages go out (up to 2 s), disconnect."""
        if self.status_topic and self.connected.is_set():
            self.client.publish(self.status_topic, "offline", qos=1, retain=True)
        loop = self._running_loop()
        deadline = loop.time() + 2.0
        while self.connected.is_set() and self.client._out_messages and loop.time() < deadline:  # noqa: SLF001
            await asyncio.sleep(0.02)
        self._stopping = True
        self.client.disconnect()
        for task in (self._misc, self._retry):
            if task is not None:
                task.cancel()
