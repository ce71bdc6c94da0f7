"""Rain-driven stability of a shallow soil slope: Iverson's (2000) transient pore pressure on an
infinite slope and the factor of safety (FS) exactly as the USGS TRIGRS program codes it.

Pure functions of arrays; no clock, no I/O. Units: depths in metres (measured VERTICALLY from the
ground surface, as in TRIGRS), times in seconds, rain in mm/h, pressure head in metres of water,
cohesion in kPa, unit weights in kN/m³, angles in degrees.

The model (Iverson 2000, Water Resources Research 36(7):1897-1910, eqs 26-27; as coded in
``src/TRIGRS/iverson.f95`` of usgs/landslides-trigrs v2.1.00a, subroutine ``iverson``):

* initial (steady, slope-parallel flow) pressure head ψ0(Z) = β (Z − d), β = cos²δ, d the depth of
  the water table, δ the slope angle;
* transient head of a piecewise-constant infiltration series (a sum of Heaviside steps)
  ψ(Z, t) = ψ0(Z) + Z Σ_n (I_n/K_s) [R(t*_n) − R(t*_{n+1})], with
  R(t*) = √(t*/π) exp(−1/t*) − erfc(1/√t*), t*_n = (t − t_n) / (Z²/D̂) and R = 0 for t ≤ t_n;
  at Z = 0 the exact limit Z·R(t*) = √(D̂ (t − t_n)/π) is used (TRIGRS, after Carslaw & Jaeger);
* D̂ = 4 D0 / cos²δ. Iverson printed D̂ = 4 D0 cos²δ (his eq 26c); TRIGRS uses the "corrected
  form of equation 26c as noted in Baum and others (2008, 2010)" (TRIGRS USER_GUIDE.md), coded as
  ``dhat=4.*dif/(b1*b1)``. It is the form that solves the slope-normal diffusion equation
  ∂ψ/∂t = D0 ∂²ψ/∂z² written in the vertical depth Z = z / cosδ; the tests check it against a
  numerical solution of that equation and show that the printed cos²δ form does not fit;
* infiltration I_n = min(rain_n, K_s); the excess is runoff (TRIGRS ``rnoff``: ``rik = 1`` when
  K_s < rain, else ``rain/K_s``);
* the head is capped at the hydrostatic "β line": ψ ≤ β Z (TRIGRS: ``if (p > bline) p = bline``);
* FS(Z, t) = tanφ/tanδ + [c − ψ γ_w tanφ] / (γ_s Z sinδ cosδ); when the two friction terms sum
  below zero, FS = the cohesion term alone ("frictional strength cannot be less than zero"); FS is
  capped at 10 and set to 10 for Z ≤ 0.01 m; with the tutorial's option "ignore negative pressure
  head" (``lpge0``, default here) a negative ψ adds nothing to the friction term.

Flux convention (a choice to know about). TRIGRS feeds the rain gauge intensity, capped at K_s,
straight in as Iverson's I_Z/K_Z. Solving the slope-normal problem shows that this equals a flux
of I/cosδ normal to the slope surface, whereas rain of intensity I (per horizontal area) falling
vertically brings I·cosδ per unit of slope surface: TRIGRS's transient head is larger than that
physical reading by 1/cos²δ (33 % at 30°, on the safe side). ``slope_normal_flux=False`` (the
default) reproduces TRIGRS; ``True`` multiplies I_Z/K_Z by cos²δ. ASSUMPTION: the lead keeps
TRIGRS's convention unless calibration says otherwise.

Other ASSUMPTIONS: no steady background infiltration (TRIGRS ``rizero`` = 0, flow direction
"slope", so β = cos²δ); an infinitely deep, saturated, linear-diffusion column (Iverson's
"infinite depth" model, TRIGRS ``iverson``), whose validity needs t ≪ H²/D0-scale limits not
checked here; the rain after the last step is zero when the steps are closed (see
:func:`pressure_head_m`).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields

import numpy as np
from scipy.special import erfc

from twin.errors import TwinError

GAMMA_W_KN_M3 = 9.81  # unit weight of water, kN/m³ (TRIGRS tutorial uses 9.8e3 N/m³)
FS_CAP = 10.0  # TRIGRS ``finf``: the largest factor of safety reported
FS_SHALLOW_M = 0.01  # TRIGRS: FS = FS_CAP at depths Z <= 0.01 m
MM_H_TO_M_S = 1e-3 / 3600.0


class SlopeParameterError(TwinError, ValueError):
    """A slope-stability input is out of range; the message names the field and what was expected."""


@dataclass(frozen=True)
class SoilColumn:
    """One site's soil on an infinite slope (TRIGRS zone parameters plus the cell's geometry).

    ``slope_deg`` δ in (0, 90) degrees; ``soil_depth_m`` Z_max > 0, vertical; ``water_table_depth_m``
    d in [0, Z_max], vertical, below the surface; ``cohesion_kpa`` c ≥ 0; ``friction_deg`` φ in
    [0, 90); ``unit_weight_kn_m3`` γ_s > 0 (total, of the soil); ``diffusivity_m2_s`` D0 > 0 (the
    saturated hydraulic diffusivity K_s/C0); ``ks_m_s`` K_s > 0 (saturated hydraulic conductivity).
    TRIGRS tutorial zone 1 (tr_in.txt): c 3.5 kPa, φ 35°, γ_s 22 kN/m³, D0 6e-6 m²/s, K_s 1e-7 m/s.
    """

    slope_deg: float
    soil_depth_m: float
    water_table_depth_m: float
    cohesion_kpa: float
    friction_deg: float
    unit_weight_kn_m3: float
    diffusivity_m2_s: float
    ks_m_s: float

    def check(self, where: str = "soil column") -> None:
        """Raise :class:`SlopeParameterError` naming ``where.field`` if a value is out of range."""
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
                raise SlopeParameterError(f"{where}.{f.name}: got {value!r}: expected a finite number")
        rules: tuple[tuple[str, bool, str], ...] = (
            ("slope_deg", 0.0 < self.slope_deg < 90.0, "degrees in (0, 90)"),
            ("soil_depth_m", self.soil_depth_m > 0.0, "metres > 0"),
            (
                "water_table_depth_m",
                0.0 <= self.water_table_depth_m <= self.soil_depth_m,
                f"metres in [0, soil_depth_m = {self.soil_depth_m}]",
            ),
            ("cohesion_kpa", self.cohesion_kpa >= 0.0, "kPa >= 0"),
            ("friction_deg", 0.0 <= self.friction_deg < 90.0, "degrees in [0, 90)"),
            ("unit_weight_kn_m3", self.unit_weight_kn_m3 > 0.0, "kN/m³ > 0"),
            ("diffusivity_m2_s", self.diffusivity_m2_s > 0.0, "m²/s > 0"),
            ("ks_m_s", self.ks_m_s > 0.0, "m/s > 0"),
        )
        for name, ok, expected in rules:
            if not ok:
                raise SlopeParameterError(f"{where}.{name}: got {getattr(self, name)!r}: expected {expected}")

    @property
    def beta(self) -> float:
        """Iverson's β = cos²δ for slope-parallel background flow (dimensionless)."""
        return math.cos(math.radians(self.slope_deg)) ** 2

    @property
    def d_hat_m2_s(self) -> float:
        """D̂ = 4 D0 / cos²δ (m²/s), as coded in TRIGRS (Baum et al. 2008 correction)."""
        return 4.0 * self.diffusivity_m2_s / self.beta


