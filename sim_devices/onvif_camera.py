"""AI CCTV cameras with an ONVIF subset (SOAP 1.2 over HTTP), seeing the twin's pedestrians.

Device service ``/onvif/device_service``: GetSystemDateAndTime (the only call without
authentication, so clients can correct their clock), GetDeviceInformation, GetCapabilities,
GetServices. Media ``/onvif/media_service``: GetProfiles, GetStreamUri, GetSnapshotUri. Events
``/onvif/event_service``: CreatePullPointSubscription; then PullMessages, Renew and Unsubscribe on
the subscription's own address. Analytics: ``tns1:RuleEngine/FieldDetector/ObjectsInside`` with
``IsInside`` true while anyone stands in the camera's view (the rule is named after what it
watches). ``/snapshot.png`` is a top-down picture of the view (HTTP Digest or Basic auth).

Every SOAP call but GetSystemDateAndTime needs a WS-Security UsernameToken with PasswordDigest
= Base64(SHA-1(nonce + Created + password)), Created within 5 minutes of the camera's clock and a
nonce not seen before; otherwise the fault ``ter:NotAuthorized``. Unknown operations get
``ter:ActionNotSupported``, malformed XML ``ter:WellFormed``; the camera keeps serving.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as SafeET
import numpy as np
from defusedxml import DefusedXmlException

from twin.models.viewshed import Viewshed

from .broker import Account
from .camera_view import Scene
from .http_face import basic_ok, start_server, stop_server
from .telemetry import FleetContext

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "tns1": "http://www.onvif.org/ver10/topics",
    "ter": "http://www.onvif.org/ver10/error",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
XMLNS = " ".join(f'xmlns:{k}="{v}"' for k, v in NS.items())
TOPIC = "tns1:RuleEngine/FieldDetector/ObjectsInside"
MAX_BODY = 64 * 1024
CREATED_WINDOW_S = 300.0


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _envelope(body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope {XMLNS}><s:Body>{body}</s:Body></s:Envelope>'.encode()


def fault(subcode: str, reason: str, code: str = "s:Sender") -> bytes:
    return _envelope(
        f"<s:Fault><s:Code><s:Value>{code}</s:Value><s:Subcode><s:Value>{subcode}</s:Value></s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en">{reason}</s:Text></s:Reason></s:Fault>'
    )


def parse_duration_s(text: str | None, default: float) -> float:
    """An xs:duration like PT5S, PT1M or PT1H30M, in seconds (default when absent or odd)."""
    if not text or not text.startswith("PT"):
        return default
    total, num = 0.0, ""
    for ch in text[2:]:
        if ch.isdigit() or ch == ".":
            num += ch
        elif ch in "HMS" and num:
            total += float(num) * {"H": 3600, "M": 60, "S": 1}[ch]
            num = ""
        else:
            return default
    return total


class Camera:
    kind = "cctv"

    def __init__(self, row: dict[str, Any], ctx: FleetContext, *, port: int) -> None:
        self.device_id = str(row["device_id"])
        self.row = row
        self.ctx = ctx
        self.host, self.port = ctx.host, port
        self.interval_s = float(ctx.settings.camera_interval)
        self.next_s = 0.0
        self.view = Viewshed.of_camera(float(row["x"]), float(row["y"]), row)  # EPSG:5186
        self.scene: Scene | None = None  # built on the first snapshot
        watches = row.get("watches")
        self.rule = f"Zone-{watches}" if isinstance(watches, str) and watches else f"Zone-{self.device_id}"
        self.account = Account(self.device_id, "")  # the ONVIF user; no MQTT topics of its own
        self.lock = threading.Lock()
        self.people: list[tuple[float, float, bool]] = []
        self.events: list[tuple[datetime, bool, str]] = []  # (UTC time, is inside, operation)
        self.inside = False
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.nonces: dict[str, float] = {}
        self.requests = 0
        self.faults = 0
        self.new_event = threading.Condition(self.lock)
        self._server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- the fleet's loop: what the camera sees -------------------------------------------------------
    def due(self) -> float:
        return self.next_s

    def sample(self, t_s: float) -> None:
        self.next_s = t_s + self.interval_s
        stopped = self.ctx.faults.active(self.device_id, "dropout", t_s) is not None  # a camera that stops sending
        people = self.ctx.people_now(t_s)
        seen: list[tuple[float, float, bool]] = []
        if people:
            xs = np.array([p[1] for p in people])
            ys = np.array([p[2] for p in people])
            mask = self.view.contains(xs, ys)
            seen = [(p[1], p[2], p[3]) for p, m in zip(people, mask, strict=True) if m]
        inside = bool(seen)
        with self.lock:
            self.people = seen
            if inside != self.inside and not stopped:
                self.inside = inside
                self.events.append((datetime.now(UTC), inside, "Changed"))
                self.new_event.notify_all()
                self.ctx.sim.engine.log(
                    "cctv.objects_inside",
                    self.device_id,
                    f"{self.rule}: {'someone inside' if inside else 'clear'}",
                    inside=inside,
                    people=len(seen),
                )

    # --- HTTP --------------------------------------------------------------------------------
    def start(self) -> None:
        self._server = start_server(self._handler(), self.host, self.port, f"onvif-{self.device_id}")

    def stop(self) -> None:
        with self.lock:
            self.new_event.notify_all()  # long polls end now
        stop_server(self._server)

    def _handler(self):
        cam = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "UijeongbuONVIF/1"
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _send(self, code: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                cam.requests += 1
                if self.path.split("?")[0] != "/snapshot.png":
                    return self._send(404, b"not found", "text/plain")
                if not cam.http_authorised(self.headers.get("Authorization", ""), "GET", self.path):
                    realm_nonce = secrets.token_hex(16)
                    hdr = f'Digest realm="{cam.device_id}", nonce="{realm_nonce}", qop="auth", algorithm=MD5'
                    return self._send(401, b"authentication required", "text/plain", {"WWW-Authenticate": hdr})
                return self._send(200, cam.snapshot(), "image/png")

            def do_POST(self) -> None:  # noqa: N802
                cam.requests += 1
                try:
                    length = int(self.headers.get("Content-Length", "0"))
                except ValueError:
                    length = -1
                if length < 0 or length > MAX_BODY:
                    cam.faults += 1
                    return self._send(400, fault("ter:WellFormed", "bad Content-Length"), "application/soap+xml")
                body = self.rfile.read(length)
                code, reply = cam.soap(self.path.split("?")[0], body)
                return self._send(code, reply, "application/soap+xml; charset=utf-8")

        return Handler

    def http_authorised(self, header: str, method: str, uri: str) -> bool:
        """HTTP Basic or Digest (RFC 7616, MD5, qop=auth) with the camera's credentials."""
        user, pw = self.device_id, self.account.password
        if header.startswith("Basic "):
            return basic_ok(header, user, pw)
        if not header.startswith("Digest "):
            return False
        fields: dict[str, str] = {}
        for part in header[7:].split(","):
            k, _, v = part.strip().partition("=")
            fields[k] = v.strip('"')
        if fields.get("username") != user:
            return False
        ha1 = hashlib.md5(f"{user}:{fields.get('realm', '')}:{pw}".encode()).hexdigest()  # noqa: S324 - RFC 7616
        ha2 = hashlib.md5(f"{method}:{fields.get('uri', uri)}".encode()).hexdigest()  # noqa: S324
        if fields.get("qop"):
            expect = f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:{fields.get('qop')}:{ha2}"
        else:
            expect = f"{ha1}:{fields.get('nonce')}:{ha2}"
        return hmac.compare_digest(hashlib.md5(expect.encode()).hexdigest(), fields.get("response", ""))  # noqa: S324

    def snapshot(self) -> bytes:
        if self.scene is None:
            self.scene = Scene(self.ctx.sim.city, self.view)
        with self.lock:
            people = list(self.people)
        return self.scene.png(people, title=f"{self.device_id} {self.ctx.clock_iso(self.ctx.sim.now)[:19]}")

    # --- SOAP --------------------------------------------------------------------------------
    def _authorised(self, header) -> str | None:
        """None when the UsernameToken is good, else the reason."""
        if header is None:
            return "no WS-Security header"
        tok = header.find(f".//{{{NS['wsse']}}}UsernameToken")
        if tok is None:
            return "no UsernameToken"
        user = tok.findtext(f"{{{NS['wsse']}}}Username")
        pw_el = tok.find(f"{{{NS['wsse']}}}Password")
        nonce = tok.findtext(f"{{{NS['wsse']}}}Nonce")
        created = tok.findtext(f"{{{NS['wsu']}}}Created")
        if user != self.device_id or pw_el is None or not nonce or not created:
            return "unknown user or incomplete token"
        if not (pw_el.get("Type") or "").endswith("#PasswordDigest"):
            return "PasswordDigest required"
        try:
            raw_nonce = base64.b64decode(nonce)
            when = datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            return "bad nonce or Created"
        if abs((datetime.now(UTC) - when).total_seconds()) > CREATED_WINDOW_S:
            return "Created outside the time window"
        digest = base64.b64encode(hashlib.sha1(raw_nonce + created.encode() + self.account.password.encode()).digest())
        if not hmac.compare_digest(digest.decode(), (pw_el.text or "").strip()):
            return "wrong digest"
        now = time.monotonic()
        with self.lock:
            self.nonces = {k: v for k, v in self.nonces.items() if now - v < 2 * CREATED_WINDOW_S}
            if nonce in self.nonces:
                return "nonce replayed"
            self.nonces[nonce] = now
        return None

    def soap(self, path: str, body: bytes) -> tuple[int, bytes]:
        try:
            env = SafeET.fromstring(body, forbid_dtd=True)
        except (ParseError, DefusedXmlException) as exc:
            self.faults += 1
            return 400, fault("ter:WellFormed", f"not well-formed or unsafe XML: {type(exc).__name__}")
        b = env.find(f"{{{NS['s']}}}Body")
        if b is None or len(b) == 0:
            self.faults += 1
            return 400, fault("ter:WellFormed", "no SOAP 1.2 Body")
        req = b[0]
        op = req.tag.split("}")[-1]
        if op != "GetSystemDateAndTime":
            why = self._authorised(env.find(f"{{{NS['s']}}}Header"))
            if why:
                self.faults += 1
                return 400, fault("ter:NotAuthorized", f"Sender not Authorized: {why}")
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
            self.faults += 1
            return 400, fault("ter:ActionNotSupported", f"{op} is not supported at {path}", "s:Receiver")
        try:
            return 200, _envelope(handler(req, path))
        except (ValueError, KeyError) as exc:
            self.faults += 1
            return 400, fault("ter:InvalidArgVal", f"{op}: {exc}")

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
            f"<tds:SerialNumber>{self.device_id}</tds:SerialNumber><tds:HardwareId>twin-cctv</tds:HardwareId>"
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
            "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>"
            "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
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
            raise ValueError(f"no profile {token!r}: the camera has profile_main")

    def _op_GetStreamUri(self, req, path) -> str:  # noqa: N802
        self._check_profile(req)
        return self._uri("GetStreamUri", f"rtsp://{self.host}:8554/{self.device_id}/main")

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
        ttl = parse_duration_s(req.findtext(f"{{{NS['tev']}}}InitialTerminationTime"), 600.0)
        sub = uuid.uuid4().hex
        now = datetime.now(UTC)
        with self.lock:
            self.subscriptions = {k: v for k, v in self.subscriptions.items() if v["until"] > now}
            if len(self.subscriptions) >= 16:
                raise ValueError("too many subscriptions (16)")
            self.subscriptions[sub] = {"cursor": len(self.events), "until": now + timedelta(seconds=ttl), "fresh": True}
        return (
            "<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
            f"<wsa:Address>{self.base}/onvif/pullpoint/{sub}</wsa:Address></tev:SubscriptionReference>"
            f"<wsnt:CurrentTime>{_iso(now)}</wsnt:CurrentTime>"
            f"<wsnt:TerminationTime>{_iso(now + timedelta(seconds=ttl))}</wsnt:TerminationTime>"
            "</tev:CreatePullPointSubscriptionResponse>"
        )

    def _subscription(self, path: str) -> tuple[str, dict[str, Any]]:
        sub = path.rsplit("/", 1)[-1]
        s = self.subscriptions.get(sub)
        if s is None or s["until"] < datetime.now(UTC):
            raise KeyError(f"no subscription {sub}")
        return sub, s

    def _message(self, when: datetime, inside: bool, op: str) -> str:
        return (
            f'<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">'
            f"{TOPIC}</wsnt:Topic><wsnt:Message>"
            f'<tt:Message UtcTime="{when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]}Z" PropertyOperation="{op}">'
            '<tt:Source><tt:SimpleItem Name="VideoSourceConfigurationToken" Value="vsc_1"/>'
            '<tt:SimpleItem Name="VideoAnalyticsConfigurationToken" Value="vac_1"/>'
            f'<tt:SimpleItem Name="Rule" Value="{self.rule}"/></tt:Source>'
            f'<tt:Data><tt:SimpleItem Name="IsInside" Value="{"true" if inside else "false"}"/></tt:Data>'
            "</tt:Message></wsnt:Message></wsnt:NotificationMessage>"
        )

    def _op_PullMessages(self, req, path) -> str:  # noqa: N802
        timeout = min(parse_duration_s(req.findtext(f"{{{NS['tev']}}}Timeout"), 5.0), 30.0)
        try:
            limit = max(1, min(int(req.findtext(f"{{{NS['tev']}}}MessageLimit") or "10"), 100))
        except ValueError:
            raise ValueError("MessageLimit: expected an integer") from None
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
            f"<tev:PullMessagesResponse><tev:CurrentTime>{_iso(now)}</tev:CurrentTime>"
            f"<tev:TerminationTime>{_iso(until)}</tev:TerminationTime>{''.join(msgs)}</tev:PullMessagesResponse>"
        )

    def _op_Renew(self, req, path) -> str:  # noqa: N802
        ttl = parse_duration_s(req.findtext(f"{{{NS['wsnt']}}}TerminationTime"), 600.0)
        now = datetime.now(UTC)
        with self.lock:
            _, s = self._subscription(path)
            s["until"] = now + timedelta(seconds=ttl)
        return (
            f"<wsnt:RenewResponse><wsnt:TerminationTime>{_iso(s['until'])}</wsnt:TerminationTime>"
            f"<wsnt:CurrentTime>{_iso(now)}</wsnt:CurrentTime></wsnt:RenewResponse>"
        )

    def _op_Unsubscribe(self, req, path) -> str:  # noqa: N802
        with self.lock:
            sub, _ = self._subscription(path)
            del self.subscriptions[sub]
        return "<wsnt:UnsubscribeResponse/>"

    def manifest(self) -> dict[str, Any]:
        return {
            "id": self.device_id,
            "kind": self.kind,
            "name": self.row.get("name"),
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
            "credentials": f"credentials.json#{self.device_id}",
        }
