"""Map legends and device symbols: one place for every colour and symbol the maps draw.

A legend is HTML (a ``<div class="twin-legend">``) put under a map with
``st.markdown(html, unsafe_allow_html=True)``; its swatches are small inline SVGs drawn with the
same colours as the map layers, and the device symbols are the very SVGs the maps' icon atlas is
made of. Both languages list the same items in the same order (only the words differ).
"""

from __future__ import annotations

import html
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..dataset_schema import THRESHOLD_LEVELS

# --- colours (RGBA) shared by the maps and their legends --------------------------------------
STREAM_RGB = (30, 120, 200, 230)
PATH_RGB = (0, 150, 170, 255)
ROAD_RGB = (150, 150, 150, 170)
DONG_FILL_RGB = (245, 245, 240, 40)
DONG_LINE_RGB = (110, 110, 110, 220)
OLD_RGB = (230, 85, 13, 230)
NEW_RGB = (190, 190, 190, 220)
SHELTER_RGB = (44, 160, 44, 255)
FACILITY_RGB = (188, 189, 34, 255)
# the building grid: share of buildings >= 30 years old, light (none) to dark orange (all)
GRID_LOW_RGB = (235, 235, 225)
GRID_HIGH_RGB = (200, 60, 0)
GRID_ALPHA = 190

LEVEL_NAMES = ("normal", *THRESHOLD_LEVELS)
LEVEL_RGB = (
    (40, 110, 200, 200),  # normal
    (240, 200, 0, 255),  # 관심 attention
    (255, 130, 0, 255),  # 주의 caution
    (220, 30, 30, 255),  # 경계 alert
    (130, 0, 150, 255),  # 심각 serious
)
PATH_STATE_RGB = {"open": (0, 130, 150, 255), "cleared": (60, 60, 60, 255), "flooded": (230, 0, 110, 255)}
PATH_STATE_PX = {"open": 1.5, "cleared": 2.0, "flooded": 7.0}  # line widths, px (thin over the stream)
STREAM_PX = 10.0  # stream line width on the playback maps, px (wide: its colour shows around the paths)
PERSON_RGB = {False: (30, 30, 30, 220), True: (0, 190, 90, 240)}  # walking / heading to safety
COMPARE_RGB = {"only_here": (230, 0, 110, 255), "both": (150, 110, 130, 200), "none": (0, 150, 170, 200)}
COMPARE_PX = {"only_here": 8.0, "both": 2.5, "none": 1.2}

# --- device symbols --------------------------------------------------------------------------
DEVICE_RGB = {
    "gate": (214, 39, 40),
    "level_sensor": (31, 119, 180),
    "rain_gauge": (44, 160, 44),
    "signboard": (255, 127, 14),
    "cctv": (90, 90, 90),
    "tilt_sensor": (140, 86, 75),
    "crack_sensor": (140, 86, 75),
    "extensometer": (140, 86, 75),
    "crosswalk": (227, 119, 194),
}
# shapes in a 32 x 32 box, outlined in dark grey: each device kind has its own
_SHAPES = {
    "gate": '<polygon points="16,3 30,28 2,28"/>',  # a triangle
    "level_sensor": '<rect x="5" y="5" width="22" height="22"/>',  # a square
    "rain_gauge": '<path d="M16 2 C16 2 5 15 5 21 A11 11 0 0 0 27 21 C27 15 16 2 16 2 Z"/>',  # a drop
    "signboard": '<rect x="2" y="8" width="28" height="16" rx="2"/>',  # a wide rectangle
    "cctv": '<path d="M3 10 H21 V23 H3 Z M21 14 L30 9 V24 L21 19 Z"/>',  # a camera body and lens
    "tilt_sensor": '<polygon points="16,2 30,16 16,30 2,16"/>',  # a diamond
    "crack_sensor": '<polygon points="16,2 29,9.5 29,22.5 16,30 3,22.5 3,9.5"/>',  # a hexagon
    "extensometer": '<polygon points="16,2 20,12 30,16 20,20 16,30 12,20 2,16 12,12"/>',  # a star
    "crosswalk": '<circle cx="16" cy="16" r="13"/>',  # a circle
}
DEFAULT_SHAPE = '<circle cx="16" cy="16" r="9"/>'  # unknown kinds; facilities ("dot") too
ICON_PX = 32  # size of a symbol in the atlas, px
# the states the playback colours a device by (level sensors: the alert levels)
DEVICE_STATE_RGB = {
    "open": (40, 170, 60),
    "closing": (255, 170, 0),
    "closed": (200, 0, 0),
    "opening": (120, 200, 255),
    "blank": (170, 170, 170),
    "showing": (255, 120, 0),
    "clear": (170, 170, 170),
    "someone": (200, 0, 160),
    "unknown": (120, 120, 120),
}
DEVICE_STATES = {
    "gate": ("open", "closing", "closed", "opening"),
    "signboard": ("blank", "showing"),
    "cctv": ("clear", "someone"),
    "level_sensor": LEVEL_NAMES,
}


