"""A pyswmm run advanced by the engine, one sample interval at a time.

SWMM is neither re-entrant nor thread-safe: one run per process at a time (pyswmm refuses a
second). The run always releases the engine, even when the body raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import TwinError

OLE_EPOCH = datetime(1899, 12, 30)


class HydraulicsError(TwinError, RuntimeError):
    """SWMM refused the model or failed while running it (one line: SWMM's error code and text)."""


# What a SWMM error code means for a scenario: the field to change (EPA SWMM 5.2 error codes).
_SWMM_HINTS = {
    "138": "the initial depth of the base flow is above a channel's bank: lower hydraulics.base_flow_m3s",
}


def swmm_error(what: str, exc: BaseException, rpt: Path | None = None) -> HydraulicsError:
    """A :class:`HydraulicsError` for an exception of pyswmm (which raises bare ``Exception`` with
    SWMM's error text on several lines): one line, the ERROR lines of the report file ``rpt`` if
    any, and what to change in the scenario for the errors a scenario can cause."""
    text = " ".join(str(exc).split())
    errors = [text] if text else []
    if rpt is not None:
        try:
            lines = [ln.strip() for ln in rpt.read_text(encoding="utf-8", errors="replace").splitlines()]
        except OSError:
            lines = []
        errors += [" ".join(ln.split()) for ln in lines if ln.startswith("ERROR") and ln not in errors][:3]
    message = f"{what}: " + (" | ".join(dict.fromkeys(errors)) or type(exc).__name__)
    hints = [hint for code, hint in _SWMM_HINTS.items() if f"ERROR {code}" in message]
    if hints:
        message += " (" + "; ".join(hints) + ")"
    return HydraulicsError(message)


class SwmmRun:
    """Context manager around ``pyswmm.Simulation``; depths are metres (the model is CMS/SI).

    ``watch``: junction names whose depth is read after each step.
    """

    def __init__(
        self, inp: str | Path, *, watch: Sequence[str], step_s: float, start: datetime, watch_links: Sequence[str] = ()
    ) -> None:
        self.inp = Path(inp)
        self.watch = list(watch)
        self.watch_links = list(watch_links)
        self.step_s = float(step_s)
        self.start = start.replace(tzinfo=None)
        self._sim: Any | None = None  # the open pyswmm.Simulation (pyswmm has no type information)
        self._nodes: dict[str, Any] = {}  # pyswmm Node of each watched junction
        self._links: dict[str, Any] = {}  # pyswmm Link of each watched link
        self.elapsed_s = 0.0
        self.finished = False

    def __enter__(self) -> SwmmRun:
        from pyswmm import Links, Nodes, Simulation

        try:
            self._sim = sim = Simulation(str(self.inp))
            sim.__enter__()
        except Exception as exc:  # noqa: BLE001 - pyswmm raises bare exceptions on bad input
            raise swmm_error("SWMM could not open the model", exc, self.inp.with_suffix(".rpt")) from exc
        if sim.flow_units != "CMS":
            self.__exit__(None, None, None)
            raise HydraulicsError(f"{self.inp}: expected CMS flow units, got {sim.flow_units}")
        sim.step_advance(int(round(self.step_s)))  # SWMM strides whole seconds
        try:
            sim.start()  # load the initial state, so depths at t = 0 are the initial depths
        except Exception as exc:  # noqa: BLE001
            self.__exit__(None, None, None)
            raise swmm_error("SWMM could not start the model", exc, self.inp.with_suffix(".rpt")) from exc
        nodes = Nodes(sim)
        self._nodes = {name: nodes[name] for name in self.watch}
        links = Links(sim)
        self._links = {name: links[name] for name in self.watch_links}
        return self

    def advance(self, step_s: float | None = None) -> float:
        """Advance one step (``step_s`` whole seconds, default the run's step); returns the
        simulated seconds elapsed since the start."""
        if self.finished:
            return self.elapsed_s
        sim = self._open_sim()
        if step_s is not None:
            sim.step_advance(int(round(step_s)))
        try:
            next(sim)
        except StopIteration:
            self.finished = True
        except Exception as exc:  # noqa: BLE001 - pyswmm raises bare exceptions
            raise swmm_error(f"SWMM failed at {self.elapsed_s:.0f} s", exc, self.inp.with_suffix(".rpt")) from exc
        self.elapsed_s = (sim.current_time - self.start).total_seconds()
        return self.elapsed_s

    def _open_sim(self) -> Any:
        """The open pyswmm.Simulation; HydraulicsError outside the ``with`` block."""
        if self._sim is None:
            raise HydraulicsError(f"{self.inp}: the SWMM run is not open (use SwmmRun in a with block)")
        return self._sim

    def depths_m(self) -> dict[str, float]:
        """Water depth above the invert at each watched junction, m."""
        return {name: node.depth for name, node in self._nodes.items()}

    def peaks(self) -> dict[str, tuple[float, float]]:
        """Junction -> (maximum depth in m over every routing step, its time in s from the start)."""
        out = {}
        for name, node in self._nodes.items():
            st = node.statistics
            when = OLE_EPOCH + timedelta(days=st["max_depth_date"])
            out[name] = (float(st["max_depth"]), round((when - self.start).total_seconds(), 1))
        return out

    def peak_flows(self) -> dict[str, float]:
        """Link -> peak flow over every routing step, m³/s."""
        return {name: float(link.conduit_statistics["peak_flow"]) for name, link in self._links.items()}

    def finish(self) -> dict[str, float]:
        """End the run and return the continuity errors in percent (runoff, flow routing)."""
        while not self.finished:
            self.advance()
        model = self._open_sim()._model
        model.swmm_end()
        runoff, routing, _quality = model.swmm_getMassBalErr()
        return {"runoff_continuity_error_pct": float(runoff), "flow_routing_continuity_error_pct": float(routing)}

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._sim is not None:
            sim, self._sim = self._sim, None
            sim.__exit__(exc_type, exc, tb)


def run_standalone(
    inp: str | Path, *, watch: Sequence[str], step_s: float, start: datetime, watch_links: Sequence[str] = ()
) -> dict[str, Any]:
    """Run ``inp`` alone (no engine): peaks and continuity, as an engineer would check it."""
    with SwmmRun(inp, watch=watch, step_s=step_s, start=start, watch_links=watch_links) as run:
        while not run.finished:
            run.advance()
        peaks = run.peaks()
        flows = run.peak_flows()
        errors = run.finish()
    return {"peaks": peaks, "peak_flows": flows, **errors}
