"""The words of the sweep page (twin.app.sweep_view): its texts in Korean and English, the varied
parameters, their values and the KPIs in words (a parameter key such as ``rainfall.total_mm`` reads
"총 강우량" / "Total rain"; a KPI column reads as its declaration in twin.ensemble.kpis says).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from ..ensemble.kpis import measure_of

WORDS: dict[str, tuple[str, str]] = {
    "pick": ("스윕 결과", "Sweep"),
    "none_found": (
        "{root} 아래에 스윕 결과가 없습니다. 이렇게 만드세요:",
        "No sweep found under {root}. Make one with:",
    ),
    "not_sweep": (
        "{path}: 스윕 폴더가 아닙니다 (sweep.json과 results.parquet가 필요합니다).",
        "{path}: not a sweep folder (it needs sweep.json and results.parquet).",
    ),
    "option": ("{name} · {runs}회 · {sampler} · {varied}", "{name} · {runs} runs · {sampler} · {varied}"),
    "varied": ("바뀐 값", "What varied"),
    "runs": ("실행 수", "Runs"),
    "failed": ("실패한 실행", "Failed runs"),
    "sampler": ("표본 추출", "Sampler"),
    "failed_list": ("실패한 실행과 오류", "Failed runs and their errors"),
    "member": ("실행 {i}", "Run {i}"),
    "dist_head": ("결과의 분포", "How the results are spread"),
    "dist_caption": (
        "완료된 {n}회 실행의 분포. 점선: 5 %, 50 % (중앙값), 95 % 백분위수.",
        "Over the {n} finished runs. Dashed lines: the 5th, 50th (median) and 95th percentiles.",
    ),
    "count": ("실행 수", "Runs"),
    "exceed_pick": ("초과 확률 곡선을 볼 결과", "Exceedance curve of"),
    "exceed_y": ("이 값 이상일 확률", "Probability of at least this"),
    "map_head": ("곳곳의 사건 확률", "How likely each place's event is"),
    "event": ("사건", "Event"),
    "prob_legend": ("확률 (실행 중 비율)", "Probability (share of runs)"),
    "tooltip": (
        "{name}: {p} % ({n}회 중, 95 % 구간 {low}–{high} %)",
        "{name}: {p} % ({n} runs, 95 % interval {low}–{high} %)",
    ),
    "no_places": ("이 스윕에는 지도에 표시할 곳별 결과가 없습니다.", "This sweep has no per-place results to map."),
    "gauges_head": ("수위계가 각 경보 단계에 닿을 확률", "Probability of each gauge reaching each alert level"),
    "gauge": ("수위계", "Gauge"),
    "sens_head": ("어떤 값이 결과를 좌우했나 (Sobol 민감도)", "Which inputs drove the result (Sobol sensitivity)"),
    "sens_pick": ("결과", "Result"),
    "sens_value": ("분산 중 비율", "Share of the variance"),
    "ST": ("전체 효과 ST", "Total effect ST"),
    "S1": ("단독 효과 S1", "First-order S1"),
    "sens_caption": (
        "ST: 이 값이 (다른 값과 함께 일으킨 효과까지) 결과의 분산 중 차지하는 비율. S1: 이 값 혼자만의 몫. "
        "선: 95 % 신뢰구간. 실행 수가 적으면 구간이 넓고 값이 0–1 밖으로 나갈 수 있습니다.",
        "ST: the share of the result's variance due to this input, including what it does together with the "
        "others. S1: its share on its own. Lines: 95 % confidence intervals. With few runs the intervals are wide "
        "and values can fall outside 0–1.",
    ),
    "sens_top": (
        "{kpi}: 가장 큰 영향은 {param}, 분산의 약 {st} % (ST, 95 % 구간 {low}–{high} %).",
        "{kpi}: the strongest input is {param}, about {st} % of the variance (ST, 95 % interval {low}–{high} %).",
    ),
    "dropped": (
        "기준 표본 {m}개 중 {k}개 제외 (실패했거나 이 결과가 없는 실행): 지수는 나머지 실행만 설명합니다.",
        "{k} of {m} base samples left out (a run failed or lacks this result): the indices describe the rest only.",
    ),
    "no_sobol": (
        "Sobol 민감도 지수는 --sampler sobol 로 실행한 스윕에만 있습니다.",
        "Sobol sensitivity indices need a sweep run with --sampler sobol.",
    ),
    "rules_head": ("나쁜 결과로 이어진 조건 (시나리오 발견)", "What led to the bad outcomes (scenario discovery)"),
    "rules_count": ("{target}: {n}회 중 {bad}회", "{target}: {bad} of {n} runs"),
    "no_rules": ("찾은 규칙 없음", "No rule found"),
    "no_rules_why": (
        "찾은 규칙 없음 (모든 실행이 같은 결과이거나, 가르는 조건을 찾지 못했습니다).",
        "No rule found (every run had the same outcome, or no condition separates them).",
    ),
    "rules_none": ("규칙 파일(rules.json)이 없습니다.", "There is no rules file (rules.json)."),
    "prim": ("PRIM", "PRIM"),
    "tree": ("결정 트리", "decision tree"),
    "all_runs": ("모든 실행", "all runs"),
    "or": (" 또는 ", " or "),
    "and": (" 그리고 ", " and "),
    "is": ("{label}: {values}", "{label} is {values}"),
    "rule_tail": (
        "{where}: {inside}회 중 {bad_in}회 ({density}), 나쁜 결과 {bad}회 중 {bad_in}회 ({coverage})",
        "{where}: {bad_in} of {inside} runs bad ({density}), {bad_in} of {bad} bad runs ({coverage})",
    ),
    "download": ("결과 표 내려받기 (CSV)", "Download the results (CSV)"),
    "mean_sd": ("{label} 평균 {a}, 표준편차 {b}{unit}", "{label} mean {a}, sd {b}{unit}"),
    "mode": ("{label} {a}–{c}{unit} (최빈값 {b})", "{label} {a}–{c}{unit} (mode {b})"),
    "group": ("집단 {n}", "group {n}"),
    "people_of": ("이용자 수 ({g})", "People ({g})"),
    "level_m": ("{gauge} {level} 기준 수위", "{gauge} {level} threshold"),
}
SAMPLERS: dict[str, tuple[str, str]] = {
    "lhs": ("라틴 하이퍼큐브 (LHS)", "Latin hypercube (LHS)"),
    "sobol": ("Sobol (Saltelli)", "Sobol (Saltelli)"),
    "random": ("무작위", "random"),
    "grid": ("격자", "grid"),
}
# common parameter keys in words: key -> (ko, en, unit)
PARAMS: dict[str, tuple[str, str, str]] = {
    "rainfall.total_mm": ("총 강우량", "Total rain", "mm"),
    "rainfall.pattern": ("강우 분포", "Rain pattern", ""),
    "rainfall.duration": ("강우 지속시간", "Rain duration", ""),
    "rainfall.start_offset": ("강우 시작 시각", "Rain start", ""),
    "rainfall.interval": ("강우 자료 간격", "Rain step", ""),
    "crowd.evacuation_trigger": ("대피 지시 시점", "When people are told to leave", ""),
    "hydraulics.routing_step_s": ("수리 계산 시간 간격", "Routing time step", "s"),
    "hydraulics.sample_interval": ("수위 기록 간격", "Stage sampling interval", ""),
    "hydraulics.base_flow_m3s": ("기저 유량", "Base flow", "m³/s"),
    "hydraulics.imperviousness_scale": ("불투수율 배율", "Imperviousness scale", ""),
    "hydraulics.upstream_catchment_km2": ("상류 유역 면적", "Upstream catchment", "km²"),
    "hydraulics.routing": ("하도 추적 방법", "Flow routing", ""),
}
# the KPIs' units (twin.ensemble.kpis) in Korean
UNITS_KO = {"people": "명", "paths": "곳", "gates": "곳", "sites": "곳", "min": "분", "person·min": "인·분",
            "level": "단계"}  # fmt: skip
_POPULATION = re.compile(r"^populations\.(\d+)\.count$")
_THRESHOLD = re.compile(r"^thresholds\.([^.]+)\.([a-z]+)_m$")
_HUFF = re.compile(r"^huff_q(\d)$")
_ORDINAL_EN = {"1": "1st", "2": "2nd", "3": "3rd", "4": "4th"}


def w(key: str, lang: str) -> str:
    """A text of this page in ``lang`` ("ko"/"en")."""
    return WORDS[key][0 if lang == "ko" else 1]


# --- parameters and KPIs in words ------------------------------------------------------------
def param_unit(key: str) -> str:
    """The unit of a parameter key (mm, m, s, ...), "" when it has none or is not known."""
    if key in PARAMS:
        return PARAMS[key][2]
    return "m" if _THRESHOLD.match(key) else ""


def param_label(key: str, lang: str, names: Any = None) -> str:
    """A parameter key in words: ``rainfall.total_mm`` -> 총 강우량 / Total rain; ``populations.0.count``
    -> 이용자 수 (집단 1); ``thresholds.<gauge>.<level>_m`` -> the gauge's name and level; else the key."""
    if key in PARAMS:
        return PARAMS[key][0 if lang == "ko" else 1]
    if m := _POPULATION.match(key):
        return w("people_of", lang).format(g=w("group", lang).format(n=int(m.group(1)) + 1))
    if m := _THRESHOLD.match(key):
        from .names import word

        gauge = names.gauge(m.group(1), lang) if names is not None else m.group(1)
        return w("level_m", lang).format(gauge=gauge, level=word("level", m.group(2), lang))
    return key


