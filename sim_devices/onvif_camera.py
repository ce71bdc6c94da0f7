"""AI CCTV cameras with an ONVIF subset (SOAP 1.2 over HTTP), seeing the twin's pedestrians.

Device service ``/onvif/device_service``: GetSystemDateAndTime (the only call without
authentication, so clients can correct their clock), GetDeviceInformation, GetCapabilities,
GetServices. Media ``/onvif/media_service``: GetProfiles, GetStreamUri, GetSnapshotUri. Events
``/onvif/event_service``: CreatePullPointSubscription; then PullMessages, Renew and Unsubscribe on
the subscription's own address. Analytics: ``tns1:RuleEngine/FieldDetector/ObjectsInside`` with
``IsInside`` true while anyone stands in the camera's view (the rule is named after what it
watches); what the camera sees is :class:`twin.models.camera.CameraModel`'s, as in the in-process
gate controller. ``/snapshot.png`` is a top-down picture of the view (HTTP Digest or Basic auth).

Every SOAP call but GetSystemDateAndTime needs a WS-Security UsernameToken with PasswordDigest
= Base64(SHA-1(nonce + Created + password)), Created within 5 minutes of the camera's clock and a
nonce not seen before (compared as decoded bytes; a nonce that is not canonical base64 is
refused); otherwise the fault ``ter:NotAuthorized``. A ``Created`` without a zone is read as UTC,
as WS-Security requires all its times to be (SOAP Message Security 1.1, section 10). Unknown
operations get ``ter:ActionNotSupported``, malformed XML ``ter:WellFormed``; anything that goes
wrong inside gets a ``s:Receiver`` fault (HTTP 500); the camera keeps serving.

Bounds: a subscription lives at most ``MAX_SUBSCRIPTION_S`` (a longer InitialTerminationTime or
Renew is shortened to it, as WS-BaseNotification lets a producer do); a camera holds at most
``MAX_SUBSCRIPTIONS`` live ones (one more gets ``ter:MaxPullPointsReached``; expired ones are
freed). HTTP Digest nonces are the camera's own, with a nonce count that must grow
(:mod:`.web_auth`); SOAP envelopes and faults are built by :mod:`.soap`.

Why one module of this size: it is the camera's whole ONVIF face, one operation after another as
the ONVIF core and event specifications list them; what it sees is the model's.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeET
import numpy as np
from defusedxml import DefusedXmlException

from twin.models.camera import CameraModel
from twin.models.viewshed import Viewshed

from .camera_view import Scene
from .device import HttpDevice
from .http_face import MAX_CONNECTIONS, READ_TIMEOUT_S, GuardedHandler, HttpRefusal, start_server, stop_server
from .soap import NS, SoapFault, envelope, fault, iso_utc, parse_datetime, parse_duration_s, xml_text
from .telemetry import FleetContext
from .web_auth import DigestAuth, UsernameTokenAuth

TOPIC = "tns1:RuleEngine/FieldDetector/ObjectsInside"
MAX_BODY = 64 * 1024  # bytes of a SOAP request
DEFAULT_SUBSCRIPTION_S = 600.0  # seconds, when CreatePullPointSubscription gives no InitialTerminationTime
MAX_SUBSCRIPTION_S = 3600.0  # seconds a pull-point subscription lives at most (then Renew)
MAX_SUBSCRIPTIONS = 16  # live pull-point subscriptions per camera
MAX_PULL_WAIT_S = 30.0  # seconds a PullMessages long poll waits at most


def termination_s(text: str | None, element: str, now: datetime) -> float:
    """Seconds from ``now`` to a wsnt:AbsoluteOrRelativeTimeType (a duration or a dateTime),
    clamped to ``MAX_SUBSCRIPTION_S``; a fault when it is not one or is not in the future."""
    text = (text or "").strip()
    try:
        if not text or text.startswith("P"):
            ttl = parse_duration_s(text, DEFAULT_SUBSCRIPTION_S, at_most=MAX_SUBSCRIPTION_S)
        else:
            ttl = min((parse_datetime(text) - now).total_seconds(), MAX_SUBSCRIPTION_S)
    except ValueError as exc:
        raise SoapFault(400, "ter:InvalidArgVal", f"{element}: {exc} or a dateTime") from None
    if ttl <= 0:
        raise SoapFault(400, "ter:InvalidArgVal", f"{element}: expected a time in the future")
    return ttl


class Camera(HttpDevice):
    kind = "cctv"

    def __init__(self, row: dict[str, Any], ctx: FleetContext, *, port: int) -> None:
        super().__init__(row, ctx)  # its account is the ONVIF user; no MQTT topics of its own
        self.host, self.port = ctx.host, port
        self.interval_s = float(ctx.settings.camera_interval)
        self.next_s = 0.0
        self.model: CameraModel = ctx.camera_model(self.device_id, row, self.position)  # what it sees
        self.scene: Scene | None = None  # built on the first snapshot
        self.lock = threading.Lock()
        self.people: list[tuple[float, float, bool]] = []  # those in view at the last sample (x, y, evacuating)
        self.events: list[tuple[datetime, bool, str]] = []  # (UTC time, is inside, operation)
        self.subscriptions: dict[str, dict[str, Any]] = {}
        password = lambda: self.account.password  # noqa: E731 - the fleet sets it after construction
        self.digest = DigestAuth(self.device_id, self.device_id, password)  # the snapshot's HTTP auth
        self.wsse = UsernameTokenAuth(self.device_id, password)  # the SOAP calls' UsernameToken
        self.read_timeout_s = READ_TIMEOUT_S  # seconds without a byte before a connection is given up
        self.max_connections = MAX_CONNECTIONS  # connections served at once
        self.requests = 0
        self.faults = 0
        self.new_event = threading.Condition(self.lock)
        self._server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def view(self) -> Viewshed:
        """Its :class:`~twin.models.viewshed.Viewshed` (EPSG:5186)."""
        return self.model.view

    @property
    def rule(self) -> str:
        """The analytics rule its events are reported under (``Zone-{what it watches}``)."""
        return self.model.rule

    @property
    def inside(self) -> bool:
        """The state it reported last: someone inside its view."""
        return self.model.inside

    # --- the fleet's loop: what the camera sees -------------------------------------------------------
    def _sample(self, t_s: float) -> None:
        people = self.ctx.people_now(t_s)
        xs = np.array([p[1] for p in people], dtype=float)
        ys = np.array([p[2] for p in people], dtype=float)
        with self.lock:
            seen = self.model.look(t_s, xs, ys, np.array([p[0] for p in people], dtype=np.int64))
            self.people = [(p[1], p[2], p[3]) for p, m in zip(people, seen.seen, strict=True) if m]
            if seen.changed:
                self.events.append((datetime.now(UTC), seen.inside, "Changed"))
                self.new_event.notify_all()
                self.model.log(self.ctx.sim.engine, seen)

    # --- HTTP --------------------------------------------------------------------------------
    def start(self) -> None:
        self._server = start_server(
            self._handler(), self.host, self.port, f"onvif-{self.device_id}", max_connections=self.max_connections
        )
        self.port = self._server.server_address[1]  # the one bound (port 0: any free one)

    def stop(self) -> None:
        with self.lock:
            self.new_event.notify_all()  # long polls end now
        stop_server(self._server)

    def _handler(self):
        cam = self

        class Handler(GuardedHandler):
            server_version = "UijeongbuONVIF/1"
            protocol_version = "HTTP/1.1"
            device_id = cam.device_id
            input_log = cam.ctx.input_log
            timeout = cam.read_timeout_s
            max_body = MAX_BODY

            def error_body(self, code: int, reason: str) -> tuple[bytes, str, dict[str, str]]:
                cam.faults += 1
                if self.command == "GET":
                    return (reason + "\n").encode(), "text/plain; charset=utf-8", {}
                sub = {413: "ter:InvalidArgVal", 500: "ter:Action"}.get(code, "ter:WellFormed")
                side = "s:Receiver" if code >= 500 else "s:Sender"
                return fault(sub, reason, side), "application/soap+xml; charset=utf-8", {}

            def handle_get(self) -> None:
                cam.requests += 1
                if self.path.split("?")[0] != "/snapshot.png":
                    raise HttpRefusal(404, "not found: GET /snapshot.png")
                why = cam.digest.check(self.headers.get("Authorization", ""), "GET", self.path)
                if why is not None:
                    self.refuse(f"401: snapshot: {why}")
                    cam.faults += 1
                    challenge = cam.digest.challenge(stale=why == "stale nonce")
                    return self.answer(401, b"authentication required", "text/plain", {"WWW-Authenticate": challenge})
                return self.answer(200, cam.snapshot(), "image/png")

            def handle_post(self) -> None:
                cam.requests += 1
                body = self.read_body()
                code, reply = cam.soap(self.path.split("?")[0], body)
                return self.answer(code, reply, "application/soap+xml; charset=utf-8")

        return Handler

    def snapshot(self) -> bytes:
        if self.scene is None:
            self.scene = Scene(self.ctx.sim.city, self.view)
        with self.lock:
            people = list(self.people)
        return self.scene.png(people, title=f"{self.device_id} {self.ctx.clock_iso(self.ctx.sim.now)[:19]}")

    # --- SOAP --------------------------------------------------------------------------------
    def soap(self, path: str, body: bytes) -> tuple[int, bytes]:
        """(HTTP status, SOAP envelope) for a request ``body`` posted to ``path``; never raises."""
        try:
            return 200, envelope(self._soap(path, body))
        except SoapFault as exc:
            self.faults += 1
            self.ctx.input_log.refuse(self.device_id, f"SOAP fault {exc.subcodes[-1]}: {exc.reason}")
            return exc.status, exc.body()
        except Exception as exc:  # noqa: BLE001 - the point: every request gets an answer
            self.faults += 1
            self.ctx.input_log.refuse(self.device_id, f"{type(exc).__name__} while handling a SOAP request")
            return 500, fault("ter:Action", f"internal error ({type(exc).__name__})", "s:Receiver")

    def _soap(self, path: str, body: bytes) -> str:
        try:
            env = SafeET.fromstring(body, forbid_dtd=True)
        except (ParseError, DefusedXmlException, ValueError, LookupError) as exc:
            raise SoapFault(400, "ter:WellFormed", f"not well-formed or unsafe XML: {type(exc).__name__}") from None
        b = env.find(f"{{{NS['s']}}}Body")
        if env.tag != f"{{{NS['s']}}}Envelope" or b is None or len(b) == 0:
            raise SoapFault(400, "ter:WellFormed", "no SOAP 1.2 Envelope with a Body")
        req = b[0]
        op = req.tag.split("}")[-1]
        if op != "GetSystemDateAndTime":
            why = self.wsse.check(env.find(f"{{{NS['s']}}}Header"))
            if why:
                raise SoapFault(400, "ter:NotAuthorized", f"Sender not Authorized: {why}")
        handler = getattr(self, f"_op_{op}", None)
        allowed = {
            "/onvif/device_service": {"GetSystemDateAndTime", "GetDeviceInformation", "GetCapabilities", "GetServices"},
            "/onvif/media_service": {"GetProfiles", "GetStreamUri", "GetSnapshotUri"},
            "/onvif/event_service": {"CreatePullPointSubscription", "GetEventProperties"},
        }
        ok = op in allowed.get(path, set()) or (
            path.startswith("/onvif/pullpoint/") and op in {"PullMessages", "Renew", "Unsubscribe"}
        )
        if handler is None or not ok:
            raise SoapFault(400, "ter:ActionNotSupported", f"{op} is not supported at {path}", "s:Receiver")
        try:
            return handler(req, path)
        except (ValueError, KeyError) as exc:
            raise SoapFault(400, "ter:InvalidArgVal", f"{op}: {exc}") from None

    # --- device ------------------------------------------------------------------------------
    def _op_GetSystemDateAndTime(self, req, path) -> str:  # noqa: N802
        n = datetime.now(UTC)
        return (
            "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType>"
            "<tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>KST-9</tt:TZ></tt:TimeZone>"
            f"<tt:UTCDateTime><tt:Time><tt:Hour>{n.hour}</tt:Hour><tt:Minute>{n.minute}</tt:Minute>"
            f"<tt:Second>{n.second}</tt:Second></tt:Time><tt:Date><tt:Year>{n.year}</tt:Year>"
            f"<tt:Month>{n.month}</tt:Month><tt:Day>{n.day}</tt:Day></tt:Date></tt:UTCDateTime>"
            "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
        )

    def _op_GetDeviceInformation(self, req, path) -> str:  # noqa: N802
        return (
            "<tds:GetDeviceInformationResponse><tds:Manufacturer>Uijeongbu digital twin</tds:Manufacturer>"
            "<tds:Model>Simulated AI CCTV</tds:Model><tds:FirmwareVersion>0.1</tds:FirmwareVersion>"
            f"<tds:SerialNumber>{xml_text(self.device_id)}</tds:SerialNumber><tds:HardwareId>twin-cctv</tds:HardwareId>"
            "</tds:GetDeviceInformationResponse>"
        )

    def _op_GetServices(self, req, path) -> str:  # noqa: N802
        svc = [
            (NS["tds"], "/onvif/device_service"),
            (NS["trt"], "/onvif/media_service"),
            (NS["tev"], "/onvif/event_service"),
        ]
        items = "".join(
            f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{self.base}{p}</tds:XAddr>"
            "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>"
            for ns, p in svc
        )
        return f"<tds:GetServicesResponse>{items}</tds:GetServicesResponse>"

    def _op_GetCapabilities(self, req, path) -> str:  # noqa: N802
        return (
            "<tds:GetCapabilitiesResponse><tds:Capabilities>"
            f"<tt:Device><tt:XAddr>{self.base}/onvif/device_service</tt:XAddr></tt:Device>"
            f"<tt:Events><tt:XAddr>{self.base}/onvif/event_service</tt:XAddr>"
            "<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>"
            "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
            "<tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport>"
            "</tt:Events>"
            f"<tt:Media><tt:XAddr>{self.base}/onvif/media_service</tt:XAddr><tt:StreamingCapabilities>"
            "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>false</tt:RTP_TCP>"  # no RTP/RTSP is served
            "<tt:RTP_RTSP_TCP>false</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
            "</tds:Capabilities></tds:GetCapabilitiesResponse>"
        )

    # --- media -------------------------------------------------------------------------------
    def _op_GetProfiles(self, req, path) -> str:  # noqa: N802
        return (
            '<trt:GetProfilesResponse><trt:Profiles token="profile_main" fixed="true"><tt:Name>main</tt:Name>'
            '<tt:VideoSourceConfiguration token="vsc_1"><tt:Name>view</tt:Name><tt:UseCount>1</tt:UseCount>'
            '<tt:SourceToken>vs_1</tt:SourceToken><tt:Bounds x="0" y="0" width="384" height="384"/>'
            "</tt:VideoSourceConfiguration></trt:Profiles></trt:GetProfilesResponse>"
        )

    def _uri(self, tag: str, uri: str) -> str:
        return (
            f"<trt:{tag}Response><trt:MediaUri><tt:Uri>{uri}</tt:Uri>"
            "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
            f"<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:{tag}Response>"
        )

    def _check_profile(self, req) -> None:
        token = req.findtext(f"{{{NS['trt']}}}ProfileToken")
        if token != "profile_main":
            raise ValueError("ProfileToken: expected profile_main")

    def _op_GetStreamUri(self, req, path) -> str:  # noqa: N802
        """No video stream is served (no RTSP server runs), so no stream URI is given out: the
        ONVIF fault for a stream setup the device does not support. Snapshots are served."""
        self._check_profile(req)
        raise SoapFault(
            400,
            ("ter:InvalidArgVal", "ter:InvalidStreamSetup"),
            "no video stream is served (no RTSP server runs): use GetSnapshotUri",
        )

    def _op_GetSnapshotUri(self, req, path) -> str:  # noqa: N802
        self._check_profile(req)
        return self._uri("GetSnapshotUri", f"{self.base}/snapshot.png")

    # --- events ------------------------------------------------------------------------------
    def _op_GetEventProperties(self, req, path) -> str:  # noqa: N802
        return (
            "<tev:GetEventPropertiesResponse><tev:TopicNamespaceLocation>"
            "http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>"
            "<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet><wstop:TopicSet "
            'xmlns:wstop="http://docs.oasis-open.org/wsn/t-1"><tns1:RuleEngine><FieldDetector><ObjectsInside '
            'wstop:topic="true"/></FieldDetector></tns1:RuleEngine></wstop:TopicSet>'
            "<wsnt:TopicExpressionDialect>http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
            "</wsnt:TopicExpressionDialect><tev:MessageContentFilterDialect>"
            "http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>"
            "<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd"
            "</tev:MessageContentSchemaLocation></tev:GetEventPropertiesResponse>"
        )

    def _op_CreatePullPointSubscription(self, req, path) -> str:  # noqa: N802
        now = datetime.now(UTC)
        ttl = termination_s(req.findtext(f"{{{NS['tev']}}}InitialTerminationTime"), "InitialTerminationTime", now)
        sub = uuid.uuid4().hex
        until = now + timedelta(seconds=ttl)
        with self.lock:
            self.subscriptions = {k: v for k, v in self.subscriptions.items() if v["until"] > now}
            if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
                raise SoapFault(
                    500,
                    ("ter:Action", "ter:MaxPullPointsReached"),
                    f"{MAX_SUBSCRIPTIONS} pull-point subscriptions are live: unsubscribe one or let it expire",
                    "s:Receiver",
                )
            self.subscriptions[sub] = {"cursor": len(self.events), "until": until, "fresh": True}
        return (
            "<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
            f"<wsa:Address>{self.base}/onvif/pullpoint/{sub}</wsa:Address></tev:SubscriptionReference>"
            f"<wsnt:CurrentTime>{iso_utc(now)}</wsnt:CurrentTime>"
            f"<wsnt:TerminationTime>{iso_utc(until)}</wsnt:TerminationTime>"
            "</tev:CreatePullPointSubscriptionResponse>"
        )

    def _subscription(self, path: str) -> tuple[str, dict[str, Any]]:
        sub = path.rsplit("/", 1)[-1]
        s = self.subscriptions.get(sub)
        if s is None or s["until"] < datetime.now(UTC):
            raise KeyError("no such subscription (expired or unsubscribed)")
        return sub, s

    def _message(self, when: datetime, inside: bool, op: str) -> str:
        return (
            f'<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">'
            f"{TOPIC}</wsnt:Topic><wsnt:Message>"
            f'<tt:Message UtcTime="{when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]}Z" PropertyOperation="{op}">'
            '<tt:Source><tt:SimpleItem Name="VideoSourceConfigurationToken" Value="vsc_1"/>'
            '<tt:SimpleItem Name="VideoAnalyticsConfigurationToken" Value="vac_1"/>'
            f'<tt:SimpleItem Name="Rule" Value="{xml_text(self.rule)}"/></tt:Source>'
            f'<tt:Data><tt:SimpleItem Name="IsInside" Value="{"true" if inside else "false"}"/></tt:Data>'
            "</tt:Message></wsnt:Message></wsnt:NotificationMessage>"
        )

    def _op_PullMessages(self, req, path) -> str:  # noqa: N802
        try:
            timeout = parse_duration_s(req.findtext(f"{{{NS['tev']}}}Timeout"), 5.0, at_most=MAX_PULL_WAIT_S)
        except ValueError as exc:
            raise ValueError(f"Timeout: {exc}") from None
        limit_text = (req.findtext(f"{{{NS['tev']}}}MessageLimit") or "10").strip()
        if not re.fullmatch(r"[+-]?\d{1,9}", limit_text):
            raise ValueError("MessageLimit: expected an integer")
        limit = max(1, min(int(limit_text), 100))
        deadline = time.monotonic() + timeout
        with self.lock:
            _, s = self._subscription(path)
            while not s["fresh"] and s["cursor"] >= len(self.events) and time.monotonic() < deadline:
                self.new_event.wait(timeout=max(deadline - time.monotonic(), 0.0))
            msgs = []
            if s["fresh"]:  # a new subscription first learns the current state
                msgs.append(self._message(datetime.now(UTC), self.inside, "Initialized"))
                s["fresh"] = False
            new = self.events[s["cursor"] : s["cursor"] + limit - len(msgs)]
            s["cursor"] += len(new)
            msgs += [self._message(w, i, op) for w, i, op in new]
            until = s["until"]
        now = datetime.now(UTC)
        return (
            f"<tev:PullMessagesResponse><tev:CurrentTime>{iso_utc(now)}</tev:CurrentTime>"
            f"<tev:TerminationTime>{iso_utc(until)}</tev:TerminationTime>{''.join(msgs)}</tev:PullMessagesResponse>"
        )

    def _op_Renew(self, req, path) -> str:  # noqa: N802
        now = datetime.now(UTC)
        ttl = termination_s(req.findtext(f"{{{NS['wsnt']}}}TerminationTime"), "TerminationTime", now)
        with self.lock:
            _, s = self._subscription(path)
            s["until"] = until = now + timedelta(seconds=ttl)
        return (
            f"<wsnt:RenewResponse><wsnt:TerminationTime>{iso_utc(until)}</wsnt:TerminationTime>"
            f"<wsnt:CurrentTime>{iso_utc(now)}</wsnt:CurrentTime></wsnt:RenewResponse>"
        )

    def _op_Unsubscribe(self, req, path) -> str:  # noqa: N802
        with self.lock:
            sub, _ = self._subscription(path)
            del self.subscriptions[sub]
        return "<wsnt:UnsubscribeResponse/>"

    def _faces(self) -> dict[str, Any]:
        return {
            "watches": self.row.get("watches") if isinstance(self.row.get("watches"), str) else None,
            "onvif": {
                "host": self.host,
                "port": self.port,
                "device_service": f"{self.base}/onvif/device_service",
                "username": self.device_id,
                "auth": "WS-UsernameToken PasswordDigest (SOAP); HTTP Digest or Basic (snapshot)",
                "analytics_topic": TOPIC,
                "rule": self.rule,
            },
            "view": {"heading_deg": self.view.heading, "fov_deg": self.view.fov, "range_m": self.view.range},
        }
