"""Streamlit app of the Uijeongbu digital twin:  streamlit run app.py

Thin on purpose: pages live in twin.app.pages (importable, tested); runs go through a
twin.app.runs.RunStore, which runs each (scenario, parameters) once and keeps the run folder.

It listens on 127.0.0.1 (.streamlit/config.toml beside this file); a workshop exposes it on
purpose with ``--server.address 0.0.0.0`` (see twin.app.serving and docs/app.md).
"""

from __future__ import annotations

import streamlit as st

from twin.app.i18n import LANGS, t
from twin.app.pages import LIVING_LAB_CSS, PAGES, compare_page, map_page, run_page, translated_radio
from twin.app.serving import current_exposure


@st.cache_resource(show_spinner=False)
def city():
    from twin import load_city

    return load_city()


@st.cache_resource(show_spinner=False, max_entries=8)
def city_deck(lang: str, layers: tuple[str, ...]):
    from twin.app.map_layers import deck

    return deck(city(), lang=lang, show=set(layers))


@st.cache_resource(show_spinner=False)
def store():
    from twin.app.runs import RunStore

    return RunStore(city())


def main() -> None:
    st.set_page_config(page_title="Uijeongbu digital twin", layout="wide")
    exposure = current_exposure()
    if exposure == "unset":  # listening on every interface without anyone asking for it
        st.error(f"{t('not_loopback', 'ko')}\n\n{t('not_loopback', 'en')}")
        st.stop()
    lang = st.sidebar.radio(
        "언어 / Language",
        LANGS,
        format_func=lambda x: {"ko": "한국어", "en": "English"}[x],
        key="lang",
        horizontal=True,
    )
    living_lab = st.sidebar.toggle(t("living_lab", lang), key="living_lab")
    if living_lab:
        st.markdown(LIVING_LAB_CSS, unsafe_allow_html=True)
    st.title(t("title", lang))
    page = translated_radio(
        st,
        st.sidebar,
        t("page", lang),
        PAGES,
        key="page",
        lang=lang,
        default="map",
        format_func=lambda p: t(f"page_{p}", lang),
    )
    if page == "map":
        map_page(st, city(), lang, city_deck)
    elif page == "run":
        run_page(st, city(), lang, store(), living_lab=living_lab, exposure=exposure)
    else:
        compare_page(st, city(), lang, store(), living_lab=living_lab)


main()
