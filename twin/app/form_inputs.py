"""The groups of inputs a planner fills in, shared by the run form and the proposal form: the rain,
the people on the paths, when they are told to leave, a gauge's alert thresholds, a gate's policy.

Each group draws its widgets (labels in the chosen language, every choice shown by its name) and
returns the scenario overrides of what differs from the scenario (:mod:`twin.app.form_values`).
Widget keys carry ``prefix`` (the form and the scenario), so two forms and two scenarios never
share a value. Depths mm, durations h, stages m, people a count.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import streamlit

from ..dataset_schema import THRESHOLD_LEVELS as LEVELS
from ..scenario import DesignStorm
from ..scenario.fields import MAX_PEOPLE, MAX_RAIN_MM
from .form_values import (
    PATTERNS,
    TRIGGERS,
    gauge_thresholds,
    people_overrides,
    scenario_overrides,
    start_override,
    threshold_overrides,
)
from .i18n import t
from .kpis import key_gauge
from .widgets import translated_radio, translated_select

# (min, max) of the form's inputs, as wide as the scenario schema allows, so that any valid run
# folder opened from disk fits the form: rain depth mm, duration h, people
RANGES = {"total_mm": (0.0, MAX_RAIN_MM), "hours": (0.1, 720.0), "people": (0, MAX_PEOPLE)}
PRESET = "form_preset"  # session key: values a run folder puts into the form (widget key -> value)
WORDS = {
    "now": {"ko": "{gauge}: 지금 기준 {value}", "en": "{gauge}: now {value}"},
    "order": {
        "ko": "{gauge}: 경보 기준은 관심 < 주의 < 경계 < 심각 순으로 높아야 합니다 (지금 {levels}).",
        "en": "{gauge}: the alert levels must rise from attention to serious (now {levels}).",
    },
}


@streamlit.cache_resource(show_spinner=False, max_entries=4)
def _names(fingerprint: str, _city):
    from .names import Names

    return Names.of(_city)


def preset(st, key: str, value):
    """The value a widget starts from: a run folder's (taken once), else ``value``."""
    return st.session_state.get(PRESET, {}).pop(key, value)


def names_of(city):
    """The :class:`~twin.app.names.Names` of ``city``, built once per dataset and shared."""
    return _names(str(city.fingerprint or id(city)), city)


def rain_inputs(st, base, lang: str, prefix: str) -> list[str]:
    """Total depth (mm), duration (h) and time pattern of a design storm; nothing for recorded rain."""
    from .names import word

    storm = base.rainfall if isinstance(base.rainfall, DesignStorm) else None
    c1, c2, c3 = st.columns(3)
    total = c1.number_input(
        t("rain_total", lang),
        min_value=RANGES["total_mm"][0],
        max_value=RANGES["total_mm"][1],
        value=preset(st, f"total_mm:{prefix}", float(storm.total_mm) if storm is not None else 90.0),
        step=10.0,
        key=f"total_mm:{prefix}",
        disabled=storm is None,
    )
    hours = c2.number_input(
        t("rain_duration", lang),
        min_value=RANGES["hours"][0],
        max_value=RANGES["hours"][1],
        value=preset(st, f"hours:{prefix}", float(storm.duration / 3600) if storm is not None else 3.0),
        step=0.5,
        key=f"hours:{prefix}",
        disabled=storm is None,
    )
    pattern = translated_select(
        st,
        c3,
        t("pattern", lang),
        PATTERNS,
        key=f"pattern:{prefix}",
        lang=lang,
        default=storm.pattern if storm is not None and storm.pattern in PATTERNS else "huff_q3",
        format_func=lambda x: word("pattern", x, lang),
        disabled=storm is None,
    )
    if storm is None:
        return []
    same = (abs(total - storm.total_mm) < 1e-9, abs(hours * 3600 - storm.duration) < 1e-6, pattern == storm.pattern)
    if all(same):
        return []
    return [s for s in scenario_overrides(total, hours, pattern, None) if not s.startswith("rainfall.start_offset")]


