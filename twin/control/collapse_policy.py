"""The collapse early-warning policy: when a slope or a building site goes to caution, warning and
evacuate. A YAML file, validated like the gate policy (:mod:`twin.control.policy`)::

    collapse_policy_version: 1
    slopes:                                    # every slope site, unless overridden in sites
      tilt_rate_deg_h: {caution: 0.01, warning: 0.1}
      displacement_rate_mm_h: {caution: 0.5, warning: 1.0, evacuate: 2.0}   # extensometers, cracks
      rain: {a_mm_h: 9.64, b: 0.27, min_duration: 4h, max_duration: 76h}    # I = a·D^-b -> caution
      forecast_warning_lead: 12h               # forecast failure this close -> warning
      forecast_evacuate_lead: 3h               # ... this close -> an evacuate signal
      forecast: {smoothing: 1h, ema_short: 30min, ema_long: 3h}   # optional: slopes' own forecast
      forecast_after: warning                  # optional: a forecast counts once the sensor's rate is here
      rate_smoothing: 2h                       # optional: the rates' own smoothing window
    buildings:
      tilt_grade_limits: {A: 0.0013333, B: 0.002, C: 0.004, D: 0.0066667}  # tilt ratio upper limits
      tilt_grade_alarms: {caution: C, warning: D, evacuate: E}
      crack_mm: {caution: 0.3, warning: 0.5, evacuate: 1.0}
      forecast_warning_lead: 24h
      forecast_evacuate_lead: 6h
      # forecast: {...}                        # optional: buildings' own forecast settings
    forecast: {smoothing: 2h, polyorder: 2, min_points: 6, min_r2: 0.8}   # twin.control.inverse_velocity
    plausibility: {stale_after: 1h, max_step: {tilt_deg: 0.5, mm: 20}, stuck_readings: 18, corroboration: 2,
                   probation: 6h}
    clear_after: 6h
    sites:
      SLP-03: {slopes: {displacement_rate_mm_h: {caution: 1, warning: 2, evacuate: 4}}}

Units are in the field names (``_deg_h`` degrees per hour, ``_mm_h`` mm per hour, ``_mm`` mm);
durations take seconds or '3h', '90min'. A site's override replaces whole entries of ``slopes``,
``buildings`` or ``plausibility`` (a levels mapping, or a ``forecast`` block, is replaced as a whole,
not merged). The top-level ``forecast`` serves a kind of site that has no ``forecast`` block of its
own.

Sources (docs notes A2, A3; marked ASSUMPTION where none was retrieved): tilt-rate levels, Uchimura
et al. (ISSMGE); the Korean rainfall threshold I = 9.64·D^-0.27 mm/h for 4-76 h, quantile
regression on 478 landslides 1963-2012 (KoreaScience JAKO201308156248780); the building tilt grades
A 1/750, B 1/500, C 1/250, D 1/150, E beyond, MOLIT 세부지침 as quoted in the press; crack widths
after the 2024 bridge-deck commentary and an apartment defect study (no building table found).
"""

from __future__ import annotations

import math
import os
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import TwinError
from ..input_files import _data_shape_problem, read_yaml_file
from ..validation_messages import _error_lines, _kind_word
from ..validation_messages import format_duration as _d
from ..value_types import duration, integer, number, rule_error
from .inverse_velocity import ForecastSettings

MAX_RATE = 10_000.0
"""Highest rate a policy may name, unit per hour (mm/h or degrees/h)."""
MAX_LEAD_S = 7 * 86_400.0
"""Longest duration of the policy (leads, clear_after, forecast windows): a week."""
MAX_CRACK_MM = 1000.0
MAX_TILT_DEG = 90.0

Grade: TypeAlias = Literal["A", "B", "C", "D", "E"]
GRADES: tuple[Grade, ...] = ("A", "B", "C", "D", "E")
LEVELS = ("caution", "warning", "evacuate")

Rate: TypeAlias = Annotated[float, number(gt=0, le=MAX_RATE)]
Lead: TypeAlias = Annotated[float, duration(gt=0, le=MAX_LEAD_S)]
Ratio: TypeAlias = Annotated[float, number(gt=0, le=1)]


