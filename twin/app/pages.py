"""The run page: pick a scenario, change its main parameters, run it, play it back, export it.

No simulation logic here: parameters become scenario overrides (``--set`` strings,
:mod:`twin.app.form_values`), the runner runs them, and the page draws the run folder. ``app.py``
puts the pages in ``st.navigation``; the playback is a fragment (:func:`playback_block`), its data
cached in :mod:`twin.app.caches`. The other pages: :mod:`twin.app.map_view` (the city map),
:mod:`twin.app.compare_view`, :mod:`twin.app.coverage_view`, :mod:`twin.app.collapse_view`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .form_values import (  # noqa: F401  (the tests import these from here)
    PATTERNS,
    TRIGGERS,
    default_proposal,
    parse_overrides,
    people_overrides,
    scenario_overrides,
    start_override,
    threshold_overrides,
)
from .i18n import t
from .kpis import KeyGauge, key_gauge, kpi_help, kpi_label, kpi_value, kpis, plain_kpis
from .widgets import SCENARIOS, get_run, pick_scenario, policy_pick, rain_upload, refused_overrides, shown

PAGES = ("map", "run", "compare", "cctv", "collapse", "sweep")
PLAY_FRAMES = 30  # frames of the ▶ animation over the whole run
PLAY_TICK_S = 0.5  # s of wall time between two frames (the playback fragment reruns this often)
PLAY_HEIGHT = 480  # px of the playback map (560 in living-lab mode)

LIVING_LAB_CSS = """<style>
.stMarkdown p, .stCaption p, [data-testid="stWidgetLabel"] p, .stRadio label p {font-size: 1.3rem !important;}
[data-testid="stHeading"] h1 {font-size: 3rem !important;}
[data-testid="stHeading"] h2 {font-size: 2.2rem !important;}
[data-testid="stHeading"] h3 {font-size: 1.8rem !important;}
[data-testid="stMetricValue"] {font-size: 3.2rem !important;}
.stNumberInput input, .stTextInput input, .stTimeInput input {font-size: 1.25rem !important;}
[data-baseweb="select"] div {font-size: 1.25rem !important;}
.stButton button p {font-size: 1.5rem !important;}
.stButton button {padding: 0.6rem 1.6rem !important;}
.ll-card {border-radius: 12px; padding: 14px 18px; margin: 6px 0; font-size: 1.35rem;}
.ll-good {background: #e3f5e1;} .ll-bad {background: #fde2e1;} .ll-none {background: #eef2f7;}
.ll-value {font-size: 2.6rem; font-weight: 700;}
</style>"""


# --- parameters -> overrides ------------------------------------------------------------------
def run_controls(st, city, lang: str, living_lab: bool, store=None) -> tuple[Path, list[str]] | None:
    """The run form. Returns (scenario file, overrides) when the user pressed Run, else None.

    Files come from the project (the scenario and policy lists) or from an upload, never from a
    typed path: free overrides that set a path are refused (:mod:`twin.app.overrides`)."""
    from ..scenario import load_scenario
    from .form_inputs import crowd_overrides, people_inputs, rain_inputs, threshold_inputs, trigger_input

    apply_folder_form(st)
    path = pick_scenario(st, lang, "scenario")
    # widget keys carry the scenario's name: picking another scenario starts from its own values
    base = load_scenario(path)
    prefix = path.stem
    sets = rain_inputs(st, base, lang, prefix)
    chosen = people_inputs(st, city, base, lang, prefix)
    trigger = trigger_input(st, base, lang, prefix)
    sets += crowd_overrides(base, chosen, trigger)
    problems: list[str] = []  # said where they are; nothing runs while there is one
    if not living_lab:
        with st.expander(t("thresholds", lang), expanded=False):
            sets += threshold_inputs(st, city, base, lang, prefix, problems=problems)
        sets += policy_pick(st, base, lang, f"policy:{prefix}")
        rain = rain_upload(st, store, lang, f"rain_csv:{prefix}")
        if rain is not None:  # recorded rain replaces the design storm of the form
            sets = [x for x in sets if not x.startswith("rainfall.")] + rain
        extra = parse_overrides(st.text_area(t("overrides", lang), "", key=f"overrides:{prefix}"))
    else:
        extra = []
    if not st.button(t("run", lang), key="run", type="primary"):
        return None
    if problems:
        st.error("\n\n".join(problems))
        return None
    if refused_overrides(st, extra, lang):
        return None
    return path, sets + extra


FOLDER_FORM = "form_from_folder"  # session key: the form values of a run folder just opened
FOLDER_NOTE = {
    "ko": "아래는 연 폴더의 실행 결과입니다. 위 입력란에는 그 시나리오, 비, 사람, 시작 시각, "
    "대피 지시 시점을 채웠습니다. 경보 기준, 차단시설 정책, 관측 강우는 입력란에 옮기지 않았으므로 "
    "'실행'은 입력란의 값으로 실행합니다.",
    "en": "Below are the results of the folder you opened. The form above now holds its scenario, rain, people, start "
    "time and trigger; its alert thresholds, gate policy and recorded rain are not put into the form, so Run runs "
    "what the form says.",
}


def folder_form_values(folder: str | Path) -> dict[str, Any]:
    """The run form's values (session-state keys -> values) of a run folder, from its
    ``scenario.resolved.yaml``: the shipped scenario of the same name (when there is one), its
    rain, people, stream, start time and trigger. Empty when the folder has no readable scenario."""
    import yaml

    from ..scenario import load_scenario
    from .widgets import scenario_files

    resolved = Path(folder) / "scenario.resolved.yaml"
    try:
        raw = yaml.safe_load(resolved.read_text(encoding="utf-8"))
        name = raw.get("name") if isinstance(raw, dict) else None
    except (OSError, ValueError, yaml.YAMLError):
        return {}
    match = None
    for f in scenario_files():
        try:
            if yaml.safe_load(f.read_text(encoding="utf-8")).get("name") == name:
                match = f
                break
        except (OSError, AttributeError, yaml.YAMLError):
            continue
    if match is None:
        return {}
    prefix = match.stem
    values: dict[str, Any] = {"scenario": match.relative_to(SCENARIOS).as_posix()}
    try:
        run = load_scenario(resolved)
    except Exception:  # noqa: BLE001 - a folder from disk: show what can be read, nothing else
        return values
    from ..scenario import DesignStorm

    if isinstance(run.rainfall, DesignStorm):
        values |= {
            f"total_mm:{prefix}": float(run.rainfall.total_mm),
            f"hours:{prefix}": float(run.rainfall.duration / 3600),
            f"pattern:{prefix}": run.rainfall.pattern,
        }
    riverside = next((p for p in run.populations if p.kind == "riverside"), None)
    if riverside is not None:
        values |= {f"people:{prefix}": int(riverside.count), f"stream:{prefix}": riverside.stream}
    import datetime as dt

    from .form_inputs import RANGES

    values[f"start:{prefix}"] = dt.time(run.start.hour, run.start.minute)
    values[f"trigger:{prefix}"] = run.crowd.evacuation_trigger
    # a value the form cannot hold is left out (the form keeps the scenario's), never raised
    return {k: v for k, v in values.items() if k.split(":")[0] not in RANGES or _fits(v, RANGES[k.split(":")[0]])}


def _fits(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


def apply_folder_form(st) -> None:
    """Put the values of a run folder just opened into the form, before its widgets are drawn:
    a list's choice goes where :func:`~twin.app.widgets.translated_select` keeps it, a number or a
    time into ``st.session_state[PRESET]``, which the inputs take as their value once (setting a
    drawn widget's state would be refused, and a preset one would warn)."""
    from .form_inputs import PRESET

    values = st.session_state.pop(FOLDER_FORM, None)
    if not values:
        return
    preset = {}
    for key, value in values.items():
        for lang in ("ko", "en"):  # a list whose labels follow the language keeps one widget per language
            st.session_state.pop(f"{key}:{lang}", None)
        if key.split(":")[0] in ("total_mm", "hours", "people", "start"):
            st.session_state.pop(key, None)  # the widget starts again from the preset value
            preset[key] = value
        else:
            st.session_state[key] = value
    st.session_state[PRESET] = preset


# --- the run page ----------------------------------------------------------------------------
def run_page(st, city, lang: str, store, *, living_lab: bool = False, exposure: str = "loopback") -> None:
    """Pick a scenario, change its main parameters, run it, play it back, export it.

    A run folder on disk can be opened by its path only when the app listens on loopback (the
    browser is on this machine); an app exposed to a workshop network does not offer it."""
    from ..errors import TwinError
    from .runs import open_run

    st.header(t("page_run", lang))
    chosen = run_controls(st, city, lang, living_lab, store)
    if chosen is not None:
        st.session_state["run_key"] = (str(chosen[0]), tuple(chosen[1]))
        st.session_state.pop("t_min", None)
        st.session_state.pop("playing", None)
    if not living_lab and exposure == "loopback":
        with st.expander(t("open_folder", lang)):
            folder = st.text_input(t("folder_path", lang), "", key="folder")
            if st.button(t("open", lang), key="open_folder") and folder.strip():
                st.session_state.pop("run_key", None)
                try:
                    open_run(folder.strip(), city)
                    st.session_state["run_key"] = ("folder", folder.strip())
                    st.session_state.pop("t_min", None)
                    st.session_state.pop("playing", None)
                    st.session_state[FOLDER_FORM] = folder_form_values(folder.strip())
                    st.session_state["folder_note"] = True
                    st.rerun()  # the form above shows the folder's scenario and values
                except TwinError as exc:
                    st.error(str(exc))
    key = st.session_state.get("run_key")
    if key is None:
        return
    if key[0] == "folder":
        if exposure != "loopback":
            return
        try:
            run = open_run(key[1], city)
        except TwinError as exc:
            st.error(str(exc))
            return
        if st.session_state.pop("folder_note", False):
            st.info(FOLDER_NOTE[lang])
    else:
        run = get_run(st, store, key[0], key[1], lang)
    if run is not None:
        shown(st, lang, run, lambda: show_results(st, city, run, lang, living_lab=living_lab))


def kpi_block(st, summary: dict[str, Any], lang: str, living_lab: bool, key: KeyGauge | None) -> None:
    """The run's key figures: cards in plain words (living lab) or metrics; stage at the ``key`` gauge."""
    if living_lab:
        for card in plain_kpis(summary, lang, key):
            css = {True: "ll-good", False: "ll-bad", None: "ll-none"}[card.good]
            st.markdown(
                f'<div class="ll-card {css}"><div>{card.label}</div><div class="ll-value">{card.value}</div>'
                f"<div>{card.sentence}</div></div>",
                unsafe_allow_html=True,
            )
        return
    k = kpis(summary, key)
    shown_kpis = [x for x in KPI_ORDER if x in k and (x != "peak_stage" or key is not None)]
    cols = st.columns(3) + st.columns(3)
    for col, kpi in zip(cols, shown_kpis, strict=False):
        col.metric(
            kpi_label(kpi, lang, key), kpi_value(kpi, k, lang, form="short"), help=kpi_help(kpi, lang, key=key, k=k)
        )


KPI_ORDER = ("peak_stage", "paths_flooded", "warning_min", "people_on_path", "people_exposed", "evac_t90")


def play_step(minutes: list[int]) -> int:
    """Index step of one ▶ frame: about :data:`PLAY_FRAMES` frames over the whole run."""
    return max(1, len(minutes) // PLAY_FRAMES)


def next_minute(minutes: list[int], minute: int) -> int:
    """The minute of the ▶ frame after ``minute`` (``minutes`` sorted; the last one at most)."""
    from bisect import bisect_right

    i = max(bisect_right(minutes, minute) - 1, 0)
    return minutes[min(i + play_step(minutes), len(minutes) - 1)]


def playback_block(st, city, run, lang: str, *, living_lab: bool) -> None:
    """Time slider, ▶ play / ❚❚ pause, the map at the chosen minute, and the charts with a cursor
    there: one fragment, so moving the slider or playing reruns only this block.

    While ▶ plays (``st.session_state["playing"]``), the fragment reruns every
    :data:`PLAY_TICK_S` seconds and each run moves the minute one frame on; at the last minute it
    stops. A frame while playing sends only the map and its counts (the charts and the events
    wait for the pause), so that a step costs the map alone. Nothing sleeps: between frames the
    page answers as usual. The timer starts and stops with a full rerun, which registers the
    fragment with or without ``run_every``."""
    from .caches import playback_of
    from .legend import playback_legend

    pb = playback_of(city, run, lang)
    key = key_gauge(city)
    st.subheader(t("playback", lang))
    st.markdown(playback_legend(lang), unsafe_allow_html=True)
    minutes = sorted({int(x // 60) for x in pb.times} | {int(pb.duration_s // 60)})
    if st.session_state.get("t_min") not in minutes:
        st.session_state["t_min"] = default_minute(run.summary, minutes, key)
    playing = bool(st.session_state.get("playing"))

    @st.fragment(run_every=PLAY_TICK_S if playing else None)
    def frame() -> None:
        shown(st, lang, run, lambda: _frame(st, city, run, pb, minutes, lang, key, living_lab=living_lab))

    frame()


def _frame(st, city, run, pb, minutes: list[int], lang: str, key: KeyGauge | None, *, living_lab: bool) -> None:
    """One run of the playback fragment: a tick while playing, then the slider and what it shows."""
    from .charts import clock, scenario_start

    playing = bool(st.session_state.get("playing"))
    if playing and not st.session_state.get("play"):  # a tick (not the ❚❚ click): one frame on
        st.session_state["t_min"] = next_minute(minutes, st.session_state.get("t_min", minutes[0]))
        if st.session_state["t_min"] >= minutes[-1]:  # the last frame: stop the timer
            st.session_state["playing"] = False
            st.rerun()
    slot = st.container()  # the slider above the button, drawn after the button may move it
    if st.button(t("pause" if playing else "play", lang), key="play"):
        if not playing and st.session_state.get("t_min") == minutes[-1]:
            st.session_state["t_min"] = minutes[0]  # ▶ at the end plays the run again
        st.session_state["playing"] = not playing
        st.rerun()  # the whole page, so the fragment's timer starts or stops
    start = scenario_start(run.summary)
    with slot:
        t_min = st.select_slider(t("time_min", lang), options=minutes, key="t_min")
    height = 560 if living_lab else PLAY_HEIGHT
    st.pydeck_chart(pb.deck_at(t_min * 60.0, height_px=height), height=height)
    st.caption((f"{clock(start, t_min)} · " if start else "") + _counts(pb, t_min, lang))
    if playing:
        return
    ev = pb.events_until(t_min * 60.0)
    if len(ev) and not living_lab:
        from .form_inputs import names_of
        from .tables import events_table

        st.markdown(f"**{t('events_so_far', lang)}**")
        st.dataframe(events_table(ev.head(8), names_of(city), lang, start), hide_index=True)
    cursor_charts(st, city, run, lang, t_min, key)


def cursor_charts(st, city, run, lang: str, t_min: int, key: KeyGauge | None) -> None:
    """The stage at the chosen gauges (by name) and the hyetograph, with a cursor at minute
    ``t_min``: each chart is built once per run, gauges and language (:func:`caches.chart_spec`),
    and a step adds only the cursor."""
    from .caches import chart_spec
    from .charts import scenario_start, with_cursor
    from .form_inputs import names_of
    from .widgets import translated_multiselect

    names = names_of(city)
    gauges = sorted(run.summary.get("gauges", {}))
    start = scenario_start(run.summary)
    if gauges:
        st.subheader(t("stage_chart", lang))
        default = [key.device_id] if key is not None and key.device_id in gauges else gauges[:1]
        chosen = translated_multiselect(
            st, t("gauge", lang), gauges, key="chart_gauges", lang=lang, default=default,
            format_func=lambda g: names.gauge(g, lang),
        )  # fmt: skip
        spec = chart_spec("stage", run, chosen, lang, names)
        st.vega_lite_chart(with_cursor(spec, t_min, lang, start, top=False), width="stretch")
    if (run.timeseries["variable"] == "rain").any():
        st.subheader(t("rain_chart", lang))
        spec = chart_spec("rain", run, [], lang, names)
        st.vega_lite_chart(with_cursor(spec, t_min, lang, start, top=True), width="stretch")


def default_minute(summary: dict[str, Any], minutes: list[int], key: KeyGauge | None = None) -> int:
    """Where playback opens: a few minutes after the order that moved the most people, else the
    peak at the ``key`` gauge (신곡교 in Uijeongbu), else the first flooded path, else the start."""
    orders = summary.get("crowd", {}).get("evacuation_orders", {})
    busiest = max(orders.values(), key=lambda o: o["people_on_paths"], default=None)
    if busiest and busiest["people_on_paths"]:
        want = busiest["time_s"] + 180.0
    elif key is not None and key.device_id in summary.get("gauges", {}):
        want = summary["gauges"][key.device_id]["time_of_peak_s"]
    elif (summary.get("flooded_paths") or {}).get("first_s") is not None:
        want = summary["flooded_paths"]["first_s"]
    else:
        want = 0.0
    return min(minutes, key=lambda m: abs(m * 60.0 - want))


def _counts(pb, minute: int, lang: str) -> str:
    c = pb.path_states(minute * 60.0)
    return t("state_counts", lang).format(**c, people=len(pb.people_at(minute * 60.0)))


def show_results(st, city, run, lang: str, *, living_lab: bool = False) -> None:
    from .charts import evacuation_chart
    from .playback import evacuation_curve

    summary = run.summary
    kpi_block(st, summary, lang, living_lab, key_gauge(city))
    playback_block(st, city, run, lang, living_lab=living_lab)
    curve = evacuation_curve(run.evacuees)
    if len(curve):
        st.subheader(t("evac_chart", lang))
        bounds = [b.get("bound_s") for b in summary["crowd"].get("evacuation_lower_bound_s", {}).values()]
        bound = max((b for b in bounds if b is not None), default=None)
        st.altair_chart(evacuation_chart(curve, lang, lower_bound_s=bound), width="stretch")
    from .gates_view import gates_block

    gates_block(st, city, run, lang)
    if "swmm" in summary and not living_lab:
        sw = summary["swmm"]
        st.caption(
            f"{t('continuity', lang)}: {sw['runoff_continuity_error_pct']:.3f} % / "
            f"{sw['flow_routing_continuity_error_pct']:.3f} %"
        )
    if not living_lab:
        from .charts import scenario_start
        from .form_inputs import names_of
        from .tables import events_table

        st.subheader(t("events", lang))
        table = events_table(run.events, names_of(city), lang, scenario_start(summary))
        st.dataframe(table, height=240, hide_index=True)
    downloads(st, city, run, lang)


def downloads(st, city, run, lang: str) -> None:
    import json

    from ..results import zip_run_folder
    from .caches import playback_of
    from .form_inputs import names_of
    from .report import report_html

    c1, c2, c3 = st.columns(3)
    # on_click="ignore": a download does not rerun the page. A rerun drops the deferred files the
    # previous run of the page registered, so a second download clicked soon after the first found
    # its file gone (MediaFileStorageError: Deferred file ... not found) and nothing came.
    stem = download_stem(run, lang)
    c1.download_button(
        t("download_report", lang),
        lambda: report_html(run, city, playback_of(city, run, lang), lang, names_of(city)),
        file_name=f"{stem}.html",
        mime="text/html",
        key="dl_report",
        on_click="ignore",
    )
    c2.download_button(
        t("download_summary", lang),
        json.dumps(run.summary, ensure_ascii=False, indent=2, default=str),
        file_name=f"{stem}_summary.json",
        mime="application/json",
        key="dl_summary",
        on_click="ignore",
    )
    name = run.folder.name
    c3.download_button(
        t("download_zip", lang),
        lambda: zip_run_folder(run.folder, name=name),
        file_name=f"{stem}.zip",
        mime="application/zip",
        key="dl_zip",
        on_click="ignore",
    )


def download_stem(run, lang: str) -> str:
    """A file name (no extension) that names the run's scenario in ``lang`` and the run folder:
    ``중랑천-돌발홍수-3시간-90-mm_<folder>``; letters and digits of any script are kept, anything
    else (spaces, slashes, dots) becomes one hyphen, at most 60 characters of the name."""
    import re

    names = (run.summary.get("scenario") or {}).get("name")
    name = names.get(lang) or names.get("en") or "" if isinstance(names, dict) else str(names or "")
    slug = re.sub(r"[^\w]+|_+", "-", str(name)).strip("-")[:60].strip("-") or "uijeongbu-twin"
    folder = re.sub(r"[^\w.-]+", "-", run.folder.name)
    return f"{slug}_{folder}"
