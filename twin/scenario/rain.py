"""The rain of a scenario: a design storm, recorded rain from a CSV file, or none.

Depths in mm at a rain gauge, durations in float seconds; ``rainfall.kind`` chooses the section.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from ..validation_messages import _num, _show, format_duration
from ..value_types import rule_error
from .fields import (
    MAX_RAIN_MM,
    Duration,
    GaugeFactor,
    NonEmptyText,
    PositiveDuration,
    RainDepth,
    ReturnPeriod,
    Section,
)


class DesignStorm(Section):
    """A synthetic storm: a total depth spread over its duration by a temporal pattern."""

    kind: Literal["design"] = "design"
    total_mm: RainDepth = Field(
        description="Total rain depth at a gauge with factor 1, mm (at most 3000; above 870.5, the Korean "
        "one-day record, a warning)."
    )
    duration: PositiveDuration = Field(description="How long it rains.")
    pattern: Literal["huff_q1", "huff_q2", "huff_q3", "huff_q4", "alternating_block"] = Field(
        "huff_q3", description="Temporal distribution: Huff quartile 1-4, or the alternating-block method."
    )
    interval: PositiveDuration = Field(600.0, description="Hyetograph step; must divide duration.")
    return_period_yr: ReturnPeriod = Field(
        30.0,
        description="Return period of the IDF curve (alternating_block), years; beyond 500 (Korean IDF tables) "
        "a warning.",
    )
    start_offset: Duration = Field(0.0, description="When the rain starts, after the scenario start.")
    gauge_factors: dict[NonEmptyText, GaugeFactor] = Field(
        default_factory=dict, description="Rain gauge id -> depth multiplier for a non-uniform field; empty = uniform."
    )

    @field_validator("gauge_factors")
    @classmethod
    def _sort_gauges(cls, v: dict[str, float]) -> dict[str, float]:
        return dict(sorted(v.items()))

    @model_validator(mode="after")
    def _interval_divides_duration(self) -> DesignStorm:
        problems = []
        steps = self.duration / self.interval
        if round(steps) < 1 or abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
            problems.append(
                (
                    "interval",
                    format_duration(self.interval),
                    f"a duration that divides rainfall.duration {format_duration(self.duration)} into whole steps",
                )
            )
        for gauge, factor in self.gauge_factors.items():
            if self.total_mm * factor > MAX_RAIN_MM:
                problems.append(
                    (
                        f"gauge_factors.{gauge}",
                        f"{_num(factor)} (total_mm {_num(self.total_mm)} x {_num(factor)} = "
                        f"{self.total_mm * factor:.6g} mm)",
                        f"at most {_num(MAX_RAIN_MM)} mm of rain at any gauge",
                    )
                )
        if problems:
            raise rule_error(problems)
        return self


class ObservedRain(Section):
    """Recorded rain from a CSV file in long form: ``time,gauge_id,mm`` (see ``twin.rainfall.read_rain_csv``).

    Times are aligned to the scenario ``start``; rain recorded before it is left out."""

    kind: Literal["observed"] = "observed"
    csv: NonEmptyText = Field(description="CSV file, relative to the scenario file's folder.")
    interval: PositiveDuration | None = Field(None, description="Time step of the CSV; null = from its timestamps.")
    field: Literal["per_gauge", "uniform"] = Field(
        "per_gauge", description="per_gauge: each gauge's own series; uniform: one series everywhere."
    )
    uniform_gauge: NonEmptyText | None = Field(
        None, description="With field: uniform, the gauge whose series is used; null = the gauge id that sorts first."
    )

    @model_validator(mode="after")
    def _uniform_gauge_needs_uniform(self) -> ObservedRain:
        if self.uniform_gauge is not None and self.field != "uniform":
            raise rule_error(
                [("uniform_gauge", _show(self.uniform_gauge), f"null unless field is uniform (field is {self.field})")]
            )
        return self


class NoRain(Section):
    """No rain: dry weather, base flow only."""

    kind: Literal["none"] = "none"


RainfallSpec = Annotated[DesignStorm | ObservedRain | NoRain, Field(discriminator="kind")]
"""The rain of a scenario, chosen by ``kind``: design, observed or none."""