class CollapsePolicyError(TwinError, ValueError):
    """A collapse policy file is missing, not YAML, or invalid; one line per problem."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _ordered(values: list[tuple[str, float | None]], what: str) -> list[tuple[str, str, str]]:
    """Problems where a given level is not above the given one before it (field, got, expected)."""
    problems, prev = [], None
    for name, value in values:
        if value is None:
            continue
        if prev is not None and not value > prev[1]:
            problems.append((name, f"{value:g}", f"more than {prev[0]} {prev[1]:g} ({what})"))
        prev = (name, value)
    return problems


class Levels(_Model):
    """Alarm levels of one quantity, in the unit of the field that holds them; any may be left out
    (that quantity never raises that level), the given ones strictly increasing."""

    caution: Annotated[float, number(gt=0, le=MAX_RATE)] | None = None
    warning: Annotated[float, number(gt=0, le=MAX_RATE)] | None = None
    evacuate: Annotated[float, number(gt=0, le=MAX_RATE)] | None = None

    @model_validator(mode="after")
    def _increasing(self) -> Levels:
        problems = _ordered([(n, getattr(self, n)) for n in LEVELS], "levels increase")
        if problems:
            raise rule_error(problems)
        return self

    def level(self, value: float) -> int:
        """0 normal, 1 caution, 2 warning, 3 evacuate: the highest level ``value`` reaches."""
        out = 0
        for i, name in enumerate(LEVELS, start=1):
            limit = getattr(self, name)
            if limit is not None and value >= limit:
                out = i
        return out


class RainThreshold(_Model):
    """Rainfall intensity-duration threshold I = a·D^-b (I mm/h mean over the last D hours), for
    min_duration <= D <= max_duration."""

    a_mm_h: Annotated[float, number(gt=0, le=1000)] = 9.64
    b: Annotated[float, number(ge=0, le=2)] = 0.27
    min_duration: Lead = 4 * 3600.0
    max_duration: Lead = 76 * 3600.0

    @model_validator(mode="after")
    def _span(self) -> RainThreshold:
        if not self.max_duration > self.min_duration:
            if "max_duration" in self.model_fields_set:
                raise rule_error(
                    [("max_duration", _d(self.max_duration), f"more than min_duration {_d(self.min_duration)}")]
                )
            raise rule_error(
                [("min_duration", _d(self.min_duration), f"less than max_duration {_d(self.max_duration)}")]
            )
        return self

    def intensity_mm_h(self, duration_s: float) -> float:
        """The threshold intensity (mm/h) for a duration (s)."""
        return float(self.a_mm_h * (duration_s / 3600.0) ** (-self.b))


class ForecastRule(_Model):
    """The inverse-velocity forecast (:class:`twin.control.inverse_velocity.ForecastSettings`)."""

    step: Annotated[float, duration(ge=1, le=86_400)] = 600.0
    max_gap: Lead = 3600.0
    smoothing: Lead = 7200.0
    polyorder: Annotated[int, integer(ge=1, le=5)] = 2
    history: Lead = 2 * 86_400.0
    ema_short: Lead = 3 * 3600.0
    ema_long: Lead = 24 * 3600.0
    onset_ratio: Annotated[float, number(gt=1, le=100)] = 1.5
    onset_window: Lead = 3 * 3600.0
    onset_warmup: Annotated[float, duration(ge=0, le=MAX_LEAD_S)] = 12 * 3600.0
    fit_window: Lead = 24 * 3600.0
    fit_tail: bool = True
    max_interval_ratio: Annotated[float, number(gt=0, le=1000)] | None = None
    min_points: Annotated[int, integer(ge=3, le=10_000)] = 6
    min_r2: Annotated[float, number(ge=0, le=1)] = 0.8
    confidence: Annotated[float, number(gt=0, lt=1)] = 0.9

    @model_validator(mode="after")
    def _windows(self) -> ForecastRule:
        problems = []
        if not self.ema_long > self.ema_short:
            problems.append(("ema_long", _d(self.ema_long), f"more than ema_short {_d(self.ema_short)}"))
        if not self.smoothing >= (self.polyorder + 1) * self.step:
            problems.append(
                ("smoothing", _d(self.smoothing),
                 f"at least (polyorder + 1) steps = {_d((self.polyorder + 1) * self.step)}")
            )  # fmt: skip
        if not self.history >= self.smoothing + self.onset_window + self.step:
            problems.append(
                ("history", _d(self.history), "at least smoothing + onset_window + step (the data the onset needs)")
            )
        if problems:
            raise rule_error(problems)
        return self

    def settings(self) -> ForecastSettings:
        """These fields as :class:`ForecastSettings` (durations in s)."""
        return ForecastSettings(
            step_s=self.step,
            max_gap_s=self.max_gap,
            smoothing_s=self.smoothing,
            polyorder=self.polyorder,
            history_s=self.history,
            ema_short_s=self.ema_short,
            ema_long_s=self.ema_long,
            onset_ratio=self.onset_ratio,
            onset_window_s=self.onset_window,
            onset_warmup_s=self.onset_warmup,
            fit_window_s=self.fit_window,
            fit_tail=self.fit_tail,
            max_interval_ratio=math.inf if self.max_interval_ratio is None else self.max_interval_ratio,
            min_points=self.min_points,
            min_r2=self.min_r2,
            confidence=self.confidence,
        )


AlarmLevel: TypeAlias = Literal["caution", "warning", "evacuate"]


class SlopeRule(_Model):
    """The slope alarms. ``forecast`` (optional) replaces the top-level forecast settings for slopes
    (their accelerations may last hours, not days); ``forecast_after`` (optional) makes a sensor's
    forecast count only while that sensor's own rate is at this level or above; ``rate_smoothing``
    (optional, s) the Savitzky–Golay window of the rates, when it should differ from the forecast's
    (a longer one keeps sensor noise below the rate levels)."""

    tilt_rate_deg_h: Levels = Levels(caution=0.01, warning=0.1)
    displacement_rate_mm_h: Levels = Levels(caution=0.5, warning=1.0, evacuate=2.0)
    rain: RainThreshold | None = RainThreshold()
    forecast_warning_lead: Lead = 12 * 3600.0
    forecast_evacuate_lead: Lead = 3 * 3600.0
    forecast: ForecastRule | None = None
    forecast_after: AlarmLevel | None = None
    rate_smoothing: Lead | None = None


class SlopeOverride(_Model):
    tilt_rate_deg_h: Levels | None = None
    displacement_rate_mm_h: Levels | None = None
    rain: RainThreshold | None = None
    forecast_warning_lead: Lead | None = None
    forecast_evacuate_lead: Lead | None = None
    forecast: ForecastRule | None = None
    forecast_after: AlarmLevel | None = None
    rate_smoothing: Lead | None = None


class GradeLimits(_Model):
    """Upper limits of the tilt ratio (horizontal over vertical, tan of the tilt) of grades A-D;
    grade E is beyond D."""

    A: Ratio = 1 / 750
    B: Ratio = 1 / 500
    C: Ratio = 1 / 250
    D: Ratio = 1 / 150

    @model_validator(mode="after")
    def _increasing(self) -> GradeLimits:
        problems = _ordered([(g, getattr(self, g)) for g in GRADES[:4]], "grade limits increase")
        if problems:
            raise rule_error(problems)
        return self

    def grade(self, ratio: float) -> Grade:
        """The grade of a tilt ratio (dimensionless). A ratio within 0.01 % above a limit counts as at
        the limit: the file holds 1/750 and the like as rounded decimals."""
        for g in GRADES[:4]:
            if ratio <= getattr(self, g) * (1 + 1e-4):
                return g
        return "E"


class GradeAlarms(_Model):
    """The tilt grade at (or beyond) which each level is raised."""

    caution: Grade | None = "C"
    warning: Grade | None = "D"
    evacuate: Grade | None = "E"

    @model_validator(mode="after")
    def _ordered_grades(self) -> GradeAlarms:
        problems, prev = [], None
        for name in LEVELS:
            grade = getattr(self, name)
            if grade is None:
                continue
            if prev is not None and not GRADES.index(grade) > GRADES.index(prev[1]):
                problems.append((name, grade, f"a grade worse than {prev[0]} {prev[1]} (one of A-E, levels increase)"))
            prev = (name, grade)
        if problems:
            raise rule_error(problems)
        return self

    def level(self, grade: Grade) -> int:
        out = 0
        for i, name in enumerate(LEVELS, start=1):
            g = getattr(self, name)
            if g is not None and GRADES.index(grade) >= GRADES.index(g):
                out = i
        return out


class BuildingRule(_Model):
    """The building alarms. ``forecast`` (optional) replaces the top-level forecast settings for
    buildings."""

    tilt_grade_limits: GradeLimits = GradeLimits()
    tilt_grade_alarms: GradeAlarms = GradeAlarms()
    crack_mm: Levels = Levels(caution=0.3, warning=0.5, evacuate=1.0)
    forecast_warning_lead: Lead = 24 * 3600.0
    forecast_evacuate_lead: Lead = 6 * 3600.0
    forecast: ForecastRule | None = None


class BuildingOverride(_Model):
    tilt_grade_limits: GradeLimits | None = None
    tilt_grade_alarms: GradeAlarms | None = None
    crack_mm: Levels | None = None
    forecast_warning_lead: Lead | None = None
    forecast_evacuate_lead: Lead | None = None
    forecast: ForecastRule | None = None


class MaxStep(_Model):
    """Largest plausible change between two consecutive readings (a bigger one is a spike)."""

    tilt_deg: Annotated[float, number(gt=0, le=MAX_TILT_DEG)] = 0.5
    mm: Annotated[float, number(gt=0, le=10_000)] = 20.0


class PhysicalRange(_Model):
    """Readings beyond these are impossible for the sensor: |tilt| in degrees, crack and
    extensometer in mm (negative: closing)."""

    tilt_deg: Annotated[float, number(gt=0, le=MAX_TILT_DEG)] = 30.0
    mm_min: Annotated[float, number(ge=-10_000, le=0)] = -50.0
    mm_max: Annotated[float, number(gt=0, le=10_000)] = 2000.0


class Plausibility(_Model):
    stale_after: Lead = 3600.0
    max_step: MaxStep = MaxStep()
    physical_range: PhysicalRange = PhysicalRange()
    stuck_readings: Annotated[int, integer(ge=2, le=10_000)] = 18
    spikes_to_suspect: Annotated[int, integer(ge=1, le=1000)] = 3
    spike_window: Lead = 3 * 3600.0
    corroboration: Annotated[int, integer(ge=1, le=10)] = 2
    probation: Annotated[float, duration(ge=0, le=MAX_LEAD_S)] = 6 * 3600.0


class PlausibilityOverride(_Model):
    stale_after: Lead | None = None
    max_step: MaxStep | None = None
    physical_range: PhysicalRange | None = None
    stuck_readings: Annotated[int, integer(ge=2, le=10_000)] | None = None
    spikes_to_suspect: Annotated[int, integer(ge=1, le=1000)] | None = None
    spike_window: Lead | None = None
    corroboration: Annotated[int, integer(ge=1, le=10)] | None = None
    probation: Annotated[float, duration(ge=0, le=MAX_LEAD_S)] | None = None


class SiteOverride(_Model):
    slopes: SlopeOverride | None = None
    buildings: BuildingOverride | None = None
    plausibility: PlausibilityOverride | None = None


class SiteRule(_Model):
    """Everything the logic of one site reads: the rule of its kind, forecast, plausibility."""

    slopes: SlopeRule
    buildings: BuildingRule
    forecast: ForecastRule
    plausibility: Plausibility
    clear_after: float

    def forecast_settings(self, site_kind: str) -> ForecastSettings:
        """The forecast settings of a ``"slope"`` or ``"building"`` site: its kind's own
        ``forecast`` block when the policy has one, else the top-level ``forecast``."""
        own = self.slopes.forecast if site_kind == "slope" else self.buildings.forecast
        return (own or self.forecast).settings()


def _merge(base: _Model, over: _Model | None) -> Any:
    if over is None:
        return base
    return type(base).model_validate(base.model_dump() | over.model_dump(exclude_none=True))


def _lead_problems(rule: SlopeRule | BuildingRule) -> list[tuple[str, str, str]]:
    if rule.forecast_warning_lead >= rule.forecast_evacuate_lead:
        return []
    return [
        ("forecast_warning_lead", _d(rule.forecast_warning_lead),
         f"at least forecast_evacuate_lead {_d(rule.forecast_evacuate_lead)} (the warning comes first)")
    ]  # fmt: skip


class CollapsePolicy(_Model):
    collapse_policy_version: Annotated[Literal[1], Field(description="This twin reads version 1.")]
    slopes: SlopeRule = SlopeRule()
    buildings: BuildingRule = BuildingRule()
    forecast: ForecastRule = ForecastRule()
    plausibility: Plausibility = Plausibility()
    clear_after: Lead = 6 * 3600.0
    sites: dict[str, SiteOverride] = Field(default_factory=dict)

    def rule(self, site_id: str) -> SiteRule:
        """The full rule of a site: its own overrides over the defaults."""
        own = self.sites.get(site_id)
        return SiteRule(
            slopes=_merge(self.slopes, own.slopes if own else None),
            buildings=_merge(self.buildings, own.buildings if own else None),
            forecast=self.forecast,
            plausibility=_merge(self.plausibility, own.plausibility if own else None),
            clear_after=self.clear_after,
        )

    @model_validator(mode="after")
    def _cross_fields(self) -> CollapsePolicy:
        problems = [(f"slopes.{p}", g, e) for p, g, e in _lead_problems(self.slopes)]
        problems += [(f"buildings.{p}", g, e) for p, g, e in _lead_problems(self.buildings)]
        for sid, own in self.sites.items():
            rule = self.rule(sid)
            for part, merged, over in (
                ("slopes", rule.slopes, own.slopes),
                ("buildings", rule.buildings, own.buildings),
            ):
                if over is None:
                    continue
                mine = over.model_fields_set  # a site is blamed only for what it sets itself
                for p, g, e in _lead_problems(merged):
                    if mine & {"forecast_warning_lead", "forecast_evacuate_lead"}:
                        problems.append((f"sites.{sid}.{part}.{p}", g, e))
        if problems:
            raise rule_error(problems)
        return self


def collapse_policy_json_schema() -> dict[str, Any]:
    """The JSON Schema of collapse policy files (version 1)."""
    body = CollapsePolicy.model_json_schema()
    body.pop("title", None)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Collapse policy, version 1", **body}


_TOP = "collapse_policy_version: 1; optional: slopes, buildings, forecast, plausibility, clear_after, sites"


def collapse_policy_from_mapping(data: Any, *, source: str = "<collapse policy>") -> CollapsePolicy:
    """Validate collapse policy data; raises :class:`CollapsePolicyError` with one line per problem,
    ``FILE: field.path: got VALUE: expected WHAT`` (with the right name suggested for a misspelt field)."""
    if not isinstance(data, dict):
        raise CollapsePolicyError(f"{source}: top level: got {_kind_word(data)}: expected a mapping with {_TOP}")
    if "collapse_policy_version" not in data:  # some other YAML file: say so, without repeating its keys
        other = (
            "a scenario (it has schema_version)"
            if "schema_version" in data
            else "a gate policy (it has policy_version)"
            if "policy_version" in data
            else "a mapping without collapse_policy_version"
        )
        raise CollapsePolicyError(f"{source}: top level: got {other}: expected a collapse policy ({_TOP})")
    shape = _data_shape_problem(data)
    if shape is not None:
        raise CollapsePolicyError(
            f"{source}: top level: {shape}: expected a collapse policy (a few levels of mappings)"
        )
    try:
        return CollapsePolicy.model_validate(data)
    except ValidationError as exc:
        raise CollapsePolicyError(_error_lines(exc, source, collapse_policy_json_schema())) from None


def load_collapse_policy(path: str | os.PathLike[str]) -> CollapsePolicy:
    """Read and validate a collapse policy YAML file; :class:`CollapsePolicyError` naming the file otherwise."""
    label = os.fspath(path)
    data = read_yaml_file(path, what="a collapse policy YAML file", error=CollapsePolicyError)
    if data is None:
        raise CollapsePolicyError(f"{label}: the file is empty: expected a mapping with {_TOP}")
    return collapse_policy_from_mapping(data, source=label)
