"""Build the default Uijeongbu dataset (gis_data/uijeongbu/) from ../shared/reference-data.

    twin gis build-default --reference ../shared/reference-data --out gis_data/uijeongbu

Deterministic: the same reference data and library versions give the same files, byte for
byte (fixed seeds, sorted inputs, fixed coordinate precision). What is real and what is
authored is recorded per layer in manifest.json and per feature in ``approximate`` and
``position_source``/``source`` attributes; see gis_data/uijeongbu/README.md.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import LineString

from twin.atomic import atomic_dir, write_text_atomic
from twin.geojson_io import write_dataset
from twin.walk_graph import collapsed_links

from .buildings import build_buildings
from .devices import build_devices, build_slopes
from .facilities import build_facilities
from .monitoring import add_occupancy, add_slope_soils
from .reference import check_reference, load_reference
from .roads import WIDTH, build_roads
from .streams import build_streams

SEED = 20261125
REFERENCE_YEAR = 2026
GENERATED_BY = "gis_data/build/build_uijeongbu.py"
"""The manifest's ``generated_by``: the module that builds the dataset (``twin gis build-default``)."""
HYDROLOGY = {
    "stream_gauges": {"중랑천": "LS-1018665", "부용천": "LS-1018666", "민락천": "LS-1018666"},
    "key_gauge": "LS-1018665",
    "upstream_basins": [
        {
            "stream": "중랑천",
            "gauge": "LS-1018665",
            "area_above_gauge_km2": 80.4,
            "source": "WAMIS basin area of 1018665 의정부시(신곡교)",
        }
    ],
}
"""The manifest's ``hydrology``, written after ``layers``: which WAMIS level gauge warns for each
stream (device ids of the ``devices`` layer), the key gauge, and the basin area above 신곡교
(km²) from WAMIS. Uijeongbu facts, not derived from the layers."""
SURVEILLANCE = {
    "school_zone_m": 300,
    "protection_zone_m": 300,
    "access_zone_m": 10,
    "streets": [
        {
            "name": "행복로",
            "name_en": "Haengbok-ro",
            "line": [[127.0464, 37.7385], [127.0514, 37.7438]],
            "corridor_m": 20,
            "smart_pole_spacing_m": 25,
            "source": "authored: from 의정부역 (east side) to the bus stops 행복로.시장앞 (Gyeonggi bus-stop data); "
            "the city plan names smart poles on 행복로; pole spacing assumed",
            "approximate": True,
        }
    ],
    "priorities": {
        "access_points": 5,
        "riverside_path": 3,
        "school_zone": 3,
        "child_protection_zone": 3,
        "street": 2,
        "rest": 1,
    },
}
"""The manifest's ``surveillance``: school zones reach 300 m from the school (어린이보호구역, Road
Traffic Act art. 12 and its rule; measured here from the school's point, not its gate), the same
for the children's protection zones; the 행복로 corridor (approximate) and placement priorities
(assumed). Uijeongbu facts and choices, read by twin.surveillance."""
KOGL = (
    "KOGL Type 1 (공공누리 제1유형, attribution) as published; "
    "republished via GitHub repositories without a licence of their own"
)


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng([SEED, sum(ord(c) * (i + 1) for i, c in enumerate(name))])


def _connect_points(roads: gpd.GeoDataFrame, points: gpd.GeoDataFrame, channels, id_col: str) -> list[dict]:
    """Sidewalk connectors from each point to the nearest street node that does not cross a channel."""
    street = roads[roads["kind"].isin(["road", "bridge", "sidewalk"])]
    ends = np.array(
        sorted({tuple(np.round(c, 3)) for g in street.geometry.values for c in (g.coords[0], g.coords[-1])})
    )
    tree = cKDTree(ends)
    out = []
    for fid, p in zip(points[id_col], points.geometry.values, strict=True):
        d, idx = tree.query((p.x, p.y), k=16)
        for dd, ii in zip(d, idx, strict=True):
            if dd < 0.5:
                break
            line = LineString([(p.x, p.y), tuple(ends[ii])])
            if line.intersects(channels):
                continue
            long = line.length > 150  # a lane up to an outlying facility rather than a footpath
            out.append(
                dict(
                    kind="road" if long else "sidewalk",
                    cls="access_road" if long else "connector",
                    name=None,
                    connects=fid,
                    geometry=line,
                )
            )
            break
    return out


