"""The Streamlit app through streamlit.testing.AppTest (no browser): pages, controls, language."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from twin.app.i18n import TEXT, t  # noqa: E402
from twin.app.pages import parse_overrides, scenario_overrides  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_every_text_has_korean_and_english():
    for key, texts in TEXT.items():
        assert set(texts) == {"ko", "en"} and all(texts.values()), key


def test_map_page_renders_in_korean_and_english():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == t("title", "ko")
    assert len(at.get("deck_gl_json_chart")) == 1
    at.sidebar.radio(key="lang").set_value("en").run()
    assert not at.exception and at.title[0].value == t("title", "en")
    assert at.header[0].value == t("page_map", "en")


def test_run_page_runs_the_flagship_and_shows_kpis():
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.sidebar.radio(key="page").set_value("run").run()
    assert not at.exception
    at.number_input(key="total_mm").set_value(60.0)
    at.button(key="run").click().run()
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert t("peak_stage", "ko") in labels and t("paths_flooded", "ko") in labels
    assert len(at.dataframe) == 1


def test_an_invalid_override_is_a_message_not_a_traceback():
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.sidebar.radio(key="page").set_value("run").run()
    at.text_area(key="overrides").input("rainfall.total_mm=-5")
    at.button(key="run").click().run()
    assert not at.exception
    assert at.error and "rainfall.total_mm: got -5" in at.error[0].value


def test_parameters_become_overrides():
    assert scenario_overrides(90, 3, "huff_q3", 100)[:2] == ["rainfall.kind=design", "rainfall.total_mm=90"]
    assert parse_overrides(" a=1 \n\n b=2") == ["a=1", "b=2"]


def test_compare_page_shows_the_kpis_of_both_runs_and_their_difference():
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.sidebar.radio(key="page").set_value("compare").run()
    assert not at.exception
    at.text_area(key="cmp_sets").input("rainfall.total_mm=120")
    at.button(key="cmp_run").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    row = table[table["KPI"] == t("peak_stage", "ko")].iloc[0]
    assert row[t("proposal", "ko")] > row[t("baseline", "ko")] and row[t("difference", "ko")] > 0


def test_report_is_a_self_contained_html_page():
    import pandas as pd

    from twin.app.report import report_html

    summary = {
        "scenario": {"name": {"ko": "시험", "en": "test"}},
        "gauges": {"LS-1018665": {"peak_stage_m": 3.4}},
        "flooded_paths": {"count": 2, "min_warning_lead_time_s": 600.0},
        "access_points": {"a": {}, "b": {}},
    }
    stage = pd.DataFrame({"LS-1018665": [0.1, 1.0, 3.4]}, index=[0.0, 60.0, 120.0])
    events = pd.DataFrame({"time_s": [60.0], "kind": ["path.flooded"], "entity_id": ["AP-1"], "message": ["<b>x</b>"]})
    page = report_html(summary, stage, stage, events, "en")
    assert page.startswith("<!doctype html>") and "data:image/png;base64," in page
    assert "http" not in page.replace("http-equiv", "")  # nothing fetched from outside
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page  # event text is escaped
