"""The collapse section of a scenario: which monitored buildings settle and why, how slopes'
soils differ from the dataset, the early-warning policy that runs in process, and how people
leave a danger zone.

::

    collapse:
      policy: policies/reference_collapse.yaml   # the reference early warning, in process
      buildings:
        B00012:
          settlement_rate_mm_day: 0.5           # steady differential settlement across its width
          excavations: [{start: 2h, settlement_mm: 40, time_constant: 12h}]
      slopes:
        SLP-03: {cohesion_kpa: 4.0}            # replaces the dataset's value for this run
      evacuation: {reaction_max: 15min, building_radius_m: null, shelter_kind: shelter}

Times from the run start (durations), lengths in m, settlement in mm, soil values in the
dataset's units (docs/dataset.md). Site ids are checked against the dataset by
:mod:`twin.scenario_city`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ..value_types import number
from .fields import Distance, Duration, NonEmptyText, PositiveDuration, Section, SmallNonNegative

MAX_SETTLEMENT_MM = 5000.0
"""Largest settlement a scenario may name, mm (5 m: a building has long gone by then)."""

Settlement = Annotated[float, number(ge=0, le=MAX_SETTLEMENT_MM)]
SettlementRate = Annotated[float, number(ge=0, le=1000.0)]  # mm/day


class ExcavationEvent(Section):
    """An excavation next to a building: its differential settlement grows toward
    ``settlement_mm`` as 1 - exp(-(t - start) / time_constant)."""

    start: Duration = Field(description="When digging starts, from the scenario start.")
    settlement_mm: Settlement = Field(description="Final differential settlement across the building, mm.")
    time_constant: PositiveDuration = Field(
        description="Time to 63 % of the final settlement (consolidation of the soil)."
    )


class BuildingLoad(Section):
    """What makes one monitored building settle during the run (all optional; none: it stands)."""

    settlement_rate_mm_day: SettlementRate = Field(0.0, description="Steady differential settlement, mm/day.")
    excavations: list[ExcavationEvent] = Field(default_factory=list, description="Excavations next to it.")
    rain_settlement_mm_per_mm: SmallNonNegative | None = Field(
        None,
        description="Differential settlement per mm of rain above the threshold intensity, mm/mm "
        "(null: the model's default, an assumption).",
    )


class SoilOverride(Section):
    """A slope's soil for this run, replacing the dataset's values (null: keep the dataset's)."""

    soil_depth_m: Annotated[float, number(gt=0, le=50)] | None = None
    water_table_depth_m: Annotated[float, number(ge=0, le=50)] | None = None
    cohesion_kpa: Annotated[float, number(ge=0, le=500)] | None = None
    friction_deg: Annotated[float, number(gt=0, le=89)] | None = None
    unit_weight_kn_m3: Annotated[float, number(gt=0, le=40)] | None = None
    diffusivity_m2_s: Annotated[float, number(gt=0, le=1)] | None = None
    ks_m_s: Annotated[float, number(gt=0, le=1)] | None = None


class CollapseEvacuation(Section):
    """How people leave a danger zone when its site's evacuate alarm goes off."""

    reaction_max: Duration = Field(
        900.0, description="Residents set out within this long of the alarm (uniformly; 0 = at once)."
    )
    building_radius_m: Distance | None = Field(
        None,
        description="Danger zone around a monitored building, m from its footprint (null: its height, "
        "3 m a storey: a building falls over about its height).",
    )
    shelter_kind: NonEmptyText = Field("shelter", description="Facility kind people go to (nearest).")


class CollapseSpec(Section):
    """Building and slope collapse signals: the physics, the early warning and the response."""

    policy: NonEmptyText | None = Field(
        None,
        description="Collapse early-warning policy YAML (collapse_policy_version 1), relative to the scenario "
        "file; null = no early warning runs in process (the sensors still read the model).",
    )
    buildings: dict[NonEmptyText, BuildingLoad] = Field(
        default_factory=dict, description="Monitored building id -> what makes it settle."
    )
    slopes: dict[NonEmptyText, SoilOverride] = Field(
        default_factory=dict, description="Slope id -> soil values replacing the dataset's for this run."
    )
    evacuation: CollapseEvacuation = Field(default_factory=CollapseEvacuation)
