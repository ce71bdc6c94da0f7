"""The app's pages. Each takes the streamlit module and draws; results come from the runner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .i18n import t

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
PATTERNS = ("huff_q1", "huff_q2", "huff_q3", "huff_q4", "alternating_block")


def shipped_scenarios() -> list[Path]:
    """Scenario files a planner can pick (the verification geometries are left out)."""
    return sorted(SCENARIOS.glob("*.yaml"))


def _pick_scenario(st, lang: str, key: str) -> Path:
    """A select box of the shipped scenarios, the flagship first chosen; returns the file."""
    names = [f.name for f in shipped_scenarios()]
    name = st.selectbox(t("scenario", lang), names, key=key, index=names.index("flash_flood_jungnangcheon.yaml"))
    return SCENARIOS / name


def map_page(st, city, lang: str) -> None:
    from .map_layers import deck

    st.header(t("page_map", lang))
    st.caption(t("map_caption", lang))
    choices = ["dongs", "streams", "roads", "paths", "buildings", "facilities", "devices"]
    show = st.multiselect(t("layers", lang), choices, default=choices, key="layers")
    st.pydeck_chart(deck(city, lang=lang, show=set(show)), height=640)


def parse_overrides(text: str) -> list[str]:
    """Lines of ``key=value`` (blank lines ignored)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def scenario_overrides(total_mm: float, hours: float, pattern: str, people: int | None) -> list[str]:
    """The main parameters as ``--set`` overrides of a design-storm scenario."""
    sets = [
        "rainfall.kind=design",
        f"rainfall.total_mm={total_mm:g}",
        f"rainfall.duration={hours:g}h",
        f"rainfall.pattern={pattern}",
        "rainfall.interval=10min",
        "rainfall.start_offset=0",
    ]
    if people is not None:
        sets.append(f"populations.0.count={int(people)}")
    return sets


def run_page(st, city, lang: str, run_cached) -> None:
    """Pick a scenario, change its main parameters, run it (cached), show KPIs and charts."""
    from ..errors import TwinError
    from ..scenario import load_scenario

    st.header(t("page_run", lang))
    path = _pick_scenario(st, lang, "scenario")
    base = load_scenario(path)
    has_people = any(p.kind == "riverside" for p in base.populations)
    c1, c2, c3 = st.columns(3)
    total = c1.number_input(
        t("rain_total", lang), min_value=0.0, max_value=500.0, value=90.0, step=10.0, key="total_mm"
    )
    hours = c2.number_input(t("rain_duration", lang), min_value=0.5, max_value=24.0, value=3.0, step=0.5, key="hours")
    pattern = c3.selectbox(t("pattern", lang), PATTERNS, index=2, key="pattern")
    people = (
        st.number_input(t("people", lang), min_value=0, max_value=20000, value=1500, step=100, key="people")
        if has_people
        else None
    )
    extra = st.text_area(t("overrides", lang), "", key="overrides")
    if not st.button(t("run", lang), key="run", type="primary"):
        return
    sets = scenario_overrides(total, hours, pattern, people) if base.rainfall.kind == "design" else []
    sets += parse_overrides(extra)
    try:
        scenario = load_scenario(path, overrides=sets)
    except TwinError as exc:
        st.error(f"{t('invalid', lang)}: {exc}")
        return
    with st.spinner(t("running", lang)):
        try:
            summary, stage, rain, events = run_cached(str(path), tuple(sets))
        except TwinError as exc:
            st.error(str(exc))
            return
    show_results(st, summary, stage, rain, events, lang, scenario)


