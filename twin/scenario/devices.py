"""The devices of a scenario: alarm stages of the level sensors, how the simulated sensors read the
twin, the faults injected into devices or the broker, and the gate controller.

Stages in m, intervals float seconds, times from the run start. The alarm levels come from
:data:`twin.dataset_schema.THRESHOLD_LEVELS`; the fault kinds (:data:`FAULT_KINDS`) are declared
here once.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, model_validator

from ..dataset_schema import THRESHOLD_LEVELS
from ..validation_messages import _num, _show, format_duration
from ..value_types import rule_error
from .fields import (
    Distance,
    Duration,
    Latency,
    Level,
    NonEmptyText,
    Probability,
    SampleInterval,
    Section,
    SmallNonNegative,
)

THRESHOLD_FIELDS: tuple[str, ...] = tuple(f"{level}_m" for level in THRESHOLD_LEVELS)
"""The keys of a sensor's ``thresholds`` entry, one per alarm level, lowest first: attention_m ... serious_m."""

FaultKind = Literal["dropout", "stuck", "latency", "spikes", "drift", "gate_stuck_open", "broker_outage"]
"""What a fault does (see :class:`Fault`)."""
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
"""Every fault kind, in the schema's order."""
GATE_FAULT_KINDS = frozenset({"gate_stuck_open"})
"""The fault kinds that only a gate can have."""
DEFAULT_WARNING_REACH_M = 300.0
"""How far a gate's signboard and loudspeaker reach along its stream's paths when the scenario does
not say (m, straight line from the access point)."""


class ThresholdOverride(Section):
    """Alarm stages of one level sensor, m (관심 attention < 주의 caution < 경계 alert < 심각 serious)."""

    attention_m: Level | None = None
    caution_m: Level | None = None
    alert_m: Level | None = None
    serious_m: Level | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdOverride:
        given = [(k, getattr(self, k)) for k in THRESHOLD_FIELDS if getattr(self, k) is not None]
        if not given:
            raise rule_error([("", "{}", "at least one of " + ", ".join(THRESHOLD_FIELDS))])
        problems = [
            (k, _num(v), f"a level above {pk} {_num(pv)}")
            for (pk, pv), (k, v) in zip(given, given[1:], strict=False)
            if not v > pv
        ]
        if problems:
            raise rule_error(problems)
        return self


class SensorSettings(Section):
    """How a kind of simulated sensor reads the twin: sampling, resolution and noise."""

    sample_interval: SampleInterval = Field(10.0, description="Time between readings (and MQTT messages).")
    resolution: SmallNonNegative = Field(0.001, description="Readings are rounded to this step (m or mm; 0 = exact).")
    noise_sd: SmallNonNegative = Field(0.0, description="Standard deviation of Gaussian noise added (m or mm).")


class StructuralReading(Section):
    """How a kind of structural sensor reads the collapse model (it samples every
    ``structural_interval``)."""

    resolution: SmallNonNegative = Field(description="Readings are rounded to this step (degrees or mm; 0 = exact).")
    noise_sd: SmallNonNegative = Field(description="Standard deviation of Gaussian noise added (degrees or mm).")


class CameraDetection(Section):
    """How surely a camera's analytics detect a person in its view, per look, by the DORI level
    that holds where the person stands (twin/models/camera_optics.py). Assumed values: KISA's
    intelligent-CCTV certification asks at least 90 % accuracy for intrusion and loitering on its
    test videos, taken here as the rate at the edge of detection range; closer in, more."""

    detection: Probability = Field(0.9, description="Beyond observation range, within detection range.")
    observation: Probability = Field(0.97, description="Within observation range (62.5 px/m).")
    recognition: Probability = Field(0.99, description="Within recognition range (125 px/m).")
    identification: Probability = Field(0.99, description="Within identification range (250 px/m).")
    occlusion: bool = Field(True, description="Buildings block a camera's view (false: it sees through them).")


