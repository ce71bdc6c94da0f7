"""Charts and KPIs a planner cannot misread (issue 18): labelled thresholds, gauge names, one time
unit (minutes since the start with clock times), KPI values with units and without minus-sign
warnings, a hover help for every KPI, and a comparison that says better or worse."""

from __future__ import annotations

import datetime as dt
import re
import string

import pandas as pd
import pytest

from twin.app.charts import (
    clock,
    evacuation_chart,
    label_sides,
    minutes_and_clock,
    rain_chart,
    scenario_start,
    stage_chart,
    time_axis_title,
)
from twin.app.i18n import TEXT, t
from twin.app.kpis import (
    KPIS,
    MISSING,
    KeyGauge,
    compare_rows,
    compare_styler,
    kpi_help,
    kpi_label,
    kpi_value,
    kpis,
    plain_kpis,
    warning_words,
)
from twin.app.playback import evacuation_curve

KEY = KeyGauge("LS-1018665", "신곡교", "중랑천", "Jungnangcheon")
NAMES = {"LS-1018665": "신곡교", "LS-1018666": "금신교"}
KST = dt.timezone(dt.timedelta(hours=9))
MINUS = re.compile("[-\u2212]")


def _datasets(chart) -> tuple[dict, list[dict]]:
    """A layered chart's Vega-Lite spec and its layers, each with its rows as ``rows``."""
    spec = chart.to_dict()
    layers = []
    for layer in spec["layer"]:
        data = layer.get("data") or spec.get("data")  # a layer's own data, else the chart's
        rows = spec["datasets"][data["name"]] if data else []
        layers.append({**layer, "rows": rows})
    return spec, layers


def _marks(layers: list[dict], kind: str) -> list[dict]:
    return [x for x in layers if (x["mark"]["type"] if isinstance(x["mark"], dict) else x["mark"]) == kind]


def _summary(peak=2.4, count=3, lead_s=600.0, on_path=441, exposed=111, t90_s=390.0, crowd=True) -> dict:
    """A small summary.json of the kind kpis() reads (the key gauge 신곡교, 120 access points)."""
    out = {
        "gauges": {"LS-1018665": {"peak_stage_m": peak, "time_of_peak_s": 60.0, "highest_level": "attention"}},
        "access_points": {f"AP{i}": {} for i in range(120)},
        "flooded_paths": {"count": count, "min_warning_lead_time_s": lead_s},
    }
    if crowd:
        out["crowd"] = {
            "evacuation_orders": {"중랑천": {"time_s": 600.0, "people_on_paths": on_path}},
            "exposed_people": exposed,
            "t90_s": t90_s,
            "t100_s": None if t90_s is None else t90_s * 2,
        }
    return out


def _row(df: pd.DataFrame, kpi: str, lang: str) -> pd.Series:
    return df[df["KPI"] == kpi_label(kpi, lang, KEY)].iloc[0]


# --- charts -------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_threshold_is_labelled_on_the_stage_chart_with_its_level_word_and_stage(walkers_run, lang):
    start = scenario_start(walkers_run.summary)
    spec, layers = _datasets(stage_chart(walkers_run, ["LS-1018665"], lang, label_of=NAMES, start=start))
    th = walkers_run.summary["gauges"]["LS-1018665"]["thresholds_m"]
    assert th == {"attention": 2.5, "caution": 5.1, "alert": 6.0, "serious": 6.5}
    labels = [row["label"] for layer in _marks(layers, "text") for row in layer["rows"] if "level" in row]
    want = {f"{t(f'level_{lv}', lang)} {v:.2f} m" for lv, v in th.items()}
    assert sorted(labels) == sorted(want)  # one text mark per threshold, at a line's end
    assert ("관심 2.50 m" in labels) == (lang == "ko") and ("Attention (관심) 2.50 m" in labels) == (lang == "en")
    rules = [row for layer in _marks(layers, "rule") for row in layer["rows"] if "level" in row]
    assert sorted(r["stage_m"] for r in rules) == [2.5, 5.1, 6.0, 6.5]  # and its dashed line
    line = _marks(layers, "line")[0]
    assert line["encoding"]["y"]["title"] == {"ko": "수위 (m)", "en": "Stage (m)"}[lang]
    assert line["encoding"]["x"]["title"] == {"ko": "시작(18:00) 후 분", "en": "Minutes since the start (18:00)"}[lang]


