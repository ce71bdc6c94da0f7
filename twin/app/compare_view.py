"""The compare page: a proposal built from lists, run beside the baseline, each difference marked
better or worse, and maps that show only the paths whose fate changed.

A proposal is what a planner picks (:func:`proposal_form`): the rain, the people on the paths,
when they are told to leave, a gauge's alert thresholds, a gate's policy levels, with the current
value beside each; typed ``key=value`` lines stay as an advanced option. It becomes scenario
overrides and a list of sentences saying what changes ("신곡교 관심 수위 2.5 m → 1.5 m"). Both
runs come from the run store, so a comparison asked again is drawn from the cached runs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .form_inputs import (
    current_thresholds,
    names_of,
    people_inputs,
    policy_file,
    rain_inputs,
    threshold_inputs,
    trigger_input,
)
from .form_values import PROPOSAL_ATTENTION_M, TRIGGERS, parse_overrides, people_overrides
from .i18n import t
from .kpis import key_gauge
from .widgets import get_run, md_text, pick_scenario, refused_overrides, translated_select

CHANGES = ("trigger", "thresholds", "people", "rain", "gate_policy")
DEFAULT_CHANGES = ("trigger", "thresholds")  # the example: leave at 관심, with 신곡교's 관심 at 1.5 m
GATE_LEVELS = ("warn_level_m", "close_level_m", "reopen_level_m", "override_level_m")
COMPARE_HEIGHT = 420  # px of each of the two maps

WORDS: dict[str, dict[str, str]] = {
    "what": {"ko": "무엇을 바꿀까요?", "en": "What does the proposal change?"},
    "trigger": {"ko": "대피 지시 시점", "en": "When people are told to leave"},
    "thresholds": {"ko": "수위계 경보 기준", "en": "A gauge's alert levels"},
    "people": {"ko": "산책로 이용자 수", "en": "Number of people on the paths"},
    "rain": {"ko": "비 (양, 시간, 분포)", "en": "The rain (depth, duration, pattern)"},
    "gate_policy": {"ko": "차단시설 작동 기준", "en": "A gate's policy levels"},
    "advanced": {
        "ko": "고급: 값 직접 입력 (키=값, 한 줄에 하나)",
        "en": "Advanced: typed overrides (key=value, one per line)",
    },
    "now": {"ko": "지금: {value}", "en": "Now: {value}"},
    "gate": {"ko": "차단시설", "en": "Gate"},
    "warn_level_m": {"ko": "경고 수위 (m)", "en": "Warn at (m)"},
    "close_level_m": {"ko": "닫힘 수위 (m)", "en": "Close at (m)"},
    "reopen_level_m": {"ko": "다시 열림 수위 (m)", "en": "Reopen below (m)"},
    "override_level_m": {"ko": "센서 무시 강제 닫힘 수위 (m)", "en": "Close regardless at (m)"},
    "bad_levels": {
        "ko": "{gate}: 경고 ≤ 닫힘 ≤ 강제 닫힘 수위, 다시 열림 < 닫힘 수위여야 합니다 (지금 {levels}).",
        "en": "{gate}: the levels must be warn ≤ close ≤ close regardless, and reopen < close (now {levels}).",
    },
    "bad_policy": {
        "ko": "{gate}: 이 값으로는 차단시설 정책이 성립하지 않습니다.",
        "en": "{gate}: the gate policy does not hold with these values.",
    },
    "no_gates": {
        "ko": "이 시나리오에는 차단시설 제어기가 없습니다.",
        "en": "This scenario has no gate controller.",
    },
    "only": {
        "ko": "한쪽에서만 잠긴 진출입로: 현재만 {base}곳, 제안만 {prop}곳.",
        "en": "Access points flooded in one run only: {base} in the baseline only, {prop} in the proposal only.",
    },
    "proposal_says": {"ko": "제안 내용", "en": "The proposal"},
    "nothing": {
        "ko": "바뀐 것이 없습니다: 위에서 값을 바꾸세요.",
        "en": "Nothing changes yet: change a value above.",
    },
    "typed": {"ko": "직접 입력: {line}", "en": "Typed: {line}"},
    "maps": {
        "ko": "침수된 산책로 (가장 나빴던 상태). 굵게 강조된 선은 한쪽에서만 잠긴 구간입니다.",
        "en": "Flooded paths (the worst state). Thick highlighted lines flooded in one run only.",
    },
}


def w(key: str, lang: str) -> str:
    """A text of this page in ``lang``."""
    return WORDS[key][lang]


def _changes(st, lang: str) -> list[str]:
    """The multiselect of what the proposal changes; its choice kept across a language switch."""
    chosen = st.session_state.get("cmp_changes", list(DEFAULT_CHANGES))
    value = st.multiselect(
        w("what", lang),
        list(CHANGES),
        default=[c for c in chosen if c in CHANGES],
        format_func=lambda c: w(c, lang),
        key=f"cmp_changes:{lang}",
    )
    st.session_state["cmp_changes"] = list(value)
    return list(value)


def proposal_form(
    st, city, base, lang: str, store, path: Path, problems: list[str] | None = None
) -> tuple[list[str], list[str], list[str]]:
    """The proposal's inputs for scenario ``base`` (file ``path``): (the form's overrides, sentences
    in ``lang`` saying what changes, each with the value before and after, and the lines typed
    under "Advanced", which are checked apart: only those can name a file)."""
    names = names_of(city)
    prefix = f"cmp:{path.stem}"
    sets: list[str] = []
    said: list[str] = []
    changes = _changes(st, lang)
    if "trigger" in changes:
        st.caption(w("now", lang).format(value=t(f"trigger_{base.crowd.evacuation_trigger}", lang)))
        trigger = trigger_input(st, base, lang, prefix, default="attention")
        if trigger != base.crowd.evacuation_trigger and trigger in TRIGGERS:
            sets.append(f"crowd.evacuation_trigger={trigger}")
            said.append(f"{t('trigger', lang)}: {t(f'trigger_{base.crowd.evacuation_trigger}', lang)} → "
                         f"{t(f'trigger_{trigger}', lang)}")  # fmt: skip
    if "thresholds" in changes:
        th = threshold_inputs(
            st, city, base, lang, prefix, default_values={"attention": PROPOSAL_ATTENTION_M}, problems=problems
        )
        sets += th
        for line in th:  # thresholds.GAUGE.LEVEL_m=VALUE
            field, _, value = line.partition("=")
            _, gauge, level = field.split(".")
            before = current_thresholds(city, base, gauge).get(level[:-2])
            said.append(f"{names.gauge(gauge, lang)} {t(f'level_{level[:-2]}', lang)}: "
                        f"{before:g} m → {float(value):g} m")  # fmt: skip
    if "people" in changes:
        riverside = next((p for p in base.populations if p.kind == "riverside"), None)
        before = int(riverside.count) if riverside else 0
        st.caption(w("now", lang).format(value=f"{before:,}"))
        chosen = people_inputs(st, city, base, lang, prefix, with_start=False)
        if chosen["people"] != before or (riverside is not None and chosen["stream"] != riverside.stream):
            trig = next((s.partition("=")[2] for s in sets if s.startswith("crowd.evacuation_trigger=")), None)
            sets += [s for s in people_overrides(base, chosen["people"], chosen["stream"],
                                                 trig or base.crowd.evacuation_trigger)
                     if not s.startswith("crowd.evacuation_trigger=") or trig is None]  # fmt: skip
            said.append(f"{t('people', lang)}: {before:,} → {chosen['people']:,} "
                        f"({names.stream(chosen['stream'], lang)})")  # fmt: skip
    if "rain" in changes:
        rain = rain_inputs(st, base, lang, prefix)
        sets += rain
        said += [_rain_sentence(base, rain, lang)] if rain else []
    if "gate_policy" in changes:
        sets_p, said_p = _gate_policy_inputs(st, city, base, lang, store, prefix, problems)
        sets += sets_p
        said += said_p
    with st.expander(w("advanced", lang)):
        typed = parse_overrides(st.text_area(w("advanced", lang), "", key=f"cmp_sets:{path.stem}"))
    said += [w("typed", lang).format(line=x) for x in typed]
    return sets, said, typed


def _rain_sentence(base, rain: list[str], lang: str) -> str:
    """The rain of ``base`` and of the ``rain`` overrides, in words: "90 mm / 3 h → 120 mm / 3 h"."""
    from .names import word

    values = dict(x.partition("=")[::2] for x in rain)
    storm = base.rainfall
    before = f"{storm.total_mm:g} mm / {storm.duration / 3600:g} h, {word('pattern', storm.pattern, lang)}"
    hours = values.get("rainfall.duration", f"{storm.duration / 3600:g}h").rstrip("h")
    after = (f"{float(values.get('rainfall.total_mm', storm.total_mm)):g} mm / {float(hours):g} h, "
             f"{word('pattern', values.get('rainfall.pattern', storm.pattern), lang)}")  # fmt: skip
    return f"{t('rain_total', lang).split(' (')[0]}: {before} → {after}"


def _gate_policy_inputs(
    st, city, base, lang: str, store, prefix: str, problems: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """A gate (by name) and its warn / close / reopen levels (m) in the scenario's policy; a
    changed policy is written into the run store (named by its contents) and validated."""
    import yaml

    from ..control.policy import load_policy
    from ..errors import TwinError

    file = policy_file(base)
    if file is None:
        st.caption(w("no_gates", lang))
        return [], []
    names = names_of(city)
    raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    policy = load_policy(file)
    # every gate of the city: one without its own rule follows the policy's defaults
    devices = set(city.devices_of_kind("gate")["device_id"].astype(str))
    gates = sorted(set(getattr(policy, "gates", None) or ()) | devices)
    gate = translated_select(
        st, st, w("gate", lang), gates, key=f"gate:{prefix}", lang=lang, default=gates[0],
        format_func=lambda g: names.entity(g, lang),
    )  # fmt: skip
    current = _gate_levels(raw, gate)
    cols = st.columns(len(GATE_LEVELS))
    chosen = {
        f: col.number_input(
            w(f, lang), min_value=0.0, max_value=100.0, value=float(current[f]), step=0.1,
            key=f"{f}:{prefix}:{gate}", help=w("now", lang).format(value=f"{current[f]:g} m"),
        )
        for f, col in zip(GATE_LEVELS, cols, strict=True)
    }  # fmt: skip
    changed = {f: v for f, v in chosen.items() if abs(v - current[f]) > 1e-9}
    if not changed or store is None:
        return [], []
    name = names.entity(gate, lang)
    lv = {**current, **changed}
    ordered = lv["warn_level_m"] <= lv["close_level_m"] <= lv["override_level_m"]
    if not (ordered and lv["reopen_level_m"] < lv["close_level_m"]):
        levels = ", ".join(f"{w(f, lang).split(' (')[0]} {lv[f]:g} m" for f in GATE_LEVELS)
        message = w("bad_levels", lang).format(gate=name, levels=levels)
        st.error(message)
        if problems is not None:
            problems.append(message)
        return [], []
    raw.setdefault("gates", {}).setdefault(gate, {}).update({f: round(v, 3) for f, v in changed.items()})
    try:
        saved = store.save_upload("policy.yaml", yaml.safe_dump(raw, allow_unicode=True, sort_keys=False).encode())
        load_policy(saved)
    except TwinError:  # the form's checks above should make this rare; the message would name server files
        logging.getLogger(__name__).exception("a gate policy made by the proposal form was refused")
        message = w("bad_policy", lang).format(gate=name)
        st.error(message)
        if problems is not None:
            problems.append(message)
        return [], []
    said = [f"{name} {w(f, lang)}: {current[f]:g} → {v:g}" for f, v in changed.items()]
    return [f"controller.policy={saved}"], said


def _gate_levels(raw: dict[str, Any], gate: str) -> dict[str, float]:
    """A gate's warn/close/reopen levels (m) in a policy mapping: its own, else the defaults."""
    defaults = raw.get("defaults") or {}
    own = (raw.get("gates") or {}).get(gate) or {}
    return {f: float(own.get(f, defaults.get(f, 0.0))) for f in GATE_LEVELS}