TEXT_CHARS = 60  # a parameter's value in words is cut to this many characters


def cut(text: str, limit: int = TEXT_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def param_value(key: str, value: Any, lang: str) -> str:
    """One value of a parameter in words: numbers to 3 significant digits with the unit, rain patterns
    and triggers by :func:`twin.app.names.word`."""
    from .names import word

    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        unit = param_unit(key)
        return f"{num(float(value))} {unit}".strip()
    if key == "rainfall.pattern":
        return word("pattern", str(value), lang)
    if key == "crowd.evacuation_trigger":
        return word("trigger", str(value), lang)
    return cut(str(value))


def num(x: float) -> str:
    """A number for people: 3 significant digits, plain notation, thousands separated."""
    if not math.isfinite(x):
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return np.format_float_positional(float(f"{x:.3g}"), trim="-")


def _choices(key: str, values: list[Any], lang: str) -> str:
    """The choices of a ``choice`` parameter, short: Huff quartiles as "Huff 2/3/4분위"."""
    huff = [_HUFF.match(str(v)) for v in values]
    if key == "rainfall.pattern" and values and all(huff):
        qs = [m.group(1) for m in huff if m]
        if lang == "ko":
            return f"Huff {'/'.join(qs)}분위"
        return f"Huff {'/'.join(_ORDINAL_EN.get(q, q) for q in qs)} quartile"
    return ", ".join(param_value(key, v, lang) for v in values)


def varied_text(parameters: list[dict[str, Any]], lang: str, names: Any = None) -> str:
    """What a sweep varied, from sweep.json's ``parameters``: "총 강우량 60–160 mm, 강우 분포 Huff 2/3/4분위"."""
    parts = []
    for p in parameters:
        key, kind, a = str(p.get("key")), str(p.get("distribution")), list(p.get("args") or [])
        label, unit = param_label(key, lang, names), param_unit(key)
        u = f" {unit}" if unit else ""
        if kind == "choice":
            parts.append(f"{label} {_choices(key, a, lang)}")
        elif kind == "normal" and len(a) == 2:
            parts.append(w("mean_sd", lang).format(label=label, a=num(a[0]), b=num(a[1]), unit=u))
        elif kind == "triangular" and len(a) == 3:
            parts.append(w("mode", lang).format(label=label, a=num(a[0]), b=num(a[1]), c=num(a[2]), unit=u))
        elif len(a) == 2:
            parts.append(f"{label} {num(float(a[0]))}–{num(float(a[1]))}{u}")
        else:
            parts.append(f"{label} {p.get('text', '')}")
    return ", ".join(parts)


def kpi_words(column: str, lang: str) -> tuple[str, str]:
    """(words, unit) of a KPI column in ``lang`` (``kpi/flooded_paths`` -> 침수된 산책로, 곳); the
    column itself and "" when it is not declared."""
    m = measure_of(column)
    if m is None:
        return column, ""
    if lang == "ko":
        return m.ko, UNITS_KO.get(m.unit, m.unit)
    return m.en, m.unit


def target_text(target: str, lang: str) -> str:
    """A discovery target ``kpi/exposed_people > 0`` in words (its KPI's words, the comparison as is)."""
    from ..ensemble.spec import parse_target
    from ..errors import SweepError

    try:
        parsed = parse_target(target, where="rules.json")
    except SweepError:
        return target
    label, _ = kpi_words(parsed.column, lang)
    return f"{label} {parsed.op} {num(parsed.threshold)}"


def sampler_words(sampler: str, lang: str) -> str:
    """A sampler's name in words (lhs -> 라틴 하이퍼큐브 (LHS))."""
    pair = SAMPLERS.get(sampler)
    return sampler if pair is None else pair[0 if lang == "ko" else 1]
