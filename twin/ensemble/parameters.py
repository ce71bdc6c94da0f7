"""The varied parameters of a sweep: a scenario field and the distribution its value is drawn from.

A parameter is written ``KEY.PATH=DIST(ARGS)``, the ``--set`` key of the field and one of

- ``uniform(low, high)``, ``loguniform(low, high)`` (low > 0), ``triangular(low, mode, high)``:
  a real number in [low, high];
- ``normal(mean, sd)``: a real number (every drawn value must still pass the scenario's checks);
- ``integers(low, high)``: a whole number in [low, high], each equally likely;
- ``choice(a, b, ...)``: one of the values, each equally likely (YAML scalars: ``huff_q3``, ``120``).

Samplers draw points ``u`` of the unit hypercube [0, 1)^D (:mod:`twin.ensemble.design`); a
parameter maps its coordinate to a value with its inverse CDF (:meth:`Parameter.value`), so every
sampler works with every distribution, and a Sobol design stays a Sobol design. Units are those of
the scenario field (mm, s, m, people).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

from ..errors import SweepError
from ..input_files import StrictLoader
from ..validation_messages import short

KINDS = ("uniform", "loguniform", "triangular", "normal", "integers", "choice")
"""Distribution names a parameter may use."""

_ARGS = {"uniform": 2, "loguniform": 2, "triangular": 3, "normal": 2, "integers": 2}
_SYNTAX = re.compile(r"^\s*([a-z_]+)\s*\((.*)\)\s*$", re.DOTALL)
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|[0-9]+))*$")
EXAMPLE = "rainfall.total_mm=uniform(60, 150)"
_U_EDGE = 1e-12  # an unbounded distribution's inverse CDF is read at u in [edge, 1 - edge]


@dataclass(frozen=True)
class Parameter:
    """One varied scenario field: ``key`` (a ``--set`` key path, e.g. ``rainfall.total_mm``),
    ``kind`` (one of :data:`KINDS`) and ``args`` (the numbers of the distribution, or the choices)."""

    key: str
    kind: str
    args: tuple[Any, ...]

    @property
    def categorical(self) -> bool:
        """True for ``choice``: its values have no order (a Sobol index still applies, PRIM treats it as a set)."""
        return self.kind == "choice"

    @property
    def bounded(self) -> bool:
        """True when every value lies between two finite ends (all but ``normal``)."""
        return self.kind != "normal"

    def value(self, u: float) -> Any:
        """The value at quantile ``u`` in [0, 1] (the inverse CDF): a float, an int (integers), or a choice."""
        u = min(max(float(u), 0.0), 1.0)
        a = self.args
        if self.kind == "uniform":
            return float(a[0] + u * (a[1] - a[0]))
        if self.kind == "loguniform":
            return float(math.exp(math.log(a[0]) + u * (math.log(a[1]) - math.log(a[0]))))
        if self.kind == "triangular":
            low, mode, high = (float(x) for x in a)
            cut = (mode - low) / (high - low)
            if u <= cut:
                return low + math.sqrt(u * (high - low) * (mode - low))
            return high - math.sqrt((1 - u) * (high - low) * (high - mode))
        if self.kind == "normal":
            from scipy.stats import norm

            return float(norm.ppf(min(max(u, _U_EDGE), 1 - _U_EDGE), loc=a[0], scale=a[1]))
        if self.kind == "integers":
            n = int(a[1]) - int(a[0]) + 1
            return int(a[0]) + min(int(math.floor(u * n)), n - 1)
        return a[min(int(math.floor(u * len(a))), len(a) - 1)]  # choice

    def levels(self, k: int) -> list[float]:
        """Quantiles of a ``k``-level grid: both ends and even steps between for a bounded distribution
        (60, 90, 120, 150 for uniform(60, 150) at k = 4), the middles of k equal-probability bins for
        ``normal``; every choice once, and every whole number once when there are fewer than ``k``."""
        if self.kind == "choice":
            n = len(self.args)
            return [(i + 0.5) / n for i in range(n)]
        if self.kind == "integers":
            n = int(self.args[1]) - int(self.args[0]) + 1
            if n <= k:
                return [(i + 0.5) / n for i in range(n)]
        if not self.bounded or k < 2:
            return [(i + 0.5) / k for i in range(k)]
        return [i / (k - 1) for i in range(k)]

    def text(self) -> str:
        """The parameter as it is written, ``rainfall.total_mm=uniform(60, 150)``."""
        return f"{self.key}={self.kind}({', '.join(_scalar_text(x) for x in self.args)})"


def _scalar_text(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def parse_parameter(text: str, *, where: str = "--vary") -> Parameter:
    """The parameter written ``KEY.PATH=DIST(ARGS)`` (see the module docstring).

    ``where`` names the source in errors (``sweep.yaml: vary.rainfall.total_mm``); raises
    :class:`~twin.errors.SweepError` with one line ``WHERE: got ...: expected ...``."""
    key, sep, dist = str(text).partition("=")
    if not sep:
        raise SweepError(f"{where}: got no '=': expected KEY.PATH=DISTRIBUTION(ARGS), e.g. {EXAMPLE}")
    return parameter(key.strip(), dist, where=where)


def parameter(key: str, dist: Any, *, where: str) -> Parameter:
    """The parameter of scenario field ``key`` drawn from ``dist`` (``"uniform(60, 150)"``)."""
    if not _KEY.match(key):
        raise SweepError(
            f"{where}: got the key {short(key)!r}: expected a scenario field path, e.g. rainfall.total_mm"
        )
    if key in ("seed", "schema_version"):
        raise SweepError(
            f"{where}: got {key}: expected a scenario field other than seed and schema_version "
            "(each member's seed is spawned from the sweep's seed)"
        )
    if not isinstance(dist, str):
        raise SweepError(f"{where}: got {short(repr(dist))}: expected a distribution such as uniform(60, 150)")
    m = _SYNTAX.match(dist)
    if not m or m.group(1) not in KINDS:
        raise SweepError(
            f"{where}: got {short(dist)!r}: expected one of {', '.join(k + '(...)' for k in KINDS)}, "
            "e.g. uniform(60, 150) or choice(huff_q2, huff_q3)"
        )
    kind = m.group(1)
    try:
        args = yaml.load("[" + m.group(2) + "]", Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        raise SweepError(f"{where}: got {kind}({short(m.group(2))}): expected values separated by commas") from None
    if isinstance(args, list):
        args = [_plain(a, numeric=kind != "choice") for a in args]
    problem = _args_problem(kind, args)
    if problem:
        raise SweepError(f"{where}: got {kind}({short(m.group(2))}): expected {problem}")
    if kind == "integers":
        args = [int(x) for x in args]
    elif kind != "choice":
        args = [float(x) for x in args]
    return Parameter(key, kind, tuple(args))


def _plain(value: Any, *, numeric: bool) -> Any:
    """A parsed argument as a sweep keeps it: a date or time as its ISO text (what the scenario
    reads), and for a numeric distribution a number YAML 1.1 left as text (``1e2``) as that number."""
    import datetime as dt

    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if numeric and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _args_problem(kind: str, args: Any) -> str | None:
    if kind == "choice":
        if not isinstance(args, list) or len(args) < 2:
            return "at least two values, e.g. choice(huff_q2, huff_q3)"
        if any(isinstance(a, dict | list) or a is None for a in args):
            return "plain values (numbers or words), not lists, mappings or nothing"
        if len({_scalar_text(a) for a in args}) != len(args):
            return "each value once"
        return None
    n = _ARGS[kind]
    if not isinstance(args, list) or len(args) != n or not all(_number(a) for a in args):
        return f"{n} finite numbers"
    if kind == "integers":
        if any(float(a) != int(a) for a in args) or args[0] > args[1]:
            return "two whole numbers, low <= high, e.g. integers(500, 2000)"
        return None
    if kind == "normal":
        return None if args[1] > 0 else "a mean and a standard deviation > 0, e.g. normal(90, 15)"
    if kind == "triangular":
        return None if args[0] <= args[1] <= args[2] and args[0] < args[2] else "low <= mode <= high, low < high"
    if not args[0] < args[1]:
        return "low < high, e.g. uniform(60, 150)"
    if kind == "loguniform" and args[0] <= 0:
        return "0 < low < high, e.g. loguniform(0.5, 5)"
    return None