def symbol_svg(kind: str, rgb: Sequence[int], size_px: int = ICON_PX) -> str:
    """The device symbol of ``kind`` filled with ``rgb`` as a standalone SVG of ``size_px`` px."""
    fill = f"rgb({rgb[0]},{rgb[1]},{rgb[2]})"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_px}" height="{size_px}" viewBox="0 0 32 32">'
        f'<g fill="{fill}" stroke="#222" stroke-width="2" stroke-linejoin="round">'
        f"{_SHAPES.get(kind, DEFAULT_SHAPE)}</g></svg>"
    )


def grid_rgba(share: float) -> tuple[int, int, int, int]:
    """The building grid's colour for a ``share`` (0-1) of buildings >= 30 years old."""
    rgb = (round(a + (b - a) * share) for a, b in zip(GRID_LOW_RGB, GRID_HIGH_RGB, strict=True))
    return (*rgb, GRID_ALPHA)  # type: ignore[return-value]


def state_rgb(kind: str, state: str) -> tuple[int, int, int]:
    """Fill colour of a device of ``kind`` in ``state`` on the playback (level sensors: level colours)."""
    if kind == "level_sensor" and state in LEVEL_NAMES:
        return tuple(LEVEL_RGB[LEVEL_NAMES.index(state)][:3])  # type: ignore[return-value]
    return DEVICE_STATE_RGB.get(state, DEVICE_RGB.get(kind, DEVICE_STATE_RGB["unknown"]))


def icon_keys() -> list[tuple[str, str, tuple[int, ...]]]:
    """Every (atlas key, kind, fill) the maps use: ``kind`` (city map colours) and ``kind:state``."""
    out: list[tuple[str, str, tuple[int, ...]]] = [(kind, kind, rgb) for kind, rgb in DEVICE_RGB.items()]
    out.append(("unknown", "unknown", DEVICE_STATE_RGB["unknown"]))
    out += [("shelter", "dot", SHELTER_RGB[:3]), ("facility", "dot", FACILITY_RGB[:3])]
    for kind, states in DEVICE_STATES.items():
        out += [(f"{kind}:{s}", kind, state_rgb(kind, s)) for s in states]
    return out


