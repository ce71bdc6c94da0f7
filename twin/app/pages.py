"""The app's pages. Each takes the streamlit module and draws; runs come from a RunStore.

No simulation logic here: parameters become scenario overrides (``--set`` strings), the runner
runs them, and the pages draw the run folder. ``app.py`` puts the pages in ``st.navigation``; the
playback is a fragment (:func:`playback_block`), its data cached in :mod:`twin.app.caches`.

Why one module of this size: the three pages share their controls (scenario pick, overrides,
the run with its progress, the KPI block, the playback), and each control is a small function
here that the tests call directly.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..dataset_schema import THRESHOLD_LEVELS as LEVELS
from ..resources import shipped_scenarios
from ..scenario import DesignStorm
from .i18n import t
from .kpis import KeyGauge, key_gauge, kpis, plain_kpis

SCENARIOS = shipped_scenarios()
POLICIES = SCENARIOS / "policies"
PATTERNS = ("huff_q1", "huff_q2", "huff_q3", "huff_q4", "alternating_block")
TRIGGERS = ("path_flooded", "attention")
PAGES = ("map", "run", "compare", "cctv", "collapse")
# a proposal worth showing: clear the paths at 관심, with the key gauge's (신곡교's) 관심 level lowered to 1.5 m
PROPOSAL_TRIGGER = "crowd.evacuation_trigger=attention"
PROPOSAL_ATTENTION_M = 1.5
PLAY_FRAMES = 30  # frames of the ▶ animation over the whole run
PLAY_TICK_S = 0.5  # s of wall time between two frames (the playback fragment reruns this often)
# web-map zoom levels at which the whole city fits the smaller maps (the city map: 11.6 at 640 px)
PLAY_ZOOM, COMPARE_ZOOM = 11.2, 10.7  # 480 px high, full width; 380 px high, half width

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


def translated_radio(st, where, label: str, options, *, key: str, lang: str, default, format_func, **kw):
    """A radio whose option labels change with the language. Streamlit keeps a radio's choice by
    its label text, so a language switch would reset it: each language gets its own widget
    (``key:lang``) and the choice is carried across in ``st.session_state[key]``."""
    options = list(options)
    chosen = st.session_state.get(key, default)
    value = where.radio(
        label,
        options,
        index=options.index(chosen) if chosen in options else options.index(default),
        key=f"{key}:{lang}",
        format_func=format_func,
        **kw,
    )
    st.session_state[key] = value
    return value


def scenario_files() -> list[Path]:
    """Scenario files a planner can pick: the city's and the smart gates' (the verification
    geometries are left out)."""
    return sorted(SCENARIOS.glob("*.yaml")) + sorted((SCENARIOS / "gates").glob("*.yaml"))


def _pick_scenario(st, lang: str, key: str, default: str = "flash_flood_jungnangcheon.yaml") -> Path:
    """A select box of the shipped scenarios; returns the chosen file."""
    names = [f.relative_to(SCENARIOS).as_posix() for f in scenario_files()]
    name = st.selectbox(t("scenario", lang), names, key=key, index=names.index(default))
    return SCENARIOS / name


MAP_LAYERS = ("dongs", "streams", "roads", "paths", "buildings", "facilities", "devices")


def map_page(st, city, lang: str, city_deck=None) -> None:
    """The city map; ``city_deck(lang, layers)`` may hand out a cached deck (the app caches it)."""
    from .map_layers import deck

    st.header(t("page_map", lang))
    st.caption(t("map_caption", lang))
    show = st.multiselect(t("layers", lang), MAP_LAYERS, default=list(MAP_LAYERS), key="layers")
    layers = tuple(x for x in MAP_LAYERS if x in show)
    chart = city_deck(lang, layers) if city_deck else deck(city, lang=lang, show=set(layers))
    st.pydeck_chart(chart, height=640)


# --- parameters -> overrides ------------------------------------------------------------------
def parse_overrides(text: str) -> list[str]:
    """Lines of ``key=value`` (blank lines ignored)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def refused_overrides(st, lines: list[str], lang: str) -> bool:
    """Show one message per override that would make the server read a typed path (see
    :mod:`twin.app.overrides`); True when there was any (then nothing is run)."""
    from .overrides import browser_override_problems, path_field_of

    problems = browser_override_problems(lines)
    for line, problem in zip([x for x in lines if path_field_of(x)], problems, strict=True):
        hint = t(f"hint_{path_field_of(line)}", lang)
        st.error(t("path_refused", lang).format(problem=problem, hint=hint))
    return bool(problems)


