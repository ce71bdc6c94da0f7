"""Rainfall for flood scenarios: hyetographs, design storms, gauge CSV files, KMA heavy-rain alerts.

Units are in every name: depths in mm, times and durations in s (``*_s``) unless a name says
otherwise (``duration_min``, ``return_period_yr``), intensities in mm/h (``*_mm_h``). Scenario
time is seconds from the scenario start; a :class:`Hyetograph` starts ``offset_s`` after it.

Rain is assumed uniform within each interval of a hyetograph, so cumulative depth is piecewise
linear in time. Everything here is deterministic.

Design storms:

* :func:`huff_storm` -- Huff (1967) quartile time distributions, the basis of the design-storm
  distribution in Korean practice (MOLIT design-flood guidelines, 3rd quartile most often).
* :func:`alternating_block` -- Chow, Maidment & Mays (1988), *Applied Hydrology*, sect. 14.4,
  from an intensity-duration-frequency relation :class:`IDF`.

:data:`DEFAULT_IDF` is an approximate relation for the Seoul/Uijeongbu region, **not** the
official MOLIT/KMA regional formula; replace it with the official one for design work.

Why one module of this size: design storms, gauge files and KMA alerts all make and read the one
:class:`Hyetograph` type with its units; split apart they would each need its invariants again.
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from types import MappingProxyType
from typing import overload

import numpy as np
import pandas as pd

from .errors import DataImportError

__all__ = [
    "DEFAULT_IDF",
    "HUFF_QUARTILES",
    "IDF",
    "KMA_CRITERIA",
    "KMA_LEVEL_KO",
    "Hyetograph",
    "RainAlert",
    "alternating_block",
    "huff_storm",
    "kma_alerts",
    "read_rain_csv",
    "uniform_field",
]

#: Relative tolerance for "a duration is a multiple of an interval" and "an accumulation reaches a threshold".
_REL_TOL = 1e-9

#: Largest rain CSV read, bytes (64 MiB: 30 days of 1-minute rows for about 40 gauges).
MAX_RAIN_CSV_BYTES = 64 << 20

#: Most intervals in one gauge's series (first to last time): 100,000 is 69 days of 1-minute rain,
#: 1.9 years of 10-minute rain; a series longer than this is refused before it is allocated.
MAX_RAIN_STEPS = 100_000


def _check_positive(name: str, value: float) -> float:
    """``value`` as a float; ValueError naming ``name`` and the value unless finite and > 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0.0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


