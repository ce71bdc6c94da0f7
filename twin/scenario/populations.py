"""The people of a scenario: who walks where and when, by group, and how they respond to the flood.

Counts are people, distances m, speeds m/s, times float seconds from the run start. The groups
(:data:`PEOPLE_GROUPS`) are declared here once: the crowd model keys its walking speeds by them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal, get_args

from pydantic import Field, model_validator

from ..validation_messages import _show, format_duration
from ..value_types import rule_error
from .fields import (
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


def _shares(shares: dict[PeopleGroup, float]) -> Callable[[], dict[PeopleGroup, float]]:
    """A ``default_factory`` of a population's ``groups``: a fresh copy of ``shares`` each time."""
    return lambda: dict(shares)


def _population_rules(pop: RiversidePopulation | SchoolCommute | Trips | Residents) -> None:
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

    @model_validator(mode="after")
    def _rules(self) -> Trips:
        _population_rules(self)
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


Population = Annotated[RiversidePopulation | SchoolCommute | Trips | Residents, Field(discriminator="kind")]


class Crowd(Section):
    """How people respond to the flood."""

    evacuation_trigger: Literal["path_flooded", "attention", "none"] = Field(
        "path_flooded",
        description="When the paths of a stream are cleared: the first of them floods, or the stream's "
        "gauge reaches 관심 (attention), or never.",
    )
    sample_interval: SampleInterval = Field(60.0, description="How often link densities are recorded.")
    trajectory_sample: PeopleCount = Field(500, description="How many people's tracks are written for the map.")