def rain_upload(st, store, lang: str, key: str) -> list[str] | None:
    """An upload of recorded rain (CSV ``time,gauge_id,mm``), kept by the run store; the
    overrides that run with it, or None without one."""
    from ..errors import TwinError

    up = st.file_uploader(t("rain_upload", lang), type=["csv"], key=key, accept_multiple_files=False)
    if up is None or store is None:
        return None
    try:
        saved = store.save_upload(up.name, up.getvalue())
    except TwinError as exc:
        st.error(f"{t('invalid', lang)}: {exc}")
        return None
    return ["rainfall.kind=observed", f"rainfall.csv={saved}"]


def policy_pick(st, base, lang: str, key: str) -> list[str]:
    """A select box of the project's gate policies (scenarios/policies/) for a scenario with a
    gate controller; the override when another one is chosen."""
    if base.controller is None:
        return []
    files = sorted(POLICIES.glob("*.yaml"))
    if not files:
        return []
    current = base.resolve_path(base.controller.policy)
    names = [f.name for f in files]
    index = next((i for i, f in enumerate(files) if f.resolve() == current.resolve()), 0)
    name = st.selectbox(t("policy_pick", lang), names, index=index, key=key)
    chosen = POLICIES / name
    return [] if chosen.resolve() == current.resolve() else [f"controller.policy={chosen}"]


def scenario_overrides(total_mm: float, hours: float, pattern: str, people: int | None, scenario=None) -> list[str]:
    """The rain parameters (``total_mm`` mm over ``hours`` h) as ``--set`` overrides, and with
    ``people`` the count of ``scenario``'s riverside population, as :func:`people_overrides` sets
    it (nothing when there is none: another kind's count, or a flow's rate, is not walkers)."""
    sets = [
        "rainfall.kind=design",
        f"rainfall.total_mm={total_mm:g}",
        f"rainfall.duration={hours:g}h",
        f"rainfall.pattern={pattern}",
        "rainfall.interval=10min",
        "rainfall.start_offset=0",
    ]
    pops = scenario.populations if scenario is not None else []
    idx = next((i for i, p in enumerate(pops) if p.kind == "riverside"), None)
    if people is not None and idx is not None:
        sets.append(f"populations.{idx}.count={int(people)}")
    return sets


def people_overrides(scenario, people: int, stream: str, trigger: str) -> list[str]:
    """Walkers on ``stream``'s riverside paths: the count of the scenario's riverside population,
    or a new one (arriving over two hours) when it has none; and when they are told to leave."""
    sets: list[str] = []
    idx = next((i for i, p in enumerate(scenario.populations) if p.kind == "riverside"), None)
    if idx is not None:
        sets += [f"populations.{idx}.count={int(people)}", f"populations.{idx}.stream={stream}"]
    elif people > 0:
        pops = [p.model_dump(mode="json") for p in scenario.populations]
        pops.append({"kind": "riverside", "stream": stream, "count": int(people), "arrival_window": "2h"})
        sets.append("populations=" + _flow(pops))
    if people > 0 or idx is not None:
        sets.append(f"crowd.evacuation_trigger={trigger}")
    return sets


