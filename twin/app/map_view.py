"""The city map page: an area of interest (the whole city, a dong or a stream), the layers to
show (chips in words), the map fitted to the area, and its legend.

The whole city is drawn light (main roads, a flat grid of old buildings); a dong or a stream is
drawn in full with its buildings in 3-D (:mod:`twin.app.map_layers`).
"""

from __future__ import annotations

from .i18n import t
from .legend import city_legend, layer_word, words
from .map_layers import CITY_LAYERS, MAP_H_PX, area_label, area_options, deck, device_kinds


def map_page(st, city, lang: str, city_deck=None, names=None) -> None:
    """The city map. ``city_deck(lang, layers, area)`` may hand out a cached deck (the app passes
    :func:`twin.app.caches.city_deck`, and then the cached names too); ``names`` a
    :class:`twin.app.names.Names` of ``city`` (built when not given)."""
    if names is None:
        from .form_inputs import names_of

        names = names_of(city)
    st.header(t("page_map", lang))
    st.caption(t("map_caption", lang))
    left, right = st.columns([1, 2])
    # each language has its own widgets (their option labels are in the language; Streamlit keeps
    # a keyed widget's labels), and the choice is carried across in session_state
    options = area_options(city)
    chosen = st.session_state.get("map_area", "city")
    area = left.selectbox(
        words("area", lang),
        options,
        index=options.index(chosen) if chosen in options else 0,
        format_func=lambda a: area_label(city, a, lang, names),
        key=f"map_area:{lang}",
    )
    st.session_state["map_area"] = area
    kept = st.session_state.get("map_layers")
    show = right.multiselect(
        t("layers", lang),
        CITY_LAYERS,
        default=list(CITY_LAYERS) if kept is None else [x for x in kept if x in CITY_LAYERS],
        format_func=lambda x: layer_word(x, lang),
        key=f"layers:{lang}",
    )
    st.session_state["map_layers"] = list(show)
    layers = tuple(x for x in CITY_LAYERS if x in show)
    if city_deck is not None:
        chart = city_deck(lang, layers, area)
    else:
        chart = deck(city, lang=lang, show=set(layers), area=area, names=names)
    st.pydeck_chart(chart, height=MAP_H_PX)
    kinds = device_kinds(city, area)
    st.markdown(city_legend(layers, lang, device_kinds=kinds, extruded=area != "city"), unsafe_allow_html=True)