def test_the_gauge_legend_and_tooltips_name_the_gauges_and_keep_ids_to_the_tooltip(walkers_run):
    start = scenario_start(walkers_run.summary)
    chart = stage_chart(walkers_run, ["LS-1018665", "LS-1018666"], "en", t_min=110, label_of=NAMES, start=start)
    _, layers = _datasets(chart)
    line = _marks(layers, "line")[0]
    assert line["encoding"]["color"]["field"] == "name"
    assert {r["name"] for r in line["rows"]} == {"신곡교", "금신교"}
    tips = {tip["field"]: tip["title"] for tip in line["encoding"]["tooltip"]}
    assert tips["name"] == t("gauge", "en") and tips["gauge"] == t("device_id", "en") and "clock" in tips
    at_110 = {r["clock"] for r in line["rows"] if r["minute"] == 110.0}
    assert at_110 == {"19:50"}  # 18:00 + 110 min, the clock time in the tooltip
    labels = [r["label"] for layer in _marks(layers, "text") for r in layer["rows"] if "level" in r]
    assert labels and all(x.startswith(("신곡교 ", "금신교 ")) for x in labels)  # two gauges: whose line it is
    assert "LS-" not in " ".join(labels)
    cursor = [r["label"] for layer in _marks(layers, "text") for r in layer["rows"] if "level" not in r]
    assert cursor == ["Now 19:50"]
    # a function as label_of, and gauges without a name keep their id
    _, layers = _datasets(stage_chart(walkers_run, ["LS-1018665", "LS-G01"], "ko", label_of={"LS-1018665": "신곡교"}))
    assert {r["name"] for r in _marks(layers, "line")[0]["rows"]} == {"신곡교", "LS-G01"}


def test_clock_times_and_one_time_axis_title():
    start = scenario_start({"scenario": {"start": "2026-07-15T18:00:00+09:00"}})
    assert start == dt.datetime(2026, 7, 15, 18, 0, tzinfo=KST)
    assert clock(start, 35.4) == "18:35" and clock(start, 35.6) == "18:36"
    assert clock(start, 400) == "00:40+1"  # the next day
    assert clock(None, 5) == "" and clock(start, float("nan")) == ""
    assert time_axis_title("ko", start) == "시작(18:00) 후 분"
    assert time_axis_title("en", start) == "Minutes since the start (18:00)"
    assert time_axis_title("en", None) == t("time_min", "en")
    for bad in ({}, {"scenario": {"start": "noon"}}, {"scenario": {"start": "2026-07-15T18:00:00"}}, {"scenario": 5}):
        assert scenario_start(bad) is None  # missing, unreadable, naive (no zone), wrong type
    table = minutes_and_clock(pd.Series([0.0, 90.0, 6600.0]), start, "en")
    assert list(table.columns) == [t("clock_time", "en"), t("time_min", "en")]
    assert table.iloc[:, 0].tolist() == ["18:00", "18:02", "19:50"] and table.iloc[:, 1].tolist() == [0.0, 1.5, 110.0]
    assert list(minutes_and_clock(pd.Series([60.0]), None, "ko").columns) == [t("time_min", "ko")]


def test_the_rain_chart_has_units_and_clock_times(walkers_run):
    start = scenario_start(walkers_run.summary)
    _, layers = _datasets(rain_chart(walkers_run, "ko", start=start))
    bars = _marks(layers, "bar")[0]
    assert bars["encoding"]["y"]["title"] == "강우량 (mm / 10분)"
    assert bars["encoding"]["x"]["title"] == "시작(18:00) 후 분"
    assert bars["rows"][0]["when"] == "18:00–18:10" and bars["rows"][1]["when"] == "18:10–18:20"
    _, layers = _datasets(rain_chart(walkers_run, "en"))
    assert _marks(layers, "bar")[0]["rows"][0]["when"] == "0–10 min"


def test_the_evacuation_lower_bound_is_labelled_on_the_chart(walkers_run):
    bound = walkers_run.summary["crowd"]["evacuation_lower_bound_s"]["중랑천"]["bound_s"]
    assert bound == pytest.approx(868.4)
    for lang, want in (("ko", "이론적 최단 시간 14.5분"), ("en", "Lower bound 14.5 min")):
        spec, layers = _datasets(evacuation_chart(evacuation_curve(walkers_run.evacuees), lang, lower_bound_s=bound))
        text = _marks(layers, "text")[0]
        assert text["rows"][0]["label"] == want and text["rows"][0]["minute"] == pytest.approx(868.4 / 60)
        assert text["rows"][0]["what"] == t("lower_bound_help", lang)  # the explanation, on hover
        line = _marks(layers, "line")[0]
        assert line["encoding"]["y"]["title"] == t("share_safe", lang) and "%" in t("share_safe", lang)
        assert line["encoding"]["x"]["title"] == t("evac_x", lang)
    _, layers = _datasets(evacuation_chart(evacuation_curve(walkers_run.evacuees), "en"))
    assert not _marks(layers, "text") and not _marks(layers, "rule")


