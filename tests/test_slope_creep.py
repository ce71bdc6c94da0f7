"""Verification of twin.models.slope_creep: Voight's law (1/v linear for alpha = 2, (1/v)^(alpha-1)
linear otherwise, zero at the failure time), continuity at the onset, displacement against an
independent numerical integral of the velocity, monotonicity in FS, and the sensor conversions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin.errors import TwinError
from twin.models.slope_creep import (
    CreepLaw,
    CreepParameterError,
    displacement_history,
    failure_time_s,
    sensor_readings,
    tilt_deg_from_displacement,
)

DAY = 86400.0


def _falling_fs(times: np.ndarray) -> np.ndarray:
    """FS 1.5 for a day, then falling linearly by 0.25 a day: crosses 1.3 at 1.8 d, 1.1 at 2.6 d, 1.0 at 3.0 d."""
    return 1.5 - 0.25 * np.maximum(times / DAY - 1.0, 0.0)


def _fit_zero(t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares line y = a + b t: (time where y = 0, max relative residual)."""
    b, a = np.polyfit(t, y, 1)
    resid = np.max(np.abs(y - (a + b * t))) / np.max(np.abs(y))
    return -a / b, resid


def test_failure_and_onset_times_interpolated() -> None:
    times = np.linspace(0.0, 4 * DAY, 97)  # hourly
    motion = displacement_history(times, _falling_fs(times), CreepLaw(fs_onset=1.1, v_onset_mm_h=0.1))
    assert motion.failure_s == pytest.approx(3.0 * DAY, rel=1e-12)
    assert motion.onset_s == pytest.approx(2.6 * DAY, rel=1e-12)
    assert failure_time_s(times, _falling_fs(times)) == pytest.approx(3.0 * DAY, rel=1e-12)
    # between samples: FS 1.2 at t=0, 0.8 at t=10 s -> reaches 1 at 5 s
    assert failure_time_s(np.array([0.0, 10.0]), np.array([1.2, 0.8])) == pytest.approx(5.0)


@pytest.mark.parametrize("alpha", [2.0, 1.6, 2.4])
def test_voight_inverse_velocity_linear_and_zero_at_failure(alpha: float) -> None:
    times = np.linspace(0.0, 4 * DAY, 4 * 24 * 6 + 1)  # 10 min
    law = CreepLaw(alpha=alpha)
    motion = displacement_history(times, _falling_fs(times), law)
    assert motion.failure_s is not None and motion.onset_s is not None
    tert = (times >= motion.onset_s) & (times < motion.failure_s)
    assert tert.sum() > 50
    y = (1.0 / motion.velocity_mm_h[tert]) ** (alpha - 1.0)
    t_zero, resid = _fit_zero(times[tert], y)
    assert resid < 1e-9
    assert t_zero == pytest.approx(motion.failure_s, rel=1e-6)
    # Voight: dv/dt = A v^alpha with one constant A along the phase (finite differences, h/s units)
    v = motion.velocity_mm_h[tert]
    dvdt = np.gradient(v, times[tert])
    far = (motion.failure_s - times[tert]) > 0.25 * (motion.failure_s - motion.onset_s)  # FD error grows near t_f
    a_est = (dvdt / v**alpha)[far][1:]
    assert np.ptp(a_est) / np.mean(a_est) < 0.01
    # and that constant is the slope of the fitted line: (1/v)^(alpha-1) = A (alpha-1)(t_f - t)
    assert np.mean(a_est) == pytest.approx(-np.polyfit(times[tert], y, 1)[0] / (alpha - 1.0), rel=0.01)


def test_velocity_continuous_at_onset() -> None:
    # the step tolerances below are sized for the secondary ramp 1.3 -> 1.15 (0.6 d): the former default
    law = CreepLaw(fs_onset=1.15)
    for step in (600.0, 3600.0):
        times = np.arange(0.0, 4 * DAY, step)
        motion = displacement_history(times, _falling_fs(times), law)
        assert motion.onset_s is not None
        before = times < motion.onset_s
        after = times >= motion.onset_s
        v_before = motion.velocity_mm_h[before][-1]
        v_after = motion.velocity_mm_h[after][0]
        # the secondary law at FS = fs_onset and Voight at t_on both equal v_onset
        assert v_after == pytest.approx(law.v_onset_mm_h, rel=step / (0.4 * DAY) * 3)
        assert abs(v_after - v_before) <= law.v_onset_mm_h * 3 * step / (0.4 * DAY) + 1e-12


