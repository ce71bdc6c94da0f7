"""The people of a scenario: who walks where and when, by group, and how they respond to the flood.

Counts are people, distances m, speeds m/s, times float seconds from the run start. The groups
(:data:`PEOPLE_GROUPS`) are declared here once: the crowd model keys its walking speeds by them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeAlias, get_args

from pydantic import BeforeValidator, Field, model_validator

from ..validation_messages import _expected_error, _show, format_duration
from ..value_types import number, rule_error
from .fields import (
    MAX_PEOPLE,
    Distance,
    Duration,
    NonEmptyText,
    PeopleCount,
    PositiveDuration,
    SampleInterval,
    Section,
    Share,
    Speed,
)

PeopleGroup = Literal["adult", "child", "older", "limited_mobility"]
"""A group of people with its own free walking speed (the keys of a population's ``groups``)."""
PEOPLE_GROUPS: tuple[str, ...] = get_args(PeopleGroup)
"""Every people group, in the schema's order: adult, child, older, limited_mobility."""
ExitChoice = Literal["nearest", "quickest"]
"""How evacuees sent to the nearest of several places choose one: by walking distance, or where
they expect to arrive first given those who set out before them (see the crowd docs)."""
EXIT_CHOICES: tuple[str, ...] = get_args(ExitChoice)
_EXIT_CHOICE_HELP = (
    "With destination nearest:<kind>: 'nearest' by walking distance, or 'quickest': where each expects "
    "to arrive first, counting those who set out before them through the same narrowest link "
    "(capacity-constrained route planning, Lu, George & Shekhar 2005)."
)


def _exit_choice_rule(pop: Trips | Flow) -> list[tuple[str, str, str]]:
    """'quickest' needs a choice: a destination nearest:<kind>."""
    dest = pop.destination or ""
    if pop.exit_choice == "quickest" and not dest.startswith("nearest:"):
        return [("exit_choice", "quickest", "'nearest' unless destination is nearest:<kind> (nothing to choose from)")]
    return []


MAX_RATE_P_S = 100.0
"""Highest rate of a ``flow`` population, people/s: the capacity of a street about 80 m wide
(1.225 P/(m s), docs/crowd.md), more than any station exit."""
MAX_COORDINATE_M = 10_000_000.0
"""Largest absolute EPSG:5186 coordinate of a point in a scenario, m (Korea lies well inside it)."""
COUNT_TOLERANCE = 1e-9
"""Relative slack of ``floor(rate_p_s x duration)``, so 0.1 P/s x 30 s counts 3 people, not 2."""

Rate: TypeAlias = Annotated[float, number(gt=0, le=MAX_RATE_P_S)]
"""People per second: > 0 and at most :data:`MAX_RATE_P_S`."""
Coordinate: TypeAlias = Annotated[float, number(ge=-MAX_COORDINATE_M, le=MAX_COORDINATE_M)]
"""One EPSG:5186 coordinate (x easting or y northing), m."""
POINT_EXPECTED = f"a point [x, y] in EPSG:5186, m (two numbers, each within ±{MAX_COORDINATE_M:.0f} m)"
"""What an ``origin_xy`` or ``destination_xy`` must be, in error messages."""


def _two_items(value: Any) -> Any:
    """A point is a list of exactly two items (their values are checked as :data:`Coordinate`)."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise _expected_error(POINT_EXPECTED)
    return value


Point: TypeAlias = Annotated[list[Coordinate], BeforeValidator(_two_items), Field(min_length=2, max_length=2)]
"""A point ``[x, y]`` in EPSG:5186, m (a list, so error messages name the bounds of each item)."""


def _shares(shares: dict[PeopleGroup, float]) -> Callable[[], dict[PeopleGroup, float]]:
    """A ``default_factory`` of a population's ``groups``: a fresh copy of ``shares`` each time."""
    return lambda: dict(shares)


def _population_rules(pop: RiversidePopulation | SchoolCommute | Trips | Residents | Flow) -> None:
    """Shared rules: some group share > 0; a departure window that does not run backwards."""
    problems = []
    if not pop.groups or sum(pop.groups.values()) <= 0:
        problems.append(("groups", _show(dict(pop.groups)), "at least one group with a share > 0"))
    start, end = getattr(pop, "window_start", None), getattr(pop, "window_end", None)
    if start is not None and end is not None and end < start:
        problems.append(("window_end", format_duration(end), f"at least window_start {format_duration(start)}"))
    if problems:
        raise rule_error(problems)


class RiversidePopulation(Section):
    """People walking the riverside paths: each enters at a random point of a path at a random
    time in ``arrival_window`` and walks along it to an access point 300 m or more away."""

    kind: Literal["riverside"] = "riverside"
    stream: NonEmptyText | None = Field(None, description="Korean stream name (e.g. 중랑천); null = every stream.")
    count: PeopleCount = Field(description="Number of people.")
    arrival_window: Duration | None = Field(
        None, description="They set out uniformly over this time from the start; null = the whole run."
    )
    groups: dict[PeopleGroup, Share] = Field(
        default_factory=_shares({"adult": 0.75, "child": 0.08, "older": 0.14, "limited_mobility": 0.03}),
        description="Share of each group (normalised); free walking speeds differ by group.",
    )

    @model_validator(mode="after")
    def _rules(self) -> RiversidePopulation:
        _population_rules(self)
        return self


class SchoolCommute(Section):
    """Children walking to school: from street points within ``radius_m`` of the school to its
    gate, setting out uniformly between ``window_start`` and ``window_end`` (from the run start)."""

    kind: Literal["school_commute"] = "school_commute"
    school: NonEmptyText = Field(description="School name (e.g. 가능초등학교) or facility_id.")
    count: PeopleCount = Field(description="Number of pupils (and escorts).")
    radius_m: Distance = Field(800.0, description="Where they come from: street nodes within this distance, m.")
    window_start: Duration = Field(0.0, description="First departure, from the run start.")
    window_end: PositiveDuration = Field(1800.0, description="Last departure, from the run start.")
    groups: dict[PeopleGroup, Share] = Field(
        default_factory=_shares({"child": 0.8, "adult": 0.2}),
        description="Share of each group (normalised).",
    )

    @model_validator(mode="after")
    def _rules(self) -> SchoolCommute:
        _population_rules(self)
        return self


class Trips(Section):
    """Trips from one facility to another (or to the nearest facility of a kind), setting out
    uniformly between ``window_start`` and ``window_end``."""

    kind: Literal["trips"] = "trips"
    origin: NonEmptyText = Field(description="facility_id where the trips start.")
    destination: NonEmptyText = Field(
        description="facility_id where they end, or 'nearest:<kind>' (e.g. nearest:shelter) by walking distance."
    )
    count: PeopleCount = Field(description="Number of people.")
    window_start: Duration = Field(0.0, description="First departure, from the run start.")
    window_end: Duration = Field(0.0, description="Last departure, from the run start.")
    groups: dict[PeopleGroup, Share] = Field(
        default_factory=_shares({"adult": 1.0}), description="Share of each group (normalised)."
    )
    free_speed_m_s: Speed | None = Field(
        None, description="Everyone's free walking speed, m/s (for verification); null = drawn per group."
    )
    exit_choice: ExitChoice = Field("nearest", description=_EXIT_CHOICE_HELP)

    @model_validator(mode="after")
    def _rules(self) -> Trips:
        _population_rules(self)
        problems = _exit_choice_rule(self)
        if problems:
            raise rule_error(problems)
        return self


class Residents(Section):
    """Residents of a dong ordered to a shelter: at ``order_at`` they leave random buildings of
    the dong (after a reaction time of up to ``reaction_max``) for the nearest shelter on foot."""

    kind: Literal["residents"] = "residents"
    dong: NonEmptyText = Field(description="Korean dong name (e.g. 신곡1동), or 'all'.")
    count: PeopleCount = Field(description="Number of people.")
    order_at: Duration = Field(0.0, description="When the evacuation order is given, from the run start.")
    reaction_max: Duration = Field(300.0, description="Reaction times spread uniformly up to this.")
    shelter_kind: NonEmptyText = Field("shelter", description="Facility kind they go to.")
    groups: dict[PeopleGroup, Share] = Field(
        default_factory=_shares({"adult": 0.7, "child": 0.12, "older": 0.15, "limited_mobility": 0.03}),
        description="Share of each group (normalised).",
    )

    @model_validator(mode="after")
    def _rules(self) -> Residents:
        _population_rules(self)
        return self


class Flow(Section):
    """A fixed-rate stream of people, for verification and counted flows (station exits): from
    ``start`` (from the run start) for ``duration``, someone sets out every ``1 / rate_p_s`` s from
    ``origin`` (a facility) or ``origin_xy`` (a point) for ``destination`` (a facility or
    ``nearest:<kind>``) or ``destination_xy``: ``floor(rate_p_s x duration)`` people in all."""

    kind: Literal["flow"] = "flow"
    origin: NonEmptyText | None = Field(None, description="facility_id where they set out (or give origin_xy).")
    origin_xy: Point | None = Field(
        None, description="[x, y] in EPSG:5186, m: they set out at the nearest walk-graph node (within 50 m)."
    )
    destination: NonEmptyText | None = Field(
        None,
        description="facility_id where they go, or 'nearest:<kind>' (e.g. nearest:shelter) by walking distance "
        "(or give destination_xy).",
    )
    destination_xy: Point | None = Field(
        None, description="[x, y] in EPSG:5186, m: they go to the nearest walk-graph node (within 50 m)."
    )
    rate_p_s: Rate = Field(description="People setting out per second, P/s.")
    start: Duration = Field(0.0, description="First departure, from the run start.")
    duration: PositiveDuration = Field(description="How long people keep setting out.")
    groups: dict[PeopleGroup, Share] = Field(
        default_factory=_shares({"adult": 1.0}), description="Share of each group (normalised)."
    )
    free_speed_m_s: Speed | None = Field(
        None, description="Everyone's free walking speed, m/s (for verification); null = drawn per group."
    )
    exit_choice: ExitChoice = Field("nearest", description=_EXIT_CHOICE_HELP)

    @property
    def count(self) -> int:
        """Number of people: ``floor(rate_p_s x duration)`` (P/s x s)."""
        return math.floor(self.rate_p_s * self.duration * (1 + COUNT_TOLERANCE))

    def departures_s(self) -> list[float]:
        """Departure times, s from the run start: ``start + k / rate_p_s`` for k = 0 .. count - 1."""
        return [self.start + k / self.rate_p_s for k in range(self.count)]

    @model_validator(mode="after")
    def _rules(self) -> Flow:
        _population_rules(self)
        problems = []
        for name in ("origin", "destination"):
            given = [f for f in (name, f"{name}_xy") if getattr(self, f) is not None]
            if len(given) != 1:
                got = f"both {name} and {name}_xy" if given else f"neither {name} nor {name}_xy"
                problems.append((name, got, f"exactly one of {name} (a facility_id) and {name}_xy ([x, y], m)"))
        problems += _exit_choice_rule(self)
        if self.count > MAX_PEOPLE:
            problems.append(
                (
                    "rate_p_s",
                    f"{self.rate_p_s:g} P/s x duration {format_duration(self.duration)} = {self.count} people",
                    f"at most {MAX_PEOPLE} people (a lower rate or a shorter duration)",
                )
            )
        if problems:
            raise rule_error(problems)
        return self


Population = Annotated[RiversidePopulation | SchoolCommute | Trips | Residents | Flow, Field(discriminator="kind")]


class Crowd(Section):
    """How people respond to the flood."""

    evacuation_trigger: Literal["path_flooded", "attention", "none"] = Field(
        "path_flooded",
        description="When the paths of a stream are cleared: the first of them floods, or the stream's "
        "gauge reaches 관심 (attention), or never.",
    )
    sample_interval: SampleInterval = Field(60.0, description="How often link densities are recorded.")
    trajectory_sample: PeopleCount = Field(500, description="How many people's tracks are written for the map.")
