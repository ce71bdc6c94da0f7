"""The gates of a run with a controller (``twin run`` with ``controller:``, or ``twin hil``): each
gate's timeline (open, warning, closing, closed) with the moment its path flooded, the texts its
signboard showed, and the verdict's checks. Built from the run's events and ``verdict.json``;
x axes in minutes since the scenario start."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd

from ..control.verdict import CHECKS
from .i18n import t

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
    sel = events[events.kind == "gate.path_flooded"]
    people = [json.loads(d or "{}").get("people_on_path", 0) for d in sel["data"]]
    return pd.DataFrame({"gate": sel.entity_id.values, "minute": sel.time_s.values / 60.0, "people": people})


def timeline_chart(timeline: pd.DataFrame, floods: pd.DataFrame, lang: str):
    bars = (
        alt.Chart(timeline)
        .mark_bar()
        .encode(
            x=alt.X("start_min:Q", title=t("time_min", lang)),
            x2="end_min:Q",
            y=alt.Y("gate:N", title=None),
            color=alt.Color(
                "state:N",
                title=t("gate_state", lang),
                scale=alt.Scale(domain=list(STATE_COLOURS), range=list(STATE_COLOURS.values())),
            ),
            tooltip=["gate", "state", alt.Tooltip("start_min:Q", format=".1f"), alt.Tooltip("end_min:Q", format=".1f")],
        )
    )
    layers = [bars]
    if len(floods):
        layers.append(
            alt.Chart(floods)
            .mark_point(shape="triangle-down", size=120, color="#1f78b4", filled=True)
            .encode(x="minute:Q", y="gate:N", tooltip=["gate", alt.Tooltip("minute:Q", format=".1f"), "people"])
        )
    return alt.layer(*layers).properties(height=28 * max(timeline.gate.nunique(), 1))


def signboard_texts(events: pd.DataFrame, sites) -> pd.DataFrame:
    """What each gate's signboard showed, and when (minutes)."""
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


def verdict_table(verdict: dict[str, Any]) -> pd.DataFrame:
    """A row per gate, a column per check: a tick or a cross and the measured value."""
    rows = []
    for g, checks in verdict["gates"].items():
        row = {"gate": g}
        for c in CHECKS:
            r = checks[c]
            v = r["value"]
            row[c] = ("✓" if r["passed"] else "✗") + (
                "" if v is None else f" {v:g}" if isinstance(v, float | int) else ""
            )
        rows.append(row)
    return pd.DataFrame(rows)


def gates_block(st, city, run, lang: str) -> None:
    """The gates section of a run's results; nothing when the run had no gate controller."""
    from ..models.gate import gate_sites

    verdict = read_verdict(run.folder)
    ev = run.events
    if verdict is None and not (ev.kind == "gate.close_command").any():
        return
    sites = gate_sites(city)
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
            st.error(t("verdict_failed", lang).format(n=len(verdict["failed"]), checks=", ".join(verdict["failed"])))
        st.dataframe(verdict_table(verdict), hide_index=True)
    end = float(run.summary.get("scenario", {}).get("duration_s") or ev.time_s.max())
    st.caption(t("gate_timeline", lang))
    st.altair_chart(timeline_chart(gate_timeline(ev, sites, end), flood_marks(ev), lang), width="stretch")
    st.caption(t("signboard_texts", lang))
    st.dataframe(signboard_texts(ev, sites), hide_index=True, height=200)