def _numerical_displacement(times: np.ndarray, fs: np.ndarray, law: CreepLaw, fine: int) -> np.ndarray:
    """Trapezoid integral of v on a grid `fine` times finer, v evaluated from the model's own rules
    written out directly here (secondary from FS, Voight after onset)."""
    t_f = failure_time_s(times, fs)
    out = np.full(times.size, np.nan)
    tt = np.linspace(times[0], times[-1], (times.size - 1) * fine + 1)
    ff = np.interp(tt, times, fs)
    u = np.clip((law.fs_creep - ff) / (law.fs_creep - law.fs_onset), 0.0, 1.0)
    v = law.v_onset_mm_h * u**law.exponent
    if t_f is not None:
        t_on = tt[np.flatnonzero((ff >= law.fs_onset) & (tt < t_f))[-1]]
        # refine t_on by the exact linear crossing
        i = np.flatnonzero(times <= t_on)[-1]
        t_on = times[i] + (fs[i] - law.fs_onset) / (fs[i] - fs[i + 1]) * (times[i + 1] - times[i])
        m = (tt >= t_on) & (tt < t_f)
        v[m] = law.v_onset_mm_h * ((t_f - tt[m]) / (t_f - t_on)) ** (-1.0 / (law.alpha - 1.0))
        v[tt >= t_f] = np.nan
    cum = np.concatenate(([0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * np.diff(tt) / 3600.0)))
    out[:] = cum[::fine]
    return out


@pytest.mark.parametrize("alpha", [2.0, 1.7, 2.5])
def test_displacement_is_integral_of_velocity(alpha: float) -> None:
    law = CreepLaw(alpha=alpha, exponent=1.5)
    times = np.linspace(0.0, 4 * DAY, 97)
    fs = _falling_fs(times)
    motion = displacement_history(times, fs, law)
    numeric = _numerical_displacement(times, fs, law, fine=2000)
    ok = np.isfinite(motion.displacement_mm)
    # compare up to one hour before failure (the last valid sample)
    assert np.all(ok == (times < 3.0 * DAY))
    assert np.nanmax(motion.displacement_mm) > 1.0
    sel = ok & (motion.displacement_mm > 0.0)
    assert np.allclose(motion.displacement_mm[sel], numeric[sel], rtol=0.005)
    assert np.all(np.isnan(motion.velocity_mm_h[~ok]))


def test_no_failure_no_tertiary_phase_and_bounded() -> None:
    law = CreepLaw()
    times = np.linspace(0.0, 10 * DAY, 241)
    fs = 1.25 + 0.1 * np.sin(times / DAY)  # dips to 1.15: creeps, never fails
    motion = displacement_history(times, fs, law)
    assert motion.failure_s is None and motion.onset_s is None
    assert np.all(np.isfinite(motion.displacement_mm))
    assert np.all(motion.velocity_mm_h <= law.v_onset_mm_h + 1e-15)
    # bounded by v_onset * duration
    assert motion.displacement_mm[-1] <= law.v_onset_mm_h * 240.0
    assert np.all(np.diff(motion.displacement_mm) >= 0.0)
    # a dip below fs_onset that recovers creeps at v_onset, no acceleration
    fs_dip = np.where((times > DAY) & (times < 2 * DAY), 1.05, 1.4)
    dip = displacement_history(times, fs_dip, law)
    assert dip.failure_s is None and np.nanmax(dip.velocity_mm_h) == pytest.approx(law.v_onset_mm_h)


def test_constant_fs_constant_velocity() -> None:
    law = CreepLaw(fs_onset=1.1, v_onset_mm_h=0.1)
    times = np.linspace(0.0, 5 * DAY, 121)
    still = displacement_history(times, np.full(times.size, 1.5), law)
    assert np.all(still.velocity_mm_h == 0.0) and np.all(still.displacement_mm == 0.0)
    # FS 1.2: u = (1.3 - 1.2)/0.2 = 0.5, v = 0.1 * 0.5^2 = 0.025 mm/h; 120 h -> 3.0 mm
    creep = displacement_history(times, np.full(times.size, 1.2), law)
    assert np.allclose(creep.velocity_mm_h, 0.025)
    assert np.allclose(creep.displacement_mm, 0.025 * times / 3600.0)
    assert creep.displacement_mm[-1] == pytest.approx(3.0)


