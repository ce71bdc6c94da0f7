"""A device's Modbus TCP server (pymodbus), with the four tables of a small PLC.

Each table holds ``size`` entries from address 0 (coils and discrete inputs one bit each). The
device fills its tables through :meth:`set`; writes from clients reach the device's
``on_write(table, address, values)``, which returns None to accept or a Modbus exception code.
pymodbus answers what it does not implement with exception 01 (illegal function) and addresses
outside the tables with 02 (illegal data address); bad values get 03 (a coil written with anything
but FF00/0000, or what the device refuses). Two pymodbus 3.16 deviations are corrected here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

TABLES = ("coils", "discrete_inputs", "holding_registers", "input_registers")
_FC_TABLE = {1: "coils", 5: "coils", 15: "coils", 2: "discrete_inputs", 4: "input_registers"}
_FC_TABLE.update({fc: "holding_registers" for fc in (3, 6, 16, 22, 23)})
ILLEGAL_FUNCTION, ILLEGAL_ADDRESS, ILLEGAL_VALUE = (
    ExcCodes.ILLEGAL_FUNCTION,
    ExcCodes.ILLEGAL_ADDRESS,
    ExcCodes.ILLEGAL_VALUE,
)

logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # a bad packet is answered, not logged as a crash


class ModbusFace:
    """One Modbus TCP server on ``host:port`` answering every unit id (manifests say 1).

    ``sizes``: entries per table. ``writable``: tables clients may write (others: exception 02).
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sizes: dict[str, int],
        writable: tuple[str, ...] = (),
        on_write: Callable[[str, int, list[int]], ExcCodes | None] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.sizes = {t: max(int(sizes.get(t, 0)), 1) for t in TABLES}
        self.writable = set(writable)
        self.on_write = on_write
        self._regs: dict[str, list[int]] = {}
        self.requests = 0
        self.exceptions = 0

        def block(table: str) -> list[SimData]:
            kind = DataType.BITS if table in ("coils", "discrete_inputs") else DataType.REGISTERS
            value = False if kind == DataType.BITS else 0
            return [SimData(0, count=self.sizes[table], values=value, datatype=kind)]

        self._device = SimDevice(
            0, simdata=tuple(block(t) for t in TABLES), use_bit_addressing=True, action=self._action
        )
        self._values: dict[str, list[int]] = {t: [0] * self.sizes[t] for t in TABLES}
        self._server: ModbusTcpServer | None = None
        self._task: asyncio.Task | None = None
        self._fc_of_tid: dict[bytes, int] = {}
        self._bad_coil_writes: set[int] = set()  # FC05 addresses last written with a value other than FF00/0000

    # --- device side ------------------------------------------------------------------------
    def set(self, table: str, address: int, values: list[int]) -> None:
        """Set entries of a table (registers 0-65535, bits 0/1) as the device sees them."""
        for i, v in enumerate(values):
            self._values[table][address + i] = int(v)

    def get(self, table: str, address: int) -> int:
        return self._values[table][address]

    # --- protocol side ----------------------------------------------------------------------
    async def _action(self, fc, start_address, address, count, registers, values):
        self.requests += 1
        table = _FC_TABLE.get(fc)
        if table is None:
            self.exceptions += 1
            return ILLEGAL_FUNCTION
        bits = table in ("coils", "discrete_inputs")
        if fc == 5 and address in self._bad_coil_writes:
            self._bad_coil_writes.discard(address)
            self.exceptions += 1
            return ILLEGAL_VALUE  # the standard: a single coil is written with FF00 or 0000 only
        if values is not None:  # a write
            if table not in self.writable:
                self.exceptions += 1
                return ILLEGAL_ADDRESS
            vals = [int(bool(v)) for v in values] if bits else [int(v) for v in values]
            addr = address if bits else address
            if self.on_write is not None:
                code = self.on_write(table, addr, vals[:count] if bits else vals)
                if code is not None:
                    self.exceptions += 1
                    return code
            for i, v in enumerate(vals[:count] if bits else vals):
                self._values[table][addr + i] = v
        # refresh the pymodbus block from the device's values
        current = self._values[table]
        if bits:
            words = [0] * len(registers)
            for i, v in enumerate(current):
                if v:
                    words[i // 16] |= 1 << (i % 16)
            registers[:] = words
        else:
            registers[: len(current)] = current
        return None

    def _trace(self, sending: bool, data: bytes) -> bytes:
        """pymodbus 3.16 answers an unknown function with function code 0x80; the standard says
        the request's code + 0x80 (e.g. 0xC1 for 0x41). Put the right code back."""
        if not sending:
            if len(data) >= 12 and data[7] == 0x05 and data[10:12] not in (b"\xff\x00", b"\x00\x00"):
                self._bad_coil_writes.add(int.from_bytes(data[8:10], "big"))  # pymodbus takes any value as OFF
            if len(data) >= 8:
                self._fc_of_tid[bytes(data[0:2])] = data[7]
                if len(self._fc_of_tid) > 1024:
                    self._fc_of_tid.clear()
            return data
        if len(data) >= 9 and data[7] == 0x80:
            fc = self._fc_of_tid.pop(bytes(data[0:2]), None)
            if fc is not None and fc < 0x80:
                data = data[:7] + bytes([fc | 0x80]) + data[8:]
        return data

    async def start(self) -> None:
        self._server = ModbusTcpServer(self._device, address=(self.host, self.port), trace_packet=self._trace)
        self._task = asyncio.create_task(self._server.serve_forever())
        for _ in range(500):  # wait until it listens
            await asyncio.sleep(0.01)
            if self._server.transport is not None:
                return
            if self._task.done():
                break
        why = self._task.exception() if self._task.done() and not self._task.cancelled() else "no answer in 5 s"
        raise OSError(f"the Modbus server on {self.host}:{self.port} did not start: {why}")

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()
        if self._task is not None:
            self._task.cancel()
