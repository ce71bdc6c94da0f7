"""Streamlit app of the Uijeongbu digital twin:  streamlit run app.py

Thin on purpose: pages live in twin.app.pages (importable, tested), results come from
twin.runner.run_scenario, cached by scenario file and parameters.
"""

from __future__ import annotations

import streamlit as st

from twin.app.i18n import LANGS, t
from twin.app.pages import compare_page, map_page, run_page


@st.cache_resource(show_spinner=False)
def city():
    from twin import load_city

    return load_city()


@st.cache_data(show_spinner=False, max_entries=16)
def run_cached(path: str, sets: tuple[str, ...]):
    """Run a scenario once per (file, overrides); returns what the pages draw."""
    from twin.runner import run_scenario
    from twin.scenario import load_scenario

    result = run_scenario(load_scenario(path, overrides=list(sets)), city=city())
    ts = result.engine.recorder.to_frame()
    stage = ts[(ts.variable == "stage") & ts.entity_id.str.startswith("LS-10")]
    stage = stage.pivot_table(index="time_s", columns="entity_id", values="value")
    rain = ts[ts.variable == "rain"].pivot_table(index="time_s", columns="entity_id", values="value")
    events = result.engine.events.to_frame()[["time_s", "kind", "entity_id", "message"]]
    return result.summary, stage, rain, events


def main() -> None:
    st.set_page_config(page_title="Uijeongbu digital twin", layout="wide")
    lang = st.sidebar.radio(
        "언어 / Language",
        LANGS,
        format_func=lambda x: {"ko": "한국어", "en": "English"}[x],
        key="lang",
        horizontal=True,
    )
    st.title(t("title", lang))
    page = st.sidebar.radio(
        t("page", lang), ["map", "run", "compare"], key="page", format_func=lambda p: t(f"page_{p}", lang)
    )
    if page == "map":
        map_page(st, city(), lang)
    elif page == "run":
        run_page(st, city(), lang, run_cached)
    else:
        compare_page(st, city(), lang, run_cached)


main()