def _flow(value: Any) -> str:
    """A value as one line of YAML flow style (for a ``--set``)."""
    import json

    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def threshold_overrides(gauge: str, current: dict[str, float], chosen: dict[str, float]) -> list[str]:
    """Overrides for the thresholds that differ from the gauge's current ones."""
    return [
        f"thresholds.{gauge}.{lv}_m={chosen[lv]:g}"
        for lv in LEVELS
        if lv in chosen and abs(chosen[lv] - current.get(lv, float("nan"))) > 1e-9
    ]


def start_override(scenario, hour: int, minute: int) -> list[str]:
    """Move the scenario's start to another time of the same day (keeping its time zone)."""
    if (scenario.start.hour, scenario.start.minute) == (hour, minute):
        return []
    return [f"start={scenario.start.replace(hour=hour, minute=minute).isoformat()}"]


def _gauge_thresholds(city) -> dict[str, dict[str, float]]:
    lv = city.devices_of_kind("level_sensor")
    return {
        str(r["device_id"]): {
            k: float(r[f"threshold_{k}_m"]) for k in LEVELS if r[f"threshold_{k}_m"] == r[f"threshold_{k}_m"]
        }
        for r in lv.to_dict("records")
    }


def run_controls(st, city, lang: str, living_lab: bool, store=None) -> tuple[Path, list[str]] | None:
    """The run form. Returns (scenario file, overrides) when the user pressed Run, else None.

    Files come from the project (the scenario and policy lists) or from an upload, never from a
    typed path: free overrides that set a path are refused (:mod:`twin.app.overrides`)."""
    import datetime as dt

    from ..scenario import load_scenario

    path = _pick_scenario(st, lang, "scenario")
    # widget keys carry the scenario's name: picking another scenario starts from its own values
    base = load_scenario(path)
    sets: list[str] = []
    c1, c2, c3 = st.columns(3)
    storm = base.rainfall if isinstance(base.rainfall, DesignStorm) else None
    design = storm is not None
    total = c1.number_input(
        t("rain_total", lang),
        min_value=0.0,
        max_value=500.0,
        value=float(storm.total_mm) if storm is not None else 90.0,
        step=10.0,
        key=f"total_mm:{path.stem}",
        disabled=not design,
    )
    hours = c2.number_input(
        t("rain_duration", lang),
        min_value=0.5,
        max_value=24.0,
        value=float(storm.duration / 3600) if storm is not None else 3.0,
        step=0.5,
        key=f"hours:{path.stem}",
        disabled=not design,
    )
    pattern = c3.selectbox(
        t("pattern", lang),
        PATTERNS,
        index=PATTERNS.index(storm.pattern) if storm is not None else 2,
        key=f"pattern:{path.stem}",
        disabled=not design,
    )
    if design:
        sets += scenario_overrides(total, hours, pattern, None)
        sets = [s for s in sets if not s.startswith("rainfall.start_offset")]
    c4, c5, c6 = st.columns(3)
    riverside = next((p for p in base.populations if p.kind == "riverside"), None)
    people = c4.number_input(
        t("people", lang),
        min_value=0,
        max_value=20000,
        value=int(riverside.count) if riverside else 0,
        step=100,
        key=f"people:{path.stem}",
        disabled=not base.hydraulics.enabled,
    )
    streams = sorted(set(city.layer("streams")["name"]))
    stream = c5.selectbox(
        t("people_stream", lang),
        streams,
        index=streams.index(riverside.stream if riverside else "중랑천") if "중랑천" in streams else 0,
        key=f"stream:{path.stem}",
    )
    start = c6.time_input(
        t("start_time", lang), value=dt.time(base.start.hour, base.start.minute), key=f"start:{path.stem}", step=1800
    )
    sets += start_override(base, start.hour, start.minute)
    trigger = translated_radio(
        st,
        st,
        t("trigger", lang),
        TRIGGERS,
        key=f"trigger:{path.stem}",
        lang=lang,
        default=base.crowd.evacuation_trigger,
        format_func=lambda x: t(f"trigger_{x}", lang),
        horizontal=True,
    )
    if base.hydraulics.enabled:
        sets += people_overrides(base, int(people), stream, trigger)
    if not living_lab:
        with st.expander(t("thresholds", lang)):
            table = _gauge_thresholds(city)
            gauges = sorted(table)
            key = key_gauge(city)
            gauge = st.selectbox(
                t("gauge", lang),
                gauges,
                index=gauges.index(key.device_id) if key is not None and key.device_id in gauges else 0,
                key=f"th_gauge:{path.stem}",
            )
            current = {
                **table[gauge],
                **{
                    k[:-2]: v
                    for k, v in (base.thresholds[gauge].model_dump().items() if gauge in base.thresholds else [])
                    if v is not None
                },
            }
            cols = st.columns(len(LEVELS))
            chosen = {
                lv: col.number_input(
                    t(f"level_{lv}", lang),
                    min_value=0.0,
                    max_value=30.0,
                    value=float(current.get(lv, 0.0)),
                    step=0.1,
                    key=f"th_{lv}:{path.stem}:{gauge}",
                )
                for lv, col in zip(LEVELS, cols, strict=True)
            }
            sets += threshold_overrides(gauge, current, chosen)
        sets += policy_pick(st, base, lang, f"policy:{path.stem}")
        rain = rain_upload(st, store, lang, f"rain_csv:{path.stem}")
        if rain is not None:  # recorded rain replaces the design storm of the form
            sets = [x for x in sets if not x.startswith("rainfall.")] + rain
        extra = parse_overrides(st.text_area(t("overrides", lang), "", key=f"overrides:{path.stem}"))
    else:
        extra = []
    if not st.button(t("run", lang), key="run", type="primary"):
        return None
    if refused_overrides(st, extra, lang):
        return None
    return path, sets + extra


