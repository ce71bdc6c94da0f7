"""The gates of a run with a controller (``twin run`` with ``controller:``, or ``twin hil``): each
gate's timeline (open, warning, closing, closed) with the moment its path flooded, the texts its
signboard showed, and the verdict's checks. Built from the run's events and ``verdict.json``;
x axes in minutes since the scenario start. People see gates and signboards by name
(:class:`twin.app.names.Names`), states and checks in words; ids only in tooltips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd

from ..control.verdict import CHECKS
from .i18n import t
from .names import Names, word

# Each check's value: its unit (ko, en), and the factor from the verdict's value (s or a count) to it.
CHECK_UNITS: dict[str, tuple[str, str, float]] = {
    "closed_before_flooding": ("분 전", "min ahead", 1 / 60.0),
    "warning_before_closure": ("분 전", "min ahead", 1 / 60.0),
    "people_on_path_at_closure": ("명", "people", 1.0),
    "people_on_path_at_flooding": ("명", "people", 1.0),
    "closing_time": ("초", "s", 1.0),
    "false_closures": ("회", "times", 1.0),
    "sensor_failure_detection": ("초 후", "s after", 1.0),
    "rejected_commands": ("회", "times", 1.0),
}
STATE_COLOURS = {
    "open": "#a6d96a",
    "warning": "#fdae61",
    "closing": "#d7191c",
    "closed": "#7b3294",
    "opening": "#abd9e9",
}


def read_verdict(folder: str | Path) -> dict[str, Any] | None:
    """The run's verdict.json, checked (None without one); see :func:`twin.app.runs.read_verdict`."""
    from .runs import read_verdict as checked

    return checked(folder)


def gate_timeline(events: pd.DataFrame, sites, end_s: float) -> pd.DataFrame:
    """One row per state interval of each gate: gate, state, start_min, end_min. A gate is in
    ``warning`` while its signboard shows a message and its barrier is up."""
    rows = []
    for site in sites:
        ev = events[(events.entity_id == site.gate_id) | (events.entity_id == (site.signboard_id or ""))]
        ev = ev.sort_values("time_s", kind="stable")
        barrier, board = "open", False
        state, since = "open", 0.0
        for r in ev.itertuples():
            if r.kind == "signboard.display":
                board = bool(json.loads(r.data or "{}").get("lines"))
            elif r.kind == "gate.close_command":
                barrier = "closing"
            elif r.kind == "gate.closed":
                barrier = "closed"
            elif r.kind == "gate.open_command":
                barrier = "opening"
            elif r.kind == "gate.open":
                barrier = "open"
            else:
                continue
            new = "warning" if barrier == "open" and board else barrier
            if new != state:
                rows.append((site.gate_id, state, since / 60.0, float(r.time_s) / 60.0))
                state, since = new, float(r.time_s)
        rows.append((site.gate_id, state, since / 60.0, end_s / 60.0))
    df = pd.DataFrame(rows, columns=["gate", "state", "start_min", "end_min"])
    return df[df.end_min > df.start_min].reset_index(drop=True)


def flood_marks(events: pd.DataFrame) -> pd.DataFrame:
    """When each gate's path flooded (gate id, minute since the start, people on the path)."""
    sel = events[events.kind == "gate.path_flooded"]
    people = [json.loads(d or "{}").get("people_on_path", 0) for d in sel["data"]]
    return pd.DataFrame({"gate": sel.entity_id.values, "minute": sel.time_s.values / 60.0, "people": people})


def named(df: pd.DataFrame, names: Names, lang: str) -> pd.DataFrame:
    """A timeline or flood marks with the gate's short name for the axis (``gate_name``: its place),
    ``gate_tip`` (full name and ID) for the tooltip and, for a timeline, the state in words
    (``state_word``)."""
    out = df.copy()
    out["gate_name"] = [names.short(g, lang) for g in out["gate"]]
    out["gate_tip"] = [names.with_id(g, lang) for g in out["gate"]]
    if "state" in out.columns:
        out["state_word"] = [word("gate_state", s, lang) for s in out["state"]]
    return out