def test_alpha_two_displacement_closed_form() -> None:
    # starts below fs_onset: t_on = 0, v_on = v_onset; FS 1.05 -> 1.0 over 10 h: t_f = 10 h
    law = CreepLaw(v_onset_mm_h=0.2)
    times = np.linspace(0.0, 10 * 3600.0, 11)
    motion = displacement_history(times, np.linspace(1.05, 1.0, 11), law)
    assert motion.onset_s == 0.0 and motion.failure_s == pytest.approx(36000.0)
    # alpha = 2: v = v0 T/(T - t), x = v0 T ln(T/(T - t)); at t = 9 h: 0.2*10*ln(10) = 4.60517 mm
    assert motion.displacement_mm[9] == pytest.approx(0.2 * 10.0 * math.log(10.0), rel=1e-12)
    assert motion.velocity_mm_h[9] == pytest.approx(2.0, rel=1e-12)
    assert np.isnan(motion.displacement_mm[10])


def test_lower_fs_never_less_displacement_random() -> None:
    rng = np.random.default_rng(17)
    times = np.linspace(0.0, 6 * DAY, 145)
    kinds = {"both fail": 0, "only lower fails": 0, "none fails": 0}
    for _ in range(60):
        walk = 1.45 + np.cumsum(rng.normal(-0.002, 0.02, times.size))
        hi = np.maximum(walk, 0.8)
        hi[0] = max(hi[0], 1.2)
        lo = hi - rng.uniform(0.0, 0.08) * rng.random(times.size)
        lo[0] = max(lo[0], 1.01)
        lo = np.minimum(lo, hi)
        law = CreepLaw(alpha=float(rng.uniform(1.3, 2.7)))
        m_hi = displacement_history(times, hi, law)
        m_lo = displacement_history(times, lo, law)
        both = np.isfinite(m_lo.displacement_mm)
        if m_hi.failure_s is not None:
            assert m_lo.failure_s is not None and m_lo.failure_s <= m_hi.failure_s
        assert np.all(np.isfinite(m_hi.displacement_mm[both]))
        assert np.all(m_lo.displacement_mm[both] >= m_hi.displacement_mm[both] - 1e-9)
        assert np.all(m_lo.velocity_mm_h[both] >= m_hi.velocity_mm_h[both] - 1e-12)
        kind = "both fail" if m_hi.failure_s else ("only lower fails" if m_lo.failure_s else "none fails")
        kinds[kind] += 1
    assert min(kinds.values()) >= 2, kinds  # the seed exercises every case


def test_sensor_conversions() -> None:
    # 0.01 deg/h precaution: 500 mm * tan(0.01 deg) = 0.0872665 mm
    assert 500.0 * math.tan(math.radians(0.01)) == pytest.approx(0.0872665, rel=1e-6)
    assert float(tilt_deg_from_displacement(0.0872665)) == pytest.approx(0.01, rel=1e-6)
    assert float(tilt_deg_from_displacement(500.0)) == pytest.approx(45.0)
    assert float(tilt_deg_from_displacement(100.0, rod_length_m=1.0)) == pytest.approx(math.degrees(math.atan(0.1)))
    r = sensor_readings(np.array([0.0, 2.0, np.nan]))
    assert np.array_equal(r.crack_mm[:2], [0.0, 2.0]) and np.isnan(r.extensometer_mm[2])
    assert np.isnan(r.tilt_deg[2])
    with pytest.raises(CreepParameterError, match="rod_length_m"):
        tilt_deg_from_displacement(1.0, rod_length_m=0.0)


def test_bad_inputs_name_the_field() -> None:
    times = np.array([0.0, 1.0])
    with pytest.raises(TwinError, match=r"fs\[0\]"):
        displacement_history(times, np.array([1.0, 1.2]))
    with pytest.raises(CreepParameterError, match="times_s"):
        displacement_history(np.array([0.0, 0.0]), np.array([1.2, 1.2]))
    with pytest.raises(CreepParameterError, match="fs"):
        displacement_history(times, np.array([1.2]))
    for kwargs, name in (
        ({"alpha": 1.0}, "alpha"),
        ({"alpha": 3.0}, "alpha"),
        ({"fs_onset": 1.0}, "fs_onset"),
        ({"fs_creep": 1.05}, "fs_creep"),
        ({"v_onset_mm_h": 0.0}, "v_onset_mm_h"),
        ({"exponent": -1.0}, "exponent"),
    ):
        with pytest.raises(CreepParameterError, match=rf"site 3\.{name}"):
            CreepLaw(**kwargs).check("site 3")