def test_threshold_labels_never_overlap():
    assert label_sides([2.5, 5.1, 6.0, 6.5], 7.0, 400) == ["right"] * 4
    assert label_sides([2.5, 5.1, 6.0, 6.5], 7.0, 190) == ["right", "right", "right", "left"]  # 심각 0.5 m above 경계
    assert label_sides([1.0, 1.01, 1.02], 7.0, 190) == ["right", "left", ""]  # the third keeps its tooltip
    assert label_sides([6.5, 6.0, 1.0], 7.0, 100) == ["left", "right", "right"]


# --- KPIs ---------------------------------------------------------------------------------------
def test_kpi_values_carry_their_units():
    k = kpis(_summary(peak=2.414, count=3, t90_s=408.0), KEY)
    assert kpi_value("peak_stage", k, "ko") == "2.41 m"
    assert kpi_value("paths_flooded", k, "ko") == "3 / 120 곳" and kpi_value("paths_flooded", k, "en") == "3 of 120"
    assert kpi_value("evac_t90", k, "ko") == "6.8 분" and kpi_value("evac_t90", k, "en") == "6.8 min"
    assert kpi_value("people_on_path", k, "ko") == "441 명" and kpi_value("people_exposed", k, "en") == "111 people"
    assert kpi_value("warning_min", k, "en") == "10 min" and kpi_value("evac_t100", k, "en") == "13.6 min"
    not_all = kpis(_summary(), KEY)
    not_all["evac_t100"] = None  # some never reached safety
    assert kpi_value("evac_t100", not_all, "en") == t("not_all_safe", "en")
    assert kpi_value("evac_t90", kpis(_summary(crowd=False), KEY), "ko") == MISSING


def test_a_warning_that_came_too_late_is_worded_without_a_minus_sign():
    k = kpis(_summary(count=106, lead_s=-4272.6), KEY)
    assert kpi_value("warning_min", k, "ko") == "경보 없음: 첫 경보보다 71분 먼저 침수"
    assert kpi_value("warning_min", k, "en") == "No warning: flooded 71 min before the first alert"
    assert kpi_value("warning_min", k, "en", form="medium") == "No warning (71 min late)"
    assert kpi_value("warning_min", k, "ko", form="short") == "71분 늦음"
    for lead in (-4272.6, -20.0, None):
        for lang in ("ko", "en"):
            for form in ("long", "medium", "short"):
                assert not MINUS.search(warning_words(lead, 5, lang, form=form)), (lead, lang, form)
    assert warning_words(-20.0, 5, "en") == "No warning: flooded just before the first alert"
    assert warning_words(None, 5, "en") == "No warning: flooded with no alert at all"
    assert warning_words(None, 0, "ko") == "잠긴 산책로 없음"
    assert warning_words(None, 0, "ko", form="short") == "침수 없음"
    help_text = kpi_help("warning_min", "en", k=k)  # the metric shows "71 min late": its help says it in full
    assert help_text.startswith("No warning: flooded 71 min before the first alert. ")
    assert kpi_help("evac_t90", "en", k=k) == kpi_help("evac_t90", "en")
    with pytest.raises(ValueError):
        warning_words(-600.0, 1, "en", form="tiny")


def test_every_kpi_has_a_distinct_name_and_a_hover_help_in_both_languages():
    for lang in ("ko", "en"):
        labels = [kpi_label(kpi, lang, KEY) for kpi in KPIS]
        helps = [kpi_help(kpi, lang) for kpi in KPIS]
        assert len(set(labels)) == len(KPIS) and len(set(helps)) == len(KPIS)
        assert all(len(h) > 40 for h in helps)  # a sentence or two, not a repeat of the name
    for kpi in KPIS:
        assert kpi_help(kpi, "ko") != kpi_help(kpi, "en")
        assert re.search("[가-힣]", kpi_help(kpi, "ko"))
    # the two people figures cannot be read alike: neither name is inside the other, and each help names its moment
    on_path, exposed = t("people_on_path", "en"), t("people_exposed", "en")
    assert on_path == "People on paths at the order" and exposed == "People the water reached"
    assert "told to leave" in kpi_help("people_on_path", "en") and "water reached" in kpi_help("people_exposed", "en")
    assert "대피 지시" in t("people_on_path", "ko") and "물" in t("people_exposed", "ko")
    assert kpi_help("peak_stage", "en", key=KEY).endswith("(Device ID: LS-1018665)")
    assert kpi_label("peak_stage", "ko", KEY) == "중랑천 신곡교 최고 수위"


def test_every_new_text_has_both_languages_and_the_same_placeholders():
    for key, texts in TEXT.items():
        assert set(texts) == {"ko", "en"} and all(texts.values()), key
        fields = [sorted(f for _, f, _, _ in string.Formatter().parse(texts[lang]) if f) for lang in ("ko", "en")]
        assert fields[0] == fields[1], key


