"""Modbus exception codes of a device's face, function by function, as the Modbus Application
Protocol Specification V1.1b3 states them (issue 13): the order of checks is function code
supported (else 01), quantity / byte count / value (else 03), starting address and address +
quantity inside the table (else 02), execution (else 04).

Raw frames over a socket to a :class:`ModbusFace` on 127.0.0.1 with the gate's tables: 3 coils
and 5 discrete inputs (as in the tester's report), 4 holding and 6 input registers. Plus frames
a controller gets wrong at the TCP level (MBAP), and one check with the real ``mbpoll``.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

from sim_devices.modbus_face import ModbusFace

SIZES = {"coils": 3, "discrete_inputs": 5, "holding_registers": 4, "input_registers": 6}
REFUSED_VALUE = 0x0BAD  # the test device refuses this register value with 03, as the clock refuses ms > 999
BROKEN_VALUE = 0x0DEF  # ... and raises on this one: the face answers 04


class Running:
    """A face served from its own event loop in a thread (as the fleet runs faces on its loop)."""

    def __init__(self, **kw) -> None:
        self.writes: list[tuple[str, int, list[int]]] = []
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.face = ModbusFace(host="127.0.0.1", port=port, **kw)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.face.start(), self.loop).result(10)

    @property
    def port(self) -> int:
        return self.face.port

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.face.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def plc():
    writes: list[tuple[str, int, list[int]]] = []

    def on_write(table: str, address: int, values: list[int]):
        writes.append((table, address, list(values)))
        if REFUSED_VALUE in values:
            return 3
        if BROKEN_VALUE in values:
            raise RuntimeError("the device broke")
        return None

    r = Running(sizes=SIZES, writable=("coils", "holding_registers"), on_write=on_write)
    r.writes = writes
    yield r
    r.stop()


@pytest.fixture(scope="module")
def sensor():
    """Registers a client may read, never write (a level sensor)."""
    r = Running(sizes={"holding_registers": 7, "input_registers": 7})
    yield r
    r.stop()


def frame(fc: int, body: bytes = b"", *, tid: int = 1, unit: int = 1, pid: int = 0, length: int | None = None) -> bytes:
    pdu = bytes([fc]) + body
    return struct.pack(">HHHB", tid, pid, len(pdu) + 1 if length is None else length, unit) + pdu


def read_adu(s: socket.socket) -> bytes:
    head = _exactly(s, 7)
    return head + _exactly(s, struct.unpack(">H", head[4:6])[0] - 1)


def _exactly(s: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise ConnectionError(f"closed after {len(out)} of {n} bytes")
        out += chunk
    return out


def ask(port: int, adu: bytes, timeout: float = 3.0) -> bytes:
    """The response PDU (function code and data) to one request on a fresh connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(adu)
        answer = read_adu(s)
    assert answer[:2] == adu[:2] and answer[2:4] == b"\x00\x00"  # same transaction id, protocol 0
    return answer[7:]


def code(port: int, fc: int, body: bytes = b"") -> int | None:
    """The exception code answered to ``fc`` + ``body`` (None for a normal answer)."""
    pdu = ask(port, frame(fc, body))
    if pdu[0] == fc and fc < 0x80:
        return None
    assert pdu[0] == (fc | 0x80) and len(pdu) == 2, pdu.hex()
    return pdu[1]


def rq(address: int, quantity: int) -> bytes:
    return struct.pack(">HH", address, quantity)


# --- FC 01, 02, 03, 04: reads -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("fc", "size", "most"),
    [(0x01, 3, 2000), (0x02, 5, 2000), (0x03, 4, 125), (0x04, 6, 125)],
    ids=["coils", "discrete_inputs", "holding_registers", "input_registers"],
)
def test_reads_quantity_then_address(plc, fc, size, most):
    p = plc.port
    assert code(p, fc, rq(0, size)) is None  # the whole table
    assert code(p, fc, rq(size - 1, 1)) is None  # its last entry
    assert code(p, fc, rq(0, 0)) == 3  # quantity 0
    assert code(p, fc, rq(0, most + 1)) == 3  # quantity above the specification's maximum
    assert code(p, fc, rq(65535, most + 1)) == 3  # the quantity is checked before the address
    assert code(p, fc, rq(0, most)) == 2  # a legal quantity, but past the table
    assert code(p, fc, rq(0, size + 1)) == 2  # one past the table
    assert code(p, fc, rq(size, 1)) == 2  # starting just past the table
    assert code(p, fc, rq(size - 1, 2)) == 2
    assert code(p, fc, rq(65535, 1)) == 2


