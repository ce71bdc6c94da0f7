"""Verification of twin.models.slope_stability against hand arithmetic, an independent quadrature of
Iverson's response function and a numerical (method-of-lines) solution of the slope-normal
diffusion equation; plus the monotonicity and cap properties TRIGRS guarantees."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, sparse
from scipy.special import erfc

from twin.errors import TwinError
from twin.models.slope_stability import (
    FS_CAP,
    GAMMA_W_KN_M3,
    SlopeParameterError,
    SoilColumn,
    factor_of_safety,
    fs_history,
    infiltration_m_s,
    pressure_head_m,
    response,
)

# TRIGRS tutorial zone 1 (usgs/landslides-trigrs tr_in.txt): c 3.5 kPa, phi 35, uws 22 kN/m3,
# D0 6e-6 m2/s, Ks 1e-7 m/s; tutorial water table depth 2.4 m, soil depth 3.001 m.
ZONE1 = SoilColumn(
    slope_deg=35.0,
    soil_depth_m=3.0,
    water_table_depth_m=2.4,
    cohesion_kpa=3.5,
    friction_deg=35.0,
    unit_weight_kn_m3=22.0,
    diffusivity_m2_s=6e-6,
    ks_m_s=1e-7,
)
# tutorial zone 2: c 8 kPa, phi 31, D0 8e-4, Ks 1e-4 (360 mm/h)
ZONE2 = SoilColumn(
    slope_deg=40.0,
    soil_depth_m=2.0,
    water_table_depth_m=1.5,
    cohesion_kpa=8.0,
    friction_deg=31.0,
    unit_weight_kn_m3=22.0,
    diffusivity_m2_s=8e-4,
    ks_m_s=1e-4,
)
KS1_MM_H = 1e-7 * 3.6e6  # 0.36 mm/h


def test_fs_of_initial_state_by_hand() -> None:
    # Iverson (2000) eq 28 / TRIGRS iverson.f95 at Z = 3 m, d = 2.4 m, slope 35 deg:
    # beta = cos^2(35) = 0.819152^2 = 0.671010; psi0 = 0.671010 * (3 - 2.4) = 0.402606 m
    psi0 = 0.671010 * 0.6
    # FS = tan35/tan35 + (3.5 - psi0 * 9.81 * tan35) / (22 * 3 * sin35 * cos35)
    #    = 1 + (3.5 - 0.402606 * 9.81 * 0.700208) / (66 * 0.573576 * 0.819152)
    #    = 1 + (3.5 - 2.765506) / 31.009660 = 1.023686
    expected = 1.0 + (3.5 - 0.402606 * 9.81 * 0.700208) / (66.0 * 0.573576 * 0.819152)
    assert expected == pytest.approx(1.023686, abs=2e-6)
    psi = pressure_head_m(ZONE1, np.array([3.0]), np.array([0.0, 1e5]), np.array([0.0]), np.array([0.0]))
    assert psi[0, 0] == pytest.approx(psi0, rel=1e-5)
    fs = factor_of_safety(ZONE1, np.array([3.0]), psi)
    assert fs[0, 0] == pytest.approx(1.023686, rel=1e-5)
    # above the water table (Z = 1.2 m, psi0 < 0 ignored, TRIGRS lpge0): FS = 1 + 3.5/(22*1.2*0.469846)
    fs_dry = factor_of_safety(ZONE1, np.array([1.2]), np.array([0.671010 * (1.2 - 2.4)]))
    assert float(fs_dry[0]) == pytest.approx(1.0 + 3.5 / (22.0 * 1.2 * 0.573576 * 0.819152), rel=1e-5)
    # the same with negative head counted: the suction adds strength
    fs_suction = factor_of_safety(ZONE1, np.array([1.2]), np.array([-0.805212]), ignore_negative_head=False)
    assert float(fs_suction[0]) == pytest.approx(
        1.0 + (3.5 + 0.805212 * 9.81 * 0.700208) / (22.0 * 1.2 * 0.573576 * 0.819152), rel=1e-5
    )


def test_fs_rules_cap_and_friction_floor() -> None:
    # saturated at the beta line on a 35 deg slope, zero cohesion: friction terms
    # 1 - psi*gw*tan/(gs*Z*s*c) with psi = beta*Z: 1 - 0.671010*9.81*0.700208/(22*0.469846) = 0.554 > 0
    col = SoilColumn(35.0, 3.0, 0.0, 0.0, 35.0, 22.0, 6e-6, 1e-7)
    fs = factor_of_safety(col, np.array([2.0]), np.array([0.671010 * 2.0]))
    assert float(fs[0]) == pytest.approx(1.0 - 0.671010 * 9.81 * 0.700208 / (22.0 * 0.573576 * 0.819152), rel=1e-5)
    # light soil (gamma_s 8 < gamma_w): friction terms below zero -> FS = cohesion term alone
    light = SoilColumn(35.0, 3.0, 0.0, 2.0, 35.0, 8.0, 6e-6, 1e-7)
    fs_light = factor_of_safety(light, np.array([2.0]), np.array([1.5]))
    assert 1.0 - 1.5 * 9.81 * 0.700208 / (8.0 * 2.0 * 0.469846) < 0.0
    assert float(fs_light[0]) == pytest.approx(2.0 / (8.0 * 2.0 * 0.573576 * 0.819152), rel=1e-5)
    # cap at 10 and FS = 10 within 1 cm of the surface
    strong = SoilColumn(10.0, 3.0, 3.0, 50.0, 40.0, 20.0, 6e-6, 1e-7)
    assert np.all(factor_of_safety(strong, np.array([0.005, 0.5, 2.0]), np.zeros(3)) == FS_CAP)
    assert float(factor_of_safety(ZONE1, np.array([0.01]), np.array([0.0]))[0]) == FS_CAP


def _ierfc_quad(x: float) -> float:
    """ierfc(x) = integral of erfc from x to infinity, by quadrature."""
    return integrate.quad(lambda s: erfc(s), x, np.inf, epsabs=1e-14, epsrel=1e-12)[0]


def test_response_function_against_quadrature() -> None:
    # Z*R(t*) = 2 sqrt(D t) ierfc(Z / (2 sqrt(D t))) with t* = 4 D t / Z^2, so R(t*) = sqrt(t*) ierfc(1/sqrt(t*))
    pts = np.array([0.05, 0.3, 1.0, 2.5, 10.0, 100.0])
    expected = np.array([math.sqrt(t) * _ierfc_quad(1.0 / math.sqrt(t)) for t in pts])
    assert np.allclose(response(pts), expected, rtol=1e-9, atol=1e-15)
    # a closed-form point: R(1) = exp(-1)/sqrt(pi) - erfc(1) = 0.207554 - 0.157299
    assert float(response(1.0)) == pytest.approx(0.0502547, abs=1e-6)
    assert np.all(response(np.array([-1.0, 0.0])) == 0.0)
    # large t*: R -> sqrt(t*/pi) - 1 + ... ; relative difference to sqrt(t*/pi) small
    assert float(response(1e6)) / math.sqrt(1e6 / math.pi) == pytest.approx(1.0, abs=2e-3)
    assert np.all(np.diff(response(np.linspace(0.0, 50.0, 500))) >= 0.0)


def test_infiltration_capped_at_ks() -> None:
    got = infiltration_m_s(np.array([0.0, 0.1, 0.36, 5.0, 100.0]), ZONE1)
    assert np.allclose(got, [0.0, 0.1 / 3.6e6, 1e-7, 1e-7, 1e-7], rtol=1e-12)
    with pytest.raises(SlopeParameterError, match="rain_mm_h"):
        infiltration_m_s(np.array([-1.0]), ZONE1)


def _numerical_transient(
    col: SoilColumn, z_normal: np.ndarray, times: np.ndarray, edges: np.ndarray, flux_m_s: np.ndarray
) -> np.ndarray:
    """Transient head psi' (m) of d psi'/dt = D0 d2 psi'/dz2 in the slope-normal depth z on a
    deep column (15 m, psi' = 0 at the bottom), with normal inflow -K dpsi'/dz = q(t) at z = 0,
    q piecewise constant flux_m_s[k] over [edges[k], edges[k+1]); method of lines, BDF."""
    n, length = 1500, 15.0
    dz = length / n
    grid = np.arange(n) * dz  # node n (z = 15 m) is held at 0
    d0, k = col.diffusivity_m2_s, col.ks_m_s
    main = -2.0 * np.ones(n)
    upper = np.ones(n - 1)
    upper[0] = 2.0  # ghost node at z = -dz: psi_-1 = psi_1 + 2 dz q/K
    lap = sparse.diags([np.ones(n - 1), main, upper], [-1, 0, 1], format="csr") * (d0 / dz**2)
    out = np.zeros((times.size, z_normal.size))
    psi = np.zeros(n)
    for j in range(len(flux_m_s)):
        t0, t1 = edges[j], edges[j + 1]
        src = np.zeros(n)
        src[0] = 2.0 * dz * flux_m_s[j] / k * d0 / dz**2
        inside = (times > t0) & (times <= t1)
        sol = integrate.solve_ivp(
            lambda _t, y, src=src: lap @ y + src,
            (t0, t1),
            psi,
            method="BDF",
            jac=lap,
            t_eval=np.unique(np.append(times[inside], t1)),
            rtol=1e-8,
            atol=1e-11,
        )
        assert sol.success
        for i, idx in enumerate(np.flatnonzero(inside)):
            out[idx] = np.interp(z_normal, grid, sol.y[:, i])
        psi = sol.y[:, -1]
    return out


@pytest.mark.parametrize("slope_normal_flux", [False, True])
def test_transient_head_matches_numerical_diffusion(slope_normal_flux: bool) -> None:
    col = SoilColumn(35.0, 3.0, 3.0, 3.5, 35.0, 22.0, 6e-6, 1e-7)  # water table at 3 m: the beta cap never binds
    cos_d = math.cos(math.radians(35.0))
    depths = np.array([0.0, 0.25, 0.6, 1.0, 1.8, 2.7])  # vertical Z (m)
    times = np.array([3600.0, 6 * 3600.0, 86400.0, 172800.0, 216000.0, 259200.0])
    # TRIGRS tutorial periods: 0.3 of Ks... here the two-step rain 0.18 mm/h (0.5 Ks) for 2 days, then
    # 5 mm/h (capped at Ks) until 2.5 days, then dry; and a constant Ks rain
    cases = [
        (np.array([0.0, 172800.0, 216000.0]), np.array([0.18, 5.0])),
        (np.array([0.0, 259200.0]), np.array([KS1_MM_H])),
    ]
    for edges, rain in cases:
        model = pressure_head_m(col, depths, times, edges, rain, slope_normal_flux=slope_normal_flux)
        transient = model - col.beta * (depths - col.water_table_depth_m)
        ratio = np.minimum(rain / 3.6e6, col.ks_m_s) / col.ks_m_s  # I_Z/K_Z as TRIGRS feeds it
        # slope-normal inflow equivalent to the model's convention (see module docstring)
        q_normal = ratio * col.ks_m_s * (cos_d if slope_normal_flux else 1.0 / cos_d)
        # both hyetographs are closed (one more edge than values): dry afterwards, up to 4e5 s
        numeric = _numerical_transient(col, depths * cos_d, times, np.append(edges, 4e5), np.append(q_normal, 0.0))
        peak = float(np.max(np.abs(numeric)))
        assert peak > 0.3
        assert np.max(np.abs(transient - numeric)) <= 0.002 * peak, (transient, numeric)
        # Iverson's printed D_hat = 4 D0 cos^2(delta) does not solve the same problem
        d_hat_printed = 4.0 * col.diffusivity_m2_s * col.beta
        z_deep, t_k = 1.0, 3
        dt_on = times[t_k] - edges[0]
        wrong = (
            ratio[0] * (col.beta if slope_normal_flux else 1.0) * z_deep * response(dt_on * d_hat_printed / z_deep**2)
        )
        assert abs(float(wrong) - numeric[t_k, 3]) > 0.1 * peak


def test_no_rain_keeps_fs_constant() -> None:
    times = np.linspace(0.0, 10 * 86400.0, 41)
    hist = fs_history(ZONE1, times, np.array([0.0]), np.array([0.0]))
    assert np.all(hist.fs_min == hist.fs_min[0])
    assert np.all(hist.depth_of_min_m == 3.0)
    assert np.allclose(hist.psi_base_m, ZONE1.beta * 0.6)


def test_more_rain_never_raises_fs_random_hyetographs() -> None:
    rng = np.random.default_rng(20260117)
    times = np.linspace(0.0, 36 * 3600.0, 73)
    edges = np.arange(0.0, 25 * 3600.0, 3600.0)  # 24 hourly steps, dry after
    for col in (ZONE1, ZONE2):
        for _ in range(12):
            base = rng.gamma(0.6, 15.0, size=24) * (rng.random(24) < 0.7)
            more = base + rng.gamma(0.5, 10.0, size=24) * (rng.random(24) < 0.5)
            h1 = fs_history(col, times, edges, base, n_depths=15)
            h2 = fs_history(col, times, edges, more, n_depths=15)
            assert np.all(h2.fs_min <= h1.fs_min + 1e-12)
            z = col.soil_depth_m * np.arange(1, 16) / 15
            p1 = pressure_head_m(col, z, times, edges, base)
            p2 = pressure_head_m(col, z, times, edges, more)
            assert np.all(p2 >= p1 - 1e-12)
            assert np.all(p2 <= col.beta * z + 1e-12)  # the TRIGRS beta-line cap
            assert np.all(h2.fs_min <= FS_CAP)


def test_heavy_rain_saturates_to_beta_line_and_open_ended_step() -> None:
    times = np.array([0.0, 3600.0, 86400.0, 30 * 86400.0])
    z = np.array([0.5, 1.0, 2.0])
    psi_open = pressure_head_m(ZONE2, z, times, np.array([0.0]), np.array([500.0]))
    assert np.allclose(psi_open[-1], ZONE2.beta * z)  # long rain at Ks: capped at the beta line
    psi_closed = pressure_head_m(ZONE2, z, times, np.array([0.0, 3600.0]), np.array([500.0]))
    assert np.all(psi_closed[-1] < psi_open[-1])  # rain stopped: head drains back towards psi0
    # a rain stepping off gives exactly the open-ended response minus the delayed one (superposition)
    assert np.allclose(psi_closed[:2], psi_open[:2])


def test_bad_soil_column_names_the_field() -> None:
    good = dict(
        slope_deg=30.0,
        soil_depth_m=2.0,
        water_table_depth_m=1.0,
        cohesion_kpa=4.0,
        friction_deg=33.0,
        unit_weight_kn_m3=19.0,
        diffusivity_m2_s=1e-5,
        ks_m_s=1e-6,
    )
    SoilColumn(**good).check("site 7")
    bad = [
        ("soil_depth_m", -1.0),
        ("water_table_depth_m", 2.5),
        ("water_table_depth_m", -0.1),
        ("friction_deg", 90.0),
        ("slope_deg", 0.0),
        ("slope_deg", 95.0),
        ("cohesion_kpa", -1.0),
        ("unit_weight_kn_m3", 0.0),
        ("diffusivity_m2_s", 0.0),
        ("ks_m_s", float("nan")),
    ]
    for name, value in bad:
        col = SoilColumn(**{**good, name: value})
        with pytest.raises(TwinError, match=rf"site 7\.{name}"):
            col.check("site 7")
        with pytest.raises(SlopeParameterError, match=name):
            fs_history(col, np.array([0.0]), np.array([0.0]), np.array([0.0]))
    with pytest.raises(SlopeParameterError, match="step_times_s"):
        pressure_head_m(SoilColumn(**good), np.array([1.0]), np.array([0.0]), np.array([0.0, 1.0, 2.0, 3.0]), [1.0])
    with pytest.raises(SlopeParameterError, match="n_depths"):
        fs_history(SoilColumn(**good), np.array([0.0]), np.array([0.0]), np.array([0.0]), n_depths=0)


def test_gamma_w_constant() -> None:
    assert GAMMA_W_KN_M3 == 9.81