@dataclass(frozen=True)
class FsHistory:
    """FS through time at one site: ``fs_min`` the minimum over depth at each time (dimensionless,
    ≤ 10), ``depth_of_min_m`` where it occurs (vertical m; the shallowest on ties), ``psi_base_m``
    the pressure head at the base of the soil (m of water), all indexed like ``times_s``."""

    times_s: np.ndarray
    fs_min: np.ndarray
    depth_of_min_m: np.ndarray
    psi_base_m: np.ndarray


def response(t_star: np.ndarray | float) -> np.ndarray:
    """Iverson's response function R(t*) = √(t*/π) e^(−1/t*) − erfc(1/√t*), dimensionless, for
    normalised time t* (dimensionless); R = 0 for t* ≤ 0. Vectorised. R → √(t*/π) as t* → ∞."""
    t = np.asarray(t_star, dtype=float)
    out = np.zeros_like(t)
    pos = t > 0.0
    tp = t[pos]
    out[pos] = np.sqrt(tp / math.pi) * np.exp(-1.0 / tp) - erfc(1.0 / np.sqrt(tp))
    return out


def infiltration_m_s(rain_mm_h: np.ndarray | float, col: SoilColumn) -> np.ndarray:
    """Infiltration rate (m/s) for rain intensities (mm/h): min(rain, K_s); the rest runs off.
    Negative rain raises :class:`SlopeParameterError`."""
    rain = np.asarray(rain_mm_h, dtype=float)
    if not np.all(np.isfinite(rain)) or np.any(rain < 0.0):
        raise SlopeParameterError("rain_mm_h: expected finite intensities >= 0 mm/h")
    return np.minimum(rain * MM_H_TO_M_S, col.ks_m_s)