def test_reads_of_bits_answer_the_right_byte_count(plc):
    plc.face.set("discrete_inputs", 0, [1, 0, 1, 1, 1])
    assert ask(plc.port, frame(0x02, rq(0, 5))) == bytes([0x02, 1, 0b11101])
    assert ask(plc.port, frame(0x02, rq(1, 3))) == bytes([0x02, 1, 0b110])
    plc.face.set("input_registers", 0, [7, 65535])
    assert ask(plc.port, frame(0x04, rq(0, 2))) == bytes([0x04, 4, 0, 7, 0xFF, 0xFF])


# --- FC 05: write single coil -----------------------------------------------------------------
def test_write_single_coil(plc):
    p = plc.port
    assert ask(p, frame(0x05, rq(2, 0xFF00))) == bytes([0x05]) + rq(2, 0xFF00)  # the echo
    assert plc.face.get("coils", 2) == 1
    assert code(p, 0x05, rq(2, 0x0000)) is None and plc.face.get("coils", 2) == 0
    for bad in (0x0001, 0x1234, 0x00FF, 0xFF01, 0xFFFF):
        assert code(p, 0x05, rq(0, bad)) == 3, hex(bad)  # only FF00 and 0000
    assert code(p, 0x05, rq(3, 0xFF00)) == 2  # past the 3 coils (the report: 04)
    assert code(p, 0x05, rq(65535, 0x0000)) == 2
    assert code(p, 0x05, rq(3, 0x1234)) == 3  # the value is checked before the address


# --- FC 06: write single register -------------------------------------------------------------
def test_write_single_register(plc, sensor):
    p = plc.port
    assert ask(p, frame(0x06, rq(3, 0xFFFF))) == bytes([0x06]) + rq(3, 0xFFFF)
    assert plc.face.get("holding_registers", 3) == 0xFFFF
    assert code(p, 0x06, rq(4, 1)) == 2
    assert code(p, 0x06, rq(65535, 1)) == 2
    assert code(sensor.port, 0x06, rq(0, 7)) == 2  # a read-only table has no address to write
    assert code(p, 0x06, rq(0, REFUSED_VALUE)) == 3  # the device's own refusal is passed on
    assert code(p, 0x06, rq(0, BROKEN_VALUE)) == 4  # the device failed: server device failure
    assert plc.face.get("holding_registers", 0) not in (REFUSED_VALUE, BROKEN_VALUE)
    assert code(p, 0x03, rq(0, 4)) is None  # and it keeps serving


# --- FC 0F: write multiple coils --------------------------------------------------------------
def coils_body(address: int, quantity: int, byte_count: int | None = None, data: bytes | None = None) -> bytes:
    n = (quantity + 7) // 8 if byte_count is None else byte_count
    return struct.pack(">HHB", address, quantity, n) + (bytes(n) if data is None else data)


def test_write_multiple_coils(plc):
    p = plc.port
    assert ask(p, frame(0x0F, coils_body(0, 3, data=b"\x05"))) == bytes([0x0F]) + rq(0, 3)
    assert [plc.face.get("coils", i) for i in range(3)] == [1, 0, 1]
    assert code(p, 0x0F, coils_body(0, 0, 0, b"")) == 3  # quantity 0
    assert code(p, 0x0F, coils_body(0, 1969, 247, b"")) == 3  # above 1968 (0x07B0)
    assert code(p, 0x0F, coils_body(0, 1968)) == 2  # 1968 coils fit a frame; not the 3 coils
    assert code(p, 0x0F, coils_body(0, 3, 2)) == 3  # byte count must be ceil(N/8)
    assert code(p, 0x0F, coils_body(0, 9, 1)) == 3
    assert code(p, 0x0F, coils_body(0, 3, 1, b"")) == 3  # byte count says 1, no byte follows
    assert code(p, 0x0F, coils_body(0, 3, 1, b"\x00\x00")) == 3  # one byte too many
    assert code(p, 0x0F, coils_body(0, 4)) == 2  # one past the table
    assert code(p, 0x0F, coils_body(3, 1)) == 2
    assert code(p, 0x0F, coils_body(65535, 1)) == 2
    assert [plc.face.get("coils", i) for i in range(3)] == [1, 0, 1]  # nothing refused was written


# --- FC 10: write multiple registers ----------------------------------------------------------
def regs_body(address: int, quantity: int, byte_count: int | None = None, data: bytes | None = None) -> bytes:
    n = 2 * quantity if byte_count is None else byte_count
    return struct.pack(">HHB", address, quantity, n) + (bytes(n) if data is None else data)


