"""What the app builds once and shares between reruns and sessions, in Streamlit's caches.

All of them are :func:`streamlit.cache_resource`: the city model, its map decks, the run store and
the playbacks are large, read-only after they are built, and some are not picklable (the store
holds a lock file and a thread lock), so every session gets the same object, never a copy
(``st.cache_data`` would pickle and unpickle them on every call). The caches are bounded
(``max_entries``), so memory stays bounded whatever the sessions ask for.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ..city import CityModel
from ..results import RunData
from .playback import Playback

MAX_DECKS = 8  # city maps: (language, layers, area) choices
MAX_CHARTS = 16  # stage and rain specs: a few gauge choices of the runs on screen, in two languages
MAX_PLAYBACKS = 4  # about 1 MB each: the run page's run and the compare page's two, in one language


@st.cache_resource(show_spinner=False)
def city() -> CityModel:
    """The shipped Uijeongbu dataset, loaded once per server."""
    from .. import load_city

    return load_city()


def names():
    """The display names of the city's entities (:class:`twin.app.names.Names`), built once per
    dataset (:func:`twin.app.form_inputs.names_of` keeps them)."""
    from .form_inputs import names_of

    return names_of(city())


@st.cache_resource(show_spinner=False, max_entries=MAX_DECKS)
def city_deck(lang: str, layers: tuple[str, ...], area: str = "city"):
    """The city map (a pydeck Deck, WGS84) in ``lang`` with ``layers`` shown, fitted to ``area``
    ("city", "dong:<code>" or "stream:<name>", see :func:`twin.app.map_layers.area_options`)."""
    from .map_layers import deck

    return deck(city(), lang=lang, show=set(layers), area=area, names=names())


@st.cache_resource(show_spinner=False, max_entries=4)
def coverage(add: int):
    """The coverage of the city's cameras with ``add`` new ones placed (twin.coverage.assess)."""
    from ..coverage.assess import CoverageOptions, assess

    return assess(city(), CoverageOptions(add=add))


@st.cache_resource(show_spinner=False)
def store():
    """The app's :class:`~twin.app.runs.RunStore` (its own temporary root, removed at exit)."""
    from .runs import RunStore

    return RunStore(city())


def folder_stamp(folder: str | Path) -> tuple[tuple[str, int, int], ...]:
    """(name, size in bytes, mtime in ns) of each file of a run folder: a folder written again
    (``twin run --out`` into the same path) gets a new playback."""
    out = []
    for p in sorted(Path(folder).iterdir()):
        if p.is_file():
            s = p.stat()
            out.append((p.name, s.st_size, s.st_mtime_ns))
    return tuple(out)


@st.cache_resource(show_spinner=False, max_entries=MAX_PLAYBACKS)
def _playback(folder: str, stamp: tuple, lang: str, _city: CityModel, _run: RunData) -> Playback:
    # keyed by the folder, its files and the language; the city and the run (unhashable) are not
    # part of the key: a run folder names its dataset, and the app has one city
    from . import playback

    return playback.build_playback(_city, _run, lang=lang, names=names() if _city is city() else None)


def playback_of(city: CityModel, run: RunData, lang: str) -> Playback:
    """The playback of ``run`` in ``lang``, built once per run folder and language (the same
    object for every rerun, fragment tick and session)."""
    return _playback(str(Path(run.folder).resolve()), folder_stamp(run.folder), lang, city, run)


@st.cache_resource(show_spinner=False, max_entries=MAX_CHARTS)
def _chart_spec(kind: str, folder: str, stamp: tuple, gauges: tuple[str, ...], lang: str, _run: RunData, _names):
    # keyed like the playbacks; the run and the names are not part of the key
    from .charts import rain_chart, scenario_start, stage_chart

    start = scenario_start(_run.summary)
    if kind == "rain":
        return rain_chart(_run, lang, start=start).to_dict()
    return stage_chart(_run, list(gauges), lang, label_of=lambda g: _names.gauge(g, lang), start=start).to_dict()


def chart_spec(kind: str, run: RunData, gauges: list[str], lang: str, names) -> dict:
    """The Vega-Lite spec of ``run``'s stage chart at ``gauges`` (``kind`` "stage") or of its
    hyetograph ("rain"), without a cursor, built once per run folder, gauges and language: a
    playback step adds only its cursor (:func:`twin.app.charts.with_cursor`)."""
    folder = str(Path(run.folder).resolve())
    return _chart_spec(kind, folder, folder_stamp(run.folder), tuple(gauges), lang, run, names)


def clear() -> None:
    """Forget every playback (tests count the builds from an empty cache)."""
    _playback.clear()