def compare_page(st, city, lang: str, store, *, living_lab: bool = False) -> None:
    """Two runs of one scenario side by side: the baseline and a proposal with changed values."""
    from ..scenario import load_scenario

    st.header(t("page_compare", lang))
    path = pick_scenario(st, lang, "cmp_scenario", default="flash_flood_evening_walkers.yaml")
    base = load_scenario(path)
    problems: list[str] = []  # said where they are; nothing runs while there is one
    sets, said, typed = proposal_form(st, city, base, lang, store, path, problems)
    body = "\n".join(f"- {md_text(x)}" for x in said) or w("nothing", lang)
    st.markdown(f"**{w('proposal_says', lang)}**\n\n{body}")
    if st.button(t("compare", lang), key="cmp_run", type="primary"):
        st.session_state.pop("cmp_key", None)
        if problems:
            st.error("\n\n".join(problems))
        elif not refused_overrides(st, typed, lang):  # a typed line may not name a file on the server
            st.session_state["cmp_key"] = (str(path), tuple(sets + typed))
    key = st.session_state.get("cmp_key")
    if key is None:
        return
    if not key[1]:
        st.info(w("nothing", lang))
        return
    base_run = get_run(st, store, key[0], (), lang)
    prop_run = get_run(st, store, key[0], key[1], lang) if base_run is not None else None
    if base_run is None or prop_run is None:
        return
    compare_results(st, city, base_run, prop_run, lang, living_lab=living_lab)
    from .proposal_save import save_block

    save_block(st, lang, key[0], key[1])  # kept for the workshop: the proposals page takes it from here


