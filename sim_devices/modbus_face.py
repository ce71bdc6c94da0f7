"""A device's Modbus TCP server, with the four tables of a small PLC and the exception codes of
the Modbus Application Protocol Specification V1.1b3.

Each table holds ``size`` entries from address 0 (coils and discrete inputs one bit each). The
device fills its tables through :meth:`ModbusFace.set`; writes from clients reach the device's
``on_write(table, address, values)``, which returns None to accept or a Modbus exception code.

Functions served: 01, 02, 03, 04 (reads), 05, 06, 0F, 10 (writes), 16 (mask write register) and
17 (read/write multiple registers). Each request is checked in the order of the specification's
state diagrams, and the first failed check is the answer:

1. function code implemented, else 01 (illegal function): every other code, 07, 08, 0B, 0C, 11,
   14, 15, 18, 2B included;
2. quantity, byte count and value, else 03 (illegal data value): reads of 1..2000 bits or
   1..125 registers, writes of 1..1968 coils with byte count ceil(N/8) or 1..123 registers with
   byte count 2N, 17 with 1..125 read and 1..121 written, a single coil written with FF00 or 0000
   only; a PDU whose length is not the one its fields imply also gets 03;
3. starting address and address + quantity inside the table, else 02 (illegal data address); a
   table the device does not let clients write has no address a client may write;
4. execution, else 04 (server device failure): the device's ``on_write`` raised. A code that
   ``on_write`` returns is answered as it is (the clock refuses milliseconds above 999 with 03).

The TCP side (MBAP header of the Messaging on TCP/IP Implementation Guide V1.0b): requests on a
connection are answered in order, pipelined or not. A frame with a protocol identifier other than
0 is read to its end and ignored (no answer). A length field that no Modbus frame can have (below
2 or above 254) loses the frame boundaries, so the connection is closed; so is a connection whose
frame stops arriving for ``frame_timeout_s`` or that is idle for ``idle_timeout_s``. At most
``max_connections`` at a time: a new one closes the least recently active. Nothing a client
sends stops the server or any other connection.

pymodbus 3.16's server was used before; it answered quantity errors with 01, unknown functions
with function code 0x80, implemented 07/08/0B/0C/11/14/15/18/2B, allowed 2000 coils in 0F, took
any FC05 value, rounded bit tables up to 16 entries and answered only one of two requests that
arrived in one TCP segment. The protocol here is the few frame layouts above; pymodbus still
provides the exception codes and the bit packing.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable

from pymodbus.constants import ExcCodes
from pymodbus.pdu.utils import pack_bitstring, unpack_bitstring

TABLES = ("coils", "discrete_inputs", "holding_registers", "input_registers")
BIT_TABLES = ("coils", "discrete_inputs")
ILLEGAL_FUNCTION, ILLEGAL_ADDRESS, ILLEGAL_VALUE, DEVICE_FAILURE = (
    ExcCodes.ILLEGAL_FUNCTION,
    ExcCodes.ILLEGAL_ADDRESS,
    ExcCodes.ILLEGAL_VALUE,
    ExcCodes.DEVICE_FAILURE,
)
COIL_ON, COIL_OFF = 0xFF00, 0x0000

MBAP = struct.Struct(">HHHB")  # transaction id, protocol id (0), length (unit id + PDU), unit id
MAX_PDU_BYTES = 253  # function code and data (specification 4.1)
READ_LIMITS = {  # function -> table, most entries one request reads
    0x01: ("coils", 2000),
    0x02: ("discrete_inputs", 2000),
    0x03: ("holding_registers", 125),
    0x04: ("input_registers", 125),
}
MAX_WRITE_COILS, MAX_WRITE_REGISTERS, MAX_RW_READ, MAX_RW_WRITE = 1968, 123, 125, 121

FRAME_TIMEOUT_S = 5.0  # s: the rest of a frame once its first byte came
IDLE_TIMEOUT_S = 120.0  # s: a connection with no request this long is closed
MAX_CONNECTIONS = 32  # per face


class Refused(Exception):
    """A request answered with exception ``code``; ``why`` names the field and what was expected."""

    def __init__(self, code: int, why: str) -> None:
        super().__init__(why)
        self.code = int(code)


def _fields(fmt: str, data: bytes, what: str) -> tuple[int, ...]:
    """``data`` unpacked; 03 when its length is not the one the function's fields imply."""
    layout = struct.Struct(">" + fmt)
    if len(data) != layout.size:
        raise Refused(ILLEGAL_VALUE, f"{what}: {len(data)} data bytes, expected {layout.size}")
    return layout.unpack(data)