class DeviceSettings(Section):
    """Settings of the simulated device fleet (``twin devices serve``)."""

    level_sensor: SensorSettings = Field(
        default_factory=lambda: SensorSettings(sample_interval=10.0, resolution=0.001, noise_sd=0.003),
        description="River level sensors: stage in m.",
    )
    rain_gauge: SensorSettings = Field(
        default_factory=lambda: SensorSettings(sample_interval=60.0, resolution=0.5, noise_sd=0.0),
        description="Tipping-bucket rain gauges: mm (0.5 mm buckets).",
    )
    gate_state_interval: SampleInterval = Field(5.0, description="How often gates publish their state.")
    structural_interval: SampleInterval = Field(
        600.0, description="Uplink interval of the LoRaWAN tilt and crack sensors."
    )
    tilt_sensor: StructuralReading = Field(
        default_factory=lambda: StructuralReading(resolution=0.001, noise_sd=0.001),
        description="Tilt sensors (MEMS inclinometers): degrees, 0.001 deg steps (typical data sheets).",
    )
    crack_sensor: StructuralReading = Field(
        default_factory=lambda: StructuralReading(resolution=0.001, noise_sd=0.005),
        description="Crack gauges: width in mm, 0.001 mm steps.",
    )
    extensometer: StructuralReading = Field(
        default_factory=lambda: StructuralReading(resolution=0.01, noise_sd=0.02),
        description="Wire extensometers on slopes: displacement in mm, 0.01 mm steps.",
    )
    crosswalk_interval: SampleInterval = Field(5.0, description="How often crosswalks publish their state.")
    camera_interval: SampleInterval = Field(5.0, description="How often cameras look for people in their view.")
    camera_detection: CameraDetection = Field(
        default_factory=CameraDetection, description="How surely cameras detect the people in their view."
    )

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data: object) -> object:
        """A sensor kind's section given in part keeps that kind's defaults for the rest
        (``level_sensor: {sample_interval: 600}`` keeps the level sensors' 0.003 m noise, not the
        generic 0; ``tilt_sensor: {noise_sd: 0.01}`` keeps its 0.001-degree resolution)."""
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name in ("level_sensor", "rain_gauge", "tilt_sensor", "crack_sensor", "extensometer"):
            given = out.get(name)
            factory = cls.model_fields[name].default_factory
            if isinstance(given, dict) and factory is not None:
                out[name] = {**factory().model_dump(), **given}  # type: ignore[call-arg]
        return out


class Fault(Section):
    """A fault injected into one device (or the broker) between two simulated times."""

    kind: FaultKind = Field(
        description="dropout: no readings; stuck: the last reading repeats; latency: messages delayed; "
        "spikes: occasional outliers; drift: the reading wanders off the truth by magnitude per hour from start (a "
        "sensor that fails and reads falsely); gate_stuck_open: the gate ignores close commands; broker_outage: "
        "the MQTT broker is unreachable."
    )
    device: NonEmptyText | None = Field(None, description="Device id; none for broker_outage.")
    start: Duration = Field(description="Start, from the scenario start.")
    end: Duration | None = Field(None, description="End, from the scenario start; null = to the end of the run.")
    latency: Latency = Field(0.0, description="latency: added delay, s (at most a day).")
    magnitude: SmallNonNegative = Field(
        1.0, description="spikes: size of an outlier; drift: change per hour (the device's unit: m, mm or degrees)."
    )
    probability: Annotated[float, Field(ge=0, le=1)] = Field(0.1, description="spikes: chance per reading.")

    @model_validator(mode="after")
    def _device_and_window(self) -> Fault:
        problems = []
        if self.kind == "broker_outage" and self.device is not None:
            problems.append(("device", _show(self.device), "no device for a broker_outage"))
        if self.kind != "broker_outage" and self.device is None:
            problems.append(("device", "nothing", f"the id of the device with the {self.kind} fault"))
        if self.end is not None and not self.end > self.start:
            problems.append(("end", format_duration(self.end), f"a time after start {format_duration(self.start)}"))
        if problems:
            raise rule_error(problems)
        return self


class ControllerSpec(Section):
    """The gate controller of a ``twin run``: the reference controller, in-process."""

    kind: Literal["builtin"] = Field(
        "builtin", description="builtin: the reference controller runs inside the simulation."
    )
    policy: NonEmptyText = Field(description="Gate policy YAML (policy_version 1), relative to the scenario file.")
    warning_reach_m: Distance = Field(
        DEFAULT_WARNING_REACH_M,
        description="People on the stream's paths within this distance of a gate (m, straight line) see or hear "
        "its warning and leave.",
    )