def test_write_multiple_registers(plc):
    p = plc.port
    assert ask(p, frame(0x10, regs_body(1, 2, data=b"\x00\x05\x00\x06"))) == bytes([0x10]) + rq(1, 2)
    assert [plc.face.get("holding_registers", i) for i in (1, 2)] == [5, 6]
    assert code(p, 0x10, regs_body(0, 0, 0, b"")) == 3
    assert code(p, 0x10, regs_body(0, 124, 0, b"")) == 3  # above 123 (0x7B)
    assert code(p, 0x10, regs_body(0, 123)) == 2  # 123 registers fit a frame; not the 4 registers
    assert code(p, 0x10, regs_body(0, 2, 3, b"\x00\x00\x00")) == 3  # byte count must be 2N
    assert code(p, 0x10, regs_body(0, 2, 4, b"\x00\x00")) == 3  # fewer bytes than the byte count
    assert code(p, 0x10, regs_body(3, 2)) == 2
    assert code(p, 0x10, regs_body(4, 1)) == 2
    assert code(p, 0x10, regs_body(0, 2, data=struct.pack(">HH", 1, REFUSED_VALUE))) == 3  # the device refuses
    assert [plc.face.get("holding_registers", i) for i in (1, 2)] == [5, 6]


# --- FC 16: mask write register ---------------------------------------------------------------
def test_mask_write_register(plc, sensor):
    p = plc.port
    plc.face.set("holding_registers", 0, [0x12])
    body = struct.pack(">HHH", 0, 0x00F2, 0x0025)  # the specification's example: 0x12 -> 0x17
    assert ask(p, frame(0x16, body)) == bytes([0x16]) + body
    assert plc.face.get("holding_registers", 0) == 0x17
    assert code(p, 0x16, struct.pack(">HHH", 4, 0xFFFF, 0)) == 2
    assert code(p, 0x16, struct.pack(">HH", 0, 0xFFFF)) == 3  # no OR mask: the implied length is wrong
    assert code(sensor.port, 0x16, struct.pack(">HHH", 0, 0xFFFF, 0)) == 2


# --- FC 17: read/write multiple registers -----------------------------------------------------
def rw_body(ra: int, rn: int, wa: int, wn: int, byte_count: int | None = None, data: bytes | None = None) -> bytes:
    n = 2 * wn if byte_count is None else byte_count
    return struct.pack(">HHHHB", ra, rn, wa, wn, n) + (bytes(n) if data is None else data)


def test_read_write_multiple_registers(plc):
    p = plc.port
    plc.face.set("holding_registers", 0, [1, 2, 3, 4])
    answer = ask(p, frame(0x17, rw_body(0, 4, 2, 1, data=b"\x00\x09")))
    assert answer == bytes([0x17, 8]) + struct.pack(">HHHH", 1, 2, 9, 4)  # the write comes first
    assert code(p, 0x17, rw_body(0, 0, 0, 1)) == 3  # read quantity 0
    assert code(p, 0x17, rw_body(0, 126, 0, 1)) == 3  # read quantity above 125
    assert code(p, 0x17, rw_body(0, 1, 0, 0, 0, b"")) == 3  # write quantity 0
    assert code(p, 0x17, rw_body(0, 1, 0, 122, 0, b"")) == 3  # write quantity above 121
    assert code(p, 0x17, rw_body(0, 1, 0, 1, 3, b"\x00\x00\x00")) == 3  # byte count != 2N
    assert code(p, 0x17, rw_body(0, 125, 0, 1)) == 2  # read past the table
    assert code(p, 0x17, rw_body(0, 1, 3, 2)) == 2  # write past the table
    assert code(p, 0x17, rw_body(0, 1, 0, 121)) == 2  # 121 registers fit a frame; not the 4 registers
    assert code(p, 0x17, rw_body(0, 1, 0, 1, data=struct.pack(">H", REFUSED_VALUE))) == 3


# --- functions the device does not implement ---------------------------------------------------
@pytest.mark.parametrize(
    "fc", [0x00, 0x07, 0x08, 0x0B, 0x0C, 0x11, 0x14, 0x15, 0x18, 0x2B, 0x41, 0x64, 0x7F, 0x80, 0x83, 0xFF]
)
def test_functions_not_implemented_get_illegal_function(plc, fc):
    bodies = [b"", b"\x00\x00", b"\x00\x00\x00\x00", b"\x0e\x01\x00"]  # 08: sub 0000 echo; 2B: MEI 0E
    for body in bodies:
        assert ask(plc.port, frame(fc, body)) == bytes([fc | 0x80, 0x01]), (hex(fc), body.hex())


# --- what a controller can get wrong at the TCP level ------------------------------------------
def test_pipelined_requests_get_answers_in_order(plc):
    with socket.create_connection(("127.0.0.1", plc.port), timeout=3) as s:
        s.sendall(b"".join(frame(0x03, rq(0, 1), tid=t) for t in range(1, 6)) + frame(0x41, tid=6))
        tids = [struct.unpack(">H", read_adu(s)[:2])[0] for _ in range(6)]
    assert tids == [1, 2, 3, 4, 5, 6]