def _check_non_negative(name: str, value: float) -> float:
    """``value`` as a float; ValueError naming ``name`` and the value unless finite and >= 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}") from None
    if not math.isfinite(v) or v < 0.0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return v


def _interval_count(duration_s: float, interval_s: float) -> int:
    """Number of intervals of ``interval_s`` in ``duration_s``; ValueError unless an exact multiple."""
    ratio = duration_s / interval_s
    n = round(ratio)
    if n < 1 or abs(ratio - n) > _REL_TOL * max(1.0, ratio):
        raise ValueError(
            f"duration_s={duration_s!r} must be a positive whole multiple of interval_s={interval_s!r} "
            f"(ratio {ratio:.6g})"
        )
    return int(n)


# --------------------------------------------------------------------------------------------
# Hyetograph
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Hyetograph:
    """Rain depth per fixed interval.

    ``depths_mm[k]`` (mm) falls during ``[k*interval_s, (k+1)*interval_s)`` after ``offset_s``
    (s from scenario start), uniformly within the interval. ``depths_mm`` is stored as a
    read-only 1-D float array with at least one value, every value finite and >= 0;
    ``interval_s`` (s) is > 0. Two hyetographs are equal when interval, offset and every depth
    are equal.
    """

    depths_mm: np.ndarray
    interval_s: float
    offset_s: float = 0.0

    def __post_init__(self) -> None:
        try:
            depths = np.array(self.depths_mm, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"depths_mm must be numbers in mm, got {self.depths_mm!r}") from None
        if depths.ndim != 1 or depths.size == 0:
            raise ValueError(f"depths_mm must be a non-empty 1-D sequence, got shape {depths.shape}")
        bad = ~np.isfinite(depths) | (depths < 0.0)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise ValueError(f"depths_mm must be finite and >= 0 mm; depths_mm[{k}] = {depths[k]!r}")
        depths.flags.writeable = False
        object.__setattr__(self, "depths_mm", depths)
        object.__setattr__(self, "interval_s", _check_positive("interval_s", self.interval_s))
        try:
            offset = float(self.offset_s)
        except (TypeError, ValueError):
            raise ValueError(f"offset_s must be a number of seconds, got {self.offset_s!r}") from None
        if not math.isfinite(offset):
            raise ValueError(f"offset_s must be finite, got {self.offset_s!r}")
        object.__setattr__(self, "offset_s", offset)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hyetograph):
            return NotImplemented
        return (
            self.interval_s == other.interval_s
            and self.offset_s == other.offset_s
            and np.array_equal(self.depths_mm, other.depths_mm)
        )

    __hash__ = None  # type: ignore[assignment]  # holds an array: not hashable

    def __repr__(self) -> str:
        return (
            f"Hyetograph(n={self.depths_mm.size}, interval_s={self.interval_s:g}, offset_s={self.offset_s:g}, "
            f"total_mm={self.total_mm:.6g}, peak_intensity_mm_h={self.peak_intensity_mm_h:.6g})"
        )

    # ---- derived quantities ----

    @property
    def total_mm(self) -> float:
        """Total depth (mm)."""
        return float(self.depths_mm.sum())

    @property
    def duration_s(self) -> float:
        """Length of the hyetograph (s): number of intervals times ``interval_s``."""
        return self.depths_mm.size * self.interval_s

    @property
    def end_s(self) -> float:
        """Scenario time (s) at which the last interval ends: ``offset_s + duration_s``."""
        return self.offset_s + self.duration_s

    @property
    def times_s(self) -> np.ndarray:
        """Start time of each interval (s from scenario start, ``offset_s`` included)."""
        return self.offset_s + np.arange(self.depths_mm.size) * self.interval_s

    @property
    def intensity_mm_h(self) -> np.ndarray:
        """Mean intensity of each interval (mm/h)."""
        return self.depths_mm * (3600.0 / self.interval_s)

    @property
    def peak_intensity_mm_h(self) -> float:
        """Largest interval-mean intensity (mm/h)."""
        return float(self.intensity_mm_h.max())

    # ---- operations ----

    def scaled(self, factor: float) -> Hyetograph:
        """Every depth multiplied by ``factor`` (dimensionless, finite, >= 0); same intervals."""
        f = _check_non_negative("factor", factor)
        return Hyetograph(self.depths_mm * f, self.interval_s, self.offset_s)

    def _cumulative_at_index(self, u: np.ndarray) -> np.ndarray:
        """Cumulative depth (mm) at ``u`` intervals after ``offset_s`` (fractional, clamped to the record)."""
        cum = np.concatenate(([0.0], np.cumsum(self.depths_mm)))
        return np.interp(u, np.arange(cum.size, dtype=float), cum)

    @overload
    def cumulative_mm(self, t_s: float) -> float: ...
    @overload
    def cumulative_mm(self, t_s: np.ndarray) -> np.ndarray: ...
    def cumulative_mm(self, t_s: float | np.ndarray) -> float | np.ndarray:
        """Depth (mm) fallen from the scenario start up to scenario time ``t_s`` (s).

        Zero before ``offset_s``, the total after :attr:`end_s`, linear within an interval.
        ``t_s`` may be an array (then an array is returned).
        """
        t = np.asarray(t_s, dtype=float)
        out = self._cumulative_at_index((t - self.offset_s) / self.interval_s)
        return float(out) if out.ndim == 0 else out

    def depth_between(self, t0_s: float, t1_s: float) -> float:
        """Depth (mm) fallen between scenario times ``t0_s`` and ``t1_s`` (s), ``t0_s <= t1_s``."""
        if not (t0_s <= t1_s):
            raise ValueError(f"t0_s must not be after t1_s, got t0_s={t0_s!r}, t1_s={t1_s!r}")
        return float(self.cumulative_mm(t1_s) - self.cumulative_mm(t0_s))

    def resample(self, interval_s: float) -> Hyetograph:
        """The same rain on intervals of ``interval_s`` (s), same ``offset_s``, total preserved.

        Depths come from the piecewise-linear cumulative curve at the new interval boundaries.
        When the new interval is a whole multiple of the old one, each new depth is exactly
        the sum of the old ones it covers; when it divides the old one, each old depth is split
        evenly. Otherwise depths are shared in proportion to overlap. If the new interval does
        not divide the duration, the record is extended to the next whole interval (no rain).
        """
        new = _check_positive("interval_s", interval_s)
        ratio = self.duration_s / new
        n_new = max(1, math.ceil(ratio - _REL_TOL * max(1.0, ratio)))
        u = np.arange(n_new + 1) * (new / self.interval_s)
        u[-1] = max(u[-1], float(self.depths_mm.size))  # the last boundary covers the whole record
        cum = self._cumulative_at_index(u)
        depths = np.clip(np.diff(cum), 0.0, None)
        return Hyetograph(depths, new, self.offset_s)


# --------------------------------------------------------------------------------------------
# Huff (1967) quartile storms
# --------------------------------------------------------------------------------------------

#: Huff (1967) median (50 % probability) time distributions of heavy-storm rainfall, quartiles 1-4.
#:
#: Each value is the cumulative fraction of the storm total (0..1) at 0, 10, ..., 100 % of the
#: storm duration (11 values). A quartile-``q`` storm has its heaviest rain in the ``q``-th
#: quarter of its duration. Source: F. A. Huff (1967), "Time distribution of rainfall in heavy
#: storms", *Water Resources Research* 3(4), 1007-1019; values as commonly tabulated in design
#: references (the point-rainfall medians restated in Illinois State Water Survey Bulletins 70
#: and 71, Huff 1990 and Huff & Angel 1992), read at 10 % steps and rounded to 0.01. Korean
#: design practice (MOLIT) uses station-specific Huff curves; substitute those for design work.
HUFF_QUARTILES: MappingProxyType[int, tuple[float, ...]] = MappingProxyType(
    {
        1: (0.00, 0.33, 0.52, 0.66, 0.75, 0.82, 0.88, 0.92, 0.95, 0.98, 1.00),
        2: (0.00, 0.08, 0.16, 0.29, 0.51, 0.70, 0.81, 0.88, 0.93, 0.97, 1.00),
        3: (0.00, 0.05, 0.11, 0.18, 0.27, 0.39, 0.58, 0.76, 0.87, 0.95, 1.00),
        4: (0.00, 0.04, 0.09, 0.14, 0.20, 0.28, 0.38, 0.51, 0.69, 0.88, 1.00),
    }
)


def huff_storm(total_mm: float, duration_s: float, *, quartile: int = 3, interval_s: float = 600.0) -> Hyetograph:
    """A design storm of ``total_mm`` (mm) over ``duration_s`` (s) with a Huff quartile distribution.

    The dimensionless cumulative curve of :data:`HUFF_QUARTILES` ``[quartile]`` is interpolated
    monotonically (PCHIP, so no interval is negative) at the interval boundaries and
    differenced. ``duration_s`` must be a whole multiple of ``interval_s`` (s). The depths sum
    to ``total_mm`` (to rounding). The 3rd quartile is the usual choice in Korean practice.
    """
    from scipy.interpolate import PchipInterpolator

    total = _check_non_negative("total_mm", total_mm)
    duration = _check_positive("duration_s", duration_s)
    interval = _check_positive("interval_s", interval_s)
    if isinstance(quartile, bool) or quartile not in HUFF_QUARTILES:
        raise ValueError(f"quartile must be 1, 2, 3 or 4, got {quartile!r}")
    n = _interval_count(duration, interval)
    curve = np.asarray(HUFF_QUARTILES[quartile], dtype=float)
    frac_time = np.linspace(0.0, 1.0, curve.size)
    cum = PchipInterpolator(frac_time, curve)(np.arange(n + 1) / n)
    cum[0], cum[-1] = 0.0, 1.0
    inc = np.clip(np.diff(cum), 0.0, None)
    depths = inc / inc.sum() * total
    return Hyetograph(depths, interval, 0.0)


# --------------------------------------------------------------------------------------------
# Intensity-duration-frequency and the alternating block method
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IDF:
    """Rainfall intensity-duration-frequency relation ``i(t, T)`` in mm/h.

    ``i = a(T) / (t**n + b)`` for duration ``t`` in minutes and return period ``T`` in years,
    with ``a(T) = a0 + a1 * ln(T)`` (a "general" form used in Korean practice). ``a0``, ``a1``
    are in mm/h * min**n, ``b`` in min**n, ``n`` dimensionless. ``source`` says where the
    parameters come from.
    """

    a0: float
    a1: float
    b: float
    n: float
    source: str

    def __post_init__(self) -> None:
        for name in ("a0", "a1", "b", "n"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ValueError(f"IDF.{name} must be a finite number, got {v!r}")
        if self.n <= 0:
            raise ValueError(f"IDF.n must be > 0, got {self.n!r}")
        if self.b < 0:
            raise ValueError(f"IDF.b must be >= 0, got {self.b!r}")

    def a_mm_h(self, return_period_yr: float) -> float:
        """``a(T) = a0 + a1*ln(T)`` for return period ``T`` (years, >= 1); must come out > 0."""
        try:
            t_yr = float(return_period_yr)
        except (TypeError, ValueError):
            raise ValueError(f"return_period_yr must be a number of years >= 1, got {return_period_yr!r}") from None
        if not math.isfinite(t_yr) or t_yr < 1.0:
            raise ValueError(f"return_period_yr must be a finite number of years >= 1, got {return_period_yr!r}")
        a = self.a0 + self.a1 * math.log(t_yr)
        if a <= 0:
            raise ValueError(f"a(T) = {a!r} <= 0 for return_period_yr={return_period_yr!r}: check the IDF parameters")
        return a

    def intensity_mm_h(self, duration_min: float | np.ndarray, return_period_yr: float) -> float | np.ndarray:
        """Mean intensity (mm/h) over ``duration_min`` (min, > 0) for ``return_period_yr`` (years).

        ``duration_min`` may be an array (then an array is returned).
        """
        t = np.asarray(duration_min, dtype=float)
        if not np.all(np.isfinite(t) & (t > 0)):
            raise ValueError(f"duration_min must be finite and > 0 min, got {duration_min!r}")
        i = self.a_mm_h(return_period_yr) / (t**self.n + self.b)
        return float(i) if i.ndim == 0 else i

    def depth_mm(self, duration_min: float | np.ndarray, return_period_yr: float) -> float | np.ndarray:
        """Depth (mm) over ``duration_min`` (min): intensity (mm/h) times ``duration_min / 60``."""
        t = np.asarray(duration_min, dtype=float)
        d = np.asarray(self.intensity_mm_h(t, return_period_yr)) * t / 60.0
        return float(d) if d.ndim == 0 else d


#: Approximate IDF for the Seoul/Uijeongbu region (i in mm/h, t in min, T in years).
#:
#: Chosen so that the 30-yr intensities are plausible for Seoul: about 150 mm/h over 10 min,
#: 95 mm/h over 1 h (95 mm), 174 mm over 3 h, about 390 mm over 24 h; 2-yr 1-h about 52 mm/h.
DEFAULT_IDF = IDF(
    a0=1790.0,
    a1=683.0,
    b=21.7,
    n=0.75,
    source=(
        "approximate, not the official MOLIT/KMA regional IDF; replace with the official formula "
        "(parameters chosen to give plausible Seoul values: 30-yr 1-h ~95 mm/h, 3-h ~174 mm)"
    ),
)


def alternating_block(
    duration_s: float,
    *,
    return_period_yr: float = 30.0,
    interval_s: float = 600.0,
    idf: IDF = DEFAULT_IDF,
    total_mm: float | None = None,
) -> Hyetograph:
    """Design storm by the alternating block method (Chow, Maidment & Mays 1988, sect. 14.4).

    The IDF depth-duration curve ``D(k*interval_s)`` for ``k = 1..n`` (``n = duration_s /
    interval_s``, a whole number) is differenced into blocks; the blocks are sorted in
    descending order, the largest placed in the centre (index ``(n-1)//2``, i.e. just before
    the midpoint when ``n`` is even), the rest alternately to its right and left. For a concave
    depth-duration curve (as from :data:`DEFAULT_IDF`) the heaviest ``k`` consecutive intervals
    then hold exactly ``D(k*interval_s)`` and the storm total is ``D(duration_s)``. With
    ``total_mm`` (mm) the storm is scaled to that total instead.
    """
    duration = _check_positive("duration_s", duration_s)
    interval = _check_positive("interval_s", interval_s)
    n = _interval_count(duration, interval)
    durations_min = np.arange(1, n + 1) * (interval / 60.0)
    depth = np.asarray(idf.depth_mm(durations_min, return_period_yr), dtype=float)
    blocks = np.sort(np.clip(np.diff(np.concatenate(([0.0], depth))), 0.0, None))[::-1]
    centre = (n - 1) // 2
    order = [centre]
    for j in range(1, n):
        order.append(centre + (j + 1) // 2 if j % 2 else centre - j // 2)
    depths = np.empty(n)
    depths[order] = blocks
    h = Hyetograph(depths, interval, 0.0)
    if total_mm is not None:
        target = _check_non_negative("total_mm", total_mm)
        h = h.scaled(target / h.total_mm)
    return h


# --------------------------------------------------------------------------------------------
# Gauge CSV files
# --------------------------------------------------------------------------------------------


def _seoul_tz() -> tzinfo:
    """Asia/Seoul from the tz database, or fixed UTC+09:00 (KST) when the database is missing."""
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Seoul")
    except (ImportError, KeyError, OSError, ValueError):  # no tz database; Korea has kept UTC+09:00 since 1988
        return timezone(timedelta(hours=9), "KST")


def _aware(t: datetime, tz: tzinfo) -> datetime:
    return t.replace(tzinfo=tz) if t.tzinfo is None or t.utcoffset() is None else t


def _first_long_row(text: str) -> int | str:
    """Line number of the first CSV row with more fields than the header ("?" if none is found)."""
    try:
        rows = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
        width = len(next(rows, []))
        for row in rows:
            if len(row) > width:
                return rows.line_num
    except csv.Error:
        pass
    return "?"


def read_rain_csv(
    path: str | os.PathLike[str],
    *,
    interval_s: float | None = None,
    start: datetime | None = None,
) -> dict[str, Hyetograph]:
    """Gauge hyetographs from a CSV file, one :class:`Hyetograph` per gauge.

    Columns (others are ignored): ``time`` -- ISO 8601 start of the interval, e.g.
    ``2020-08-03T01:00:00+09:00``; without an offset it is Asia/Seoul time. ``gauge_id`` -- a
    non-empty string. ``mm`` -- depth (mm, >= 0) fallen in that interval.

    The interval (s) is ``interval_s`` or, when None, the smallest positive time step of each
    gauge (of the whole file for a gauge with a single row). Missing intervals are zero rain.
    ``offset_s`` of each gauge is its first time minus ``start`` (s); ``start`` defaults to the
    earliest time in the file, and a naive ``start`` is Asia/Seoul time. Gauges come in the
    order they first appear.

    Raises DataImportError naming the file and line for: a missing or unreadable file, a file
    that is not a regular file (a device, a FIFO, a /proc file) or is larger than
    :data:`MAX_RAIN_CSV_BYTES`, missing columns, no data rows, an unparsable time, an empty
    gauge_id, a non-numeric or negative mm, a duplicate (time, gauge_id), times that are not
    whole intervals apart, and a series longer than :data:`MAX_RAIN_STEPS` intervals. The
    messages never repeat the file's contents (it may be any file a scenario names).
    """
    from .input_files import read_regular_file

    p = Path(path)
    if interval_s is not None:
        interval_s = _check_positive("interval_s", interval_s)
    if not p.exists():
        raise DataImportError(f"{p}: rain CSV file not found")
    raw = read_regular_file(p, what="a rain CSV file", max_bytes=MAX_RAIN_CSV_BYTES, error=DataImportError)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataImportError(f"{p}: not UTF-8 text (byte {exc.start}): expected a UTF-8 CSV file") from None
    if "\x00" in text:
        raise DataImportError(f"{p}: a NUL character: expected a text CSV file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # a row longer than the header
            df = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                skipinitialspace=True,
                index_col=False,
            )
    except pd.errors.EmptyDataError:
        raise DataImportError(f"{p} line 1: empty file; expected a header with columns time, gauge_id, mm") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning):
        raise DataImportError(f"{p} line {_first_long_row(text)}: more fields than the header line") from None
    except (ValueError, OSError, csv.Error) as exc:  # pandas' own messages may quote the file
        raise DataImportError(f"{p}: cannot read as a CSV file ({type(exc).__name__})") from None

    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in ("time", "gauge_id", "mm") if c not in df.columns]
    if missing:  # the header of a file that is not a rain CSV may be anything: count it, never show it
        raise DataImportError(
            f"{p} line 1: missing column(s) {', '.join(missing)}; expected a header with columns time, gauge_id, mm "
            f"(found {len(df.columns)} other column(s))"
        )

    tz = _seoul_tz()
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    rows: list[tuple[int, str, float, float]] = []  # (line, gauge, t_s since epoch, mm)
    seen: dict[tuple[str, float], int] = {}
    times = df["time"].astype(str).tolist()
    gauges = df["gauge_id"].astype(str).tolist()
    depths = df["mm"].astype(str).tolist()
    for idx, (t_raw, g_raw, mm_raw) in enumerate(zip(times, gauges, depths, strict=True)):
        line = idx + 2  # line 1 is the header
        t_txt, g, mm_txt = t_raw.strip(), g_raw.strip(), mm_raw.strip()
        if not t_txt and not g and not mm_txt:
            continue  # blank line
        try:
            t = _aware(datetime.fromisoformat(t_txt), tz)
            t_s = (t - epoch).total_seconds()
        except (ValueError, OverflowError):
            raise DataImportError(
                f"{p} line {line}: column time: not an ISO 8601 date-time (e.g. 2020-08-03T01:00:00+09:00)"
            ) from None
        if not g:
            raise DataImportError(f"{p} line {line}: empty gauge_id")
        try:
            mm = float(mm_txt)
        except ValueError:
            raise DataImportError(f"{p} line {line}: column mm: not a number (a depth in mm)") from None
        if not math.isfinite(mm) or mm < 0:
            raise DataImportError(f"{p} line {line}: column mm: expected a finite depth >= 0 mm")
        key = (g, t_s)
        if key in seen:
            raise DataImportError(f"{p} line {line}: duplicate time for the same gauge_id (first on line {seen[key]})")
        seen[key] = line
        rows.append((line, g, t_s, mm))
    if not rows:
        raise DataImportError(f"{p} line 2: no data rows")

    by_gauge: dict[str, list[tuple[int, float, float]]] = {}
    for line, g, t_s, mm in rows:
        by_gauge.setdefault(g, []).append((line, t_s, mm))

    def smallest_step(ts: np.ndarray) -> float | None:
        steps = np.diff(np.unique(ts))
        steps = steps[steps > 0]
        return float(steps.min()) if steps.size else None

    file_step = smallest_step(np.array([r[2] for r in rows]))
    if start is None:
        start_s = min(r[2] for r in rows)
    else:
        if not isinstance(start, datetime):
            raise ValueError(f"start must be a datetime, got {start!r}")
        start_s = (_aware(start, tz) - epoch).total_seconds()

    out: dict[str, Hyetograph] = {}
    for g, recs in by_gauge.items():
        ts = np.array([r[1] for r in recs])
        step = interval_s if interval_s is not None else smallest_step(ts)
        if step is None:
            step = file_step
        if step is None:
            raise DataImportError(
                f"{p} line {recs[0][0]}: cannot infer the interval from a single time; pass interval_s"
            )
        t0 = float(ts.min())
        u = (ts - t0) / step
        if float(u.max()) >= MAX_RAIN_STEPS:
            j = int(np.argmax(u))
            raise DataImportError(
                f"{p} line {recs[j][0]}: the series of its gauge spans {float(u.max()) + 1:.6g} intervals of "
                f"{step:g} s: expected at most {MAX_RAIN_STEPS} intervals from a gauge's first time to its last"
            )
        k = np.rint(u)
        off_grid = np.abs(u - k) > 1e-6 / step + _REL_TOL * np.maximum(1.0, u)  # 1 microsecond
        if off_grid.any():
            j = int(np.flatnonzero(off_grid)[0])
            raise DataImportError(
                f"{p} line {recs[j][0]}: time is {ts[j] - t0:g} s after the first time of its gauge_id, "
                f"not a whole multiple of the interval {step:g} s"
            )
        slots = k.astype(int)
        d = np.zeros(int(slots.max()) + 1)
        d[slots] = [r[2] for r in recs]
        out[g] = Hyetograph(d, step, t0 - start_s)
    return out


def uniform_field(h: Hyetograph, gauge_ids: list[str]) -> dict[str, Hyetograph]:
    """The same hyetograph ``h`` for every gauge in ``gauge_ids`` (spatially uniform rain)."""
    if not isinstance(h, Hyetograph):
        raise ValueError(f"h must be a Hyetograph, got {h!r}")
    ids = list(gauge_ids)
    for g in ids:
        if not isinstance(g, str) or not g:
            raise ValueError(f"gauge ids must be non-empty strings, got {g!r}")
    dup = sorted({g for g in ids if ids.count(g) > 1})
    if dup:
        raise ValueError(f"duplicate gauge ids: {dup!r}")
    return {g: h for g in ids}


# --------------------------------------------------------------------------------------------
# KMA heavy-rain advisories and warnings
# --------------------------------------------------------------------------------------------

#: KMA heavy-rain criteria (호우주의보 advisory / 호우경보 warning): (level, window_s, threshold_mm).
#: Issued when the accumulation over the last 3 h or 12 h reaches the threshold (KMA criteria
#: in force since 2018; the KMA issues them on forecasts, here they are applied to a hyetograph).
KMA_CRITERIA: tuple[tuple[str, float, float], ...] = (
    ("advisory", 3 * 3600.0, 60.0),
    ("advisory", 12 * 3600.0, 110.0),
    ("warning", 3 * 3600.0, 90.0),
    ("warning", 12 * 3600.0, 180.0),
)

#: Korean names of the alert levels.
KMA_LEVEL_KO: MappingProxyType[str, str] = MappingProxyType({"advisory": "호우주의보", "warning": "호우경보"})

_LEVEL_RANK = MappingProxyType({"advisory": 0, "warning": 1})


@dataclass(frozen=True)
class RainAlert:
    """A KMA criterion reached: at scenario time ``time_s`` (s) the depth over the last
    ``window_s`` (s) first reached ``threshold_mm`` (mm); ``depth_mm`` (mm) is that depth.

    ``level`` is "advisory" or "warning"; ``level_ko`` "호우주의보" or "호우경보".
    """

    time_s: float
    level: str
    level_ko: str
    window_s: float
    depth_mm: float
    threshold_mm: float


def kma_alerts(h: Hyetograph) -> list[RainAlert]:
    """The first time each :data:`KMA_CRITERIA` criterion is reached by ``h``.

    The moving-window accumulation ``A(t) = C(t) - C(t - window_s)`` (``C`` the cumulative
    depth, rain uniform within each interval) is piecewise linear between the interval
    boundaries and the boundaries shifted by ``window_s``; the exact time within that segment
    where it reaches the threshold is returned (to 1e-9 relative rounding). At most one alert
    per (level, window); a criterion never reached gives none. Sorted by time, then level
    (advisory before warning), then window.
    """
    if not isinstance(h, Hyetograph):
        raise ValueError(f"h must be a Hyetograph, got {h!r}")
    bounds = h.offset_s + np.arange(h.depths_mm.size + 1) * h.interval_s
    alerts: list[RainAlert] = []
    for level, window_s, threshold_mm in KMA_CRITERIA:
        t = np.unique(np.concatenate((bounds, bounds + window_s)))
        acc = np.asarray(h.cumulative_mm(t)) - np.asarray(h.cumulative_mm(t - window_s))
        reached = np.flatnonzero(acc >= threshold_mm * (1.0 - _REL_TOL))
        if reached.size == 0:
            continue
        j = int(reached[0])
        if j == 0:  # cannot happen for a positive threshold (A = 0 at the first boundary)
            t_hit = float(t[0])
        else:
            frac = (threshold_mm - acc[j - 1]) / (acc[j] - acc[j - 1])
            t_hit = float(t[j - 1] + min(max(frac, 0.0), 1.0) * (t[j] - t[j - 1]))
        depth = h.depth_between(t_hit - window_s, t_hit)
        alerts.append(RainAlert(t_hit, level, KMA_LEVEL_KO[level], window_s, depth, threshold_mm))
    alerts.sort(key=lambda a: (a.time_s, _LEVEL_RANK[a.level], a.window_s))
    return alerts