def build(reference: Path, out: Path) -> dict:
    ref = load_reference(reference)
    city_poly = shapely.union_all(ref.city.geometry.values)
    streams, reaches = build_streams(ref)
    roads, access, helpers = build_roads(ref, streams, city_poly, _rng("roads"))
    facilities = build_facilities(ref)
    roads = gpd.GeoDataFrame(
        list(roads.to_dict("records")) + _connect_points(roads, facilities, helpers["channels"], "facility_id"),
        geometry="geometry",
        crs="EPSG:5186",
    )
    roads["width_m"] = [WIDTH.get(c, WIDTH["main"]) for c in roads["cls"]]
    roads["road_class"] = roads["cls"]
    roads["approximate"] = True
    roads["edge_id"] = [f"E{i + 1:05d}" for i in range(len(roads))]
    buildings = build_buildings(ref, roads, helpers["channels"], helpers["area"], ref.dongs, _rng("buildings"))
    buildings = buildings.reset_index(drop=True)
    buildings["building_id"] = [f"B{i + 1:05d}" for i in range(len(buildings))]
    buildings["approximate"] = True
    schools = facilities[facilities["kind"] == "school"]
    buildings = add_occupancy(buildings, schools, REFERENCE_YEAR, _rng("occupancy"))
    slopes = build_slopes(helpers["area"], city_poly, helpers["channels"], ref.dongs, _rng("slopes"))
    slopes = add_slope_soils(slopes, helpers["area"], _rng("slope_soils"))
    devices = build_devices(ref, streams, reaches, roads, access, facilities, buildings, slopes, _rng("devices"))

    boundary = ref.city.assign(
        city_code="41150",
        name="의정부시",
        name_en="Uijeongbu-si",
        kostat_code=ref.city["code"],
        area_km2=(ref.city.area / 1e6).round(3),
    )
    dongs = ref.dongs.assign(
        dong_code=ref.dongs["code"], name_en=ref.dongs["name_eng"], area_km2=(ref.dongs.area / 1e6).round(3)
    ).sort_values("dong_code")

    roads = roads.drop(columns=["cls"])
    # a link whose ends fall in one walk-graph node would be refused by validation (issue 15);
    # dropped last, so that no other layer's numbering or draws change
    roads = roads[~collapsed_links(roads)].reset_index(drop=True)
    layers = {
        "boundary": boundary,
        "dongs": dongs,
        "streams": reaches,
        "roads": roads,
        "access_points": access,
        "buildings": buildings,
        "facilities": facilities,
        "slopes": slopes,
        "devices": devices,
    }
    manifest = write_dataset(
        out,
        layers,
        name="Uijeongbu (의정부시) default dataset",
        sources=SOURCES,
        extra_manifest={"reference_year": REFERENCE_YEAR, "generated_by": GENERATED_BY, "seed": SEED},
    )
    manifest["hydrology"] = HYDROLOGY  # after "layers"; written as write_dataset writes the manifest
    manifest["surveillance"] = SURVEILLANCE
    write_text_atomic(out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    return manifest


_SRC = "../shared/reference-data/"
SOURCES = {
    "boundary": (
        f"{_SRC}kostat-southkorea-maps (통계청 SGIS 2018 센서스용 행정구역경계)",
        "KOGL Type 1; 출처: 통계청 SGIS, 2018 센서스용 행정구역경계",
        False,
        "City boundary, KOSTAT 2018 polygon (planar area about 82.0 km2).",
    ),
    "dongs": (
        f"{_SRC}kostat-southkorea-maps",
        "KOGL Type 1; 출처: 통계청 SGIS",
        False,
        "14 administrative dongs of the 2018 boundaries (송산3동 split later is not reflected).",
    ),
    "streams": (
        f"{_SRC}ngii-streams-traced (NGII 국가기본도 하천, hand-traced centrelines)",
        "NGII public-sector data; verify before redistribution",
        True,
        "Centrelines real (20-60 m); reaches, channel width, bank height, bed elevations and Manning n "
        "are approximate, authored by gis_data/build/streams.py.",
    ),
    "roads": (
        f"{_SRC}gyeonggi-bus-stops (GBIS) and road-address-points; geometry authored",
        KOGL + "; generated geometry CC0",
        True,
        "Main roads traced by a Gabriel graph over merged bus stops, names from road-address points; "
        "local streets, riverside paths, ramps/stairs and connectors generated (gis_data/build/roads.py).",
    ),
    "access_points": (
        "authored (gis_data/build/roads.py)",
        "CC0",
        True,
        "Ramps and stairs down to the riverside paths every ~450 m; path elevation approximate.",
    ),
    "buildings": (
        "generated (gis_data/build/buildings.py); school years from schools-location",
        "CC0",
        True,
        "Plausible footprints, years, storeys, structures and occupants; not real buildings.",
    ),
    "facilities": (
        f"{_SRC}schools-location, child-protection-zones, civil-defense-shelters, uijeongbu-lrt; "
        "a few public buildings placed approximately",
        KOGL,
        False,
        "Schools, zones, shelters and U-Line stations at real positions; features with "
        "approximate=true (line-1 stations, police, fire, hospitals, welfare and health centres) "
        "are not.",
    ),
    "slopes": (
        "authored (gis_data/build/devices.py)",
        "CC0",
        True,
        "Steep-slope zones at the edge of the developed area with authored soils (weathered-granite "
        "ranges, cohesion set by risk grade); not the official 급경사지 register, not a survey.",
    ),
    "devices": (
        f"{_SRC}wamis-stations (gauges), child-protection-zones (CCTV counts); rest authored",
        KOGL + "; authored devices CC0",
        True,
        "WAMIS gauges real; thresholds unverified; gates, signboards, camera poses, structural "
        "sensors and crosswalks authored.",
    ),
}

SOURCES = {
    name: {"source": s, "licence": lic, "approximate": approx, "description": desc}
    for name, (s, lic, approx, desc) in SOURCES.items()
}


def build_default(reference: Path, out: Path) -> dict:
    """Build the dataset from ``reference`` into folder ``out``, replacing it whole (built beside it
    and swapped in: a crash leaves the old dataset). A hand-written ``README.md`` already in ``out``
    (the credits) is kept. Returns the manifest. Raises :class:`~twin.errors.TwinError` naming the
    reference folder when it is missing or incomplete."""
    check_reference(reference)
    out = Path(out)
    with atomic_dir(out, overwrite=True, marker="manifest.json") as tmp:
        manifest = build(Path(reference), tmp)
        readme = out / "README.md"
        if readme.is_file():
            shutil.copy2(readme, tmp / "README.md")
    return manifest