def people_inputs(st, city, base, lang: str, prefix: str, *, with_start: bool = True) -> dict[str, Any]:
    """People on the riverside paths, the stream they walk along (by name) and the start time;
    returns {"people", "stream", "start"} as chosen."""
    riverside = next((p for p in base.populations if p.kind == "riverside"), None)
    c4, c5, c6 = st.columns(3)
    people = c4.number_input(
        t("people", lang),
        min_value=RANGES["people"][0],
        max_value=RANGES["people"][1],
        value=preset(st, f"people:{prefix}", int(riverside.count) if riverside else 0),
        step=100,
        key=f"people:{prefix}",
        disabled=not base.hydraulics.enabled,
    )
    names = names_of(city)
    streams = sorted(set(city.layer("streams")["name"]))
    default = riverside.stream if riverside and riverside.stream in streams else streams[0]
    if riverside is None and "중랑천" in streams:
        default = "중랑천"
    stream = translated_select(
        st,
        c5,
        t("people_stream", lang),
        streams,
        key=f"stream:{prefix}",
        lang=lang,
        default=default,
        format_func=lambda s: names.stream(s, lang),
    )
    start = None
    if with_start:
        start = c6.time_input(
            t("start_time", lang),
            value=preset(st, f"start:{prefix}", dt.time(base.start.hour, base.start.minute)),
            key=f"start:{prefix}",
            step=1800,
        )
    return {"people": int(people), "stream": stream, "start": start}


def trigger_input(st, base, lang: str, prefix: str, *, default: str | None = None) -> str:
    """When people are told to leave the paths (radio, words in ``lang``); starts at ``default``,
    else at the scenario's trigger."""
    default = default or base.crowd.evacuation_trigger
    default = default if default in TRIGGERS else TRIGGERS[0]
    return translated_radio(
        st,
        st,
        t("trigger", lang),
        TRIGGERS,
        key=f"trigger:{prefix}",
        lang=lang,
        default=default,
        format_func=lambda x: t(f"trigger_{x}", lang),
        horizontal=True,
    )


def crowd_overrides(base, chosen: dict[str, Any], trigger: str) -> list[str]:
    """The overrides of :func:`people_inputs` and :func:`trigger_input` (start time included)."""
    sets: list[str] = []
    if chosen.get("start") is not None:
        sets += start_override(base, chosen["start"].hour, chosen["start"].minute)
    riverside = next((p for p in base.populations if p.kind == "riverside"), None)
    same = (
        trigger == base.crowd.evacuation_trigger
        and chosen["people"] == (int(riverside.count) if riverside else 0)
        and (riverside is None or chosen["stream"] == riverside.stream)
    )
    if base.hydraulics.enabled and not same:  # as the scenario says: no override, so the run is shared
        sets += people_overrides(base, chosen["people"], chosen["stream"], trigger)
    return sets


def current_thresholds(city, base, gauge: str) -> dict[str, float]:
    """The alert stages (m) of ``gauge`` in ``base``: the dataset's, with the scenario's overrides."""
    table = gauge_thresholds(city)
    scen = base.thresholds[gauge].model_dump().items() if gauge in base.thresholds else []
    return {**table.get(gauge, {}), **{k[:-2]: v for k, v in scen if v is not None}}


def threshold_inputs(
    st, city, base, lang: str, prefix: str, *, default_values: dict | None = None, problems: list[str] | None = None
) -> list[str]:
    """A level gauge (by name) and its four alert stages (m), the current value of each beside it;
    ``default_values`` (level -> m) pre-fills a proposal. Returns the changed stages as overrides;
    stages out of order are said at once in words and added to ``problems`` (then nothing runs)."""
    names = names_of(city)
    gauges = sorted(gauge_thresholds(city))
    key = key_gauge(city)
    gauge = translated_select(
        st,
        st,
        t("gauge", lang),
        gauges,
        key=f"th_gauge:{prefix}",
        lang=lang,
        default=key.device_id if key is not None and key.device_id in gauges else gauges[0],
        format_func=lambda g: names.gauge(g, lang),
    )
    current = current_thresholds(city, base, gauge)
    proposed = {**current, **(default_values or {})} if key is not None and gauge == key.device_id else current
    cols = st.columns(len(LEVELS))
    tip = names.with_id(gauge, lang)
    chosen = {
        lv: col.number_input(
            t(f"level_{lv}", lang),
            min_value=0.0,
            max_value=30.0,
            value=float(proposed.get(lv, 0.0)),
            step=0.1,
            key=f"th_{lv}:{prefix}:{gauge}",
            help=WORDS["now"][lang].format(gauge=tip, value=f"{current.get(lv, float('nan')):g} m"),
        )
        for lv, col in zip(LEVELS, cols, strict=True)
    }
    values = [chosen[lv] for lv in LEVELS]
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        said = ", ".join(f"{t(f'level_{lv}', lang)} {chosen[lv]:g} m" for lv in LEVELS)
        message = WORDS["order"][lang].format(gauge=names.gauge(gauge, lang), levels=said)
        st.error(message)
        if problems is not None:
            problems.append(message)
    return threshold_overrides(gauge, current, chosen)


def policy_file(base) -> Path | None:
    """The gate policy file of ``base``'s controller (None without a controller)."""
    return None if base.controller is None else base.resolve_path(base.controller.policy)
