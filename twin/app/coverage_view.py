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
from .legend import LegendItem
from .legend import legend_html as make_legend
from .legend import words as legend_words
from .map_layers import DECIMALS, NO_TILES, _paths, path_layer
from .widgets import translated_select

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
SOLVER_WORDS = {
    "optimal": ("최적해 확인", "proven best"),
    "time_limit": ("시간 제한에서 멈춤", "stopped at the time limit"),
    "greedy": ("탐욕법", "greedy"),
    "brute_force": ("모든 경우 확인", "every choice tried"),
    "infeasible": ("해 없음", "no solution"),
}
SMART_WORDS = {
    "street": ("도로", "Street"),
    "unseen": ("카메라가 못 보는 길이 (m)", "Unseen length (m)"),
    "length": ("도로 길이 (m)", "Street length (m)"),
    "walked": ("걸은 시간 (사람·시간)", "Walked (person-hours)"),
    "near": ("가까운 학교·보호구역", "Nearest school or zone"),
    "near_m": ("거리 (m)", "Distance (m)"),
    "back_road": ("이면도로", "back road"),
    "title": ("지도", "Map"),
    "views": ("카메라 시야 (DORI 수준)", "Camera views (DORI level)"),
}
LEVEL_WORDS = {
    "detection": ("감지 (25 px/m)", "detection (25 px/m)"),
    "observation": ("관찰 (62.5 px/m)", "observation (62.5 px/m)"),
    "recognition": ("인식 (125 px/m)", "recognition (125 px/m)"),
    "identification": ("식별 (250 px/m)", "identification (250 px/m)"),
}