# --- the run page ----------------------------------------------------------------------------
def _progress_bar(st, lang: str):
    bar = st.progress(0.0, text=t("running", lang))
    last = [-1]

    def update(done: float, total: float) -> None:
        pct = int(100 * done / total) if total else 100
        if pct != last[0]:
            last[0] = pct
            bar.progress(
                min(pct, 100) / 100, text=t("progress", lang).format(done=int(done / 60), total=int(total / 60))
            )

    return bar, update


def get_run(st, store, path, sets, lang: str):
    """The run of (path, sets) from the store, with a progress bar when it must be computed.
    Shows a bad scenario or override as a message and returns None."""
    from ..errors import TwinError

    try:
        if store.has(path, sets):
            return store.get(path, sets)
        bar, update = _progress_bar(st, lang)
        run = store.get(path, sets, progress=update)
        bar.empty()
        return run
    except TwinError as exc:
        st.error(f"{t('invalid', lang)}: {exc}")
        return None


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
    else:
        run = get_run(st, store, key[0], key[1], lang)
    if run is not None:
        shown(st, lang, run, lambda: show_results(st, city, run, lang, living_lab=living_lab))


def shown(st, lang: str, run, draw) -> None:
    """Draw a run; anything a check of the run folder missed becomes one line naming the folder
    and the kind of error (the details go to the server's log), never a traceback in the page."""
    try:
        draw()
    except Exception as exc:  # a run folder is data from disk: the page must survive it
        logging.getLogger(__name__).exception("cannot show the run in %s", run.folder)
        st.error(t("cannot_show", lang).format(folder=run.folder, what=type(exc).__name__))


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
    cols = st.columns(3) + st.columns(3)
    if "peak_stage" in k and key is not None:
        cols[0].metric(t("peak_stage", lang).format(**key.words(lang)), f"{k['peak_stage']:.2f} m", help=key.device_id)
    if "paths_flooded" in k:
        cols[1].metric(t("paths_flooded", lang), f"{k['paths_flooded'][0]} / {k['paths_flooded'][1]}")
        lead = k["warning_min"]
        cols[2].metric(
            t("warning_min", lang),
            "–" if lead is None else f"{lead / 60:.0f} {t('minutes', lang)}",
            help=f"{t('no_warning', lang)} (< 0)" if lead is not None and lead < 0 else None,
        )
    if "people_exposed" in k:
        cols[3].metric(t("people_exposed", lang), f"{k['people_exposed']}")
    if "people_on_path" in k:
        cols[4].metric(t("people_on_path", lang), f"{k['people_on_path']}")
    if k.get("evac_t90") is not None:
        cols[5].metric(t("evac_t90", lang), f"{k['evac_t90'] / 60:.1f} {t('minutes', lang)}")


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
    stops. Nothing sleeps: between frames the page answers as usual (pause, the slider, the rest
    of the page). The timer starts and stops with a full rerun, which registers the fragment
    with or without ``run_every``."""
    from .caches import playback_of

    pb = playback_of(city, run, lang)
    key = key_gauge(city)
    st.subheader(t("playback", lang))
    st.caption(t("legend", lang))
    minutes = sorted({int(x // 60) for x in pb.times} | {int(pb.duration_s // 60)})
    if st.session_state.get("t_min") not in minutes:
        st.session_state["t_min"] = default_minute(run.summary, minutes, key)
    playing = bool(st.session_state.get("playing"))

    @st.fragment(run_every=PLAY_TICK_S if playing else None)
    def frame() -> None:
        shown(st, lang, run, lambda: _frame(st, run, pb, minutes, lang, key, living_lab=living_lab))

    frame()


def _frame(st, run, pb, minutes: list[int], lang: str, key: KeyGauge | None, *, living_lab: bool) -> None:
    """One run of the playback fragment: a tick while playing, then the slider and what it shows."""
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
    with slot:
        t_min = st.select_slider(t("time_min", lang), options=minutes, key="t_min")
    st.pydeck_chart(pb.deck_at(t_min * 60.0, zoom=PLAY_ZOOM), height=560 if living_lab else 480)
    st.caption(_counts(pb, t_min, lang))
    ev = pb.events_until(t_min * 60.0)
    if len(ev) and not living_lab:
        st.markdown(f"**{t('events_so_far', lang)}**")
        st.dataframe(
            ev.head(8).assign(minute=(ev["time_s"].head(8) / 60).round(1))[["minute", "kind", "entity_id", "message"]],
            hide_index=True,
        )
    cursor_charts(st, run, lang, t_min, key)


def cursor_charts(st, run, lang: str, t_min: int, key: KeyGauge | None) -> None:
    """The stage at the chosen gauges and the hyetograph, with a cursor at minute ``t_min``."""
    from .charts import rain_chart, stage_chart

    summary = run.summary
    gauges = sorted(summary.get("gauges", {}))
    if gauges:
        st.subheader(t("stage_chart", lang))
        default = [key.device_id] if key is not None and key.device_id in gauges else gauges[:1]
        chosen = st.multiselect(t("gauge", lang), gauges, default=default, key="chart_gauges")
        st.altair_chart(stage_chart(run, chosen, lang, t_min=t_min), width="stretch")
    if (run.timeseries["variable"] == "rain").any():
        st.subheader(t("rain_chart", lang))
        st.altair_chart(rain_chart(run, lang, t_min=t_min), width="stretch")


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
        st.subheader(t("events", lang))
        st.dataframe(run.events[["time_s", "kind", "entity_id", "message"]], height=240)
    downloads(st, city, run, lang)


def downloads(st, city, run, lang: str) -> None:
    import json

    from ..results import zip_run_folder
    from .caches import playback_of
    from .report import report_html

    c1, c2, c3 = st.columns(3)
    c1.download_button(
        t("download_report", lang),
        lambda: report_html(run, city, playback_of(city, run, lang), lang),
        file_name="uijeongbu_twin_report.html",
        mime="text/html",
        key="dl_report",
    )
    c2.download_button(
        t("download_summary", lang),
        json.dumps(run.summary, ensure_ascii=False, indent=2, default=str),
        file_name="summary.json",
        mime="application/json",
        key="dl_summary",
    )
    name = run.folder.name
    c3.download_button(
        t("download_zip", lang),
        lambda: zip_run_folder(run.folder, name=name),
        file_name=f"{name}.zip",
        mime="application/zip",
        key="dl_zip",
    )


# --- compare ---------------------------------------------------------------------------------
def kpi_table(base: dict[str, Any], prop: dict[str, Any], lang: str, key: KeyGauge | None) -> list[dict[str, Any]]:
    """Rows (KPI, baseline, proposal, difference) for the comparison, plain numbers."""
    kb, kp = kpis(base, key), kpis(prop, key)
    words = key.words(lang) if key is not None else {}
    rows = []
    for kpi in ("peak_stage", "paths_flooded", "warning_min", "people_on_path", "people_exposed", "evac_t90"):
        if kpi not in kb and kpi not in kp:
            continue
        b, q = kb.get(kpi), kp.get(kpi)
        if kpi == "paths_flooded":
            b, q = (b[0] if b else None), (q[0] if q else None)
        if kpi in ("warning_min", "evac_t90"):
            b, q = (None if b is None else round(b / 60, 1)), (None if q is None else round(q / 60, 1))
        diff = None if b is None or q is None else round(q - b, 3)
        label = t(kpi, lang).format(**words)
        rows.append({"KPI": label, t("baseline", lang): b, t("proposal", lang): q, t("difference", lang): diff})
    return rows


def default_proposal(key: KeyGauge | None) -> str:
    """The compare page's example proposal: clear the paths at 관심, with the key gauge's 관심
    stage lowered to :data:`PROPOSAL_ATTENTION_M` (m) when the city has a key gauge."""
    if key is None:
        return PROPOSAL_TRIGGER
    return f"{PROPOSAL_TRIGGER}\nthresholds.{key.device_id}.attention_m={PROPOSAL_ATTENTION_M:g}"


def compare_page(st, city, lang: str, store, *, living_lab: bool = False) -> None:
    """Two runs of one scenario side by side: the baseline and a proposal with changed values."""
    from .caches import playback_of
    from .charts import stage_chart

    st.header(t("page_compare", lang))
    path = _pick_scenario(st, lang, "cmp_scenario", default="flash_flood_evening_walkers.yaml")
    text = st.text_area(t("proposal_overrides", lang), default_proposal(key_gauge(city)), key="cmp_sets")
    if st.button(t("compare", lang), key="cmp_run", type="primary"):
        st.session_state.pop("cmp_key", None)
        if not refused_overrides(st, parse_overrides(text), lang):
            st.session_state["cmp_key"] = (str(path), tuple(parse_overrides(text)))
    key = st.session_state.get("cmp_key")
    if key is None:
        return
    base = get_run(st, store, key[0], (), lang)
    prop = get_run(st, store, key[0], key[1], lang) if base is not None else None
    if base is None or prop is None:
        return
    gauge = key_gauge(city)
    st.dataframe(kpi_table(base.summary, prop.summary, lang, gauge), hide_index=True)
    left, right = st.columns(2)
    for col, run, label in ((left, base, "baseline"), (right, prop, "proposal")):
        col.subheader(t(label, lang))
        if living_lab:
            with col:
                kpi_block(st, run.summary, lang, True, gauge)
        pb = playback_of(city, run, lang)
        col.caption(t("peak_map", lang))
        col.pydeck_chart(pb.deck_at(0.0, peak=True, zoom=COMPARE_ZOOM), height=380)
        if gauge is not None and gauge.device_id in run.summary.get("gauges", {}):
            col.altair_chart(stage_chart(run, [gauge.device_id], lang, height=200), width="stretch")
