"""The inverse-velocity (Fukuzono) failure-time forecast (issue 17), against Voight's law with a known
failure time: x = x0 + v0·t before the onset t_on, then x = x_on + (1/A)·ln((t_f − t_on)/(t_f − t)),
whose velocity 1/(A·(t_f − t)) is continuous at t_on when A = 1/(v0·(t_f − t_on))."""

from __future__ import annotations

import numpy as np
import pytest

from twin.control.inverse_velocity import Forecast, ForecastSettings, ForecastSettingsError, InverseVelocity

H = 3600.0
T_ON, T_F, V0 = 24 * H, 72 * H, 0.1  # s, s, mm/h


def voight(t: np.ndarray, t_on: float = T_ON, t_f: float = T_F, v0: float = V0) -> np.ndarray:
    """Displacement (mm) at times t (s): linear creep v0 (mm/h), then Voight α = 2 to failure at t_f."""
    a = 1.0 / (v0 * (t_f - t_on) / H)  # 1/mm
    th = t / H
    after = v0 * t_on / H + np.log((t_f - t_on) / H / np.maximum(t_f / H - th, 1e-12)) / a
    return np.where(th < t_on / H, v0 * th, after)


def run(times, values, settings=None):
    """Feed readings; (the analysis, [(t, forecast or None)] at every reading)."""
    iv = InverseVelocity(settings)
    out = []
    for t, x in zip(times, values, strict=True):
        iv.add(float(t), float(x))
        out.append((float(t), iv.forecast(float(t))))
    return iv, out


def first_within(out, lead_s):
    """The first (t, forecast) with a forecast once t_f − t <= lead_s."""
    return next((t, f) for t, f in out if f is not None and T_F - t <= lead_s)


def test_the_velocity_is_exact_for_straight_and_quadratic_series():
    t = np.arange(0, 20 * H, 600.0)
    iv, _ = run(t, 0.1 * t / H)
    assert iv.velocity(t[-1]) == pytest.approx(0.1, rel=1e-9)  # mm/h
    iv, _ = run(t, 0.002 * (t / H) ** 2)  # Savitzky–Golay of order 2 is exact on a parabola: v = 0.004·t mm/h
    assert iv.velocity(t[-1]) == pytest.approx(0.004 * t[-1] / H, rel=1e-9)
    assert iv.velocity(t[-1] + 2 * H) is None  # the newest reading is older than max_gap


def test_clean_voight_failure_is_forecast_within_ten_percent_of_the_time_left():
    t = np.arange(0, T_F - 300, 600.0)
    iv, out = run(t, voight(t))
    assert iv.detected_s is not None and T_ON < iv.detected_s < T_F - 12 * H  # late enough to be real, early enough
    assert all(f is None for tt, f in out if tt < iv.detected_s)  # no forecast before the onset is detected
    first_t, first = next((tt, f) for tt, f in out if f is not None)
    assert abs(first.failure_s - T_F) <= 0.1 * (T_F - first_t)  # already good 18 h ahead
    t3, f3 = first_within(out, 3 * H)
    assert T_F - t3 > 2.5 * H  # forecasts keep coming: the first one within 3 h is at 3 h
    assert abs(f3.failure_s - T_F) <= 0.1 * (T_F - t3)
    assert f3.lower_s <= T_F <= f3.upper_s and f3.lower_s < f3.failure_s < f3.upper_s
    assert f3.r2 > 0.99 and f3.n_points >= 6 and T_ON - 12 * H < f3.onset_s < iv.detected_s
    assert isinstance(f3, Forecast) and f3.issued_s == t3


