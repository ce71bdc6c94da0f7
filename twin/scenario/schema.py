"""The scenario file as a whole: its top-level fields, the cross-checks between its sections, and
its JSON Schema (scenario schema version 1).

The sections live in their own modules (:mod:`.rain`, :mod:`.populations`, :mod:`.devices`) on
the field types and bounds of :mod:`.fields`; this module puts them together as
:class:`Scenario`, with the river settings (:class:`Hydraulics`) and the Korean and English names
(:class:`LocalizedText`).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..validation_messages import format_duration
from ..value_types import rule_error
from .collapse import CollapseSpec
from .devices import DEFAULT_WARNING_REACH_M, ControllerSpec, DeviceSettings, Fault, ThresholdOverride
from .fields import (
    MAX_PEOPLE,
    BaseFlow,
    ImperviousnessScale,
    NonEmptyText,
    RoutingStep,
    RunDuration,
    SampleInterval,
    Section,
    Seed,
    StartTime,
    UpstreamArea,
)
from .populations import Crowd, Population
from .rain import DesignStorm, ObservedRain, RainfallSpec

SCENARIO_SCHEMA_VERSION = 1
"""The scenario schema version this code reads and writes (``schema_version`` in the file)."""

SCENARIO_SCHEMA_ID = "https://uijeongbu-twin/scenario-1.json"
"""``$id`` of the published JSON Schema."""


def _exact_version(value: Any) -> Any:
    """``schema_version`` must be the integer 1 (not ``true``, not ``1.0``, not ``'1'``)."""
    if type(value) is not int:
        raise PydanticCustomError("version", "expected {version}", {"version": SCENARIO_SCHEMA_VERSION})
    return value


class LocalizedText(Section):
    """A text in Korean and English."""

    ko: NonEmptyText = Field(description="Korean text.")
    en: NonEmptyText = Field(description="English text.")


class Hydraulics(Section):
    """River routing settings."""

    enabled: bool = Field(True, description="Run the river model; false for dry scenarios about people only.")
    routing: Literal["dynamic", "kinematic"] = Field("dynamic", description="Flow routing method.")
    routing_step_s: RoutingStep = Field(5.0, description="Routing time step, s (0.5 to 60).")
    sample_interval: SampleInterval = Field(60.0, description="How often stage is sampled and recorded.")
    base_flow_m3s: BaseFlow = Field(
        1.0,
        description="Dry-weather flow entering at the top of the main stem (the stream that leaves the city; "
        "Jungnangcheon in Uijeongbu), m3/s (1 m3/s is about 0.012 m3/s per km2 of basin above 신곡교; the "
        "channels start at this steady flow; at most 100).",
    )
    imperviousness_scale: ImperviousnessScale = Field(
        1.0, description="Multiplier on every catchment's impervious fraction."
    )
    upstream_catchment_km2: UpstreamArea | None = Field(
        None,
        description="Catchment outside the city draining into the top of the stream the dataset names "
        "(manifest hydrology.upstream_basins), km2; null = sized from the dataset (Uijeongbu: so that the "
        "area above 신곡교 is 80.4 km2).",
    )


class Scenario(Section):
    """A simulation run of the Uijeongbu digital twin (scenario schema version 1)."""

    schema_version: Annotated[Literal[1], BeforeValidator(_exact_version)] = Field(
        description="Scenario schema version; this twin reads 1."
    )
    name: LocalizedText
    description: LocalizedText | None = None
    dataset: NonEmptyText | None = Field(
        None, description="Dataset directory, relative to the scenario file; null = the shipped Uijeongbu dataset."
    )
    seed: Seed = Field(0, description="Seed of every random draw of the run.")
    start: StartTime = Field(description="Start of the run; without a UTC offset it is Asia/Seoul (+09:00).")
    duration_s: RunDuration = Field(alias="duration", description="Length of the run (at most 30 days).")
    rainfall: RainfallSpec
    hydraulics: Hydraulics = Field(default_factory=Hydraulics)
    thresholds: dict[NonEmptyText, ThresholdOverride] = Field(
        default_factory=dict, description="Level sensor device id -> alarm stages that replace the dataset's."
    )
    populations: list[Population] = Field(default_factory=list, description="People in the city during the run.")
    crowd: Crowd = Field(default_factory=Crowd)
    devices: DeviceSettings = Field(default_factory=DeviceSettings, description="The simulated device fleet.")
    controller: ControllerSpec | None = Field(
        None,
        description="The gate controller (twin run); none: the gates stay as they are unless devices are commanded.",
    )
    faults: list[Fault] = Field(default_factory=list, description="Faults injected into devices or the broker.")
    collapse: CollapseSpec | None = Field(
        None,
        description="Building and slope collapse signals (docs/collapse.md); null = the monitored sites are not "
        "simulated in a run.",
    )

    _source_path: Path | None = PrivateAttr(default=None)

    @field_validator("thresholds")
    @classmethod
    def _sort_devices(cls, v: dict[str, ThresholdOverride]) -> dict[str, ThresholdOverride]:
        return dict(sorted(v.items()))

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> Scenario:
        problems = []
        rain = self.rainfall
        if isinstance(rain, DesignStorm) and rain.start_offset + rain.duration > self.duration_s * (1 + 1e-12):
            problems.append(
                (
                    "rainfall.duration",
                    f"start_offset {format_duration(rain.start_offset)} + duration {format_duration(rain.duration)}"
                    f" = {format_duration(rain.start_offset + rain.duration)}",
                    f"the rain to end within the scenario duration {format_duration(self.duration_s)}",
                )
            )
        # SWMM reads rain at whole minutes and strides whole seconds
        if isinstance(rain, DesignStorm):
            for name, value in (("interval", rain.interval), ("start_offset", rain.start_offset)):
                if value % 60 != 0:
                    problems.append((f"rainfall.{name}", format_duration(value), "a whole number of minutes"))
        if isinstance(rain, ObservedRain) and rain.interval is not None and rain.interval % 60 != 0:
            problems.append(("rainfall.interval", format_duration(rain.interval), "a whole number of minutes"))
        if self.hydraulics.sample_interval % 1 != 0:
            problems.append(
                (
                    "hydraulics.sample_interval",
                    format_duration(self.hydraulics.sample_interval),
                    "a whole number of seconds",
                )
            )
        people = sum(p.count for p in self.populations)
        if people > MAX_PEOPLE:
            problems.append(
                (
                    "populations",
                    f"{people} people in {len(self.populations)} populations",
                    f"at most {MAX_PEOPLE} people in all populations together",
                )
            )
        if self.hydraulics.sample_interval > self.duration_s:
            problems.append(
                (
                    "hydraulics.sample_interval",
                    format_duration(self.hydraulics.sample_interval),
                    f"at most the scenario duration {format_duration(self.duration_s)}",
                )
            )
        if problems:
            raise rule_error(problems)
        source = (info.context or {}).get("source_path")
        if source is not None:
            self._source_path = Path(os.path.abspath(source))
        return self

    @property
    def source_path(self) -> Path | None:
        """Absolute path of the file this scenario was loaded from (None when built in Python)."""
        return self._source_path

    def resolve_path(self, rel: str | os.PathLike[str]) -> Path:
        """A path from the scenario, made absolute against the scenario file's folder (or the cwd)."""
        p = Path(rel)
        if p.is_absolute():
            return p
        base = self._source_path.parent if self._source_path is not None else Path.cwd()
        return Path(os.path.normpath(base / p))

    @property
    def warning_reach_m(self) -> float:
        """How far a gate's signboard and loudspeaker reach (m, straight line): the controller's
        ``warning_reach_m``, else :data:`~twin.scenario.devices.DEFAULT_WARNING_REACH_M`."""
        return float(self.controller.warning_reach_m) if self.controller else DEFAULT_WARNING_REACH_M

    def dataset_path(self) -> Path:
        """The dataset directory of the run: ``dataset`` resolved, or the shipped Uijeongbu dataset."""
        if self.dataset is None:
            from ..city import default_dataset_path

            return default_dataset_path()
        return self.resolve_path(self.dataset)


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of scenario files, schema version 1 (a new copy each call)."""
    return json.loads(_schema_text())


@functools.cache
def _schema_text() -> str:
    """The schema as JSON text, made once per process: pydantic takes about 10 ms to generate it,
    and every scenario with ``--set`` overrides reads it (a sweep validates hundreds)."""
    body = Scenario.model_json_schema(by_alias=True)
    body.pop("title", None)
    return json.dumps(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": SCENARIO_SCHEMA_ID,
            "title": f"Uijeongbu digital twin scenario, schema version {SCENARIO_SCHEMA_VERSION}",
            **body,
        }
    )
