"""Hypothesis-generated Modbus TCP frames against a device's face (issue 13): random function
codes, addresses, quantities, byte counts, truncated and oversized PDUs and MBAP headers. Every
frame whose MBAP header is well formed gets either a normal answer or an exception answer with the
code of the Modbus Application Protocol Specification V1.1b3 (the oracle below is the
specification's state diagrams written as a table, independent of the server's code); frames with
an impossible header get the connection closed; the server never dies and a valid read works
afterwards. Fixed seed (derandomize) and bounded examples: each test runs in seconds.
"""

from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_modbus_exceptions import Running, frame, read_adu, rq

SIZES = {"coils": 3, "discrete_inputs": 5, "holding_registers": 4, "input_registers": 6}
WRITABLE = ("coils", "holding_registers")
IMPLEMENTED = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0F, 0x10, 0x16, 0x17]
FUZZ = settings(
    derandomize=True,
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def face():
    r = Running(sizes=SIZES, writable=WRITABLE)
    yield r
    r.stop()


def spec_code(pdu: bytes) -> int | None:
    """The exception code the specification gives for a request PDU (None: a normal answer)."""
    fc, d = pdu[0], pdu[1:]
    if fc in (0x01, 0x02, 0x03, 0x04):
        size = SIZES[{1: "coils", 2: "discrete_inputs", 3: "holding_registers", 4: "input_registers"}[fc]]
        if len(d) != 4:
            return 3
        a, n = struct.unpack(">HH", d)
        if not 1 <= n <= (2000 if fc <= 2 else 125):
            return 3
        return 2 if a + n > size else None
    if fc in (0x05, 0x06):
        if len(d) != 4:
            return 3
        a, v = struct.unpack(">HH", d)
        if fc == 0x05 and v not in (0xFF00, 0x0000):
            return 3
        return 2 if a >= (3 if fc == 0x05 else 4) else None
    if fc in (0x0F, 0x10):
        if len(d) < 5:
            return 3
        a, n, bc = struct.unpack(">HHB", d[:5])
        most, need, size = (1968, (n + 7) // 8, 3) if fc == 0x0F else (123, 2 * n, 4)
        if not 1 <= n <= most or bc != need or len(d) - 5 != bc:
            return 3
        return 2 if a + n > size else None
    if fc == 0x16:
        if len(d) != 6:
            return 3
        return 2 if struct.unpack(">H", d[:2])[0] >= 4 else None
    if fc == 0x17:
        if len(d) < 9:
            return 3
        ra, rn, wa, wn, bc = struct.unpack(">HHHHB", d[:9])
        if not 1 <= rn <= 125 or not 1 <= wn <= 121 or bc != 2 * wn or len(d) - 9 != bc:
            return 3
        return 2 if ra + rn > 4 or wa + wn > 4 else None
    return 1


def check_answer(pdu: bytes, answer: bytes) -> None:
    fc, want = pdu[0], spec_code(pdu)
    if want is not None:
        assert answer == bytes([fc | 0x80, want]), (pdu.hex(), answer.hex())
        return
    assert answer[0] == fc, (pdu.hex(), answer.hex())
    if fc in (0x01, 0x02):
        n = struct.unpack(">H", pdu[3:5])[0]
        assert answer[1] == (n + 7) // 8 == len(answer) - 2
    elif fc in (0x03, 0x04):
        n = struct.unpack(">H", pdu[3:5])[0]
        assert answer[1] == 2 * n == len(answer) - 2
    elif fc in (0x05, 0x06, 0x16):
        assert answer == pdu  # the echo
    elif fc in (0x0F, 0x10):
        assert answer == pdu[:5]
    else:  # 0x17
        n = struct.unpack(">H", pdu[3:5])[0]
        assert answer[1] == 2 * n == len(answer) - 2


# --- generated PDUs ---------------------------------------------------------------------------
ADDRESS = st.one_of(st.integers(0, 5), st.integers(0, 8), st.sampled_from([65534, 65535]), st.integers(0, 65535))
QUANTITY = st.one_of(
    st.integers(1, 4),
    st.integers(0, 8),
    st.sampled_from([120, 121, 122, 123, 124, 125, 126, 1967, 1968, 1969, 2000, 2001, 65535]),
    st.integers(0, 65535),
)
BYTE = st.integers(0, 255)


@st.composite
def structured_pdu(draw) -> bytes:
    """A request of an implemented function, its fields near and past their limits, its byte
    count right or wrong, its data complete, short or long."""
    fc = draw(st.sampled_from(IMPLEMENTED))
    a, n = draw(ADDRESS), draw(QUANTITY)
    if fc in (0x01, 0x02, 0x03, 0x04):
        body = struct.pack(">HH", a, n)
    elif fc == 0x06:
        body = struct.pack(">HH", a, draw(st.integers(0, 65535)))
    elif fc == 0x05:
        body = struct.pack(">HH", a, draw(st.one_of(st.sampled_from([0xFF00, 0x0000]), st.integers(0, 65535))))
    elif fc == 0x16:
        body = struct.pack(">HHH", a, draw(st.integers(0, 65535)), draw(st.integers(0, 65535)))
    else:
        n = min(n, 2000)
        need = (n + 7) // 8 if fc == 0x0F else 2 * n
        head = struct.pack(">HHB", a, n, min(need, 255)) if fc != 0x17 else b""
        if fc == 0x17:
            wn = min(draw(QUANTITY), 200)
            need = 2 * wn
            head = struct.pack(">HHHHB", a, n, draw(ADDRESS), wn, min(need, 255))
        if draw(st.integers(0, 3)) == 0:
            head = head[:-1] + bytes([draw(BYTE)])  # a byte count that may not match
        size = draw(st.sampled_from([need, need, need, need, max(need - 1, 0), need + 1, 0]))
        body = head + bytes(size) if need <= 246 else head
    cut = draw(st.sampled_from([None] * 12 + [0, 1, 2, 3, 5]))
    pdu = bytes([fc]) + (body if cut is None else body[:cut]) + (b"\x00" if draw(st.integers(0, 9)) == 0 else b"")
    return pdu[:253]


ANY_PDU = st.one_of(
    structured_pdu(),
    structured_pdu(),
    structured_pdu(),
    st.binary(min_size=1, max_size=253),  # any function code, any data
    st.builds(lambda fc, d: bytes([fc]) + d, st.integers(0, 255), st.binary(max_size=12)),
)


def _valid_read_works(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(frame(0x03, rq(0, 4), tid=4242))
        answer = read_adu(s)
    assert answer[:2] == struct.pack(">H", 4242) and answer[7:9] == bytes([0x03, 8])


@FUZZ
@given(pdu=ANY_PDU, tid=st.integers(0, 65535), unit=BYTE)
def test_each_well_framed_request_gets_the_specifications_answer(face, pdu, tid, unit):
    with socket.create_connection(("127.0.0.1", face.port), timeout=3) as s:
        s.sendall(frame(pdu[0], pdu[1:], tid=tid, unit=unit))
        answer = read_adu(s)
    assert struct.unpack(">HHHB", answer[:7]) == (tid, 0, len(answer) - 6, unit)
    check_answer(pdu, answer[7:])
    want = spec_code(pdu)
    kind = "implemented" if pdu[0] in IMPLEMENTED else "other"
    event(f"{kind} function: " + (f"exception {want:02X}" if want else "normal answer"))


@settings(FUZZ, max_examples=500)
@given(pdus=st.lists(ANY_PDU, min_size=2, max_size=6))
def test_pipelined_requests_each_get_their_answer_in_order(face, pdus):
    with socket.create_connection(("127.0.0.1", face.port), timeout=3) as s:
        s.sendall(b"".join(frame(p[0], p[1:], tid=i) for i, p in enumerate(pdus)))
        for i, p in enumerate(pdus):
            answer = read_adu(s)
            assert struct.unpack(">H", answer[:2])[0] == i
            check_answer(p, answer[7:])


@st.composite
def broken_frame(draw) -> tuple[str, bytes]:
    """A frame a controller got wrong at the TCP level: an MBAP length no frame can have, a
    protocol id other than 0, a frame cut short, or bytes that are no frame at all."""
    kind = draw(st.sampled_from(["length", "protocol", "cut", "noise"]))
    event(f"broken frame: {kind}")
    pdu = draw(ANY_PDU)
    if kind == "length":
        length = draw(st.one_of(st.integers(0, 1), st.integers(255, 65535)))
        return kind, struct.pack(">HHHB", 1, 0, length, 1) + pdu + draw(st.binary(max_size=300))
    if kind == "protocol":
        return kind, frame(pdu[0], pdu[1:], pid=draw(st.integers(1, 65535)))
    if kind == "cut":
        whole = frame(pdu[0], pdu[1:])
        return kind, whole[: draw(st.integers(1, len(whole) - 1))]
    return kind, draw(st.binary(min_size=1, max_size=600))


def _until_closed(s: socket.socket) -> bytes:
    got = b""
    try:
        while chunk := s.recv(4096):
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        pass  # the server closed a connection with bytes it had not read: a reset
    return got


@settings(FUZZ, max_examples=1000)
@given(broken=broken_frame())
def test_broken_frames_never_stop_the_server(face, broken):
    kind, data = broken
    with socket.create_connection(("127.0.0.1", face.port), timeout=3) as s:
        if kind == "protocol":  # ignored: the next request on the same connection is the one answered
            s.sendall(data + frame(0x03, rq(0, 4), tid=4242))
            assert read_adu(s)[:2] == struct.pack(">H", 4242)
            got = b""
        elif kind == "length":  # the frame boundaries are lost: the server closes, by itself
            try:
                s.sendall(data)
            except (ConnectionResetError, BrokenPipeError):
                pass
            got = _until_closed(s)  # a TimeoutError here: the connection was left hanging
            assert got == b""
        else:
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)  # the client is done: the server answers what it can, then closes
            except (ConnectionResetError, BrokenPipeError):
                pass
            got = _until_closed(s)
    while len(got) >= 7:  # whatever came back is well formed frames, each with protocol id 0
        tid, pid, length, _ = struct.unpack(">HHHB", got[:7])
        assert pid == 0 and 2 <= length <= 254 and len(got) >= 6 + length
        assert got[7] < 0x80 or got[8] in (1, 2, 3, 4)
        got = got[6 + length :]
    assert got == b""
    _valid_read_works(face.port)


def test_after_all_that_the_server_still_answers(face):
    before = face.face.requests
    _valid_read_works(face.port)
    assert face.face.requests == before + 1
