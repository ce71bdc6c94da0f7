"""The app's CCTV coverage page: what the cameras see by DORI level, the blind spots of the
riverside paths, access points and 행복로, and where new cameras would go, before and after, in
Korean and English (twin.coverage does the work; this module only shows it, WGS84 at the edge).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pydeck as pdk

from ..city import CityModel
from ..coverage.assess import PLACEMENT_ZONES, Assessment, views_frame
from ..models.camera_optics import DORI_LEVELS
from .i18n import t
from .map_layers import DECIMALS, _paths, path_layer

LEVEL_RGB: dict[str, list[int]] = {
    "detection": [255, 237, 160, 110],
    "observation": [254, 178, 76, 140],
    "recognition": [240, 59, 32, 160],
    "identification": [128, 0, 38, 190],
}
BLIND_RGB = [220, 20, 60, 255]
ROAD_RGB = [170, 170, 170, 120]
CAMERA_RGB = [40, 40, 40, 255]
BUILDING_RGB = [120, 120, 140, 170]
NEW_CAMERA_RGB = [30, 90, 230, 255]
ZONE_WORDS = {
    "access_points": ("진출입로 주변", "around access points"),
    "riverside_path": ("하천 산책로", "riverside paths"),
    "school_zone": ("학교 300 m 이내", "school zones (300 m)"),
    "child_protection_zone": ("어린이보호구역", "children's protection zones"),
    "street": ("행복로", "Haengbok-ro"),
    "rest": ("그 밖의 보행로", "rest of the walk network"),
}
LEVEL_WORDS = {
    "detection": ("감지 (25 px/m)", "detection (25 px/m)"),
    "observation": ("관찰 (62.5 px/m)", "observation (62.5 px/m)"),
    "recognition": ("인식 (125 px/m)", "recognition (125 px/m)"),
    "identification": ("식별 (250 px/m)", "identification (250 px/m)"),
}


def words(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    ko, en = table[key]
    return ko if lang == "ko" else en


def _polygons(gdf: gpd.GeoDataFrame) -> list[list[list[float]]]:
    out = []
    for g in gdf.to_crs("EPSG:4326").geometry:
        parts = list(g.geoms) if g.geom_type == "MultiPolygon" else [g]
        out.append([np.round(np.asarray(p.exterior.coords), DECIMALS).tolist() for p in parts][0])
    return out


def coverage_deck(city: CityModel, a: Assessment, lang: str, focus: tuple[float, float] | None = None) -> pdk.Deck:
    """The coverage map: roads, each camera's view coloured by DORI level, the blind spots of the
    served zones, the cameras and the proposed ones (WGS84, no base-map tiles); the whole city, or
    close in on ``focus`` (lon, lat)."""
    layers = []
    named = names(city)
    roads = a.demand.links
    served = roads[roads["kind"].isin(["riverside_path", "ramp", "stairs"])]
    layers.append(
        path_layer([{"path": p, "label": ""} for p in _paths(served)], "paths", width=3, min_px=1, color=ROAD_RGB)
    )
    views = views_frame(a.views)
    for level in DORI_LEVELS:
        sel = views[views["level"] == level]
        if sel.empty:
            continue
        data = [
            {"polygon": poly, "label": f"{named.get(d, d)} ({d}): {words(LEVEL_WORDS, level, lang)}"}
            for poly, d in zip(_polygons(sel), sel["device_id"], strict=True)
        ]
        layers.append(
            pdk.Layer(
                "PolygonLayer",
                data,
                id=f"view_{level}",
                get_polygon="polygon",
                get_fill_color=LEVEL_RGB[level],
                stroked=False,
                pickable=True,
            )  # fmt: skip
        )
    spots = a.blind_spots[a.blind_spots["zone"].isin(PLACEMENT_ZONES)]
    if not spots.empty:
        label = t("cctv_blind", lang)
        data = [
            {"path": p, "label": f"{label}: {n if isinstance(n, str) else ''} {m:.0f} m"}
            for p, n, m in zip(_paths(spots), spots["name"], spots["length_m"], strict=True)
        ]
        layers.append(path_layer(data, "blind_spots", width=4, min_px=3, color=BLIND_RGB))
    where = _lonlat([v.spec.x for v in a.views], [v.spec.y for v in a.views])
    cams = [
        {"position": p, "label": f"{named.get(v.spec.device_id, '')} ({v.spec.device_id})"}
        for v, p in zip(a.views, where, strict=True)
    ]
    layers.append(_points(cams, "cameras", CAMERA_RGB, 4))
    proposed = (a.placement or {}).get("exact", {}).get("poses", [])
    if proposed:
        new = [
            {
                "position": [c["lon"], c["lat"]],
                "label": f"{t('cctv_new_camera', lang)}: {c['label']}, {c['heading_deg']:.0f}°",
            }
            for c in proposed
        ]
        layers.append(_points(new, "new_cameras", NEW_CAMERA_RGB, 9))
    b = roads.to_crs("EPSG:4326").total_bounds
    view = pdk.ViewState(longitude=(b[0] + b[2]) / 2, latitude=(b[1] + b[3]) / 2, zoom=11.6)
    if focus is not None:
        view = pdk.ViewState(longitude=focus[0], latitude=focus[1], zoom=17)
        layers.insert(0, _buildings_near(city, focus, lang))
    return pdk.Deck(layers=layers, initial_view_state=view, map_provider=None, map_style=None,
                    tooltip={"text": "{label}"})  # fmt: skip


def focus_places(city: CityModel, a: Assessment, lang: str) -> dict[str, tuple[float, float] | None]:
    """What the map can close in on: the whole city, each gate's access point (by stream and
    access point, with whether a camera sees it) and each proposed camera."""
    out: dict[str, tuple[float, float] | None] = {t("cctv_whole_city", lang): None}
    aps = city.layer("access_points")
    where = {} if aps.empty else dict(zip(aps["access_id"], aps.to_crs("EPSG:4326").geometry, strict=True))
    for ap in a.coverage["access_points"]:
        if ap["gate_id"] and ap["access_id"] in where:
            stream = ap["stream"] or ""
            seen = t("cctv_seen", lang) if ap["day_share"] else t("cctv_unseen", lang)
            p = where[ap["access_id"]]
            out[f"{stream} {ap['gate_id']} ({ap['access_id']}): {seen}"] = (p.x, p.y)
    for i, c in enumerate((a.placement or {}).get("exact", {}).get("poses", []), 1):
        out[f"{t('cctv_new_camera', lang)} {i}: {c['label']}"] = (c["lon"], c["lat"])
    return out


def _buildings_near(city: CityModel, focus: tuple[float, float], lang: str, reach_m: float = 300.0) -> pdk.Layer:
    """The footprints within ``reach_m`` of ``focus`` (lon, lat), flat: what blocks the views."""
    from pyproj import Transformer
    from shapely.geometry import Point

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:5186", always_xy=True).transform(*focus)
    b = city.layer("buildings")
    near = b[b.geometry.intersects(Point(x, y).buffer(reach_m))] if not b.empty else b
    data = [{"polygon": p, "label": t("cctv_building", lang)} for p in _polygons(near)] if not near.empty else []
    return pdk.Layer("PolygonLayer", data, id="buildings", get_polygon="polygon", get_fill_color=BUILDING_RGB,
                     stroked=False, pickable=False)  # fmt: skip


def names(city: CityModel) -> dict[str, str]:
    cams = city.devices_of_kind("cctv")
    return {} if cams.empty else dict(zip(cams["device_id"], cams["name"], strict=True))


def _lonlat(xs: list[float], ys: list[float]) -> list[list[float]]:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs("EPSG:5186", "EPSG:4326", always_xy=True).transform(xs, ys)
    return [[round(a, DECIMALS + 1), round(b, DECIMALS + 1)] for a, b in zip(lon, lat, strict=True)]


def _points(data: list[dict], layer_id: str, rgb: list[int], radius_px: int) -> pdk.Layer:
    return pdk.Layer(
        "ScatterplotLayer", data, id=layer_id, get_position="position", get_fill_color=rgb, get_radius=1,
        radius_min_pixels=radius_px, pickable=True,
    )  # fmt: skip


def legend_html(lang: str) -> str:
    """The map's legend: a swatch and words for every colour (the same in both languages)."""

    def swatch(rgb: list[int], text: str, line: bool = False) -> str:
        r, g, b = rgb[:3]
        shape = "height:4px;margin-top:6px" if line else "height:12px"
        return (f'<span style="display:inline-block;width:18px;{shape};background:rgb({r},{g},{b});'
                f'margin-right:4px"></span>{text}')  # fmt: skip

    items = [swatch(LEVEL_RGB[lv], words(LEVEL_WORDS, lv, lang)) for lv in DORI_LEVELS]
    items += [
        swatch(BLIND_RGB, t("cctv_blind", lang), line=True),
        swatch(ROAD_RGB, t("cctv_paths", lang), line=True),
        swatch(BUILDING_RGB, t("cctv_building", lang)),
        swatch(CAMERA_RGB, t("cctv_camera", lang)),
        swatch(NEW_CAMERA_RGB, t("cctv_new_camera", lang)),
    ]
    return '<div style="line-height:1.9">' + " &nbsp; ".join(items) + "</div>"


