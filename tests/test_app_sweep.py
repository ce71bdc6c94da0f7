"""The app's sweep page (twin.app.sweep_view): a tiny real sweep run once, a copy of it with a failed
member, Sobol indices and discovered rules written in, and the page drawn headless in both languages."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")
from app_pages import as_shown  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from twin.app import sweep_view as sv  # noqa: E402
from twin.app.sweep_charts import exceedance_curve_data, histogram_bins  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "flash_flood_jungnangcheon.yaml"
RAW_ID = re.compile(r"\b(LS-[0-9A-Z]+|RG-[0-9A-Z]+|AP-[A-Z]{2}-[LR]\d{2}|G\d{2})\b")
TOOLTIP = re.compile(r"^.+ \((AP-[A-Z]{2}-[LR]\d{2})\): (\d+) % \((\d+) runs, 95 % interval (\d+)–(\d+) %\)$")
RULE = {"method": "prim", "coverage": 0.75, "density": 1.0, "n_inside": 3,
        "conditions": [{"parameter": "rainfall.total_mm", "low": 118.4, "high": None, "categories": None},
                       {"parameter": "rainfall.pattern", "low": None, "high": None,
                        "categories": ["huff_q3", "huff_q4"]}]}  # fmt: skip


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory) -> Path:
    """A folder of two sweeps: ``a_rain`` (4 real runs, lhs) and ``b_rich``, its copy with member 0
    failed, Sobol indices (one KPI with 1 of 4 base samples dropped) and a discovered rule."""
    from twin.ensemble.spec import SweepSpec, parse_vary
    from twin.ensemble.sweep import run_sweep

    root = tmp_path_factory.mktemp("sweeps")
    spec = SweepSpec(SCENARIO, parse_vary(["rainfall.total_mm=uniform(60,150)",
                                           "rainfall.pattern=choice(huff_q2,huff_q3,huff_q4)"]),
                     runs=4, sampler="lhs", seed=3)  # fmt: skip
    run_sweep(spec, root / "a_rain", workers=1)
    rich = root / "b_rich"
    shutil.copytree(root / "a_rain", rich)
    table = pd.read_parquet(rich / "results.parquet")
    table.loc[0, "status"], table.loc[0, "error"] = "failed", "boom: the engine stopped"
    table.to_parquet(rich / "results.parquet", index=False)
    pd.DataFrame({"kpi": ["kpi/flooded_paths"] * 2, "parameter": ["rainfall.pattern", "rainfall.total_mm"],
                  "S1": [0.05, 0.7], "S1_conf": [0.1, 0.2], "ST": [0.1, 0.9], "ST_conf": [0.05, 0.3],
                  "blocks": [4, 4], "dropped_blocks": [1, 1]}).to_parquet(rich / "sensitivity.parquet")  # fmt: skip
    rules = [{"target": "kpi/unwarned_paths > 0", "bad": 4, "n": 4, "rules": [RULE]}]
    (rich / "rules.json").write_text(json.dumps(rules), encoding="utf-8")
    return root


def _page(root: str) -> None:
    from pathlib import Path

    import streamlit as st

    from twin.app.sweep_view import sweep_page
    from twin.city import load_city

    @st.cache_resource
    def city():
        return load_city()

    sweep_page(st, city(), st.session_state.get("lang", "ko"), Path(root))


def _texts(at: AppTest) -> str:
    """Every text a person sees on the page (not tooltips)."""
    kinds = ("header", "subheader", "markdown", "caption", "info", "warning")
    parts = [str(getattr(x, "value", "")) for kind in kinds for x in at.get(kind)]
    parts += [o for s in at.selectbox for o in s.options] + [s.label for s in at.selectbox]
    parts += [f"{m.label} {m.value}" for m in at.metric] + [e.label for e in at.expander]
    for d in at.dataframe:
        parts += [str(c) for c in d.value.columns] + [str(v) for v in d.value.iloc[:, 0]]
    return as_shown("\n".join(parts))  # as shown: markdown's escapes undone


def test_a_probability_colour_runs_between_the_legends_ends():
    low, high = sv.PROB_STOPS[0][1], sv.PROB_STOPS[-1][1]
    assert sv.probability_rgba(0.0) == (*low, sv.PROB_ALPHA)
    assert sv.probability_rgba(1.0) == (*high, sv.PROB_ALPHA)
    assert sv.probability_rgba(-0.2) == sv.probability_rgba(0.0) and sv.probability_rgba(1.7) == sv.probability_rgba(1)
    assert sv.probability_rgba(math.nan) == sv.NO_VALUE_RGBA
    mid = sv.probability_rgba(0.25)
    assert all(min(a, b) <= m <= max(a, b) for a, b, m in zip(low, sv.PROB_STOPS[1][1], mid[:3], strict=True))
    html = sv.probability_legend("en", "Path flooded")
    for p, label in ((0.0, "0 %"), (1.0, "100 %")):
        r, g, b, a = sv.probability_rgba(p)
        assert f"rgba({r},{g},{b},{a / 255:.2f})" in html and f"<span>{label}</span>" in html
    assert html.index(">0 %<") < html.index(">50 %<") < html.index(">100 %<")


def test_parameters_targets_and_rules_read_as_words():
    params = [{"key": "rainfall.total_mm", "distribution": "uniform", "args": [60.0, 150.0]},
              {"key": "rainfall.pattern", "distribution": "choice", "args": ["huff_q2", "huff_q3", "huff_q4"]},
              {"key": "populations.0.count", "distribution": "integers", "args": [50, 400]}]  # fmt: skip
    assert sv.varied_text(params, "ko") == "총 강우량 60–150 mm, 강우 분포 Huff 2/3/4분위, 이용자 수 (집단 1) 50–400"
    assert sv.varied_text(params, "en") == (
        "Total rain 60–150 mm, Rain pattern Huff 2nd/3rd/4th quartile, People (group 1) 50–400"
    )
    assert sv.param_label("hydraulics.base_flow_m3s", "en") == "Base flow"
    assert sv.param_unit("thresholds.X.alert_m") == "m"
    assert sv.param_label("something.new", "ko") == "something.new"  # unknown keys stay as they are
    assert sv.target_text("kpi/exposed_people > 0", "ko") == "물에 닿은 사람 > 0"
    assert sv.rule_text(RULE, 4, "en") == (
        "Total rain ≥ 118 mm and Rain pattern is Huff 3rd quartile (peak late) or Huff 4th quartile (peak at the "
        "end): 3 of 3 runs bad (100 %), 3 of 4 bad runs (75 %)"
    )
    assert sv.rule_text(RULE, 4, "ko") == (
        "총 강우량 ≥ 118 mm 그리고 강우 분포: Huff 3분위 (후반 집중형) 또는 Huff 4분위 (막바지 집중형): "
        "3회 중 3회 (100 %), 나쁜 결과 4회 중 3회 (75 %)"
    )


def test_histogram_and_exceedance_curve_count_the_members():
    bins = histogram_bins([0.0, 0.0, 1.0, 3.0, float("nan")])
    assert bins["count"].tolist() == [2, 1, 0, 1] and bins["low"].tolist() == [-0.5, 0.5, 1.5, 2.5]
    curve = exceedance_curve_data([5.0, 1.0, 3.0, 3.0])
    assert curve["x"].tolist() == [1.0, 3.0, 5.0] and curve["probability"].tolist() == [1.0, 0.75, 0.25]


def test_a_folder_that_is_not_a_sweep_says_so_in_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    at = AppTest.from_function(_page, args=(str(tmp_path / "empty"),), default_timeout=60).run()
    assert not at.exception
    assert "twin sweep scenarios/flash_flood_jungnangcheon.yaml" in at.code[0].value  # how to make one
    assert not at.get("text_input")  # only the sweeps under the folder: no path typed into the server
    broken = tmp_path / "empty" / "broken"  # listed (its files are there) but unreadable
    broken.mkdir()
    (broken / "sweep.json").write_text("{}", encoding="utf-8")
    (broken / "results.parquet").write_bytes(b"not parquet")
    at.run()
    assert not at.exception and len(at.warning) == 1 and "not a sweep" not in at.warning[0].value
    assert "broken: 스윕 폴더가 아닙니다" in at.warning[0].value and str(tmp_path) not in at.warning[0].value
    assert not at.get("deck_gl_json_chart")


def test_the_page_draws_a_sweep_in_korean_and_english_with_names_not_ids(sweeps):
    at = AppTest.from_function(_page, args=(str(sweeps),), default_timeout=120).run()
    assert not at.exception and not at.warning
    text = _texts(at)
    assert "총 강우량 60–150 mm, 강우 분포 Huff 2/3/4분위" in text and "중랑천 돌발홍수" in text
    assert not RAW_ID.search(text), RAW_ID.search(text)
    assert [m.value for m in at.metric] == ["4", "0", "LHS"] and at.metric[2].help == "라틴 하이퍼큐브 (LHS)"
    assert "--sampler sobol" in text  # an lhs sweep has no Sobol indices
    assert len(at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")) >= 3
    decks = at.get("deck_gl_json_chart")
    assert len(decks) == 1
    exc = pd.read_parquet(sweeps / "a_rain" / "exceedance.parquet").set_index("column")
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception
    text = _texts(at)
    assert "Total rain 60–150 mm, Rain pattern Huff 2nd/3rd/4th quartile" in text and not RAW_ID.search(text)
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    places = next(x for x in spec["layers"] if x["id"] == "event_places")["data"]
    assert len(places) == 120
    for d in places:  # "name (ID): 62 % (48 runs, 95 % interval 49–73 %)", the numbers of exceedance.parquet
        m = TOOLTIP.match(d["label"])
        assert m, d["label"]
        row = exc.loc[f"access_point/{m.group(1)}/flooded"]
        assert [int(x) for x in m.groups()[1:]] == [round(100 * row["probability"]), int(row["n"]),
                                                    round(100 * row["low"]), round(100 * row["high"])]  # fmt: skip
        assert tuple(d["color"]) == sv.probability_rgba(row["probability"])
    assert any(d["p"] > 0 for d in places)  # 60-150 mm floods some paths


def test_the_rich_sweep_shows_failures_sensitivity_and_rules(sweeps):
    at = AppTest.from_function(_page, args=(str(sweeps),), default_timeout=120).run()
    at.selectbox(key="sweep_folder:ko").set_value(str(sweeps / "b_rich")).run()
    assert not at.exception
    assert [m.value for m in at.metric][:2] == ["4", "1"]
    text = _texts(at)
    assert "boom: the engine stopped" in text and not RAW_ID.search(text)
    assert "기준 표본 4개 중 1개 제외" in text
    assert "가장 큰 영향은 총 강우량, 분산의 약 90 %" in text
    assert "경보 전에 침수된 산책로 > 0: 4회 중 4회" in text
    assert "총 강우량 ≥ 118 mm 그리고 강우 분포: Huff 3분위 (후반 집중형) 또는 Huff 4분위" in text
    at.selectbox(key="sweep_event:ko").set_value("access_point/unwarned == 1").run()
    assert not at.exception
    assert "경보 전 침수 · 확률" in " ".join(m.value for m in at.markdown)
    at.session_state["lang"] = "en"
    at.run()
    text = _texts(at)
    assert "3 of 3 runs bad (100 %), 3 of 4 bad runs (75 %)" in text and "Rain pattern is Huff 3rd quartile" in text
    assert "1 of 4 base samples left out" in text and not RAW_ID.search(text)
    assert at.selectbox(key="sweep_event:en").value == "access_point/unwarned == 1"  # kept across the switch
    assert at.get("download_button")


def test_hostile_text_in_a_sweep_folder_is_shown_as_text_and_a_malformed_one_is_refused(sweeps, tmp_path):
    root = tmp_path / "root"
    evil = root / "evil"
    shutil.copytree(sweeps / "a_rain", evil)
    table = pd.read_parquet(evil / "results.parquet")
    table.loc[0, "status"] = "failed"
    link = "![t](http://evil.example/t.png) [l](http://evil.example)"
    table.loc[0, "error"] = f"x` **B** {link} <script>1</script>" + "y" * 3000
    table.to_parquet(evil / "results.parquet", index=False)
    rules = json.loads((evil / "rules.json").read_text(encoding="utf-8"))
    rules.append({"target": "kpi/flooded_paths > 0 [l](http://evil.example)", "bad": "many", "n": 4,
                  "rules": ["not a rule", {"method": "![t](http://evil.example/m.png)", "conditions": "bad"}]})
    (evil / "rules.json").write_text(json.dumps(rules), encoding="utf-8")
    broken = root / "broken"  # listed first (by name), not a sweep's shape
    shutil.copytree(sweeps / "a_rain", broken)
    (broken / "rules.json").write_text('{"x": 1}', encoding="utf-8")
    pd.read_parquet(broken / "results.parquet").drop(columns=["status"]).to_parquet(broken / "results.parquet")
    at = AppTest.from_function(_page, args=(str(root),), default_timeout=120).run()
    assert not at.exception and len(at.warning) == 1 and "broken" in at.warning[0].value
    at.selectbox(key="sweep_folder:ko").set_value(str(evil)).run()
    assert not at.exception
    raw = "\n".join(str(getattr(x, "value", "")) for kind in ("markdown", "caption") for x in at.get(kind))
    assert "](http://evil.example" not in raw and "**B**" not in raw and "<script>" not in raw
    assert "yyyy" in raw and "y" * 400 not in raw  # the error is cut
