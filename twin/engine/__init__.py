"""The engine: one SimPy clock (simulated seconds from the scenario start), a typed event log and
recorders. Models are SimPy processes; none of them reads the wall clock."""

from .core import Engine
from .events import Event, EventLog
from .recorder import Recorder

__all__ = ["Engine", "Event", "EventLog", "Recorder"]
