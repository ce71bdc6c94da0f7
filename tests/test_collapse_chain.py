"""The pure slope chain of issue 17 on the shipped dataset and storm: rain -> FS(t) (Iverson/TRIGRS,
twin.models.slope_stability) -> displacement (secondary creep, then Voight alpha = 2 to the failure
at FS = 1, twin.models.slope_creep) -> sensor readings every 600 s (twin.models.sensor_model, the
scenario's noise and resolution) -> the reference early warning (twin.control.collapse_logic with
scenarios/policies/reference_collapse.yaml). The truth (the model's failure time) is known, so the
tests check what matters to the people below the slope: evacuated at least 45 min before failure,
with a forecast within 10 % of the time left, and nobody evacuated from a slope that stands.

Inputs: gis_data/uijeongbu/slopes.geojson (24 slopes: 10 D, 5 C, 9 B) and
scenarios/data/rain_2022_08_approx.csv (hourly mm = mm/h over each hour from the first time, 333 mm
in 48 h). Sensors: tilt rod 0.5 m (deg, noise 0.001, resolution 0.001), crack gauge (mm, 0.005,
0.001), extensometer on D slopes only (mm, 0.02, 0.01); readings after failure are dropouts.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twin.control.collapse_logic import CollapseAction, SensorReading, SiteLogic, SiteObservation
from twin.control.collapse_policy import CollapsePolicy, load_collapse_policy
from twin.models.sensor_model import SensorModel
from twin.models.slope_creep import SlopeMotion, displacement_history, tilt_deg_from_displacement
from twin.models.slope_stability import SoilColumn, fs_history

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "scenarios" / "policies" / "reference_collapse.yaml"
H = 3600.0
STEP_S = 600.0
HOURS = 48.0
MIN_MARGIN_S = 45 * 60.0  # people need time to leave
COLUMN = (
    "slope_deg", "soil_depth_m", "water_table_depth_m", "cohesion_kpa", "friction_deg",
    "unit_weight_kn_m3", "diffusivity_m2_s", "ks_m_s",
)  # fmt: skip
SENSORS = {  # kind: (id suffix, noise sd, resolution), the scenario defaults
    "tilt": ("TLT", 0.001, 0.001),
    "crack": ("CRK", 0.005, 0.001),
    "extensometer": ("EXT", 0.02, 0.01),
}
SEEDS = 20


def storm_mm_h() -> np.ndarray:
    """The shipped storm, mm/h over each hour from t = 0."""
    with open(ROOT / "scenarios" / "data" / "rain_2022_08_approx.csv", encoding="utf-8") as f:
        return np.array([float(r["mm"]) for r in csv.DictReader(f)])


@dataclass(frozen=True)
class Site:
    slope_id: str
    grade: str
    motion: SlopeMotion


def shipped_sites(rain_mm_h: np.ndarray) -> list[Site]:
    """Every shipped slope's motion (mm, every 600 s for 48 h) in the rain ``rain_mm_h``."""
    data = json.loads((ROOT / "gis_data" / "uijeongbu" / "slopes.geojson").read_text(encoding="utf-8"))
    t = np.arange(0.0, HOURS * H + 1.0, STEP_S)
    out = []
    for feature in data["features"]:
        p = feature["properties"]
        col = SoilColumn(**{k: p[k] for k in COLUMN})
        fs = fs_history(col, t, np.arange(rain_mm_h.size) * H, rain_mm_h).fs_min
        out.append(Site(p["slope_id"], p["risk_grade"], displacement_history(t, fs)))
    return out


