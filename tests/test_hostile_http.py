"""A controller under test sends garbage to the HTTP faces: the ONVIF cameras and the CAP
signboards. Each defect found by an adversarial tester is one test here (issue 13). The devices
run alone, on a free loopback port, with a stand-in for the fleet (no broker, no city)."""

from __future__ import annotations

import base64
import hashlib
import http.client
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from xml.etree import ElementTree as ET

import pytest
from cap_samples import LAUGHS, XXE, korean_alert

from sim_devices.guard import InputLog

KST = timezone(timedelta(hours=9))
SOAP = "http://www.w3.org/2003/05/soap-envelope"
CAM_PW, BOARD_PW = "cam-secret-1", "board-secret-1"


# --- a camera and a board without a fleet ---------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def context():
    from sim_devices.telemetry import FleetContext
    from twin.engine.core import Engine

    engine = Engine(start=datetime(2026, 7, 15, 18, 0, tzinfo=KST), duration_s=7200.0)
    sim = SimpleNamespace(engine=engine, crowd=None, city=None, now=0.0, scenario=SimpleNamespace(controller=None))
    return FleetContext(
        sim=sim,
        faults=SimpleNamespace(active=lambda *a: None),
        settings=SimpleNamespace(camera_interval=5.0),
        seed=0,
        host="127.0.0.1",
        broker_host="127.0.0.1",
        broker_port=1,
        input_log=InputLog(burst=10_000),
    )


class _Scene:
    def png(self, people, *, title):
        return b"\x89PNG\r\n\x1a\n" + b"0" * 100


def start_camera(**attrs):
    from sim_devices.onvif_camera import Camera

    cam = Camera({"device_id": "CAM-T01", "x": 0.0, "y": 0.0}, context(), port=free_port())
    cam.account.password = CAM_PW
    cam.scene = _Scene()
    for k, v in attrs.items():
        setattr(cam, k, v)
    cam.start()
    return cam


def start_board(**attrs):
    from sim_devices.signboard import Signboard

    board = Signboard({"device_id": "SB-T01", "lines": 2, "chars_per_line": 12}, context(), port=free_port())
    board.account.password = BOARD_PW
    for k, v in attrs.items():
        setattr(board, k, v)
    board.start()
    return board


@pytest.fixture
def cam():
    c = start_camera()
    yield c
    c.stop()


@pytest.fixture
def board():
    b = start_board()
    yield b
    b.stop()