def zone_rows(cov: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """One row per zone: its length and the share seen (detection, ≥ 1 and ≥ 2 cameras) by day and night."""
    cols = [t(k, lang) for k in ("cctv_zone", "cctv_km", "cctv_day", "cctv_night", "cctv_two")]
    rows = []
    for zone, m in cov["day"].items():
        d = m["levels"]["detection"]
        if d["length_share_1"] is None:
            continue
        n = cov["night"][zone]["levels"]["detection"]
        rows.append(
            dict(
                zip(
                    cols,
                    [
                        words(ZONE_WORDS, zone, lang),
                        round(m["length_m"] / 1000, 1),
                        f"{d['length_share_1']:.1%}",
                        f"{n['length_share_1']:.1%}",
                        f"{d['length_share_2']:.1%}",
                    ],
                    strict=True,
                )
            )  # fmt: skip
        )
    return rows


def coverage_page(st, city: CityModel, lang: str, assessment, *, living_lab: bool = False) -> None:
    """The page: ``assessment(add)`` gives the (cached) :class:`Assessment` with ``add`` new cameras."""
    st.header(t("page_cctv", lang))
    st.caption(t("cctv_caption", lang))
    add = st.slider(t("cctv_add", lang), 0, 20, 10, key="cctv_add")
    with st.spinner(t("running", lang)):
        a = assessment(add)
    cov = a.coverage
    day = cov["day"]["riverside_path"]["levels"]["detection"]["length_share_1"] or 0.0
    night = cov["night"]["riverside_path"]["levels"]["detection"]["length_share_1"] or 0.0
    aps = cov["access_points"]
    seen_aps = sum(1 for x in aps if x["day_share"])
    c1, c2, c3 = st.columns(3)
    c1.metric(t("cctv_paths_day", lang), f"{day:.1%}")
    c2.metric(t("cctv_paths_night", lang), f"{night:.1%}")
    c3.metric(t("cctv_aps_seen", lang), f"{seen_aps} / {len(aps)}")
    p = a.placement
    if p is not None and "exact" in p:
        e, g = p["exact"], p["greedy"]
        st.metric(
            t("cctv_served", lang).format(n=add),
            f"{p['before_share']:.1%} → {e['share']:.1%}",
            delta=f"+{(e['share'] - p['before_share']) * 100:.1f} %p",
        )
        if not living_lab:
            st.caption(t("cctv_solvers", lang).format(greedy=f"{g['share']:.2%}", exact=f"{e['share']:.2%}",
                                                      status=e["status"], seconds=f"{e['solve_s']:.1f}"))  # fmt: skip
    places = focus_places(city, a, lang)
    where = st.selectbox(t("cctv_focus", lang), list(places), key="cctv_focus")
    st.markdown(legend_html(lang), unsafe_allow_html=True)
    st.pydeck_chart(coverage_deck(city, a, lang, places[where]), height=620)
    if living_lab:
        return
    st.subheader(t("cctv_zones", lang))
    st.dataframe(zone_rows(cov, lang), hide_index=True)
    smart = cov.get("smart_path_candidates") or []
    if smart:
        st.subheader(t("cctv_smart_paths", lang))
        st.dataframe([{"#": c["rank"], t("cctv_street", lang): c["street"], t("cctv_why", lang): c["reasons"]}
                      for c in smart], hide_index=True)  # fmt: skip