# --- the comparison -----------------------------------------------------------------------------
def test_compare_rows_says_better_worse_same_and_missing():
    base = _summary(peak=2.4, count=3, lead_s=-4260.0, t90_s=390.0)  # t90 6.5 min
    prop = _summary(peak=2.1, count=3, lead_s=300.0, on_path=441, exposed=0, t90_s=408.0)  # 6.8 min
    df = compare_rows(base, prop, "en", KEY)
    assert list(df.columns) == ["KPI", "Baseline", "Proposal", "Difference", "Better or worse"]
    t90 = _row(df, "evac_t90", "en")
    assert (t90["Baseline"], t90["Proposal"], t90["Difference"], t90["Better or worse"]) == (
        "6.5 min",
        "6.8 min",
        "+0.3 min",
        "worse",
    )
    peak = _row(df, "peak_stage", "en")
    assert (peak["Difference"], peak["Better or worse"]) == ("-0.30 m", "better")
    assert _row(df, "paths_flooded", "en")["Better or worse"] == "same"
    assert _row(df, "people_on_path", "en")["Better or worse"] == "same"
    assert _row(df, "people_exposed", "en")["Better or worse"] == "better"
    warning = _row(df, "warning_min", "en")  # from 71 min too late to 5 min of warning: longer is better
    assert (warning["Baseline"], warning["Proposal"], warning["Difference"], warning["Better or worse"]) == (
        "No warning (71 min late)",
        "5 min",
        "+76 min",
        "better",
    )
    ko = compare_rows(base, prop, "ko", KEY)
    assert _row(ko, "evac_t90", "ko")[t("verdict", "ko")] == "나빠짐"
    assert _row(ko, "peak_stage", "ko")[t("verdict", "ko")] == "나아짐"
    assert _row(ko, "paths_flooded", "ko")[t("verdict", "ko")] == "같음"
    # a figure only one run has: shown as missing, with no difference and no verdict
    gone = compare_rows(base, _summary(peak=2.1, crowd=False), "en", KEY)
    row = _row(gone, "people_exposed", "en")
    assert (row["Baseline"], row["Proposal"], row["Difference"], row["Better or worse"]) == (
        "111 people",
        MISSING,
        MISSING,
        MISSING,
    )
    # no path flooded at all beats any warning; flooding with no alert at all is worse than a late one
    no_flood = compare_rows(base, _summary(count=0, lead_s=None), "en", KEY)
    assert _row(no_flood, "warning_min", "en")["Better or worse"] == "better"
    no_alert = compare_rows(base, _summary(count=3, lead_s=None), "en", KEY)
    assert _row(no_alert, "warning_min", "en")["Better or worse"] == "worse"
    assert compare_rows({}, {}, "en", KEY).empty


def test_compare_styler_colours_the_verdicts():
    base, prop = _summary(peak=2.4, t90_s=390.0), _summary(peak=2.1, t90_s=408.0)
    df = compare_rows(base, prop, "ko", KEY)
    html = compare_styler(df).to_html()
    col = list(df.columns).index(t("verdict", "ko"))
    colours = {"나아짐": "#d8f0d2", "나빠짐": "#fbd5d0", "같음": "#eceff1"}
    for i, word in enumerate(df[t("verdict", "ko")]):
        rule = re.search(rf"#T_\w+_row{i}_col{col}[^{{]*{{([^}}]*)}}", html)
        assert rule and colours[word] in rule.group(1), (i, word)
    assert set(df[t("verdict", "ko")]) == {"나아짐", "나빠짐", "같음"}


def test_the_real_run_reads_without_minus_signs_and_the_people_figures_apart(walkers_run):
    key = KeyGauge("LS-1018665", "신곡교", "중랑천", "Jungnangcheon")
    k = kpis(walkers_run.summary, key)
    assert round(k["warning_min"] / 60) == -71 and k["people_on_path"] == 441 and k["people_exposed"] == 111
    for lang in ("ko", "en"):
        for form in ("long", "medium", "short"):
            assert not MINUS.search(kpi_value("warning_min", k, lang, form=form))
        cards = {c.key: c for c in plain_kpis(walkers_run.summary, lang, key)}
        assert not MINUS.search(cards["warning"].value) and cards["warning"].good is False
        assert cards["paths"].value == {"ko": "106 / 120 곳", "en": "106 of 120"}[lang]
    assert kpi_value("people_on_path", k, "en") == "441 people" and kpi_value("people_exposed", k, "en") == "111 people"
    peak = {c.key: c for c in plain_kpis(walkers_run.summary, "en", key)}["peak"]
    assert peak.sentence.endswith("highest alert level: Attention (관심).")
    same = compare_rows(walkers_run.summary, walkers_run.summary, "ko", key)
    assert set(same[t("verdict", "ko")]) == {"같음"} and len(same) == 6