def icon_atlas() -> tuple[str, dict[str, dict[str, int | bool]]]:
    """(data URL of one SVG holding every symbol, deck.gl icon mapping key -> cell in px)."""
    keys = icon_keys()
    cols = 8
    rows = -(-len(keys) // cols)
    cell = ICON_PX + 2
    parts, mapping = [], {}
    for i, (key, kind, rgb) in enumerate(keys):
        x, y = (i % cols) * cell, (i // cols) * cell
        inner = symbol_svg(kind, rgb).replace('xmlns="http://www.w3.org/2000/svg" ', "")
        parts.append(f'<g transform="translate({x},{y})">{inner}</g>')
        mapping[key] = {"x": x, "y": y, "width": ICON_PX, "height": ICON_PX, "anchorY": ICON_PX // 2, "mask": False}
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{cols * cell}" height="{rows * cell}">'
        + "".join(parts)
        + "</svg>"
    )
    return "data:image/svg+xml;charset=utf-8," + urllib.parse.quote(svg), mapping


# --- words -----------------------------------------------------------------------------------
WORDS = {
    "dongs": ("행정동", "Dongs (districts)"),
    "streams": ("하천", "Streams"),
    "roads": ("도로", "Roads"),
    "paths": ("하천 산책로", "Riverside paths"),
    "buildings": ("건물", "Buildings"),
    "facilities": ("시설", "Facilities"),
    "devices": ("장치", "Devices"),
    "shelter": ("대피소", "Shelter"),
    "facility": ("학교·역·관공서·병원", "School, station, city hall, hospital"),
    "grid": ("30년 이상 건물 비율 (250 m 격자)", "Share of buildings 30+ years old (250 m grid)"),
    "grid_low": ("0 %", "0 %"),
    "grid_mid": ("50 %", "50 %"),
    "grid_high": ("100 %", "100 %"),
    "old": ("30년 이상 건물 (높이 = 층수)", "Building 30+ years old (height = storeys)"),
    "new": ("30년 미만 건물", "Building under 30 years old"),
    "stream_level": ("하천 경보 단계", "Stream alert level"),
    "peak_level": ("하천 최고 경보 단계", "Highest stream alert level"),
    "path_state": ("하천 산책로", "Riverside paths"),
    "people": ("사람", "People"),
    "walking": ("걷는 사람", "Walking"),
    "evacuating": ("대피 중인 사람", "Heading to safety"),
    "ever_flooded": ("한 번이라도 침수된 구간", "Flooded at some time"),
    "never_flooded": ("침수되지 않은 구간", "Never flooded"),
    "compare": ("두 실행의 침수 차이", "Flooding, one run against the other"),
    "only_here": ("이 실행에서만 침수", "Flooded in this run only"),
    "both": ("두 실행 모두 침수", "Flooded in both runs"),
    "none": ("침수 없음", "Not flooded"),
    "dong_names": ("행정동 경계와 이름", "Dong boundaries and names"),
    "stream_names": ("하천 이름", "Stream names"),
    "area": ("보여줄 지역", "Area of interest"),
    "road": ("도로", "road"),
    "sidewalk": ("보도", "sidewalk"),
    "bridge": ("교량", "bridge"),
    "riverside_path": ("하천 산책로", "riverside path"),
    "ramp": ("진출입로 (경사로)", "ramp"),
    "stairs": ("진출입로 (계단)", "stairs"),
}


def words(key: str, lang: str) -> str:
    """The legend's own words for ``key`` in ``lang`` ("ko"/"en"); the key itself when unknown."""
    pair = WORDS.get(key)
    return key if pair is None else pair[0 if lang == "ko" else 1]


def layer_word(layer: str, lang: str) -> str:
    """The name of a map layer as the layer chips show it."""
    return words(layer, lang)


def enum_word(group: str, key: str, lang: str) -> str:
    """Plain words for an enumeration value (:func:`twin.app.names.word`)."""
    from .names import word

    return word(group, key, lang)


# --- legend HTML -----------------------------------------------------------------------------
@dataclass(frozen=True)
class LegendItem:
    """One legend entry: ``kind`` is "title", "line", "area", "dot" or "icon"; ``color`` RGBA;
    ``size`` the line width (px) or the dot radius (px); ``icon`` the device kind for "icon"."""

    kind: str
    label: str
    color: tuple[int, ...] = (0, 0, 0, 255)
    size: float = 4.0
    icon: str = ""


def _css(rgba: Sequence[int]) -> str:
    a = rgba[3] / 255 if len(rgba) > 3 else 1.0
    return f"rgba({int(rgba[0])},{int(rgba[1])},{int(rgba[2])},{a:.2f})"


def _swatch(item: LegendItem) -> str:
    """An inline SVG swatch of ``item`` (about 28 x 16 px)."""
    if item.kind == "line":
        w = max(1.0, min(item.size, 12.0))
        body = (
            f'<line x1="2" y1="8" x2="26" y2="8" stroke="{_css(item.color)}" stroke-width="{w:g}" '
            'stroke-linecap="round"/>'
        )
    elif item.kind == "area":
        body = f'<rect x="3" y="2" width="22" height="12" fill="{_css(item.color)}" stroke="#666" stroke-width="1"/>'
    elif item.kind == "dot":
        r = max(2.0, min(item.size, 7.0))
        body = f'<circle cx="14" cy="8" r="{r:g}" fill="{_css(item.color)}" stroke="#333" stroke-width="0.5"/>'
    else:
        return symbol_svg(item.icon, item.color, size_px=18)
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="28" height="16">{body}</svg>'


def legend_html(items: Iterable[LegendItem], lang: str) -> str:
    """A legend as HTML: a ``<div class="twin-legend">``; each "title" item starts a row, each
    other item is its swatch and its words (escaped)."""
    rows: list[list[str]] = []
    for item in items:
        if item.kind == "title" or not rows:
            rows.append([])
        if item.kind == "title":
            title = item.label[:1].upper() + item.label[1:]
            rows[-1].append(f'<b style="margin-right:6px">{html.escape(title)}</b>')
            continue
        rows[-1].append(
            '<span style="display:inline-flex;align-items:center;gap:4px;margin-right:12px;white-space:nowrap">'
            f"{_swatch(item)}<span>{html.escape(item.label)}</span></span>"
        )
    body = "".join(f'<div style="margin:2px 0">{"".join(r)}</div>' for r in rows)
    return f'<div class="twin-legend" lang="{html.escape(lang)}" style="font-size:0.85rem;line-height:1.6">{body}</div>'


def device_items(kinds: Iterable[str], lang: str) -> list[LegendItem]:
    """One symbol per device kind, in the city map's kind colours."""
    return [
        LegendItem("icon", enum_word("device_kind", k, lang), DEVICE_RGB.get(k, DEVICE_STATE_RGB["unknown"]), icon=k)
        for k in kinds
    ]


def city_legend(layers: Iterable[str], lang: str, *, device_kinds: Iterable[str] = (), extruded: bool = False) -> str:
    """The legend of the city map with ``layers`` shown; ``extruded``: buildings drawn in 3-D
    (an area's view) rather than as the city's grid; ``device_kinds``: the kinds on the map."""
    shown = set(layers)
    items: list[LegendItem] = []
    if "dongs" in shown:
        items += [
            LegendItem("title", words("dongs", lang)),
            LegendItem("line", words("dong_names", lang), DONG_LINE_RGB, 1.5),
        ]
    if shown & {"streams", "paths", "roads"}:
        items.append(LegendItem("title", words("streams", lang) + " · " + words("roads", lang)))
        if "streams" in shown:
            items.append(LegendItem("line", words("streams", lang), STREAM_RGB, 5))
        if "paths" in shown:
            items.append(LegendItem("line", words("paths", lang), PATH_RGB, 3))
        if "roads" in shown:
            items.append(LegendItem("line", words("roads", lang), ROAD_RGB, 2))
    if "buildings" in shown:
        items.append(LegendItem("title", words("buildings", lang)))
        if extruded:
            items += [LegendItem("area", words("old", lang), OLD_RGB), LegendItem("area", words("new", lang), NEW_RGB)]
        else:
            items += [
                LegendItem("area", words("grid", lang) + ": " + words("grid_low", lang), grid_rgba(0.0)),
                LegendItem("area", words("grid_mid", lang), grid_rgba(0.5)),
                LegendItem("area", words("grid_high", lang), grid_rgba(1.0)),
            ]
    if "facilities" in shown:
        items += [
            LegendItem("title", words("facilities", lang)),
            LegendItem("dot", words("shelter", lang), SHELTER_RGB, 5),
            LegendItem("dot", words("facility", lang), FACILITY_RGB, 5),
        ]
    if "devices" in shown:
        items.append(LegendItem("title", words("devices", lang)))
        items += device_items(list(device_kinds) or list(DEVICE_RGB), lang)
    return legend_html(items, lang)


def level_items(lang: str, *, title: str = "stream_level") -> list[LegendItem]:
    """The stream alert levels (normal, 관심, 주의, 경계, 심각) as line swatches under ``title``."""
    return [LegendItem("title", words(title, lang))] + [
        LegendItem("line", enum_word("level", lv, lang), LEVEL_RGB[i], STREAM_PX) for i, lv in enumerate(LEVEL_NAMES)
    ]


def playback_legend(lang: str) -> str:
    """The legend of a playback frame: stream levels, path states, people, and each device kind's
    symbol with the colours of its states."""
    items = level_items(lang)
    items.append(LegendItem("title", words("path_state", lang)))
    items += [
        LegendItem("line", enum_word("path_state", s, lang), PATH_STATE_RGB[s], PATH_STATE_PX[s])
        for s in PATH_STATE_RGB
    ]
    items += [
        LegendItem("title", words("people", lang)),
        LegendItem("dot", words("walking", lang), PERSON_RGB[False], 3),
        LegendItem("dot", words("evacuating", lang), PERSON_RGB[True], 3),
    ]
    for kind, states in DEVICE_STATES.items():
        items.append(LegendItem("title", enum_word("device_kind", kind, lang)))
        group = "level" if kind == "level_sensor" else "device_state"
        items += [LegendItem("icon", enum_word(group, s, lang), state_rgb(kind, s), icon=kind) for s in states]
    items.append(LegendItem("title", words("devices", lang)))
    items += device_items(["rain_gauge"], lang)
    return legend_html(items, lang)


def peak_legend(lang: str) -> str:
    """The legend of the worst-state map: the highest level of each stream, and the paths that
    flooded at some time (highlighted) or never."""
    items = level_items(lang, title="peak_level")
    items += [
        LegendItem("title", words("path_state", lang)),
        LegendItem("line", words("ever_flooded", lang), PATH_STATE_RGB["flooded"], PATH_STATE_PX["flooded"]),
        LegendItem("line", words("never_flooded", lang), PATH_STATE_RGB["open"], PATH_STATE_PX["open"]),
    ]
    return legend_html(items, lang)


def compare_legend(lang: str) -> str:
    """The legend of the compare maps: the highest level of each stream, and the paths that flood
    in this run only (highlighted), in both runs, or in neither."""
    items = level_items(lang, title="peak_level")
    items.append(LegendItem("title", words("compare", lang)))
    items += [LegendItem("line", words(k, lang), COMPARE_RGB[k], COMPARE_PX[k]) for k in COMPARE_RGB]
    return legend_html(items, lang)
