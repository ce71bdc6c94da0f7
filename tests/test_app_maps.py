"""Maps: views that fit, a light city view, extruded buildings only in an area, device symbols,
place labels, legends in both languages, and the compare maps' highlighting."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from twin.app import legend as lg
from twin.app.map_layers import area_options, area_shape, city_layers, deck, fit_view
from twin.app.names import Names
from twin.app.playback import (
    PATH_STATE_RGB,
    Playback,
    build_playback,
    compare_layers,
    compare_states,
    deck_compare,
    flood_difference,
)

HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def names(city):
    return Names.of(city)


def _px(lon: float, lat: float, zoom: float) -> tuple[float, float]:
    """Web-mercator pixel coordinates (512 px tiles, y down) at ``zoom``."""
    scale = 512 * 2**zoom
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return (lon + 180) / 360 * scale, (1 - y / math.pi) / 2 * scale


def _corners_on_screen(bounds, view, width, height) -> list[tuple[float, float]]:
    cx, cy = _px(view.longitude, view.latitude, view.zoom)
    minx, miny, maxx, maxy = bounds
    out = []
    for lon, lat in ((minx, miny), (minx, maxy), (maxx, miny), (maxx, maxy)):
        x, y = _px(lon, lat, view.zoom)
        out.append((x - cx + width / 2, y - cy + height / 2))
    return out


@pytest.mark.parametrize(
    "bounds,width,height",
    [
        ((127.0016891, 37.6858417, 127.1472886, 37.7803559), 900, 480),  # Uijeongbu, a wide map
        ((127.0016891, 37.6858417, 127.1472886, 37.7803559), 480, 420),  # a compare map
        ((127.05, 37.70, 127.06, 37.75), 1000, 640),  # a tall, narrow stream
        ((126.9, 37.5, 127.2, 37.52), 300, 900),  # a wide strip on a tall map
    ],
)
def test_fit_view_puts_the_four_corners_on_the_map_and_fills_it(bounds, width, height):
    view = fit_view(bounds, width, height)
    pts = _corners_on_screen(bounds, view, width, height)
    for x, y in pts:
        assert 0 <= x <= width and 0 <= y <= height, (x, y)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    spare = max(width - (max(xs) - min(xs)), 0.0), max(height - (max(ys) - min(ys)), 0.0)
    assert min(spare) <= 2 * 16 + 1  # not just zoomed far out: one side fills the map but for the padding
    assert view.pitch == 0
    tilted = fit_view(bounds, width, height, pitch=45)
    assert tilted.zoom < view.zoom and tilted.pitch == 45


def test_the_city_view_is_flat_light_and_shows_the_whole_city(city, names):
    spec = json.loads(deck(city, lang="ko", names=names).to_json())
    size = len(deck(city, lang="ko", names=names).to_json().encode())
    assert size < 600_000  # was 3.4 MB with 14,000 extruded buildings
    assert not any(layer.get("extruded") for layer in spec["layers"])
    ids = [layer["id"] for layer in spec["layers"]]
    assert "building_grid" in ids and "buildings" not in ids
    grid = next(layer for layer in spec["layers"] if layer["id"] == "building_grid")
    assert sum(d["count"] for d in grid["data"]) == len(city.layer("buildings"))
    assert all(0.0 <= d["share"] <= 1.0 for d in grid["data"])
    view = spec["initialViewState"]
    assert view["pitch"] == 0
    south = city.layer("boundary").to_crs("EPSG:4326").total_bounds
    v = type("V", (), {"longitude": view["longitude"], "latitude": view["latitude"], "zoom": view["zoom"]})
    for x, y in _corners_on_screen(south, v, 1000, 640):
        assert 0 <= x <= 1000 and 0 <= y <= 640  # the south of the city too


def test_a_dong_view_extrudes_only_the_buildings_inside_the_dong(city, names):
    code = str(city.layer("dongs")["dong_code"].iloc[7])
    area = f"dong:{code}"
    assert area in area_options(city)
    spec = json.loads(deck(city, lang="en", names=names, area=area).to_json())
    extruded = [layer for layer in spec["layers"] if layer.get("extruded")]
    assert [layer["id"] for layer in extruded] == ["buildings"]
    shape = area_shape(city, area)
    b = city.layer("buildings")
    inside = b[b.intersects(shape)]
    data = extruded[0]["data"]
    assert len(data) == len(inside) and 0 < len(data) < len(b) / 3
    ids = {re.search(r"\((B\d+)\)", d["label"]).group(1) for d in data}
    assert ids == set(inside["building_id"])  # exactly those, named with their id for the tooltip
    assert spec["initialViewState"]["pitch"] > 0
    assert "building_grid" not in {layer["id"] for layer in spec["layers"]}


def test_a_stream_view_fits_the_stream_and_keeps_its_buildings(city, names):
    spec = json.loads(deck(city, lang="ko", names=names, area="stream:민락천").to_json())
    b = next(layer for layer in spec["layers"] if layer["id"] == "buildings")
    shape = area_shape(city, "stream:민락천")
    assert len(b["data"]) == int(city.layer("buildings").intersects(shape).sum()) > 0
    whole = json.loads(deck(city, lang="ko", names=names).to_json())["initialViewState"]
    assert spec["initialViewState"]["zoom"] > whole["zoom"] + 1  # closer than the city


def test_every_device_kind_has_its_own_symbol_and_a_legend_entry_in_both_languages(city, names):
    kinds = sorted(set(city.layer("devices")["kind"]))
    shapes = {k: lg.symbol_svg(k, (0, 0, 0)) for k in kinds}
    assert len(set(shapes.values())) == len(kinds)  # distinct symbols
    atlas, mapping = lg.icon_atlas()
    assert atlas.startswith("data:image/svg+xml") and set(kinds) <= set(mapping)
    counts = []
    for lang in ("ko", "en"):
        html = lg.city_legend(["devices"], lang, device_kinds=kinds)
        for k in kinds:
            assert lg.symbol_svg(k, lg.DEVICE_RGB[k], size_px=18) in html, (lang, k)
            assert lg.enum_word("device_kind", k, lang) in html
        counts.append(html.count("<svg"))
    assert counts[0] == counts[1] == len(kinds)
    layer = next(x for x in city_layers(city, lang="en", show={"devices"}, names=names) if x.id == "devices")
    data = json.loads(deck(city, lang="en", show={"devices"}, names=names).to_json())["layers"][0]["data"]
    assert layer.type == "IconLayer" and {d["icon"] for d in data} == set(kinds)
    assert all(not HANGUL.search(d["label"]) or "(" in d["label"] for d in data)


def test_place_labels_name_every_stream_and_dong_in_the_language(city, names):
    for lang in ("ko", "en"):
        spec = json.loads(deck(city, lang=lang, names=names).to_json())
        by_id = {layer["id"]: layer for layer in spec["layers"]}
        streams = [d["text"] for d in by_id["stream_labels"]["data"]]
        dongs = [d["text"] for d in by_id["dong_labels"]["data"]]
        assert len(streams) == city.layer("streams")["name"].nunique() and len(dongs) == len(city.layer("dongs"))
        assert ("중랑천" in streams) == (lang == "ko") and ("Jungnangcheon" in streams) == (lang == "en")
        assert all(bool(HANGUL.search(s)) == (lang == "ko") for s in streams + dongs)
        for layer in (by_id["stream_labels"], by_id["dong_labels"]):
            used = set("".join(d["text"] for d in layer["data"]))
            assert used <= set(layer["characterSet"])  # Korean glyphs go into the font atlas


def test_legend_html_escapes_its_words_and_is_found_by_class():
    html = lg.legend_html([lg.LegendItem("title", "A & B"), lg.LegendItem("line", "<script>x</script>")], "en")
    assert html.startswith('<div class="twin-legend"')
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html and "A &amp; B" in html
    for make in (lg.playback_legend, lg.compare_legend, lg.peak_legend):
        ko, en = make("ko"), make("en")
        assert 'class="twin-legend"' in ko and 'class="twin-legend"' in en
        assert ko.count("<svg") == en.count("<svg") > 5  # the same items in both languages
    ko, en = lg.playback_legend("ko"), lg.playback_legend("en")
    for kind in ("gate", "signboard", "cctv", "level_sensor"):  # the devices are in the legend, in Korean too
        title = lg.enum_word("device_kind", kind, "en")
        assert lg.enum_word("device_kind", kind, "ko") in ko and title[:1].upper() + title[1:] in en
    assert "관심" in ko and "심각" in ko and "Attention" in en and "Serious" in en


def test_compare_highlights_only_the_paths_that_flood_in_one_run():
    assert compare_states({"A", "B"}, {"B", "C"}, ["A", "B", "C", None]) == ["only_here", "both", "none", "none"]
    assert compare_states({"B", "C"}, {"A", "B"}, ["A", "B", "C", None]) == ["none", "both", "only_here", "none"]

    def pb(flooded: set[str]) -> Playback:
        links = [
            {"path": [[127.0, 37.7 + i / 100], [127.01, 37.7 + i / 100]], "access_id": a, "stream": "s", "label": a}
            for i, a in enumerate("ABC")
        ]
        return Playback(
            times=np.array([0.0]),
            duration_s=60.0,
            reach_paths=[],
            reach_labels=[],
            reach_gauge=[],
            gauge_steps={},
            path_links=links,
            flooded={a: [(10.0, 20.0)] for a in flooded},
            cleared_at={},
            events=None,
            bounds=(127.0, 37.7, 127.01, 37.73),
        )

    one, two = pb({"A", "B"}), pb({"B", "C"})
    diff = flood_difference(one, two)
    assert (diff.only_a, diff.only_b, diff.both) == ({"A"}, {"C"}, {"B"})
    for mine, other, want in ((one, two, "A"), (two, one, "C")):
        layer = next(x for x in compare_layers(mine, other, "en") if x.id == "path_compare")
        hot = [d["label"].split(":")[0] for d in layer.data if d["color"] == list(lg.COMPARE_RGB["only_here"])]
        assert hot == [want]
        widths = {d["label"].split(":")[0]: d["width"] for d in layer.data}
        assert widths[want] > widths["B"] > 0  # highlighted thicker than flooded-in-both
    spec = json.loads(deck_compare(one, two, "ko").to_json())
    assert spec["initialViewState"]["pitch"] == 0 and "people" not in {x["id"] for x in spec["layers"]}


def test_a_playback_frame_is_small_flat_and_the_worst_state_shows_every_flooded_path(city, names, walkers_run):
    pb = build_playback(city, walkers_run, lang="en", names=names)
    t = float(walkers_run.events.loc[walkers_run.events["kind"] == "path.flooded", "time_s"].iloc[5])
    text = pb.deck_at(t, height_px=480).to_json()
    assert len(text.encode()) < 150_000
    spec = json.loads(text)
    assert spec["initialViewState"]["pitch"] == 0
    ids = [x["id"] for x in spec["layers"]]
    assert ids.index("path_state") > ids.index("stream_level")  # paths drawn over the streams
    paths = next(x for x in spec["layers"] if x["id"] == "path_state")["data"]
    flooded = [d for d in paths if d["color"] == PATH_STATE_RGB["flooded"]]
    assert flooded and all(d["width"] > 2 * lg.PATH_STATE_PX["open"] for d in flooded)
    assert paths[-1]["color"] == PATH_STATE_RGB["flooded"]  # the flooded ones on top
    peak = json.loads(pb.deck_at(0.0, peak=True).to_json())
    ever = next(x for x in peak["layers"] if x["id"] == "path_state")["data"]
    n_links = sum(1 for lk in pb.path_links if lk["access_id"] in pb.ever_flooded())
    assert sum(1 for d in ever if d["color"] == PATH_STATE_RGB["flooded"]) == n_links > len(flooded)
    labels = [d["label"] for d in paths]
    assert not any(HANGUL.search(x) and "(" not in x for x in labels)  # names in English, Korean only beside ids


def test_the_map_page_shows_names_words_and_a_legend(city, names):
    from twin.app.map_view import map_page

    class Fake:
        def __init__(self):
            self.shown: dict[str, list] = {}
            self.session_state: dict = {}

        def columns(self, spec):
            return [self, self]

        def header(self, x):
            self.shown.setdefault("header", []).append(x)

        caption = header

        def selectbox(self, label, options, index, format_func, key):
            self.shown["areas"] = [format_func(o) for o in options]
            return "dong:" + str(city.layer("dongs")["dong_code"].iloc[0])

        def multiselect(self, label, options, default, format_func, key):
            self.shown["chips"] = [format_func(o) for o in options]
            return default

        def pydeck_chart(self, chart, height):
            self.shown["deck"] = json.loads(chart.to_json())

        def markdown(self, text, unsafe_allow_html=False):
            self.shown.setdefault("markdown", []).append(text)

    st = Fake()
    map_page(st, city, "en", names=names)
    assert "Uijeongbu 1-dong" in st.shown["areas"] and "Jungnangcheon" in st.shown["areas"]
    assert not any(":" in a or HANGUL.search(a) for a in st.shown["areas"])
    assert "Dongs (districts)" in st.shown["chips"] and "dongs" not in st.shown["chips"]
    assert any(x.get("extruded") for x in st.shown["deck"]["layers"])  # a dong: its buildings in 3-D
    assert any('class="twin-legend"' in m for m in st.shown["markdown"])


def _map_script():
    import streamlit as st

    from twin.app import caches
    from twin.app.map_view import map_page

    lang = st.radio("lang", ["ko", "en"], key="lang")
    map_page(st, caches.city(), lang, caches.city_deck)


def test_the_map_page_keeps_the_area_and_layers_across_a_language_switch():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_map_script, default_timeout=120).run()
    assert not at.exception
    assert at.selectbox(key="map_area:ko").value == "city"
    first = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert not any(x.get("extruded") for x in first["layers"]) and first["mapStyle"] == "__MAP_STYLE__"
    at.selectbox(key="map_area:ko").set_value("stream:중랑천").run()
    at.multiselect(key="layers:ko").set_value(["streams", "buildings"]).run()
    at.radio(key="lang").set_value("en").run()
    assert not at.exception
    area = at.selectbox(key="map_area:en")
    assert area.value == "stream:중랑천" and "Jungnangcheon" in area.options and "중랑천" not in area.options
    chips = at.multiselect(key="layers:en")
    assert chips.value == ["streams", "buildings"] and "Buildings" in chips.options
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    assert {x["id"] for x in spec["layers"]} == {"streams", "stream_labels", "buildings"}
    assert any(x.get("extruded") for x in spec["layers"])
    assert any("twin-legend" in m.value and "Stream" in m.value for m in at.markdown)