def _steps(step_times_s: np.ndarray, rain_mm_h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate a hyetograph; return (start times, end times with +inf for an open last step)."""
    starts = np.asarray(step_times_s, dtype=float).ravel()
    rain = np.asarray(rain_mm_h, dtype=float).ravel()
    n = rain.size
    if starts.size == n:
        ends = np.append(starts[1:], np.inf)
    elif starts.size == n + 1:
        ends = starts[1:]
        starts = starts[:-1]
    else:
        raise SlopeParameterError(
            f"step_times_s: got {starts.size} times for {n} rain values: expected {n} (last step open-ended) "
            f"or {n + 1} (rain zero after the last time)"
        )
    if not np.all(np.isfinite(starts)) or np.any(np.diff(np.append(starts, ends[-1])) <= 0.0):
        raise SlopeParameterError("step_times_s: expected finite, strictly increasing times in seconds")
    return starts, ends


def _z_times_r(z: np.ndarray, dt: np.ndarray, d_hat: float) -> np.ndarray:
    """Z·R(t*) with t* = dt D̂ / Z², broadcasting z and dt; the exact √(D̂ dt/π) at Z = 0."""
    z, dt = np.broadcast_arrays(z, dt)
    out = np.zeros(z.shape)
    pos = dt > 0.0
    surf = pos & (z <= 0.0)
    out[surf] = np.sqrt(d_hat * dt[surf] / math.pi)
    deep = pos & (z > 0.0)
    out[deep] = z[deep] * response(dt[deep] * d_hat / z[deep] ** 2)
    return out


def pressure_head_m(
    col: SoilColumn,
    depths_m: np.ndarray,
    times_s: np.ndarray,
    step_times_s: np.ndarray,
    rain_mm_h: np.ndarray,
    *,
    slope_normal_flux: bool = False,
) -> np.ndarray:
    """Pressure head ψ (m of water), shape (len(times_s), len(depths_m)), at vertical depths (m,
    ≥ 0) and times (s, from the start of the steady initial state).

    Rain is piecewise constant: ``rain_mm_h[k]`` (mm/h) falls over [step_times_s[k],
    step_times_s[k+1]). With as many step times as rain values the last step never ends; with one
    more step time than rain values the rain is zero after the last one (TRIGRS ``capt(nper+1)``).
    Before the first step time no rain falls. ψ is capped at β Z. ``slope_normal_flux``: see the
    module docstring (False = TRIGRS).
    """
    col.check()
    z = np.asarray(depths_m, dtype=float).ravel()
    t = np.asarray(times_s, dtype=float).ravel()
    if np.any(z < 0.0) or not np.all(np.isfinite(z)):
        raise SlopeParameterError("depths_m: expected finite depths >= 0 m")
    if not np.all(np.isfinite(t)):
        raise SlopeParameterError("times_s: expected finite times in seconds")
    starts, ends = _steps(step_times_s, rain_mm_h)
    ratio = infiltration_m_s(np.asarray(rain_mm_h, dtype=float).ravel(), col) / col.ks_m_s  # I_Z/K_Z
    if slope_normal_flux:
        ratio = ratio * col.beta
    beta, d_hat = col.beta, col.d_hat_m2_s
    psi = np.broadcast_to(beta * (z - col.water_table_depth_m), (t.size, z.size)).copy()
    zz = z[None, :]
    for r, t0, t1 in zip(ratio, starts, ends, strict=True):
        if r == 0.0:
            continue
        on = _z_times_r(zz, (t - t0)[:, None], d_hat)
        off = _z_times_r(zz, (t - t1)[:, None], d_hat) if math.isfinite(t1) else 0.0
        psi += r * (on - off)
    return np.minimum(psi, beta * zz)


def factor_of_safety(
    col: SoilColumn, depths_m: np.ndarray, psi_m: np.ndarray, *, ignore_negative_head: bool = True
) -> np.ndarray:
    """Infinite-slope FS (dimensionless) at vertical depths (m) for pressure heads ψ (m of water,
    any shape broadcasting against ``depths_m`` on the last axis), as TRIGRS codes it: capped at
    10, 10 at Z ≤ 0.01 m, the cohesion term alone when the friction terms sum below zero, and
    negative ψ ignored when ``ignore_negative_head`` (TRIGRS ``lpge0``, tutorial: T)."""
    col.check()
    z = np.asarray(depths_m, dtype=float)
    psi = np.asarray(psi_m, dtype=float)
    d = math.radians(col.slope_deg)
    tan_phi = math.tan(math.radians(col.friction_deg))
    sin_cos = math.sin(d) * math.cos(d)
    z_safe = np.maximum(z, 1e-30)
    ff = tan_phi / math.tan(d)
    fc = col.cohesion_kpa / (col.unit_weight_kn_m3 * z_safe * sin_cos)
    p = np.maximum(psi, 0.0) if ignore_negative_head else psi
    fw = -(p * GAMMA_W_KN_M3 * tan_phi) / (col.unit_weight_kn_m3 * z_safe * sin_cos)
    friction = ff + fw
    fs = np.where(friction < 0.0, fc, friction + fc)
    fs = np.minimum(fs, FS_CAP)
    return np.where(np.broadcast_to(z, fs.shape) <= FS_SHALLOW_M, FS_CAP, fs)


def fs_history(
    col: SoilColumn,
    times_s: np.ndarray,
    step_times_s: np.ndarray,
    rain_mm_h: np.ndarray,
    n_depths: int = 20,
    *,
    slope_normal_flux: bool = False,
    ignore_negative_head: bool = True,
) -> FsHistory:
    """FS through time (see :class:`FsHistory`) at ``n_depths`` evenly spaced vertical depths
    Z_max·k/n (k = 1..n, so (0, Z_max]); times in s, rain as in :func:`pressure_head_m`."""
    col.check()
    if isinstance(n_depths, bool) or not isinstance(n_depths, int) or n_depths < 1:
        raise SlopeParameterError(f"n_depths: got {n_depths!r}: expected an integer >= 1")
    t = np.asarray(times_s, dtype=float).ravel()
    z = col.soil_depth_m * np.arange(1, n_depths + 1) / n_depths
    psi = pressure_head_m(col, z, t, step_times_s, rain_mm_h, slope_normal_flux=slope_normal_flux)
    fs = factor_of_safety(col, z, psi, ignore_negative_head=ignore_negative_head)
    k = np.argmin(fs, axis=1)
    rows = np.arange(t.size)
    return FsHistory(times_s=t, fs_min=fs[rows, k], depth_of_min_m=z[k], psi_base_m=psi[:, -1].copy())
