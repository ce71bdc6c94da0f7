"""pydeck layers of a city model, in WGS84 (the edge of the system where maps live).

Everything is drawn from the project's own layers: no base-map tiles are needed, so the map
works offline. Colours are RGBA lists; elevations are metres.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pydeck as pdk

from ..city import CityModel
from ..dataset_schema import RIVERSIDE_PATH_KINDS

STREAM_RGB = [30, 120, 200, 230]
PATH_RGB = [20, 190, 210, 255]
ROAD_RGB = [150, 150, 150, 160]
OLD_RGB = [230, 85, 13, 220]
NEW_RGB = [190, 190, 190, 200]
DEVICE_RGB = {
    "gate": [214, 39, 40],
    "level_sensor": [31, 119, 180],
    "rain_gauge": [44, 160, 44],
    "signboard": [255, 127, 14],
    "cctv": [127, 127, 127],
    "tilt_sensor": [140, 86, 75],
    "crack_sensor": [140, 86, 75],
    "extensometer": [140, 86, 75],
    "crosswalk": [227, 119, 194],
}
STOREY_M = 3.0
DECIMALS = 5  # of a degree: about 1 m at 37.7 °N, enough for a city map and a sixth less to send


def _wgs(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs("EPSG:4326")


def _paths(gdf: gpd.GeoDataFrame) -> list[list[list[float]]]:
    return [np.round(np.asarray(g.coords), DECIMALS).tolist() for g in _wgs(gdf).geometry]


def _label(row: Any, lang: str) -> str:
    ko = row.get("name") if isinstance(row.get("name"), str) else ""
    en = row.get("name_en") if isinstance(row.get("name_en"), str) else ""
    return f"{ko} / {en}" if ko and en and lang == "ko" else (f"{en} / {ko}" if ko and en else ko or en)


def path_layer(data: list[dict], layer_id: str, *, width: float | str, min_px: int, color="color") -> pdk.Layer:
    """A pickable PathLayer of ``data`` rows with ``path`` (lon/lat) and ``label``; widths in metres."""
    return pdk.Layer(
        "PathLayer",
        data,
        get_path="path",
        get_color=color,
        get_width=width,
        width_min_pixels=min_px,
        pickable=True,
        id=layer_id,
    )


def points_layer(data: list[dict], layer_id: str, *, radius: float, min_px: int, **extra) -> pdk.Layer:
    """A ScatterplotLayer of ``data`` rows with ``position`` (lon/lat) and ``color``; radius in metres."""
    return pdk.Layer(
        "ScatterplotLayer",
        data,
        get_position="position",
        get_fill_color="color",
        get_radius=radius,
        radius_min_pixels=min_px,
        id=layer_id,
        **({"pickable": True} | extra),
    )


def lonlat(point) -> list[float]:
    """A WGS84 point as [lon, lat], rounded to DECIMALS."""
    return [round(point.x, DECIMALS), round(point.y, DECIMALS)]


def _road_layer(roads: gpd.GeoDataFrame, kinds, color, width_m: float, min_px: int, layer_id: str) -> pdk.Layer:
    """A PathLayer of the walk links of ``kinds``, labelled by name (or kind when unnamed)."""
    r = roads[roads["kind"].isin(kinds)]
    data = [
        {"path": p, "label": (n if isinstance(n, str) else k)}
        for p, n, k in zip(_paths(r), r["name"], r["kind"], strict=True)
    ]
    return path_layer(data, layer_id, width=width_m, min_px=min_px, color=color)


def city_layers(city: CityModel, *, lang: str = "ko", show: set[str] | None = None) -> list[pdk.Layer]:
    """The map layers of ``city``: dongs, streams, roads, riverside paths, buildings (extruded by
    storeys, those >= 30 years old in orange), shelters and schools, devices by kind."""
    show = show or {"dongs", "streams", "roads", "paths", "buildings", "facilities", "devices"}
    layers: list[pdk.Layer] = []
    if "dongs" in show:
        d = _wgs(city.layer("dongs"))
        data = [
            {
                "polygon": np.round(
                    np.asarray(
                        g.exterior.coords
                        if g.geom_type == "Polygon"
                        else max(g.geoms, key=lambda p: p.area).exterior.coords
                    ),
                    DECIMALS,
                ).tolist(),
                "label": _label(r, lang),
            }
            for g, r in zip(d.geometry, d.to_dict("records"), strict=True)
        ]
        layers.append(
            pdk.Layer(
                "PolygonLayer",
                data,
                get_polygon="polygon",
                stroked=True,
                filled=True,
                get_fill_color=[245, 245, 240, 40],
                get_line_color=[120, 120, 120, 200],
                line_width_min_pixels=1,
                pickable=True,
                id="dongs",
            )
        )
    roads = city.layer("roads")
    if "roads" in show:
        layers.append(_road_layer(roads, ("road", "sidewalk", "bridge"), ROAD_RGB, 3, 1, "roads"))
    if "streams" in show:
        s = city.layer("streams")
        data = [
            {"path": p, "label": _label(row, lang), "width": float(row["width_m"])}
            for p, row in zip(_paths(s), s.to_dict("records"), strict=True)
        ]
        layers.append(path_layer(data, "streams", width="width", min_px=3, color=STREAM_RGB))
    if "paths" in show:
        layers.append(_road_layer(roads, RIVERSIDE_PATH_KINDS, PATH_RGB, 4, 2, "riverside_paths"))
    if "buildings" in show:
        b = city.layer("buildings")
        old = (b["year_built"] <= city.reference_year - 30).fillna(False).to_numpy(bool)
        w = _wgs(b)
        data = [
            {
                "polygon": np.round(np.asarray(g.exterior.coords), DECIMALS).tolist(),
                "height": float(st if st == st else 1) * STOREY_M,
                "color": OLD_RGB if o else NEW_RGB,
                "label": f"{bid}: {int(y) if y == y else '?'}, {int(st) if st == st else '?'}F",
            }
            for g, st, o, bid, y in zip(
                w.geometry,
                b["storeys"].astype(float),
                old,
                b["building_id"],
                b["year_built"].astype(float),
                strict=True,
            )
        ]
        layers.append(
            pdk.Layer(
                "PolygonLayer",
                data,
                get_polygon="polygon",
                extruded=True,
                get_elevation="height",
                get_fill_color="color",
                pickable=True,
                id="buildings",
            )
        )
    if "facilities" in show:
        f = city.layer("facilities")
        f = f[f["kind"].isin(["shelter", "school", "city_hall", "railway_station", "lrt_station", "hospital"])]
        w = _wgs(f)
        data = [
            {
                "position": lonlat(g),
                "label": _label(row, lang),
                "color": [44, 160, 44] if row["kind"] == "shelter" else [188, 189, 34],
            }
            for g, row in zip(w.geometry, f.to_dict("records"), strict=True)
        ]
        layers.append(points_layer(data, "facilities", radius=25, min_px=3))
    if "devices" in show:
        dv = city.layer("devices")
        w = _wgs(dv)
        data = [
            {
                "position": lonlat(g),
                "label": f"{row['device_id']} ({row['kind']})",
                "color": DEVICE_RGB.get(row["kind"], [0, 0, 0]),
            }
            for g, row in zip(w.geometry, dv.to_dict("records"), strict=True)
        ]
        layers.append(points_layer(data, "devices", radius=15, min_px=2))
    return layers


def view_state(city: CityModel) -> pdk.ViewState:
    """A view of the whole city, tilted so that buildings read as 3-D."""
    minx, miny, maxx, maxy = _wgs(city.layer("boundary")).total_bounds
    return pdk.ViewState(longitude=(minx + maxx) / 2, latitude=(miny + maxy) / 2, zoom=11.6, pitch=35)


class CompactDeck(pdk.Deck):
    """A pydeck Deck whose JSON has no indentation: pydeck indents by two spaces per level, which
    puts every coordinate on a line of its own and makes the city map about three times larger."""

    def to_json(self) -> str:
        from pydeck.bindings.json_tools import default_serialize

        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


def deck(city: CityModel, *, lang: str = "ko", show: set[str] | None = None, tiles: str | None = None) -> pdk.Deck:
    """The city map; ``tiles`` is an optional base-map style URL for those online."""
    return CompactDeck(
        layers=city_layers(city, lang=lang, show=show),
        initial_view_state=view_state(city),
        map_style=tiles,
        map_provider="carto" if tiles else None,  # no base map at all unless asked
        tooltip={"text": "{label}"},
    )