def words(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    """The Korean or English words of ``key`` in ``table``; the key made readable when unknown."""
    if key not in table:
        return str(key).replace("_", " ")
    ko, en = table[key]
    return ko if lang == "ko" else en


def _names(city: CityModel):
    from .form_inputs import names_of

    return names_of(city)


def edge_places(city: CityModel, edge_ids: list[str], lang: str) -> list[str]:
    """Where each road edge (``edge_id`` of the roads layer) is, for people: a ramp or stairs by
    its access point, a riverside path or bridge by its stream, a named road by its name, else its
    kind (sidewalk, road, ...) and the dong its midpoint lies in. An unknown edge: its id."""
    roads = city.layer("roads")
    if roads.empty or not edge_ids:
        return [str(e) for e in edge_ids]
    names = _names(city)
    table = roads.drop_duplicates("edge_id").set_index("edge_id")
    dongs = _dongs_of(city, table, [e for e in edge_ids if e in table.index])
    out = []
    for e in edge_ids:
        if e not in table.index:
            out.append(str(e))
            continue
        r = table.loc[e]
        kind = str(r.get("kind") or "")
        access, stream, name = r.get("access_id"), r.get("stream"), r.get("name")
        if isinstance(access, str) and access:
            out.append(names.entity(access, lang))
        elif isinstance(stream, str) and stream and kind in ("riverside_path", "bridge"):
            kind_word = "산책로" if lang == "ko" and kind == "riverside_path" else legend_words(kind, lang)
            out.append(f"{names.stream(stream, lang)} {kind_word}")
        elif isinstance(name, str) and name.strip():
            out.append(names.entity(str(e), lang))
        else:
            kind_word = legend_words(kind, lang) if kind else ""
            dong = dongs.get(e)
            where = names.entity(dong, lang) if dong else ""
            if not where:
                out.append(kind_word or str(e))
            else:
                out.append(f"{where} {kind_word}".strip() if lang == "ko" else f"{kind_word} in {where}".strip())
    return out


def _dongs_of(city: CityModel, table, edge_ids: list[str]) -> dict[str, str]:
    """The dong code each edge's midpoint lies in (EPSG:5186), for :func:`edge_places`."""
    import shapely

    dongs = city.layer("dongs")
    if dongs.empty or not edge_ids:
        return {}
    if table.crs is not None and dongs.crs is not None and dongs.crs != table.crs:
        dongs = dongs.to_crs(table.crs)
    polys = dongs.geometry.to_numpy()
    codes = dongs["dong_code"].astype(str).tolist()
    out: dict[str, str] = {}
    for e in edge_ids:
        hit = shapely.contains(polys, table.geometry[e].interpolate(0.5, normalized=True)).nonzero()[0]
        if len(hit):
            out[e] = codes[int(hit[0])]
    return out


def solver_status(status: str, lang: str) -> str:
    """The placement solver's ``status`` (optimal, time_limit, greedy, ...) in words."""
    return words(SOLVER_WORDS, status, lang)


def _polygons(gdf: gpd.GeoDataFrame) -> list[list[list[float]]]:
    out = []
    for g in gdf.to_crs("EPSG:4326").geometry:
        parts = list(g.geoms) if g.geom_type == "MultiPolygon" else [g]
        out.append([np.round(np.asarray(p.exterior.coords), DECIMALS).tolist() for p in parts][0])
    return out


def coverage_deck(city: CityModel, a: Assessment, lang: str, focus: tuple[float, float] | None = None) -> pdk.Deck:
    """The coverage map: roads, each camera's view coloured by DORI level, the blind spots of the
    served zones, the cameras and the proposed ones (WGS84, no base-map tiles); the whole city, or
    close in on ``focus`` (lon, lat). Every tooltip names its camera or place (the id in brackets)."""
    layers = []
    named = _names(city)
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
            {"polygon": poly, "label": f"{named.with_id(str(d), lang)}: {words(LEVEL_WORDS, level, lang)}"}
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
        where = edge_places(city, [str(e) for e in spots["edge_id"]], lang)
        data = [
            {"path": p, "label": f"{label}: {w}, {m:.0f} m"}
            for p, w, m in zip(_paths(spots), where, spots["length_m"], strict=True)
        ]
        layers.append(path_layer(data, "blind_spots", width=4, min_px=3, color=BLIND_RGB))
    at = _lonlat([v.spec.x for v in a.views], [v.spec.y for v in a.views])
    cams = [{"position": p, "label": named.with_id(v.spec.device_id, lang)} for v, p in zip(a.views, at, strict=True)]
    layers.append(_points(cams, "cameras", CAMERA_RGB, 4))
    proposed = new_cameras(city, a, lang)
    if proposed:
        layers.append(_points(proposed, "new_cameras", NEW_CAMERA_RGB, 9))
    b = roads.to_crs("EPSG:4326").total_bounds
    view = pdk.ViewState(longitude=(b[0] + b[2]) / 2, latitude=(b[1] + b[3]) / 2, zoom=11.6)
    if focus is not None:
        view = pdk.ViewState(longitude=focus[0], latitude=focus[1], zoom=17)
        layers.insert(0, _buildings_near(city, focus, lang))
    return pdk.Deck(layers=layers, initial_view_state=view, map_provider=None, map_style=NO_TILES,
                    tooltip={"text": "{label}"})  # fmt: skip


def new_cameras(city: CityModel, a: Assessment, lang: str) -> list[dict[str, Any]]:
    """The proposed cameras (the exact placement's): position (lon, lat), place (where, in
    words) and label ("proposed camera 3: <place>, heading 120°" for the tooltip)."""
    poses = (a.placement or {}).get("exact", {}).get("poses", [])
    places = edge_places(city, [str(c.get("ref", "")) for c in poses], lang)
    head = t("cctv_new_camera", lang)
    return [
        {
            "position": [c["lon"], c["lat"]],
            "place": w,
            "label": f"{head} {i}: {w}, {c['heading_deg']:.0f}°",
        }
        for i, (c, w) in enumerate(zip(poses, places, strict=True), 1)
    ]


def focus_places(city: CityModel, a: Assessment, lang: str) -> dict[str, tuple[str, tuple[float, float] | None]]:
    """What the map can close in on, by a key that stays across languages ("city", "gate:G02",
    "new:3") -> (words in ``lang``, (lon, lat) or None for the whole city): the whole city, each
    gate's access point (by the gate's name, with whether a camera sees it) and each proposed camera."""
    named = _names(city)
    out: dict[str, tuple[str, tuple[float, float] | None]] = {"city": (t("cctv_whole_city", lang), None)}
    aps = city.layer("access_points")
    where = {} if aps.empty else dict(zip(aps["access_id"], aps.to_crs("EPSG:4326").geometry, strict=True))
    for ap in sorted(a.coverage["access_points"], key=lambda x: str(x["gate_id"] or "")):
        if ap["gate_id"] and ap["access_id"] in where:
            seen = t("cctv_seen", lang) if ap["day_share"] else t("cctv_unseen", lang)
            p = where[ap["access_id"]]
            out[f"gate:{ap['gate_id']}"] = (f"{named.entity(str(ap['gate_id']), lang)}: {seen}", (p.x, p.y))
    for i, c in enumerate(new_cameras(city, a, lang), 1):
        out[f"new:{i}"] = (f"{t('cctv_new_camera', lang)} {i}: {c['place']}", (c["position"][0], c["position"][1]))
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
    """The map's legend (a ``<div class="twin-legend">``): a swatch and words for every colour of
    :func:`coverage_deck`, the same items in both languages."""
    items = [LegendItem("title", words(SMART_WORDS, "views", lang))]
    items += [LegendItem("area", words(LEVEL_WORDS, lv, lang), tuple(LEVEL_RGB[lv])) for lv in DORI_LEVELS]
    items += [
        LegendItem("title", words(SMART_WORDS, "title", lang)),
        LegendItem("line", t("cctv_blind", lang), tuple(BLIND_RGB), 4),
        LegendItem("line", t("cctv_paths", lang), tuple(ROAD_RGB), 3),
        LegendItem("area", t("cctv_building", lang), tuple(BUILDING_RGB)),
        LegendItem("dot", t("cctv_camera", lang), tuple(CAMERA_RGB), 3),
        LegendItem("dot", t("cctv_new_camera", lang), tuple(NEW_CAMERA_RGB), 6),
    ]
    return make_legend(items, lang)


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


def _facility_names(city: CityModel, lang: str) -> dict[str, tuple[str, Any]]:
    """Schools and children's protection zones by their Korean name -> (name in ``lang``, point)."""
    out: dict[str, tuple[str, Any]] = {}
    for kind in ("school", "child_protection_zone"):
        fac = city.facilities_of_kind(kind)
        if fac.empty:
            continue
        en = fac["name_en"] if "name_en" in fac else fac["name"]
        for ko, e, g in zip(fac["name"], en, fac.geometry, strict=True):
            shown = ko if lang == "ko" or not isinstance(e, str) or not e.strip() else e
            out.setdefault(str(ko), (str(shown), g))
    return out


def smart_rows(city: CityModel, candidates: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The back roads proposed for smart pedestrian paths, one row each with words and units:
    rank, street (its name, else "back road"), the nearest school or zone and how far (m), the
    unseen and the street length (m), and the person-hours walked on it in the run (when known)."""
    if not candidates:
        return []
    fac = _facility_names(city, lang)
    roads = city.layer("roads").drop_duplicates("edge_id").set_index("edge_id")
    named = _names(city)
    rows = []
    for c in candidates:
        e = str(c["edge_id"])
        near_ko = c.get("near")
        near, point = fac.get(str(near_ko), (near_ko or "", None)) if near_ko else ("", None)
        road = roads.loc[e] if e in roads.index else None
        name = None if road is None else road.get("name")
        if isinstance(name, str) and name.strip():
            street = named.entity(e, lang)
        else:
            street = words(SMART_WORDS, "back_road", lang)
        far = None
        if point is not None and road is not None:
            far = round(float(road.geometry.interpolate(0.5, normalized=True).distance(point)))
        row = {
            "#": c["rank"],
            words(SMART_WORDS, "street", lang): street,
            words(SMART_WORDS, "near", lang): near,
            words(SMART_WORDS, "near_m", lang): far,
            words(SMART_WORDS, "unseen", lang): round(float(c["unseen_m"])),
            words(SMART_WORDS, "length", lang): round(float(c["link_m"])),
        }
        if c.get("person_s") is not None:
            row[words(SMART_WORDS, "walked", lang)] = round(float(c["person_s"]) / 3600.0, 1)
        rows.append(row)
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
                                                      status=solver_status(str(e["status"]), lang),
                                                      seconds=f"{e['solve_s']:.1f}"))  # fmt: skip
    places = focus_places(city, a, lang)
    where = translated_select(
        st,
        st,
        t("cctv_focus", lang),
        list(places),
        key="cctv_focus",
        lang=lang,
        default="city",
        format_func=lambda k: places[k][0],
    )
    st.markdown(legend_html(lang), unsafe_allow_html=True)
    st.pydeck_chart(coverage_deck(city, a, lang, places[where][1]), height=620)
    if living_lab:
        return
    st.subheader(t("cctv_zones", lang))
    st.dataframe(zone_rows(cov, lang), hide_index=True)
    smart = smart_rows(city, cov.get("smart_path_candidates") or [], lang)
    if smart:
        st.subheader(t("cctv_smart_paths", lang))
        st.dataframe(smart, hide_index=True)