def _kpis(summary: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    g = summary.get("gauges", {}).get("LS-1018665")
    if g:
        out["peak_stage"] = g["peak_stage_m"]
    fp = summary.get("flooded_paths")
    if fp:
        out["paths_flooded"] = (fp["count"], len(summary["access_points"]))
        out["warning_min"] = fp["min_warning_lead_time_s"]
    c = summary.get("crowd")
    if c:
        lb = c.get("evacuation_lower_bound_s", {}).get("중랑천") or {}
        out["people_on_path"] = lb.get("people", 0)
        out["evac_t90"] = c.get("t90_s")
    return out


def show_results(st, summary, stage, rain, events, lang: str, scenario) -> None:
    k = _kpis(summary)
    cols = st.columns(4)
    if "peak_stage" in k:
        cols[0].metric(t("peak_stage", lang), f"{k['peak_stage']:.2f} m")
    if "paths_flooded" in k:
        cols[1].metric(t("paths_flooded", lang), f"{k['paths_flooded'][0]} / {k['paths_flooded'][1]}")
        lead = k["warning_min"]
        cols[2].metric(
            t("warning_min", lang),
            "–" if lead is None else f"{lead / 60:.0f} {t('minutes', lang)}",
            help=f"{t('no_warning', lang)} (< 0)" if lead is not None and lead < 0 else None,
        )
    if "people_on_path" in k:
        cols[3].metric(t("people_on_path", lang), f"{k['people_on_path']}")
    if stage is not None and len(stage):
        st.subheader(t("stage_chart", lang))
        st.line_chart(stage, height=260)
    if rain is not None and len(rain):
        st.subheader(t("rain_chart", lang))
        st.bar_chart(rain, height=180)
    if "swmm" in summary:
        sw = summary["swmm"]
        st.caption(
            f"{t('continuity', lang)}: {sw['runoff_continuity_error_pct']:.3f} % / "
            f"{sw['flow_routing_continuity_error_pct']:.3f} %"
        )
    st.subheader(t("events", lang))
    st.dataframe(events, height=240)
    from .report import report_html

    c1, c2 = st.columns(2)
    c1.download_button(
        t("download_report", lang),
        report_html(summary, stage, rain, events, lang),
        file_name="uijeongbu_twin_report.html",
        mime="text/html",
        key="dl_report",
    )
    import json

    c2.download_button(
        t("download_summary", lang),
        json.dumps(summary, ensure_ascii=False, indent=2, default=str),
        file_name="summary.json",
        mime="application/json",
        key="dl_summary",
    )


def kpi_table(base: dict[str, Any], prop: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Rows (KPI, baseline, proposal, difference) for the comparison, plain numbers."""
    kb, kp = _kpis(base), _kpis(prop)
    rows = []
    for key in ("peak_stage", "paths_flooded", "warning_min", "people_on_path", "evac_t90"):
        if key not in kb and key not in kp:
            continue
        b, q = kb.get(key), kp.get(key)
        if key == "paths_flooded":
            b, q = (b[0] if b else None), (q[0] if q else None)
        if key == "warning_min":
            b, q = (None if b is None else round(b / 60, 1)), (None if q is None else round(q / 60, 1))
        diff = None if b is None or q is None else round(q - b, 3)
        rows.append({"KPI": t(key, lang), t("baseline", lang): b, t("proposal", lang): q, t("difference", lang): diff})
    return rows


def compare_page(st, city, lang: str, run_cached) -> None:
    """Two runs of one scenario side by side: the baseline and a proposal with changed values."""
    from ..errors import TwinError
    from ..scenario import load_scenario

    st.header(t("page_compare", lang))
    path = _pick_scenario(st, lang, "cmp_scenario")
    text = st.text_area(t("proposal_overrides", lang), "thresholds.LS-1018665.attention_m=2.0", key="cmp_sets")
    if not st.button(t("compare", lang), key="cmp_run", type="primary"):
        return
    sets = parse_overrides(text)
    try:
        load_scenario(path, overrides=sets)
    except TwinError as exc:
        st.error(f"{t('invalid', lang)}: {exc}")
        return
    with st.spinner(t("running", lang)):
        try:
            base = run_cached(str(path), ())
            prop = run_cached(str(path), tuple(sets))
        except TwinError as exc:
            st.error(str(exc))
            return
    st.dataframe(kpi_table(base[0], prop[0], lang), hide_index=True)
    left, right = st.columns(2)
    left.subheader(t("baseline", lang))
    left.line_chart(base[1], height=220)
    right.subheader(t("proposal", lang))
    right.line_chart(prop[1], height=220)
