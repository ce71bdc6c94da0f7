"""Streamlit app of the Uijeongbu digital twin:  streamlit run app.py

Thin on purpose: pages live in twin.app.pages (importable, tested), put in ``st.navigation`` here
with titles in the chosen language; what is built once (the city, its maps, the run store, the
playbacks) lives in Streamlit's caches (twin.app.caches). Runs go through a twin.app.runs.RunStore,
which runs each (scenario, parameters) once and keeps the run folder.

It listens on 127.0.0.1 (.streamlit/config.toml beside this file); a workshop exposes it on
purpose with ``--server.address 0.0.0.0`` (see twin.app.serving and docs/app.md).
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import streamlit as st

from twin.app import caches
from twin.app.collapse_view import collapse_page
from twin.app.compare_view import compare_page
from twin.app.coverage_view import coverage_page
from twin.app.facilitator_view import facilitator_page
from twin.app.i18n import LANGS, t
from twin.app.map_view import map_page
from twin.app.pages import LIVING_LAB_CSS, PAGES, run_page
from twin.app.proposals_view import WORKSHOP_PAGES, cached_store, proposals_page
from twin.app.serving import current_exposure
from twin.app.sweep_view import sweep_page


def draw(page: str, lang: str, living_lab: bool, exposure: str) -> None:
    """One page of the navigation (``page`` in :data:`twin.app.pages.PAGES` or in
    :data:`twin.app.proposals_view.WORKSHOP_PAGES`)."""
    if page != "run":
        st.session_state.pop("playing", None)  # a playback stops when its page is left
    if page != "collapse":
        st.session_state.pop("collapse_playing", None)
    if page == "map":
        map_page(st, caches.city(), lang, caches.city_deck)
    elif page == "run":
        run_page(st, caches.city(), lang, caches.store(), living_lab=living_lab, exposure=exposure)
    elif page == "collapse":
        collapse_page(st, caches.city(), lang, caches.store(), living_lab=living_lab)
    elif page == "sweep":
        sweep_page(st, caches.city(), lang, Path(os.environ.get("TWIN_SWEEPS_DIR", "sweeps")))
    elif page == "cctv":
        coverage_page(st, caches.city(), lang, caches.coverage, living_lab=living_lab)
    elif page == "proposals":
        proposals_page(st, caches.city(), lang, cached_store(), living_lab=living_lab)
    elif page == "facilitator":
        facilitator_page(st, caches.city(), lang, cached_store())
    else:
        compare_page(st, caches.city(), lang, caches.store(), living_lab=living_lab)


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
    # a page is known by its url_path (the same in both languages), so a language switch keeps it
    pages = [
        st.Page(
            partial(draw, name, lang, living_lab, exposure),
            title=t(f"page_{name}", lang),
            url_path=name,
            default=name == PAGES[0],
        )
        for name in (*PAGES, *WORKSHOP_PAGES)
    ]
    page = st.navigation(pages, position="sidebar")
    st.title(t("title", lang))
    page.run()


main()