def timeline_chart(timeline: pd.DataFrame, floods: pd.DataFrame, lang: str, names: Names | None = None, start=None):
    """Bars of each gate's states over time (min since ``start``, the scenario start, whose clock
    time the axis title gives) with ▼ where its path flooded; gates by name."""
    from .charts import time_axis_title

    if names is not None:
        timeline, floods = named(timeline, names, lang), named(floods, names, lang)
    else:
        timeline = timeline.assign(gate_name=timeline["gate"], gate_tip=timeline["gate"],
                                   state_word=[word("gate_state", s, lang) for s in timeline["state"]])  # fmt: skip
        floods = floods.assign(gate_name=floods["gate"], gate_tip=floods["gate"])
    order = list(dict.fromkeys(timeline.sort_values("gate", kind="stable")["gate_name"]))  # gates in id order
    minute = time_axis_title(lang, start)
    gate_title = "차단시설" if lang == "ko" else "Gate"
    people = "산책로 인원 (명)" if lang == "ko" else "People on the path"
    bars = (
        alt.Chart(timeline)
        .mark_bar()
        .encode(
            x=alt.X("start_min:Q", title=minute),
            x2="end_min:Q",
            y=alt.Y("gate_name:N", title=None, axis=alt.Axis(labelLimit=420), sort=order),
            color=alt.Color(
                "state_word:N",
                title=t("gate_state", lang),
                scale=alt.Scale(
                    domain=[word("gate_state", k, lang) for k in STATE_COLOURS], range=list(STATE_COLOURS.values())
                ),
            ),
            tooltip=[
                alt.Tooltip("gate_tip:N", title=gate_title),
                alt.Tooltip("state_word:N", title=t("gate_state", lang)),
                alt.Tooltip("start_min:Q", format=".1f", title=_from(lang)),
                alt.Tooltip("end_min:Q", format=".1f", title=_to(lang)),
            ],
        )
    )
    layers = [bars]
    if len(floods):
        layers.append(
            alt.Chart(floods)
            .mark_point(shape="triangle-down", size=120, color="#1f78b4", filled=True)
            .encode(
                x="minute:Q",
                y=alt.Y("gate_name:N", sort=order),
                tooltip=[
                    alt.Tooltip("gate_tip:N", title=gate_title),
                    alt.Tooltip("minute:Q", format=".1f", title=minute),
                    alt.Tooltip("people:Q", title=people),
                ],
            )
        )
    return alt.layer(*layers).properties(height=28 * max(timeline.gate.nunique(), 1))


def _from(lang: str) -> str:
    return "시작 (분)" if lang == "ko" else "From (min)"


def _to(lang: str) -> str:
    return "끝 (분)" if lang == "ko" else "To (min)"


def signboard_texts(events: pd.DataFrame, sites) -> pd.DataFrame:
    """What each gate's signboard showed, and when (minutes): minute, signboard and gate ids, text."""
    board_gate = {s.signboard_id: s.gate_id for s in sites if s.signboard_id}
    sel = events[(events.kind == "signboard.display") & events.entity_id.isin(list(board_gate))]
    return pd.DataFrame(
        {
            "minute": (sel.time_s / 60.0).round(1).values,
            "signboard": sel.entity_id.values,
            "gate": [board_gate[b] for b in sel.entity_id],
            "text": [" / ".join(json.loads(d or "{}").get("lines") or []) or "(blank)" for d in sel["data"]],
        }
    )


def signboard_table(texts: pd.DataFrame, names: Names, lang: str) -> pd.DataFrame:
    """:func:`signboard_texts` for people: minute, the signboard's name and the text in ``lang``
    headers; a blank board in words."""
    blank = word("device_state", "blank", lang)
    ko = lang == "ko"
    return pd.DataFrame(
        {
            "분" if ko else "Minute": texts["minute"].values,
            "전광판" if ko else "Signboard": [names.entity(b, lang) for b in texts["signboard"]],
            "문구" if ko else "Text": [blank if x == "(blank)" else x for x in texts["text"]],
        }
    )