def run_site(
    site: Site, rain_mm_h: np.ndarray, policy: CollapsePolicy, *, seed: int, clean: bool, until_s: float = np.inf
) -> list[CollapseAction]:
    """The reference logic's actions for one slope; stops after an evacuate or at ``until_s`` (s)."""
    kinds = [k for k in SENSORS if k != "extensometer" or site.grade == "D"]
    ids = {k: f"{site.slope_id}-{SENSORS[k][0]}" for k in kinds}
    models = {
        k: SensorModel(ids[k], seed=seed, noise_sd=0.0 if clean else SENSORS[k][1], resolution=SENSORS[k][2])
        for k in kinds
    }
    logic = SiteLogic(site.slope_id, "slope", {ids[k]: k for k in kinds}, policy.rule(site.slope_id))
    m, actions = site.motion, []
    for i, t in enumerate(m.times_s):
        if t > until_s:
            break
        d = float(m.displacement_mm[i])
        readings = []
        for k in kinds:
            true = None if not np.isfinite(d) else float(tilt_deg_from_displacement(d)) if k == "tilt" else d
            readings.append(SensorReading(ids[k], k, float(t), models[k].read(true, float(t)).value))
        hour = int((t - STEP_S / 2) // H)  # the rain since the previous step
        rain = float(rain_mm_h[hour]) if 0 <= hour < rain_mm_h.size else 0.0
        new = logic.step(SiteObservation(float(t), tuple(readings), rain))
        actions += new
        if any(a.kind == "evacuate" for a in new):
            break
    return actions


@dataclass(frozen=True)
class Outcome:
    slope_id: str
    failure_s: float | None
    evacuate_s: float | None
    forecast_s: float | None  # the forecast failure time attached to the evacuate action

    @property
    def margin_s(self) -> float | None:
        """Time from the evacuate alarm to failure, s."""
        if self.failure_s is None or self.evacuate_s is None:
            return None
        return self.failure_s - self.evacuate_s

    @property
    def error_pct(self) -> float | None:
        """Forecast error as % of the true time left at the evacuate alarm (negative: early)."""
        if self.margin_s is None or self.forecast_s is None or self.failure_s is None:
            return None
        return 100.0 * (self.forecast_s - self.failure_s) / self.margin_s


def outcome(site: Site, actions: list[CollapseAction]) -> Outcome:
    evac = next((a for a in actions if a.kind == "evacuate"), None)
    fc = evac.forecast if evac is not None else None
    return Outcome(
        site.slope_id, site.motion.failure_s, evac.t_s if evac else None, fc.failure_s if fc is not None else None
    )


def noisy_distribution(seeds: int = SEEDS) -> dict[str, Any]:
    """Run the failing slopes with noisy sensors, ``seeds`` seeds each, and the standing C slopes and
    D slope (they move) until the rain and creep are over (30 h). Returns the outcomes of the failing
    ones, the false evacuations of the others and p5/p50/p95 of the forecast error (% of the time
    left) and of the margin (min): what the lead can quote."""
    rain = storm_mm_h()
    policy = load_collapse_policy(POLICY)
    sites = shipped_sites(rain)
    failing, false = [], []
    for site in sites:
        if site.grade == "B":
            continue  # they hardly move (the clean test runs them)
        for seed in range(seeds):
            if site.motion.failure_s is not None:
                failing.append(outcome(site, run_site(site, rain, policy, seed=seed, clean=False)))
            else:
                acts = run_site(site, rain, policy, seed=seed, clean=False, until_s=30 * H)
                false += [(site.slope_id, seed)] if any(a.kind == "evacuate" for a in acts) else []
    errors = np.array([o.error_pct for o in failing if o.error_pct is not None])
    margins = np.array([o.margin_s / 60.0 for o in failing if o.margin_s is not None])
    return {
        "failing": failing,
        "false_evacuations": false,
        "error_pct": np.percentile(errors, [5, 50, 95]) if errors.size else None,
        "abs_error_pct": np.percentile(np.abs(errors), [5, 50, 95]) if errors.size else None,
        "margin_min": np.percentile(margins, [5, 50, 95]) if margins.size else None,
    }


def describe(dist: dict[str, Any]) -> str:
    """One paragraph for the test output and the docs."""
    failing: list[Outcome] = dist["failing"]
    n = len(failing)
    ok = sum(1 for o in failing if o.margin_s is not None and o.margin_s > 0)
    on_time = sum(1 for o in failing if o.margin_s is not None and o.margin_s >= MIN_MARGIN_S)
    e, a, m = dist["error_pct"], dist["abs_error_pct"], dist["margin_min"]
    return (
        f"[collapse chain, noisy, {n} failing slope x seed runs] evacuated before failure {ok}/{n}, "
        f">= 45 min before {on_time}/{n}; margin min p5/p50/p95 {m[0]:.0f}/{m[1]:.0f}/{m[2]:.0f}; "
        f"forecast error % of time left p5/p50/p95 {e[0]:+.1f}/{e[1]:+.1f}/{e[2]:+.1f} "
        f"(|error| p50 {a[1]:.1f}, p95 {a[2]:.1f}); false evacuations {len(dist['false_evacuations'])}"
    )


@pytest.fixture(scope="module")
def rain() -> np.ndarray:
    return storm_mm_h()


@pytest.fixture(scope="module")
def sites(rain: np.ndarray) -> list[Site]:
    return shipped_sites(rain)


def test_the_storm_fails_the_expected_slopes(sites: list[Site]) -> None:
    # the premise of the other tests: 9 of the 10 D slopes fail (SLP-12 bottoms out at FS 1.02), no B or C slope
    failing = {s.slope_id for s in sites if s.motion.failure_s is not None}
    assert len(failing) == 9 and "SLP-12" not in failing
    assert all(s.grade == "D" for s in sites if s.slope_id in failing)


def test_clean_signals_evacuate_every_failing_slope_45_min_ahead_with_a_forecast_within_10_pct(
    sites: list[Site], rain: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = load_collapse_policy(POLICY)
    rows = []
    for site in sites:
        acts = run_site(site, rain, policy, seed=0, clean=True)
        o = outcome(site, acts)
        if site.motion.failure_s is None:
            assert o.evacuate_s is None, (site.slope_id, [(a.kind, a.t_s / H, a.reason) for a in acts])
            continue
        assert o.margin_s is not None and o.margin_s >= MIN_MARGIN_S, (site.slope_id, o)
        assert o.error_pct is not None and abs(o.error_pct) <= 10.0, (site.slope_id, o)
        # the forecast action of the sensors at the evacuate time says the same within 10 %
        assert o.evacuate_s is not None
        latest = [a for a in acts if a.kind == "forecast" and a.forecast is not None]
        assert latest and abs(latest[-1].forecast.failure_s - site.motion.failure_s) <= 0.1 * o.margin_s  # type: ignore[union-attr]
        rows.append(f"{o.slope_id} t_f {o.failure_s / H:.2f} h, evacuate {o.evacuate_s / H:.2f} h, "  # type: ignore[operator]
                    f"margin {o.margin_s / 60:.0f} min, forecast error {o.error_pct:+.1f} %")  # fmt: skip
    assert len(rows) == 9
    with capsys.disabled():
        print("\n[collapse chain, clean] " + "; ".join(rows))


def test_no_rain_no_action_and_standing_slopes_are_never_evacuated(sites: list[Site], rain: np.ndarray) -> None:
    policy = load_collapse_policy(POLICY)
    dry = np.zeros_like(rain)
    for site in shipped_sites(dry):
        assert run_site(site, dry, policy, seed=1, clean=True) == [], site.slope_id
        # noisy: no alarm and no forecast. (SensorModel clamps readings at 0, so a noisy tilt rod at
        # rest reads exactly 0 about 69 % of the time and is sometimes found "stuck": sensor_suspect.)
        noisy = run_site(site, dry, policy, seed=1, clean=False)
        assert {a.kind for a in noisy} <= {"sensor_suspect", "sensor_ok"}, site.slope_id
    # the C slopes creep at the caution rate for hours, SLP-12 bottoms out at FS 1.02: no evacuate, no
    # warning, no forecast (clean; the noisy runs are checked below)
    for site in sites:
        if site.motion.failure_s is None:
            acts = run_site(site, rain, policy, seed=0, clean=True)
            assert not [a for a in acts if a.kind in ("evacuate", "warning", "forecast")], site.slope_id


def test_noisy_signals_twenty_seeds(capsys: pytest.CaptureFixture[str]) -> None:
    dist = noisy_distribution()
    with capsys.disabled():
        print("\n" + describe(dist))
    failing: list[Outcome] = dist["failing"]
    assert len(failing) == 9 * SEEDS
    before = [o for o in failing if o.margin_s is not None and o.margin_s > 0]
    assert len(before) >= 0.95 * len(failing)  # measured: all of them
    assert sum(o.margin_s >= MIN_MARGIN_S for o in before) >= 0.95 * len(failing)  # type: ignore[operator]
    assert dist["false_evacuations"] == []
    assert dist["abs_error_pct"][1] <= 10.0  # median |error|
    assert dist["abs_error_pct"][2] <= 35.0  # p95 |error|
    assert sum(o.error_pct is not None for o in before) >= 0.95 * len(failing)  # evacuated with a forecast
