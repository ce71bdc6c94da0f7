"""Fuzzing the HTTP faces (issue 13): generated SOAP bodies at a camera's services and mutated
CAP documents at a signboard. Every request gets a well-formed answer (an HTTP status; for SOAP,
XML that parses), nothing raises out of a device, and the device still answers a valid request
afterwards. Fixed seed (derandomize) and bounded examples, so a run is repeatable and short."""

from __future__ import annotations

import http.client
import re
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

import pytest
from cap_samples import korean_alert
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hostile_http import SOAP, envelope, post_cap, request, start_board, start_camera, token

FUZZ = settings(
    derandomize=True,
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SOAP_STATUS = {200, 400, 404, 405, 408, 411, 413, 500, 501}
CAP_STATUS = {200, 400, 404, 411, 413, 415}


@pytest.fixture(scope="module")
def cam():
    c = start_camera()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def board():
    b = start_board()
    yield b
    b.stop()


# --- SOAP bodies ------------------------------------------------------------------------------------
OPS = [
    "GetSystemDateAndTime", "GetDeviceInformation", "GetCapabilities", "GetServices", "GetProfiles",
    "GetStreamUri", "GetSnapshotUri", "CreatePullPointSubscription", "GetEventProperties", "PullMessages",
    "Renew", "Unsubscribe", "SystemReboot", "SetUser", "__class__", "_op_GetProfiles",
]  # fmt: skip
PREFIXES = ["tds", "trt", "tev", "wsnt", "s"]
CHILDREN = [
    "ProfileToken", "InitialTerminationTime", "TerminationTime", "Timeout", "MessageLimit", "IncludeCapability",
    "Category", "Filter",
]  # fmt: skip
PATHS = ["/onvif/device_service", "/onvif/media_service", "/onvif/event_service", "/onvif/pullpoint/x", "/", "/x"]
XML_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
VALUE = st.one_of(
    XML_TEXT,
    st.sampled_from(["PT99999999999H", "PT1S", "2026-07-15T09:00:00", "P99999999999D", "0"]),
    st.sampled_from(["PT5S", "PT99999999999H", "P1D", "PT", "-PT5S", "2026-07-15T09:00:00Z", "1e999", "profile_main"]),
    st.integers(-(10**30), 10**30).map(str),
)


SERVICE = {
    "GetProfiles": "/onvif/media_service",
    "GetStreamUri": "/onvif/media_service",
    "GetSnapshotUri": "/onvif/media_service",
    "CreatePullPointSubscription": "/onvif/event_service",
    "GetEventProperties": "/onvif/event_service",
    "PullMessages": "/onvif/pullpoint/x",
    "Renew": "/onvif/pullpoint/x",
    "Unsubscribe": "/onvif/pullpoint/x",
}  # the rest at /onvif/device_service
OWN_CHILD = {
    "CreatePullPointSubscription": "InitialTerminationTime",
    "Renew": "TerminationTime",
    "PullMessages": "Timeout",
    "GetStreamUri": "ProfileToken",
    "GetSnapshotUri": "ProfileToken",
}
PREFIX = {"/onvif/media_service": "trt", "/onvif/event_service": "tev", "/onvif/pullpoint/x": "wsnt"}


@st.composite
def soap_requests(draw) -> tuple[str, bytes]:
    """(path, envelope): most often an operation at its own service, with its own namespace."""
    op = draw(st.sampled_from(OPS))
    own = SERVICE.get(op, "/onvif/device_service")
    path = draw(st.sampled_from([own, own, own, *PATHS]))
    prefix = draw(st.sampled_from([PREFIX.get(own, "tds")] * 3 + PREFIXES))
    own_child = OWN_CHILD.get(op, "Category")
    kid_prefix = "wsnt" if op == "Renew" else ("trt" if own == "/onvif/media_service" else "tev")
    kid = st.tuples(
        st.sampled_from([own_child, own_child, *CHILDREN]), st.sampled_from([kid_prefix, kid_prefix, *PREFIXES]), VALUE
    )
    kids = draw(st.lists(kid, max_size=4))
    inner = "".join(f"<{p}:{k}>{escape(v)}</{p}:{k}>" for k, p, v in kids)
    header = draw(
        st.sampled_from(["valid", "valid", "none", "wrong"]).map(
            lambda h: token() if h == "valid" else ("" if h == "none" else token("wrong"))
        )
    )
    return path, envelope(f"<{prefix}:{op}>{inner}</{prefix}:{op}>", header)


SOAP_REQUESTS = st.one_of(
    soap_requests(),
    st.tuples(st.sampled_from(PATHS), st.binary(max_size=400)),
    st.tuples(soap_requests(), st.floats(0, 1)).map(lambda t: (t[0][0], t[0][1][: int(len(t[0][1]) * t[1])])),
)


def _check_soap(cam, status: int, body: bytes) -> None:
    assert status in SOAP_STATUS
    root = ET.fromstring(body)  # well-formed, whatever the request
    assert root.tag == f"{{{SOAP}}}Envelope"
    if status != 200:
        assert root.find(f".//{{{SOAP}}}Fault") is not None


def _still_serving(cam) -> None:
    status, _, body = request(cam.port, "POST", "/onvif/device_service", envelope("<tds:GetSystemDateAndTime/>"))
    assert status == 200 and b"UTCDateTime" in body


@FUZZ
@given(req=SOAP_REQUESTS)
def test_generated_soap_bodies_always_get_a_well_formed_answer(cam, req):
    path, body = req
    status, _, reply = request(cam.port, "POST", path, body, {"Content-Type": "application/soap+xml"})
    _check_soap(cam, status, reply)
    _still_serving(cam)


@FUZZ
@given(head=st.binary(max_size=300))
def test_garbage_request_heads_get_an_answer_or_a_close_and_the_camera_keeps_serving(cam, head):
    import socket

    with socket.create_connection(("127.0.0.1", cam.port), timeout=5) as s:
        try:
            s.sendall(head + b"\r\n\r\n")
            out = s.recv(65536)
        except (ConnectionError, TimeoutError):
            out = b""
    assert out == b"" or re.match(rb"^HTTP/1\.[01] \d{3} ", out) or not head.strip().startswith(b"GET")
    _still_serving(cam)


# --- CAP documents ---------------------------------------------------------------------------------------
ELEMENTS = [
    "identifier", "sender", "sent", "status", "msgType", "scope", "code", "language", "category", "event",
    "urgency", "severity", "certainty", "expires", "headline", "description", "areaDesc", "valueName", "value",
    "info", "area", "eventCode", "geocode", "references",
]  # fmt: skip
DATETIMES = st.one_of(
    st.sampled_from(
        [
            "2026-07-15T20:00:00",
            "2026-07-15T20:00:00Z",
            "2026-02-30T20:00:00+09:00",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "2026-07-15T20:00:00+24:00",
            "2026-07-15T20:00:00-00:00",
        ]
    ),
    st.from_regex(r"\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d\Z"),
)


@st.composite
def cap_documents(draw) -> bytes:
    base = draw(
        st.sampled_from(
            [
                korean_alert(),
                korean_alert("KR-2", msg_type="Update"),
                korean_alert("KR-3", msg_type="Cancel", references="uijeongbu.go.kr,KR-1,x"),
                korean_alert(expires=None),
                korean_alert(headline_ko="", description_ko=""),
            ]
        )
    )
    doc = base.decode()
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["text", "datetime", "datetime", "drop", "duplicate", "truncate", "bytes", "add"]))
        name = draw(st.sampled_from(["sent", "expires"] if how == "datetime" else ELEMENTS))
        if how == "add":  # an optional date-time CAP 1.2 allows in info
            extra = draw(st.sampled_from(["effective", "onset", "expires"]))
            doc = doc.replace("<senderName>", f"<{extra}>{draw(DATETIMES)}</{extra}><senderName>", 1)
            continue
        pattern = re.compile(rf"<{name}>(.*?)</{name}>", re.S)
        m = pattern.search(doc)
        if how == "truncate":
            doc = doc[: draw(st.integers(0, len(doc)))]
        elif how == "bytes":
            at = draw(st.integers(0, len(doc)))
            return doc[:at].encode() + draw(st.binary(max_size=30)) + doc[at:].encode()
        elif m is None:
            continue
        elif how == "text":
            doc = doc[: m.start(1)] + escape(draw(XML_TEXT)) + doc[m.end(1) :]
        elif how == "datetime":
            doc = doc[: m.start(1)] + draw(DATETIMES) + doc[m.end(1) :]
        elif how == "drop":
            doc = doc[: m.start()] + doc[m.end() :]
        else:
            doc = doc[: m.end()] + m.group(0) + doc[m.end() :]
    return doc.encode()


@FUZZ
@given(doc=cap_documents(), t=st.floats(0, 7200))
def test_mutated_cap_documents_always_get_an_answer_and_never_break_the_board(board, doc, t):
    status, _, reply = post_cap(board.port, doc)
    assert status in CAP_STATUS
    answer = __import__("json").loads(reply)
    assert ("accepted" in answer) if status == 200 else ("error" in answer and "\n" not in answer["error"])
    log = board.ctx.input_log
    before = log.refused.get(board.device_id, 0)
    board.step(t)  # the fleet's loop: an accepted alert must show without raising or being refused
    assert log.refused.get(board.device_id, 0) == before
    status, _, _ = post_cap(board.port, korean_alert("KR-VALID"))
    assert status == 200
    board.step(t)


def test_a_truncated_request_is_not_a_crash(board, cam):
    """Whatever the fuzzers did, both devices' servers still answer and their threads are bounded."""
    for port, path in ((cam.port, "/onvif/device_service"), (board.port, "/cap")):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("POST", path, body=b"<", headers={"Content-Length": "1"})
        assert c.getresponse().status in (400, 401)
        c.close()