def test_noisy_voight_errors_stay_small(capsys):
    t = np.arange(0, T_F - 300, 600.0)
    late_increment = V0 * (T_F - T_ON) / (3 * H) * (600 / H)  # mm per 10 min, 3 h before failure: 0.27 mm
    errors, covered = [], 0
    for noise in (0.02, 0.05):  # of the late displacement increment (0.27 mm)
        for seed in range(6):
            rng = np.random.default_rng(seed)
            x = voight(t) + noise * late_increment * rng.standard_normal(len(t))
            _, out = run(t, x)
            t3, f3 = first_within(out, 3 * H)
            errors.append((f3.failure_s - T_F) / (T_F - t3))
            covered += f3.lower_s <= T_F <= f3.upper_s
    rel = np.abs(errors)
    with capsys.disabled():
        print(
            f"\n[inverse velocity, 12 noisy runs] |error|/(t_f - t) at 3 h: median {np.median(rel):.4f}, "
            f"max {rel.max():.4f}; interval holds t_f in {covered}/12"
        )
    assert np.median(rel) <= 0.03 and rel.max() <= 0.10
    assert covered >= 9


def test_constant_creep_with_noise_never_shows_an_onset():
    t = np.arange(0, 4 * 86_400, 600.0)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        x = 0.1 * t / H + 0.05 * rng.standard_normal(len(t))  # noise 3 x the 0.017 mm increment
        iv, out = run(t, x)
        assert iv.detected_s is None and iv.onset_s is None, seed
        assert all(f is None for _, f in out)


def test_dropouts_and_jitter_are_interpolated_and_a_long_gap_restarts():
    rng = np.random.default_rng(7)
    t = np.arange(0, T_F - 300, 600.0)
    t = t + rng.uniform(-60, 60, len(t))  # irregular uplink times
    keep = rng.random(len(t)) > 0.3  # 30 % of the readings lost (gaps up to tens of minutes)
    keep[:3] = True
    _, out = run(t[keep], voight(t[keep]))
    t3, f3 = first_within(out, 3 * H)
    assert abs(f3.failure_s - T_F) <= 0.1 * (T_F - t3)
    # a gap longer than max_gap (1 h) after the onset: the analysis restarts and must find the onset again
    t = np.arange(0, T_F - 300, 600.0)
    gap = (t > 60 * H) & (t < 62 * H)
    iv, out = run(t[~gap], voight(t[~gap]))
    after = [f for tt, f in out if 62 * H <= tt < 62 * H + 12 * H]
    assert all(f is None for f in after)  # the warm-up again: no forecast from half a series
    assert iv.onset_s is None
    # and out-of-order or repeated readings are ignored
    iv = InverseVelocity()
    assert iv.add(0.0, 1.0) and not iv.add(0.0, 2.0) and not iv.add(-5.0, 1.0) and not iv.add(10.0, float("nan"))


def test_impossible_settings_are_refused():
    with pytest.raises(ForecastSettingsError, match="smoothing_s"):
        ForecastSettings(smoothing_s=600.0, polyorder=2)
    with pytest.raises(ForecastSettingsError, match="ema_long_s"):
        ForecastSettings(ema_short_s=10 * H, ema_long_s=5 * H)
    with pytest.raises(ForecastSettingsError, match="step_s: got nan"):
        ForecastSettings(step_s=float("nan"))


def test_fit_tail_and_max_interval_ratio():
    """``fit_tail=False`` fits only the centred velocities (half a window late, the same line on
    clean Voight data); ``max_interval_ratio`` withholds a forecast whose interval is too wide."""
    t = np.arange(0, T_F - 3 * H, 600.0)
    x = voight(t)
    base, _ = run(t, x)
    centred, _ = run(t, x, ForecastSettings(fit_tail=False))
    f_all, f_centred = base.forecast(t[-1]), centred.forecast(t[-1])
    assert f_all is not None and f_centred is not None
    assert f_centred.failure_s != f_all.failure_s  # other points (the fit span is the same 24 h, shifted)
    assert abs(f_centred.failure_s - T_F) <= 0.05 * (T_F - t[-1])  # 1/v is linear: the lag does not matter
    # the Fieller band itself (before the ± step floor) on clean data is narrow but not zero
    strict, _ = run(t, x, ForecastSettings(max_interval_ratio=1e-9))
    loose, _ = run(t, x, ForecastSettings(max_interval_ratio=1.0))
    assert strict.forecast(t[-1]) is None and loose.forecast(t[-1]) == f_all