def check_header(check: str, lang: str) -> str:
    """A verdict check as a column header with its unit: ``closed before flooding (min ahead)``."""
    head = word("check", check, lang)
    unit = CHECK_UNITS.get(check)
    if lang != "ko":
        head = head[:1].upper() + head[1:]
    return f"{head} ({unit[0] if lang == 'ko' else unit[1]})" if unit else head


def check_value(check: str, result: dict[str, Any], lang: str) -> str:
    """✓ or ✗ and the measured value in the check's unit (min, s, people or times)."""
    mark = "✓" if result.get("passed") else "✗"
    v = result.get("value")
    if v is None or not isinstance(v, int | float) or isinstance(v, bool):
        return mark
    ko_unit, en_unit, factor = CHECK_UNITS.get(check, ("", "", 1.0))
    x = float(v) * factor
    num = f"{x:.1f}" if factor != 1.0 else f"{x:g}"
    if lang == "ko":  # Korean units follow the number: 12.5분 전, 0명
        return f"{mark} {num}{ko_unit}"
    return f"{mark} {num} {en_unit}".rstrip()


def gate_header(lang: str) -> str:
    """The header of the gate column of the verdict table."""
    return "차단시설" if lang == "ko" else "Gate"


def verdict_table(verdict: dict[str, Any], names: Names | None = None, lang: str = "ko") -> pd.DataFrame:
    """A row per gate (by name; its id without ``names``), a column per check headed in words with
    its unit: a tick or a cross and the measured value with its unit."""
    rows = []
    for g, checks in verdict["gates"].items():
        row = {gate_header(lang): names.entity(g, lang) if names is not None else g}
        for c in CHECKS:
            if c in checks:
                row[check_header(c, lang)] = check_value(c, checks[c], lang)
        rows.append(row)
    return pd.DataFrame(rows)


def failed_checks(failed: list[str], names: Names, lang: str) -> str:
    """The verdict's failed ``gate.check`` keys as ``<gate name>: <check words>``, joined by "; "."""
    out = []
    for key in failed:
        gate, _, check = str(key).partition(".")
        out.append(f"{names.entity(gate, lang)}: {word('check', check, lang)}" if check else word("check", gate, lang))
    return "; ".join(out)


def gates_block(st, city, run, lang: str) -> None:
    """The gates section of a run's results; nothing when the run had no gate controller."""
    from ..models.gate import gate_sites

    verdict = read_verdict(run.folder)
    ev = run.events
    if verdict is None and not (ev.kind == "gate.close_command").any():
        return
    from .form_inputs import names_of

    sites = gate_sites(city)
    names = names_of(city)
    st.subheader(t("gates_section", lang))
    if verdict is not None:
        status = verdict.get("status") or ("passed" if verdict["passed"] else "failed")
        if status == "passed":
            st.success(t("verdict_passed", lang))
        elif status == "inconclusive":  # its own colour: neither a pass nor a failure
            timing = verdict.get("timing") or {}
            st.warning(
                t("verdict_inconclusive", lang).format(
                    why="; ".join(timing.get("broken") or []), sustained=timing.get("sustained", "").capitalize()
                )
            )
        else:
            failed = list(verdict.get("failed") or [])
            st.error(t("verdict_failed", lang).format(n=len(failed), checks=failed_checks(failed, names, lang)))
        st.dataframe(verdict_table(verdict, names, lang), hide_index=True)
    end = float(run.summary.get("scenario", {}).get("duration_s") or ev.time_s.max())
    st.caption(t("gate_timeline", lang))
    from .charts import scenario_start

    chart = timeline_chart(gate_timeline(ev, sites, end), flood_marks(ev), lang, names, scenario_start(run.summary))
    st.altair_chart(chart, width="stretch")
    st.caption(t("signboard_texts", lang))
    st.dataframe(signboard_table(signboard_texts(ev, sites), names, lang), hide_index=True, height=200)
