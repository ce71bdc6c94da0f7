"""A device's MQTT connection (paho-mqtt 2): its own credentials, QoS 1, a persistent session,
a retained online/offline status with a last will, and messages queued while the broker is away.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

TOPIC_ROOT = "uijeongbu"


def device_prefix(kind: str, device_id: str) -> str:
    """The topic prefix a device may publish under: ``uijeongbu/{kind}/{device_id}``."""
    return f"{TOPIC_ROOT}/{kind}/{device_id}"


class MqttLink:
    """Connects in the background and reconnects by itself; :meth:`publish` never blocks."""

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
        on_message: Callable[[str, bytes], None] | None = None,
    ) -> None:
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,  # the broker keeps our subscriptions and QoS 1 messages across drops
            protocol=mqtt.MQTTv311,
        )
        self.client.username_pw_set(username, password)
        self.client.max_queued_messages_set(0)  # unlimited: nothing is dropped while the broker is away
        self.client.max_inflight_messages_set(100)
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=2)
        self.status_topic = status_topic
        if status_topic:
            self.client.will_set(status_topic, "offline", qos=1, retain=True)
        self.subscriptions = subscriptions
        self._on_message = on_message
        self.connected = threading.Event()
        self.refused: str | None = None
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_message = self._message
        self.host, self.port = host, port

    def _connected(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.refused = str(reason_code)
            return
        self.refused = None
        if self.status_topic:
            client.publish(self.status_topic, "online", qos=1, retain=True)
        for topic in self.subscriptions:
            client.subscribe(topic, qos=1)
        self.connected.set()

    def _disconnected(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()

    def _message(self, client, userdata, msg) -> None:
        if self._on_message is not None:
            self._on_message(msg.topic, msg.payload)

    def start(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=10)
        self.client.loop_start()

    def publish(self, topic: str, payload: dict[str, Any] | str, *, retain: bool = False) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        self.client.publish(topic, data, qos=1, retain=retain)

    def stop(self) -> None:
        if self.status_topic and self.connected.is_set():
            self.client.publish(self.status_topic, "offline", qos=1, retain=True).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()