def _quantity(n: int, most: int, what: str) -> None:
    if not 1 <= n <= most:
        raise Refused(ILLEGAL_VALUE, f"{what}: quantity {n}, expected 1..{most}")


def _byte_count(declared: int, expected: int, present: int, what: str) -> None:
    if declared != expected or present != declared:
        raise Refused(
            ILLEGAL_VALUE, f"{what}: byte count {declared} with {present} bytes following, expected {expected}"
        )


class ModbusFace:
    """One Modbus TCP server on ``host:port`` answering every unit id (manifests say 1).

    ``sizes``: entries per table (at least 1 each). ``writable``: tables clients may write
    (others: exception 02). ``on_write(table, address, values)``: None to accept a write, or an
    exception code. ``on_refuse(why)``: told of each exception answer and dropped frame, one line
    naming the field and what was expected, never the frame's bytes. Timeouts in seconds.
    ``requests``: PDUs answered; ``exceptions``: of which with an exception; ``dropped``: frames
    not answered (another protocol id, an impossible length, cut short).
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sizes: dict[str, int],
        writable: tuple[str, ...] = (),
        on_write: Callable[[str, int, list[int]], int | None] | None = None,
        on_refuse: Callable[[str], None] | None = None,
        frame_timeout_s: float = FRAME_TIMEOUT_S,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.host, self.port = host, port
        self.sizes = {t: max(int(sizes.get(t, 0)), 1) for t in TABLES}
        self.writable = set(writable)
        self.on_write = on_write
        self.on_refuse = on_refuse
        self.frame_timeout_s, self.idle_timeout_s = float(frame_timeout_s), float(idle_timeout_s)
        self.max_connections = int(max_connections)
        self.requests = 0
        self.exceptions = 0
        self.dropped = 0
        self._values: dict[str, list[int]] = {t: [0] * self.sizes[t] for t in TABLES}
        self._server: asyncio.Server | None = None
        self._active: dict[asyncio.StreamWriter, float] = {}  # connection -> last activity (monotonic s)
        self._tasks: set[asyncio.Task] = set()  # one per open connection

    # --- device side ------------------------------------------------------------------------
    def set(self, table: str, address: int, values: list[int]) -> None:
        """Set entries of a table (registers 0-65535, bits 0/1) as the device sees them."""
        for i, v in enumerate(values):
            self._values[table][address + i] = int(v)

    def get(self, table: str, address: int) -> int:
        return self._values[table][address]

    # --- protocol side: one PDU in, one PDU out ---------------------------------------------
    def answer(self, pdu: bytes) -> bytes:
        """The response PDU to a request PDU (function code and data), an exception one included."""
        self.requests += 1
        fc = pdu[0]
        try:
            handler = _HANDLERS.get(fc)
            if handler is None:
                raise Refused(ILLEGAL_FUNCTION, f"function 0x{fc:02X}: not implemented")
            return handler(self, fc, pdu[1:])
        except Refused as exc:
            self.exceptions += 1
            self._tell(f"answered exception {exc.code:02X}: {exc}")
            return bytes([fc | 0x80, exc.code])

    def _span(self, table: str, address: int, n: int, what: str, *, write: bool = False) -> None:
        size = self.sizes[table]
        if write and table not in self.writable:
            raise Refused(ILLEGAL_ADDRESS, f"{what}: {table} are read-only")
        if address + n > size:
            raise Refused(ILLEGAL_ADDRESS, f"{what}: address {address} + quantity {n}, expected at most {size}")

    def _store(self, table: str, address: int, values: list[int], what: str) -> None:
        """Let the device accept or refuse a write, then keep the values."""
        if self.on_write is not None:
            try:
                code = self.on_write(table, address, list(values))
            except Exception as exc:  # noqa: BLE001 - a device's failure is answered with 04, never raised
                raise Refused(DEVICE_FAILURE, f"{what}: the device failed ({type(exc).__name__})") from None
            if code is not None:
                code = int(code) if 1 <= int(code) <= 0x7F else DEVICE_FAILURE
                raise Refused(code, f"{what}: refused by the device")
        self._values[table][address : address + len(values)] = values

    def _read(self, fc: int, data: bytes) -> bytes:
        table, most = READ_LIMITS[fc]
        what = f"function 0x{fc:02X} ({table})"
        address, n = _fields("HH", data, what)
        _quantity(n, most, what)
        self._span(table, address, n, what)
        values = self._values[table][address : address + n]
        if table in BIT_TABLES:
            packed = pack_bitstring([bool(v) for v in values])
            return bytes([fc, len(packed)]) + packed
        return bytes([fc, 2 * n]) + struct.pack(f">{n}H", *values)

    def _write_coil(self, fc: int, data: bytes) -> bytes:
        what = "function 0x05 (coils)"
        address, value = _fields("HH", data, what)
        if value not in (COIL_ON, COIL_OFF):
            raise Refused(ILLEGAL_VALUE, f"{what}: value 0x{value:04X}, expected 0xFF00 or 0x0000")
        self._span("coils", address, 1, what, write=True)
        self._store("coils", address, [int(value == COIL_ON)], what)
        return bytes([fc]) + data

    def _write_register(self, fc: int, data: bytes) -> bytes:
        what = "function 0x06 (holding_registers)"
        address, value = _fields("HH", data, what)
        self._span("holding_registers", address, 1, what, write=True)
        self._store("holding_registers", address, [value], what)
        return bytes([fc]) + data

    def _write_coils(self, fc: int, data: bytes) -> bytes:
        what = "function 0x0F (coils)"
        address, n, count = _fields("HHB", data[:5], what)
        _quantity(n, MAX_WRITE_COILS, what)
        _byte_count(count, (n + 7) // 8, len(data) - 5, what)
        self._span("coils", address, n, what, write=True)
        self._store("coils", address, [int(b) for b in unpack_bitstring(data[5:])[:n]], what)
        return bytes([fc]) + data[:4]

    def _write_registers(self, fc: int, data: bytes) -> bytes:
        what = "function 0x10 (holding_registers)"
        address, n, count = _fields("HHB", data[:5], what)
        _quantity(n, MAX_WRITE_REGISTERS, what)
        _byte_count(count, 2 * n, len(data) - 5, what)
        self._span("holding_registers", address, n, what, write=True)
        self._store("holding_registers", address, list(struct.unpack(f">{n}H", data[5:])), what)
        return bytes([fc]) + data[:4]

    def _mask_write(self, fc: int, data: bytes) -> bytes:
        what = "function 0x16 (holding_registers)"
        address, and_mask, or_mask = _fields("HHH", data, what)
        self._span("holding_registers", address, 1, what, write=True)
        current = self._values["holding_registers"][address]
        value = (current & and_mask) | (or_mask & ~and_mask & 0xFFFF)
        self._store("holding_registers", address, [value], what)
        return bytes([fc]) + data

    def _read_write(self, fc: int, data: bytes) -> bytes:
        what = "function 0x17 (holding_registers)"
        r_address, r_n, w_address, w_n, count = _fields("HHHHB", data[:9], what)
        _quantity(r_n, MAX_RW_READ, what + " read")
        _quantity(w_n, MAX_RW_WRITE, what + " write")
        _byte_count(count, 2 * w_n, len(data) - 9, what)
        self._span("holding_registers", r_address, r_n, what + " read")
        self._span("holding_registers", w_address, w_n, what + " write", write=True)
        self._store("holding_registers", w_address, list(struct.unpack(f">{w_n}H", data[9:])), what)
        values = self._values["holding_registers"][r_address : r_address + r_n]
        return bytes([fc, 2 * r_n]) + struct.pack(f">{r_n}H", *values)

    def _tell(self, why: str) -> None:
        if self.on_refuse is not None:
            try:
                self.on_refuse(f"Modbus {self.host}:{self.port}: {why}")
            except Exception:  # noqa: BLE001 - a log that fails must not stop the server
                pass

    # --- protocol side: TCP -----------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._active) >= self.max_connections:
            oldest = min(self._active, key=self._active.__getitem__)
            self._active.pop(oldest, None)
            oldest.close()
        self._active[writer] = time.monotonic()
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while await self._one_frame(reader, writer):
                self._active[writer] = time.monotonic()
        except (asyncio.IncompleteReadError, TimeoutError):
            self.dropped += 1  # the frame stopped in the middle (closed, or silent for frame_timeout_s)
            self._tell("frame cut short: connection closed")
        except ConnectionError:
            pass  # the client went away
        except Exception as exc:  # noqa: BLE001 - one connection's trouble never reaches the server
            self._tell(f"connection closed after {type(exc).__name__}")
        finally:
            self._active.pop(writer, None)
            self._tasks.discard(task)
            writer.close()

    async def _one_frame(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read, answer and write one frame; False when the connection is to be closed."""
        try:
            first = await asyncio.wait_for(reader.read(1), self.idle_timeout_s)
        except TimeoutError:
            return False  # idle: closed, not counted
        if not first:
            return False
        head = first + await asyncio.wait_for(reader.readexactly(MBAP.size - 1), self.frame_timeout_s)
        tid, protocol, length, unit = MBAP.unpack(head)
        if not 2 <= length <= MAX_PDU_BYTES + 1:
            self.dropped += 1
            self._tell(f"MBAP length {length}, expected 2..{MAX_PDU_BYTES + 1}: connection closed")
            return False
        pdu = await asyncio.wait_for(reader.readexactly(length - 1), self.frame_timeout_s)
        if protocol != 0:
            self.dropped += 1
            self._tell(f"MBAP protocol identifier {protocol}, expected 0: frame ignored")
            return True
        try:
            out = self.answer(pdu)
        except Exception as exc:  # noqa: BLE001 - a fault of this server answers 04, the next frame is served
            self.exceptions += 1
            self._tell(f"answered exception 04 after {type(exc).__name__}")
            out = bytes([pdu[0] | 0x80, DEVICE_FAILURE])
        writer.write(MBAP.pack(tid, 0, len(out) + 1, unit) + out)
        try:
            await asyncio.wait_for(writer.drain(), self.frame_timeout_s)
        except TimeoutError:
            return False  # a client that does not read its answers: closed
        return True

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._connection, self.host, self.port)
        except OSError as exc:
            raise OSError(f"the Modbus server on {self.host}:{self.port} did not start: {exc.strerror or exc}") from exc
        if not self.port:
            self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None


_HANDLERS: dict[int, Callable[[ModbusFace, int, bytes], bytes]] = {
    0x01: ModbusFace._read,
    0x02: ModbusFace._read,
    0x03: ModbusFace._read,
    0x04: ModbusFace._read,
    0x05: ModbusFace._write_coil,
    0x06: ModbusFace._write_register,
    0x0F: ModbusFace._write_coils,
    0x10: ModbusFace._write_registers,
    0x16: ModbusFace._mask_write,
    0x17: ModbusFace._read_write,
}