def compare_results(st, city, base_run, prop_run, lang: str, *, living_lab: bool) -> None:
    """The KPI table marked better/worse, the two maps and the stage charts."""
    from .caches import playback_of
    from .charts import scenario_start, stage_chart
    from .kpis import compare_rows, compare_styler
    from .pages import kpi_block

    gauge = key_gauge(city)
    names = names_of(city)
    rows = compare_rows(base_run.summary, prop_run.summary, lang, gauge)
    st.dataframe(compare_styler(rows), hide_index=True)
    pbs = [playback_of(city, r, lang) for r in (base_run, prop_run)]
    from .legend import compare_legend
    from .playback import compare_decks, flood_difference

    decks = compare_decks(pbs[0], pbs[1], lang, height_px=COMPARE_HEIGHT)
    diff = flood_difference(pbs[0], pbs[1])
    st.caption(w("maps", lang) + " " + w("only", lang).format(base=len(diff.only_a), prop=len(diff.only_b)))
    legend = compare_legend(lang)
    left, right = st.columns(2)
    for col, run, label, deck in ((left, base_run, "baseline", decks[0]), (right, prop_run, "proposal", decks[1])):
        col.subheader(t(label, lang))
        if living_lab:
            with col:
                kpi_block(st, run.summary, lang, True, gauge)
        col.pydeck_chart(deck, height=COMPARE_HEIGHT)
        col.markdown(legend, unsafe_allow_html=True)  # under each map: a map cut out of a screenshot explains itself
        if gauge is not None and gauge.device_id in run.summary.get("gauges", {}):
            col.altair_chart(
                stage_chart(run, [gauge.device_id], lang, height=200, label_of=lambda g: names.gauge(g, lang),
                            start=scenario_start(run.summary)),  # fmt: skip
                width="stretch",
            )
