"""The gate policy: when to warn, close and reopen each gate. A YAML file, validated like a scenario.

::

    policy_version: 1
    defaults:
      warn_level_m: 1.0           # stage at the gate's level sensor that puts up the warning (default: close_level_m)
      close_level_m: 1.5          # stage at which the gate closes (after the warning period)
      reopen_level_m: 1.2         # below this ...
      reopen_after: 30min         # ... for this long, the gate reopens (hysteresis)
      rain_trigger_mm_h: 30       # or rain at least this intense (mm/h over 10 min)
      warn_before_close: 5min     # the signboard warning comes this long before closing
      override_level_m: 2.0       # close even with people in view once the water is this high
      stale_after: 2min           # no fresh level reading for this long: close (fail safe)
      camera_required: true       # close only when the camera sees nobody in the gate zone
      median_of: 3                # decide on the median of the last readings (one spike is ignored)
    gates:
      G01: {close_level_m: 1.4}
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import TwinError
from ..input_files import _data_shape_problem, read_yaml_file
from ..validation_messages import _error_lines, _kind_word
from ..value_types import duration, number, rule_error

MAX_POLICY_LEVEL_M = 100.0
"""Highest stage a policy may name, m above the stream bed (the channels here are a few metres deep)."""
MAX_RAIN_TRIGGER_MM_H = 1000.0
"""Highest rain trigger, mm/h (the world record for an hour is about 305 mm)."""
MAX_POLICY_DURATION_S = 86_400.0
"""Longest wait of a policy (reopen_after, warn_before_close, stale_after): one day."""

NonNegativeNumber: TypeAlias = Annotated[float, number(ge=0, le=MAX_POLICY_LEVEL_M)]  # a stage, m
RainTrigger: TypeAlias = Annotated[float, number(ge=0, le=MAX_RAIN_TRIGGER_MM_H)]
Duration: TypeAlias = Annotated[float, duration(ge=0, le=MAX_POLICY_DURATION_S)]
# stale_after: at least a second
PositiveDuration: TypeAlias = Annotated[float, duration(ge=1, le=MAX_POLICY_DURATION_S)]


class PolicyError(TwinError, ValueError):
    """A gate policy file is missing, not YAML, or invalid; one line per problem."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class GateRule(BaseModel):
    """The rule of one gate (every field optional here: missing ones come from the defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    warn_level_m: NonNegativeNumber | None = None

    close_level_m: NonNegativeNumber | None = None
    reopen_level_m: NonNegativeNumber | None = None
    reopen_after: Duration | None = None
    rain_trigger_mm_h: RainTrigger | None = None
    warn_before_close: Duration | None = None
    override_level_m: NonNegativeNumber | None = None
    stale_after: PositiveDuration | None = None
    camera_required: bool | None = None
    median_of: Annotated[int, Field(ge=1, le=15)] | None = None


class Defaults(GateRule):
    close_level_m: NonNegativeNumber = 1.5
    reopen_level_m: NonNegativeNumber = 1.2
    reopen_after: Duration = 1800.0
    rain_trigger_mm_h: RainTrigger | None = None
    warn_before_close: Duration = 300.0
    override_level_m: NonNegativeNumber = 2.0
    stale_after: PositiveDuration = 120.0
    camera_required: bool = True
    median_of: Annotated[int, Field(ge=1, le=15)] = 3


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    policy_version: Annotated[Literal[1], Field(description="This twin reads version 1.")]
    defaults: Defaults = Field(default_factory=Defaults)
    gates: dict[str, GateRule] = Field(default_factory=dict)

    def rule(self, gate_id: str) -> Defaults:
        """The full rule of a gate: its own fields over the defaults."""
        own = self.gates.get(gate_id)
        if own is None:
            return self.defaults
        merged = self.defaults.model_dump() | {k: v for k, v in own.model_dump().items() if v is not None}
        return Defaults.model_validate(merged)

    @model_validator(mode="after")
    def _hysteresis(self) -> Policy:
        problems: list[tuple[str, str, str]] = []  # (field path, got, expected)
        for gid in ["defaults", *self.gates]:
            r = self.defaults if gid == "defaults" else self.rule(gid)
            where = "defaults" if gid == "defaults" else f"gates.{gid}"
            own = set(Defaults.model_fields) if gid == "defaults" else self.gates[gid].model_fields_set

            def involved(*names: str, own=own) -> bool:  # a gate is blamed only for what it sets itself
                return bool(own & set(names))

            if not r.reopen_level_m < r.close_level_m and involved("reopen_level_m", "close_level_m"):
                problems.append(
                    (f"{where}.reopen_level_m", f"{r.reopen_level_m:g}",
                     f"a level below close_level_m {r.close_level_m:g} (hysteresis)")
                )  # fmt: skip
            if (
                r.warn_level_m is not None
                and not r.warn_level_m <= r.close_level_m
                and involved("warn_level_m", "close_level_m")
            ):
                problems.append(
                    (f"{where}.warn_level_m", f"{r.warn_level_m:g}",
                     f"a level at or below close_level_m {r.close_level_m:g} (the warning comes first)")
                )  # fmt: skip
            if not r.override_level_m >= r.close_level_m and involved("override_level_m", "close_level_m"):
                problems.append(
                    (f"{where}.override_level_m", f"{r.override_level_m:g}",
                     f"at least close_level_m {r.close_level_m:g}")
                )  # fmt: skip
        if problems:
            raise rule_error(problems)
        return self


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema of gate policy files (policy version 1)."""
    body = Policy.model_json_schema()
    body.pop("title", None)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Gate policy, version 1", **body}


def policy_from_mapping(data: Any, *, source: str = "<policy>") -> Policy:
    """Validate policy data; raises :class:`PolicyError` with one line per problem, worded as
    scenario problems are: ``FILE: field.path: got VALUE: expected WHAT`` (with the right name
    suggested for a misspelt field)."""
    if not isinstance(data, dict):
        raise PolicyError(
            f"{source}: top level: got {_kind_word(data)}: expected a mapping with policy_version (optional: "
            "defaults, gates)"
        )
    if "schema_version" in data and "policy_version" not in data:
        raise PolicyError(
            f"{source}: top level: got a scenario (it has schema_version): expected a gate policy with "
            "policy_version (a scenario names its policy in controller.policy)"
        )
    if "policy_version" not in data:  # some other YAML file: say so, without repeating its keys
        raise PolicyError(
            f"{source}: top level: got a mapping without policy_version: expected a gate policy "
            "(policy_version: 1; optional: defaults, gates)"
        )
    shape = _data_shape_problem(data)
    if shape is not None:
        raise PolicyError(f"{source}: top level: {shape}: expected a gate policy (a few levels of mappings)")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_error_lines(exc, source, policy_json_schema())) from None


def load_policy(path: str | os.PathLike[str]) -> Policy:
    label = os.fspath(path)
    data = read_yaml_file(path, what="a gate policy YAML file", error=PolicyError)
    if data is None:
        raise PolicyError(
            f"{label}: the file is empty: expected a mapping with policy_version (optional: defaults, gates)"
        )
    return policy_from_mapping(data, source=label)