# --- clients ------------------------------------------------------------------------------------
def request(port, method, path, body=None, headers=None, timeout=5.0):
    """(status, headers, body) over a fresh connection; raises if the server never answers."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.headers, r.read()
    finally:
        c.close()


def raw(port, data: bytes, timeout=5.0) -> bytes:
    """Send ``data`` as is and read the whole answer (the server closes, or the timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
                if b"\r\n\r\n" in out and _complete(out):
                    break
        except TimeoutError:
            pass
        return out


def _complete(out: bytes) -> bool:
    head, _, body = out.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def token(password=CAM_PW, *, user="CAM-T01", created: str | None = None, nonce: bytes | None = None, nonce_text=None):
    nonce = nonce if nonce is not None else secrets.token_bytes(16)
    created = created if created is not None else datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()
    nonce_text = nonce_text if nonce_text is not None else base64.b64encode(nonce).decode()
    return (
        '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" '
        'xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">'
        f"<wsse:UsernameToken><wsse:Username>{user}</wsse:Username>"
        '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0'
        f'#PasswordDigest">{digest}</wsse:Password>'
        f"<wsse:Nonce>{nonce_text}</wsse:Nonce><wsu:Created>{created}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security>"
    )


def envelope(body: str, header: str = "") -> bytes:
    return (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tev="http://www.onvif.org/ver10/events/wsdl" '
        'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2">'
        f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def soap(port, body: str, header: str | None = None, path="/onvif/device_service"):
    header = token() if header is None else header
    status, _, data = request(port, "POST", path, envelope(body, header), {"Content-Type": "application/soap+xml"})
    return status, data.decode("utf-8")


def fault_codes(text: str) -> list[str]:
    """The Value of the fault's Code and each nested Subcode, outermost first; [] if not a fault."""
    root = ET.fromstring(text)
    code = root.find(f".//{{{SOAP}}}Fault/{{{SOAP}}}Code")
    out = []
    while code is not None:
        out.append(code.findtext(f"{{{SOAP}}}Value"))
        code = code.find(f"{{{SOAP}}}Subcode")
    return out


def post_cap(port, data: bytes, *, password=BOARD_PW, ctype="application/cap+xml"):
    auth = base64.b64encode(f"SB-T01:{password}".encode()).decode()
    headers = {"Content-Type": ctype, "Authorization": f"Basic {auth}"}
    return request(port, "POST", "/cap", data, headers)


def board_get(port, path="/display"):
    auth = base64.b64encode(f"SB-T01:{BOARD_PW}".encode()).decode()
    return request(port, "GET", path, headers={"Authorization": f"Basic {auth}"})


# --- defect 1: a CAP date-time without a UTC offset -----------------------------------------------
@pytest.mark.parametrize("element", ["expires", "effective", "onset"])
def test_a_cap_datetime_without_offset_is_refused_at_the_door_and_the_board_keeps_stepping(board, element):
    doc = korean_alert("KR-NAIVE")
    if element == "expires":
        doc = doc.replace(b"2026-07-15T20:00:00+09:00", b"2026-07-15T20:00:00")
    else:
        doc = doc.replace(b"<senderName>", f"<{element}>2026-07-15T19:00:00</{element}><senderName>".encode(), 1)
    status, _, body = post_cap(board.port, doc)
    assert status == 400, body
    assert f"alert/info[1]/{element}" in body.decode() and "offset" in body.decode()
    board.step(1.0)  # nothing was queued; and nothing raises into the fleet's loop
    assert board.display["identifier"] is None
    assert board.ctx.input_log.refused.get("SB-T01", 0) >= 1


def test_a_valid_alert_still_shows_and_expires_on_the_simulated_clock(board):
    status, _, _ = post_cap(board.port, korean_alert("KR-OK", expires="2026-07-15T18:30:00+09:00"))
    assert status == 200
    board.step(10.0)
    assert board.display["identifier"] == "KR-OK" and board.expires_s == pytest.approx(1800.0)
    board.step(1800.0)
    assert board.display["identifier"] is None and board.display["change"] == "expired"


def test_an_alert_the_board_cannot_show_never_raises_into_the_fleet_loop(board):
    from sim_devices.cap import parse_cap

    alert = parse_cap(korean_alert("KR-X"))
    alert.infos[0].expires_at = datetime(2026, 7, 15, 20, 0)  # naive: what the defect produced
    board.inbox.put(alert)
    board.step(1.0)  # logged, not raised
    assert board.ctx.input_log.refused.get("SB-T01", 0) == 1


# --- defect 2: a captured UsernameToken with its nonce re-encoded -----------------------------------
def test_a_reencoded_nonce_is_still_a_replay(cam):
    nonce = secrets.token_bytes(16)
    text = base64.b64encode(nonce).decode()
    assert soap(cam.port, "<tds:GetDeviceInformation/>", token(nonce=nonce))[0] == 200
    variants = [text + "\n", text[:8] + " " + text[8:], text + "==", "\n " + text, text[:10] + "\r\n" + text[10:]]
    for v in variants:
        status, reply = soap(cam.port, "<tds:GetDeviceInformation/>", token(nonce=nonce, nonce_text=v))
        assert status == 400 and "ter:NotAuthorized" in fault_codes(reply), repr(v)


def test_an_undecodable_nonce_is_refused(cam):
    for bad in ["%%%%", "QUJ", "QUI==", ""]:
        status, reply = soap(cam.port, "<tds:GetDeviceInformation/>", token(nonce=b"AB", nonce_text=bad))
        assert status == 400 and "ter:NotAuthorized" in fault_codes(reply), bad


# --- defect 3: a Created without a time zone ---------------------------------------------------------
def test_a_created_without_zone_is_read_as_utc_and_always_answered(cam):
    now = datetime.now(UTC)
    assert soap(cam.port, "<tds:GetDeviceInformation/>", token(created=now.strftime("%Y-%m-%dT%H:%M:%S")))[0] == 200
    hour_ago = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    for created in [hour_ago, "yesterday", "2026-02-30T10:00:00Z", "9999-12-31T23:59:59-14:00", "2026-07-15"]:
        status, reply = soap(cam.port, "<tds:GetDeviceInformation/>", token(created=created))
        assert status == 400 and "ter:NotAuthorized" in fault_codes(reply), created


# --- defect 4: HTTP Digest of the snapshot (RFC 7616) ------------------------------------------------
def _challenge(port) -> dict[str, str]:
    status, headers, _ = request(port, "GET", "/snapshot.png")
    assert status == 401
    return urllib.request.parse_keqv_list(urllib.request.parse_http_list(headers["WWW-Authenticate"][7:]))


def _digest(ch, *, uri="/snapshot.png", nc=1, cnonce="c0ffee", password=CAM_PW, nonce=None, qop="auth", realm=None):
    realm = realm or ch["realm"]
    nonce = nonce or ch["nonce"]
    ha1 = hashlib.md5(f"CAM-T01:{realm}:{password}".encode()).hexdigest()  # noqa: S324 - RFC 7616 MD5
    ha2 = hashlib.md5(f"GET:{uri}".encode()).hexdigest()  # noqa: S324
    if qop:
        resp = hashlib.md5(f"{ha1}:{nonce}:{nc:08x}:{cnonce}:{qop}:{ha2}".encode()).hexdigest()  # noqa: S324
        tail = f', qop={qop}, nc={nc:08x}, cnonce="{cnonce}"'
    else:
        resp = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()  # noqa: S324
        tail = ""
    return f'Digest username="CAM-T01", realm="{realm}", nonce="{nonce}", uri="{uri}", response="{resp}"{tail}'


def _snap(port, auth, path="/snapshot.png"):
    return request(port, "GET", path, headers={"Authorization": auth})


def test_digest_takes_only_the_cameras_own_nonces_once_per_count_and_for_this_uri(cam, monkeypatch):
    ch = _challenge(cam.port)
    assert ch["qop"] == "auth" and ch["realm"] == "CAM-T01"
    forged = secrets.token_hex(16)
    assert _snap(cam.port, _digest(ch, nonce=forged))[0] == 401  # a nonce never issued
    assert _snap(cam.port, _digest(ch, nc=1))[0] == 200
    assert _snap(cam.port, _digest(ch, nc=1))[0] == 401  # replayed: same nonce count
    assert _snap(cam.port, _digest(ch, nc=2, cnonce="other"))[0] == 200  # the count grows
    assert _snap(cam.port, _digest(ch, nc=3, uri="/other.png"))[0] == 401  # computed for another URI
    assert _snap(cam.port, _digest(ch, nc=4, uri="/snapshot.png"), "/snapshot.png?x=1")[0] == 401
    assert _snap(cam.port, _digest(ch, nc=5, qop=None))[0] == 401  # qop=auth is required
    assert _snap(cam.port, _digest(ch, nc=6, password="wrong"))[0] == 401
    assert _snap(cam.port, 'Digest username="CAM-T01", nonce')[0] == 401  # unparsable
    from sim_devices.web_auth import DIGEST_NONCE_S

    now = [time.monotonic()]
    monkeypatch.setattr(cam.digest, "clock", lambda: now[0])  # the nonce's age, without waiting 5 min
    ch2 = _challenge(cam.port)
    now[0] += DIGEST_NONCE_S + 1
    status, headers, _ = _snap(cam.port, _digest(ch2, nc=1))
    assert status == 401 and "stale=true" in headers["WWW-Authenticate"].replace(" ", "")


def test_an_independent_digest_client_and_basic_still_get_the_snapshot(cam):
    import httpx

    r = httpx.get(f"http://127.0.0.1:{cam.port}/snapshot.png", auth=httpx.DigestAuth("CAM-T01", CAM_PW), timeout=5)
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    r = httpx.get(f"http://127.0.0.1:{cam.port}/snapshot.png", auth=("CAM-T01", CAM_PW), timeout=5)
    assert r.status_code == 200


# --- defect 5: fault texts are escaped ---------------------------------------------------------------
@pytest.mark.skipif(shutil.which("xmllint") is None, reason="xmllint not installed")
def test_a_crafted_path_yields_a_well_formed_fault(cam):
    path = b"/onvif/<x>&amp;\"']]>\x01\x1b</s:Text>"
    body = envelope("<tds:GetDeviceInformation/>", token())
    out = raw(cam.port, b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert out.startswith(b"HTTP/1.1 400"), out[:100]
    xml = out.partition(b"\r\n\r\n")[2]
    p = subprocess.run(["xmllint", "--noout", "-"], input=xml, capture_output=True)
    assert p.returncode == 0, p.stderr
    assert "ter:ActionNotSupported" in fault_codes(xml.decode())


# --- defect 6: subscription lifetime and count ---------------------------------------------------------
def _termination(reply: str) -> datetime:
    root = ET.fromstring(reply)
    text = root.findtext(".//{http://docs.oasis-open.org/wsn/b-2}TerminationTime")
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _subscribe(port, ttl: str):
    body = f"<tev:CreatePullPointSubscription><tev:InitialTerminationTime>{ttl}</tev:InitialTerminationTime>"
    return soap(port, body + "</tev:CreatePullPointSubscription>", path="/onvif/event_service")


def test_subscription_lifetime_is_bounded_and_an_absurd_one_answers(cam):
    for ttl in ["PT99999999999H", "PT99999H", "P99999999999D"]:
        status, reply = _subscribe(cam.port, ttl)
        assert status == 200, reply
        assert _termination(reply) <= datetime.now(UTC) + timedelta(hours=1, seconds=5)
    for ttl in ["PT-5S", "PT", "banana", "P1Y"]:
        status, reply = _subscribe(cam.port, ttl)
        assert status == 400 and "ter:InvalidArgVal" in fault_codes(reply), ttl


def test_a_camera_holds_a_bounded_number_of_subscriptions_and_frees_expired_ones(cam):
    addresses = []
    for _ in range(16):
        status, reply = _subscribe(cam.port, "PT99999H")
        assert status == 200
        assert _termination(reply) <= datetime.now(UTC) + timedelta(hours=1, seconds=5)
        addresses.append(ET.fromstring(reply).findtext(".//{http://www.w3.org/2005/08/addressing}Address"))
    status, reply = _subscribe(cam.port, "PT60S")
    assert status == 500 and fault_codes(reply) == ["s:Receiver", "ter:Action", "ter:MaxPullPointsReached"]
    path = addresses[0].split(str(cam.port), 1)[1]
    status, reply = soap(
        cam.port, "<wsnt:Renew><wsnt:TerminationTime>PT99999999H</wsnt:TerminationTime></wsnt:Renew>", path=path
    )
    assert status == 200 and _termination(reply) <= datetime.now(UTC) + timedelta(hours=1, seconds=5)
    with cam.lock:  # one runs out
        next(iter(cam.subscriptions.values()))["until"] = datetime.now(UTC) - timedelta(seconds=1)
    assert _subscribe(cam.port, "PT60S")[0] == 200


# --- defect 7: reads are bounded -------------------------------------------------------------------------
@pytest.fixture(params=["camera", "board"])
def face(request):
    dev = start_camera(read_timeout_s=0.5) if request.param == "camera" else start_board(read_timeout_s=0.5)
    path = "/onvif/device_service" if request.param == "camera" else "/cap"
    auth = base64.b64encode(f"SB-T01:{BOARD_PW}".encode()).decode()
    yield SimpleNamespace(dev=dev, path=path, auth=auth)
    dev.stop()


def _head(face, lengths: list[str]) -> bytes:
    lines = [f"POST {face.path} HTTP/1.1", "Host: x", "Content-Type: application/cap+xml"]
    lines += [f"Authorization: Basic {face.auth}"] + [f"Content-Length: {n}" for n in lengths]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_short_body_is_answered_408_after_the_read_timeout(face):
    t0 = time.monotonic()
    out = raw(face.dev.port, _head(face, ["100"]) + b"<s:Envelope", timeout=5)
    assert out.split(b"\r\n")[0].split()[1] == b"408", out[:80]
    assert time.monotonic() - t0 < 3


@pytest.mark.parametrize(
    ("lengths", "code"),
    [(["10", "10"], b"400"), (["10", "12"], b"400"), (["abc"], b"400"), (["-5"], b"400"), (["+5"], b"400"),
     (["10, 10"], b"400"), (["99999999999999999999"], b"400"), (["9000000"], b"413")],
)  # fmt: skip
def test_a_duplicate_invalid_or_huge_content_length_is_refused(face, lengths, code):
    out = raw(face.dev.port, _head(face, lengths) + b"x" * 10, timeout=5)
    assert out.split(b"\r\n")[0].split()[1] == code, out[:80]


def test_stalled_clients_cannot_take_every_thread(face):
    dev = face.dev
    dev.stop()
    dev.max_connections, dev.read_timeout_s = 8, 1.0
    dev.port = free_port()
    dev.start()
    before = threading.active_count()
    socks = []
    try:
        for _ in range(200):
            s = socket.create_connection(("127.0.0.1", dev.port), timeout=5)
            s.sendall(_head(face, ["1000"]) + b"<")
            socks.append(s)
        time.sleep(0.3)
        assert threading.active_count() - before <= 8 + 2
        deadline, status = time.monotonic() + 6, None
        while time.monotonic() < deadline:  # the stalled ones time out; then a real request is served
            try:
                if face.path == "/cap":
                    status = post_cap(dev.port, korean_alert("KR-AFTER"))[0]
                else:
                    status = soap(dev.port, "<tds:GetSystemDateAndTime/>", header="")[0]
            except (ConnectionError, http.client.HTTPException):
                status = None
            if status == 200:
                break
            time.sleep(0.2)
        assert status == 200
    finally:
        for s in socks:
            s.close()


# --- defect 8: only what is served is advertised ---------------------------------------------------------
def test_capabilities_advertise_no_rtp_or_rtsp(cam):
    status, reply = soap(cam.port, "<tds:GetCapabilities/>")
    assert status == 200
    root = ET.fromstring(reply)
    tt = "{http://www.onvif.org/ver10/schema}"
    for name in ("RTPMulticast", "RTP_TCP", "RTP_RTSP_TCP"):
        assert root.findtext(f".//{tt}{name}") in (None, "false"), name
    status, reply = soap(
        cam.port, "<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>"
    )
    assert status == 200 and "rtsp" not in reply.lower()


def test_no_stream_uri_is_given_out_for_a_stream_that_is_not_served(cam):
    """GetStreamUri gave rtsp://...:8554, where nothing listens: now the ONVIF fault for an
    unsupported stream setup; snapshots are still given out."""
    body = (
        '<trt:GetStreamUri xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
        'xmlns:tt="http://www.onvif.org/ver10/schema"><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream>'
        "<tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>"
        "<trt:ProfileToken>profile_main</trt:ProfileToken></trt:GetStreamUri>"
    )
    status, reply = soap(cam.port, body, path="/onvif/media_service")
    assert status == 400 and "rtsp://" not in reply
    assert fault_codes(reply) == ["s:Sender", "ter:InvalidArgVal", "ter:InvalidStreamSetup"]
    snap = body.replace("GetStreamUri", "GetSnapshotUri")
    status, reply = soap(cam.port, snap, path="/onvif/media_service")
    assert status == 200 and "/snapshot.png" in reply


# --- every handler answers --------------------------------------------------------------------------------
def test_an_unexpected_exception_in_a_soap_operation_is_a_receiver_fault_and_logged(cam, monkeypatch):
    def boom(req, path):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(cam, "_op_GetDeviceInformation", boom)
    status, reply = soap(cam.port, "<tds:GetDeviceInformation/>")
    assert status == 500 and fault_codes(reply)[0] == "s:Receiver" and "secret" not in reply
    assert cam.ctx.input_log.refused["CAM-T01"] == 1
    assert soap(cam.port, "<tds:GetSystemDateAndTime/>", header="")[0] == 200


def test_an_unexpected_exception_in_the_snapshot_or_the_board_is_a_500(cam, board, monkeypatch):
    import sim_devices.signboard as sb

    monkeypatch.setattr(cam, "snapshot", lambda: 1 / 0)
    auth = "Basic " + base64.b64encode(f"CAM-T01:{CAM_PW}".encode()).decode()
    assert _snap(cam.port, auth)[0] == 500
    monkeypatch.setattr(sb, "parse_cap", lambda data: 1 / 0)
    status, _, body = post_cap(board.port, korean_alert())
    assert status == 500 and b"ZeroDivisionError" in body
    assert board_get(board.port)[0] == 200


def test_malformed_or_unsafe_xml_gets_a_sender_fault_and_400_for_cap(cam, board):
    for data in [b"<s:Envelope", b"\xff\xfe\x00garbage", XXE, LAUGHS, b"", b"<a/>"]:
        status, _, reply = request(cam.port, "POST", "/onvif/device_service", data)
        assert status == 400 and fault_codes(reply.decode())[:1] == ["s:Sender"], data[:20]
        status, _, reply = post_cap(board.port, data)
        assert status in (400, 411) and b"error" in reply, data[:20]
    status, _, reply = post_cap(board.port, XXE)
    assert status == 400 and b"unsafe XML refused" in reply


def test_a_path_is_never_echoed_by_the_board(board):
    status, _, body = board_get(board.port, "/<script>")
    assert status == 404 and b"script" not in body