def test_a_frame_of_another_protocol_is_ignored_and_the_next_is_answered(plc):
    with socket.create_connection(("127.0.0.1", plc.port), timeout=3) as s:
        dropped = plc.face.dropped
        s.sendall(frame(0x03, rq(0, 1), tid=7, pid=1) + frame(0x03, rq(0, 1), tid=8))
        assert struct.unpack(">H", read_adu(s)[:2])[0] == 8
        assert plc.face.dropped == dropped + 1


def test_a_truncated_pdu_gets_illegal_data_value(plc):
    assert code(plc.port, 0x03, b"\x00\x00") == 3
    assert code(plc.port, 0x01, b"") == 3
    assert code(plc.port, 0x05, b"\x00\x00\xff") == 3
    assert code(plc.port, 0x04, b"\x00\x00\x00\x01\x00") == 3  # one byte too many


@pytest.mark.parametrize("length", [0, 1, 255, 300, 65535])
def test_an_impossible_mbap_length_closes_the_connection_and_the_server_goes_on(plc, length):
    with socket.create_connection(("127.0.0.1", plc.port), timeout=3) as s:
        s.sendall(frame(0x03, rq(0, 1), length=length) + bytes(min(length, 300)))
        s.settimeout(3)
        rest = b""
        try:
            while chunk := s.recv(512):
                rest += chunk
        except TimeoutError:
            pytest.fail("the connection was left open")
        except ConnectionResetError:
            pass
    assert rest == b""
    assert code(plc.port, 0x03, rq(0, 1)) is None


def test_a_frame_cut_short_is_dropped_after_the_frame_timeout():
    r = Running(sizes=SIZES, frame_timeout_s=0.5)
    try:
        with socket.create_connection(("127.0.0.1", r.port), timeout=5) as s:
            s.sendall(frame(0x03, rq(0, 1))[:9])  # header says 6 bytes follow; 2 come
            t0 = time.monotonic()
            assert s.recv(10) == b""  # closed, nothing answered
            assert time.monotonic() - t0 < 3
        assert code(r.port, 0x03, rq(0, 1)) is None
        assert (r.face.dropped, r.face.requests) == (1, 1)
    finally:
        r.stop()


def test_counts_of_requests_and_exceptions(sensor):
    n, e = sensor.face.requests, sensor.face.exceptions
    code(sensor.port, 0x03, rq(0, 7))
    code(sensor.port, 0x03, rq(0, 8))
    code(sensor.port, 0x07)
    assert (sensor.face.requests - n, sensor.face.exceptions - e) == (3, 2)


@pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll not installed (apt-get install -y mbpoll)")
def test_mbpoll_reads_three_coils_and_is_told_the_fourth_is_no_address(plc):
    def mbpoll(*args: str) -> subprocess.CompletedProcess:
        cmd = ["mbpoll", "-m", "tcp", "-p", str(plc.port), "-a", "1", "-0", "-1", *args, "127.0.0.1"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20)

    plc.face.set("coils", 0, [0, 1, 1])
    ok = mbpoll("-t", "0", "-r", "0", "-c", "3")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert [int(v) for v in re.findall(r"^\[\d+\]:\s+(\d+)", ok.stdout, re.M)] == [0, 1, 1], ok.stdout
    past = mbpoll("-t", "0", "-r", "1", "-c", "3")
    assert "illegal data address" in (past.stdout + past.stderr).lower(), past.stdout + past.stderr
    past = mbpoll("-t", "1", "-r", "5", "-c", "1")
    assert "illegal data address" in (past.stdout + past.stderr).lower(), past.stdout + past.stderr


def test_the_pymodbus_client_a_controller_uses_reads_writes_and_gets_the_codes(plc):
    from pymodbus.client import ModbusTcpClient

    client = ModbusTcpClient("127.0.0.1", port=plc.port, timeout=2)
    assert client.connect()
    try:
        plc.face.set("discrete_inputs", 0, [1, 1, 0, 0, 1])
        assert client.read_discrete_inputs(0, count=5, device_id=1).bits[:5] == [True, True, False, False, True]
        assert not client.write_coil(1, True, device_id=1).isError() and plc.face.get("coils", 1) == 1
        assert not client.write_registers(0, [10, 20, 30], device_id=1).isError()
        assert client.read_holding_registers(0, count=3, device_id=1).registers == [10, 20, 30]
        past = client.read_coils(0, count=4, device_id=1)
        assert past.isError() and past.exception_code == 2
        refused = client.write_register(0, REFUSED_VALUE, device_id=1)
        assert refused.isError() and refused.exception_code == 3
        assert client.read_input_registers(0, count=6, device_id=1).registers is not None  # the connection goes on
    finally:
        client.close()
