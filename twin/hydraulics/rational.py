"""The rational method, Q = C·i·A / 3.6, as an independent check of the SWMM peak discharge.

Q in m³/s, C dimensionless, i in mm/h, A in km². For a basin, C is the area-weighted runoff
coefficient (0.90 on impervious, 0.20 on pervious loam under forest and grass: textbook values,
e.g. ASCE/WEF Manual of Practice 9 tables), and i the highest average rain intensity over a
window as long as the time of concentration tc. tc = inlet time (overland flow into the
channel) + channel length / channel velocity (Kirpich-type travel-time estimate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

C_IMPERVIOUS = 0.90
C_PERVIOUS = 0.20


@dataclass(frozen=True)
class RationalEstimate:
    peak_m3s: float
    runoff_coefficient: float
    intensity_mm_h: float
    tc_s: float
    area_km2: float


def runoff_coefficient(areas_ha: np.ndarray, imperv_pct: np.ndarray) -> float:
    """Area-weighted C of subcatchments (areas in ha, imperviousness in %)."""
    f = np.asarray(imperv_pct, float) / 100.0
    a = np.asarray(areas_ha, float)
    return float(np.sum(a * (C_IMPERVIOUS * f + C_PERVIOUS * (1.0 - f))) / np.sum(a))


def max_mean_intensity_mm_h(depths_mm: np.ndarray, interval_s: float, window_s: float) -> float:
    """Highest average intensity (mm/h) over any window of ``window_s`` (rain uniform per interval)."""
    d = np.asarray(depths_mm, float)
    n = len(d)
    if n == 0:
        return 0.0
    # cumulative depth as a piecewise-linear function of time; sample window starts finely
    t = np.arange(n + 1) * interval_s
    cum = np.concatenate([[0.0], np.cumsum(d)])
    window_s = min(window_s, t[-1])
    starts = np.linspace(0.0, t[-1] - window_s, max(2, int(20 * n)))
    depth = np.interp(starts + window_s, t, cum) - np.interp(starts, t, cum)
    return float(depth.max() / (window_s / 3600.0))


def rational_peak(
    *,
    areas_ha: np.ndarray,
    imperv_pct: np.ndarray,
    depths_mm: np.ndarray,
    interval_s: float,
    channel_length_m: float,
    channel_velocity_m_s: float = 2.0,
    inlet_time_s: float = 1800.0,
) -> RationalEstimate:
    """Rational-method peak discharge of a basin for one hyetograph (units in the names)."""
    tc = inlet_time_s + channel_length_m / channel_velocity_m_s
    c = runoff_coefficient(areas_ha, imperv_pct)
    i = max_mean_intensity_mm_h(depths_mm, interval_s, tc)
    area_km2 = float(np.sum(areas_ha)) / 100.0
    return RationalEstimate(c * i * area_km2 / 3.6, c, i, tc, area_km2)
